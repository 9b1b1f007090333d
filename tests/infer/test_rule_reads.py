"""Tests of ``kgraph.infer.rule_reads``: a project rule is run again in the store only when a new triple is one it can
match."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PROJECT
from kgraph.infer.rule_reads import Changes, query_reads, rule_reads
from kgraph.infer.rules import Rule, load_rule

KG = "https://w3id.org/kgraph/ontology#"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
PROLOGUE = f"PREFIX kg: <{KG}>\nPREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
PROLOGUE += "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"


def kg(name: str) -> str:
    return f"<{KG}{name}>"


def rule(where: str, template: str = "?x kg:concluded ?y") -> Rule:
    query = f"{PROLOGUE}CONSTRUCT {{ {template} }} WHERE {{ {where} }}"
    return Rule("test", Path("test.rq"), "a test rule", "for a test", query)


def typed(*classes: str) -> Changes:
    return Changes({TYPE}, {kg(c) for c in classes})


def test_a_rule_runs_again_for_the_predicates_and_classes_it_names_only() -> None:
    adversaries = rule_reads(load_rule(PROJECT / "rules" / "adversaries.rq"))
    assert adversaries.met_by(Changes({kg("attacker")}))
    assert adversaries.met_by(typed("State"))  # its class tests: rdf:type/rdfs:subClassOf* over a VALUES table
    assert adversaries.met_by(Changes({"<http://www.w3.org/2000/01/rdf-schema#subClassOf>"}))
    assert not adversaries.met_by(typed("Town"))  # a Town that is a State is typed kg:State by the closure too
    assert not adversaries.met_by(Changes({kg("foughtIn")}))
    assert not adversaries.met_by(Changes({kg("adversaryOf")}))  # what it concludes, not what it reads
    assert not adversaries.met_by(Changes())


def test_a_variable_predicate_listed_by_a_values_table_reads_those_predicates_only() -> None:
    # How fought-in.rq runs on Virtuoso: its ?role subquery answered first and inlined.
    listed = query_reads(f"{PROLOGUE}CONSTRUCT {{ ?x kg:c ?y }} WHERE {{ {{ VALUES ?v {{ kg:a kg:b }} }} ?x ?v ?y }}")
    assert listed.met_by(Changes({kg("b")}))
    assert not listed.met_by(Changes({kg("c")}))
    unlisted = query_reads(
        f"{PROLOGUE}CONSTRUCT {{ ?x kg:c ?y }} WHERE {{ {{ VALUES ?v {{ kg:a UNDEF }} }} ?x ?v ?y }}"
    )
    assert unlisted.met_by(Changes({kg("c")}))


def test_a_variable_predicate_reads_every_triple() -> None:
    fought_in = rule_reads(load_rule(PROJECT / "rules" / "fought-in.rq"))  # ?operation ?role ?force
    assert fought_in.met_by(Changes({kg("anything")}))
    assert rule_reads(rule("?x !kg:p ?y")).met_by(Changes({kg("q")}))  # a negated property set too
    assert not fought_in.met_by(Changes())  # but no new triple at all meets nothing


@pytest.mark.parametrize(
    ("where", "free"),
    [
        ("?x a kg:A ; kg:p ?y", False),
        ("VALUES ?c { kg:A kg:B } ?x a ?c ; kg:p ?y", False),
        ("?x a ?c ; kg:p ?y", True),
        ("VALUES ?c { kg:A UNDEF } ?x a ?c ; kg:p ?y", True),  # a row leaves ?c free
        ("{ SELECT ?x WHERE { VALUES ?c { kg:A } ?x kg:q ?c } } ?x a ?c ; kg:p ?y", True),  # another scope's ?c
        ("?x rdf:type/kg:q ?y", True),  # a path from the type to something else
    ],
)
def test_a_type_pattern_reads_any_class_unless_its_class_is_named_or_listed(where: str, free: bool) -> None:
    reads = rule_reads(rule(where))
    assert reads.met_by(typed("Other")) is free
    assert reads.met_by(typed("A")) is ("kg:A" in where or free)


def test_new_triples_under_a_negation_count_as_read() -> None:
    reads = rule_reads(rule("?x kg:p ?y FILTER NOT EXISTS { ?x kg:hedge ?h }"))
    assert reads.met_by(Changes({kg("hedge")}))
    assert reads.met_by(Changes({kg("p")}))
    assert not reads.met_by(Changes({kg("q")}))


def test_a_rule_rdflib_cannot_parse_runs_again_every_round() -> None:
    reads = rule_reads(rule("<< ?x kg:p ?o >> kg:source ?y"))  # RDF-star: pyoxigraph runs it, rdflib cannot parse it
    assert reads.met_by(Changes({kg("anything")}))
