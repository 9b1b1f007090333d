"""Tests of ``kgraph.infer.rule_types``: the closure of the project rules' conclusions in the store leaves out the
types the rules' own patterns guarantee, and only those."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import OXIGRAPH, PROJECT, start_oxigraph, stop_process
from kgraph.config import INFERRED_GRAPH
from kgraph.infer import in_store, rule_types
from kgraph.infer.closed_tables import OnePremiseTables, one_premise_tables
from kgraph.infer.engine import run_inference
from kgraph.infer.native import compile_schema, load_owl_rl_rules
from kgraph.infer.rules import Rule, load_rule, load_rules
from kgraph.load import load_paths
from kgraph.store import EmbeddedStore, RemoteStore, open_store

KG = "https://w3id.org/kgraph/ontology#"
PROLOGUE = f"PREFIX kg: <{KG}>\nPREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
FIXTURE = PROJECT / "tests" / "fixtures" / "infer" / "rule-types"


def kg(name: str) -> str:
    return f"<{KG}{name}>"


@pytest.fixture(scope="module")
def tables() -> OnePremiseTables:
    schema = EmbeddedStore()
    for path in (PROJECT / "ontology").glob("*.ttl"):
        schema.add(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in ox.parse(path=path))
    return one_premise_tables(compile_schema(schema, None, load_owl_rl_rules()))


def rule(where: str, template: str = "?x kg:occurredIn ?y") -> Rule:
    query = f"{PROLOGUE}CONSTRUCT {{ {template} }} WHERE {{ {where} }}"
    return Rule("test", Path("test.rq"), "a test rule", "for a test", query)


def concluding(tables: OnePremiseTables, *rules: Rule) -> OnePremiseTables:
    """The rows a delta of these rules' conclusions matches."""
    template = [triple for each in rules for triple in each.template]
    return tables.matching({f"<{p}>" for _, p, _ in template}, {f"<{o}>" for _, _, o in template})


@pytest.mark.parametrize("path", sorted((PROJECT / "rules").glob("*.rq")), ids=lambda path: path.name)
def test_each_project_rule_guarantees_every_class_of_its_conclusions_terms(
    path: Path, tables: OnePremiseTables
) -> None:
    project_rule = load_rule(path)
    before = concluding(tables, project_rule)
    after = rule_types.without_guaranteed(before, [project_rule], tables)
    assert before.types | before.subject_types | before.object_types  # something to look for
    assert after == OnePremiseTables(frozenset(), frozenset(), frozenset(), before.forward, before.backward, True)


def test_a_path_of_length_zero_or_more_guarantees_what_both_its_ends_do(tables: OnePremiseTables) -> None:
    located = load_rule(PROJECT / "rules" / "located-in-containing-place.rq")
    before = concluding(tables, located)
    assert (kg("occurredIn"), kg("Place")) in before.object_types
    alone = rule("?place kg:locatedIn* ?y . ?x kg:hasPlace ?other", "?x kg:occurredIn ?y")  # ?place is anything
    assert rule_types.without_guaranteed(before, [alone], tables).object_types == before.object_types
    one_or_more = rule("?place kg:locatedIn+ ?y . ?x kg:hasPlace ?other")
    assert not rule_types.without_guaranteed(before, [one_or_more], tables).object_types


@pytest.mark.parametrize(
    "where",
    [
        "?x ?p ?y OPTIONAL { ?x kg:hasPlace ?y }",
        "?x ?p ?y MINUS { ?x kg:hasPlace ?y }",
        "?x ?p ?y FILTER EXISTS { ?x kg:hasPlace ?y }",
        "{ ?x kg:hasPlace ?y } UNION { ?x ?p ?y }",
        "?x ?p ?y { SELECT ?x (COUNT(*) AS ?n) WHERE { ?x kg:hasPlace ?z } GROUP BY ?x }",
        "?x ?p ?y { SELECT ?y WHERE { ?x kg:hasPlace ?y } }",
        "?x !kg:label ?y",
        "?x kg:hasPlace|kg:label ?y",
        "?x kg:partOfEvent*/kg:hasPlace ?y",
        "GRAPH ?g { ?x kg:hasPlace ?y }",
        "VALUES ?k { kg:Event kg:Place } ?x a ?k . ?x ?p ?y",
    ],
)
def test_a_subject_the_pattern_does_not_require_to_be_an_event_keeps_its_types(
    where: str, tables: OnePremiseTables
) -> None:
    concluded = rule(where)
    before = concluding(tables, concluded)
    assert rule_types.without_guaranteed(before, [concluded], tables).subject_types == before.subject_types


def test_a_class_is_left_out_only_when_every_rule_concluding_the_property_guarantees_it(
    tables: OnePremiseTables,
) -> None:
    located = load_rule(PROJECT / "rules" / "located-in-containing-place.rq")
    anything = rule("?x ?p ?y")
    before = concluding(tables, located, anything)
    assert rule_types.without_guaranteed(before, [located, anything], tables) == before
    kinds = rule("VALUES ?k { kg:State kg:ArmedForce } ?x a ?k . ?y a kg:Place", "?x kg:foughtIn ?y")
    left = rule_types.without_guaranteed(concluding(tables, kinds), [kinds], tables).subject_types
    organizations = {
        "<http://www.w3.org/ns/prov#Organization>",
        kg("Organization"),
        "<https://schema.org/Organization>",
    }
    assert left == {(kg("foughtIn"), kind) for kind in {kg("ArmedForce"), *organizations}}  # a State is neither;
    # both are agents (kg:Agent, prov:Agent): those are left out


def test_a_built_in_property_or_class_guarantees_nothing() -> None:
    # A graph using only RDF's, RDFS's and OWL's terms is not reasoned over: what the rule reads there is not closed.
    ex, rdfs, owl = "http://example.org/", "http://www.w3.org/2000/01/rdf-schema#", "http://www.w3.org/2002/07/owl#"
    rows = frozenset({(f"<{ex}p>", f"<{ex}Thing>"), (f"<{rdfs}label>", f"<{ex}Thing>")})
    kinds = frozenset({(f"<{owl}Class>", f"<{ex}Thing>")})
    tables = OnePremiseTables(kinds, rows, frozenset(), frozenset(), frozenset(), True)
    concluded = tables.matching({f"<{ex}p>"}, ())
    for where in (f"?x <{rdfs}label> ?y", f"?x a <{owl}Class> . ?x ?q ?y"):
        by_built_in = rule(where, f"?x <{ex}p> ?y")
        assert rule_types.without_guaranteed(concluded, [by_built_in], tables) == concluded
    by_own = rule(f"?x <{ex}p> ?z . ?x ?q ?y", f"?x <{ex}p> ?y")
    assert not rule_types.without_guaranteed(concluded, [by_own], tables).subject_types


@pytest.mark.parametrize("template", ["?x ?p ?y", "?x a ?y"])
def test_a_rule_concluding_a_variable_property_or_class_leaves_every_row(
    template: str, tables: OnePremiseTables
) -> None:
    located = load_rule(PROJECT / "rules" / "located-in-containing-place.rq")
    free = rule("?x kg:hasPlace ?y . ?x ?p ?y", template)
    before = concluding(tables, located)
    assert rule_types.without_guaranteed(before, [located, free], tables) == before


@pytest.mark.slow
@pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")
def test_the_types_rules_do_not_guarantee_are_still_inferred_in_the_store_as_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    left_out: list[int] = []
    leave_out = rule_types.without_guaranteed

    def type_rows(tables: OnePremiseTables) -> int:
        return len(tables.types) + len(tables.subject_types) + len(tables.object_types)

    def counted(tables: OnePremiseTables, rules: list[Rule], schema: OnePremiseTables) -> OnePremiseTables:
        kept = leave_out(tables, rules, schema)
        left_out.append(type_rows(tables) - type_rows(kept))
        return kept

    monkeypatch.setattr(in_store, "without_guaranteed", counted)
    rules = FIXTURE / "rules"
    embedded = EmbeddedStore()
    load_paths(embedded, [FIXTURE / "data.ttl"], root=FIXTURE)
    run_inference(embedded, rules_dir=rules)
    process, url = start_oxigraph(tmp_path / "db")
    try:
        remote = open_store(url, timeout=30)
        assert isinstance(remote, RemoteStore)
        load_paths(remote, [FIXTURE / "data.ttl"], root=FIXTURE)
        in_store.infer_in_store(remote, rules_dir=rules)
        inferred = {quad.triple for quad in remote.quads(graph=INFERRED_GRAPH)}
        remote.close()
    finally:
        stop_process(process)
    assert inferred == {quad.triple for quad in embedded.quads(graph=INFERRED_GRAPH)}
    ex = "http://example.org/guaranteed/"
    types = {(t.subject.value, t.object.value) for t in inferred if t.predicate.value.endswith("#type")}
    assert {(ex + "a", ex + "Concluded"), (ex + "b", ex + "Target"), (ex + "d", ex + "Target")} <= types
    assert {(ex + "a", ex + "Special"), (ex + "a", ex + "Other")} <= types
    assert (ex + "c", ex + "Concluded") in types  # from ex:q's domain, the type ex:guaranteed's was not looked for
    assert len(load_rules(rules)) == 4
    assert left_out == [2]  # ex:guaranteed's domain and its superclass, at the one step after the rules
