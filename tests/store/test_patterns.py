"""Which triples a query can match (the graphs that can change its answer over Virtuoso, issue 16)."""

from __future__ import annotations

import pytest

from kgraph.store.patterns import query_probes

EX = "http://example.org/"


def test_every_pattern_is_a_probe_with_a_pattern_it_joins() -> None:
    sparql = f"""PREFIX ex: <{EX}>
    CONSTRUCT {{ ?s ex:written ?o }} WHERE {{
      ?s a ex:Claim ; ex:about ?o .
      OPTIONAL {{ ?o ex:hasTime/^ex:inverse ?t }}
      FILTER NOT EXISTS {{ ?o ex:label "x"@en }}
      {{ SELECT ?s WHERE {{ ?s ex:p+ ex:c }} }}
      MINUS {{ ex:a ?p ?s . ?s ?q ?r }}
    }}"""
    claim = f"?v0 <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}Claim>"  # a class is kept
    assert query_probes(sparql) == {
        (claim, f"?v0 <{EX}about> ?v1"),
        (f"?v0 <{EX}about> ?v1", claim),
        (f"?_s <{EX}hasTime> ?_o", ""),  # a path's steps: their predicate alone
        (f"?_s <{EX}inverse> ?_o", ""),
        (f"?v0 <{EX}label> ?v1", ""),  # other constants stand for a variable: probes are shared by queries
        (f"?_s <{EX}p> ?_o", ""),
        ("?v0 ?v1 ?v2", ""),  # `ex:a ?p ?s`: its only company has no constant predicate
    }


def test_a_pattern_of_variables_matches_anything() -> None:
    assert query_probes("SELECT * WHERE { ?s ?p ?o }") == {("?v0 ?v1 ?v2", "")}


def test_a_zero_length_path_from_a_constant_matches_only_its_steps() -> None:
    assert query_probes(f"SELECT * WHERE {{ <{EX}a> <{EX}p>* ?x }}") == {(f"?_s <{EX}p> ?_o", "")}


@pytest.mark.parametrize(
    "sparql",
    [
        f"SELECT * WHERE {{ ?a <{EX}p>* ?b }}",  # every term of the graph matches itself
        f"SELECT * WHERE {{ ?a (<{EX}p>/<{EX}q>?) ?b . ?b !<{EX}p> ?c }}",  # any predicate but one
        "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
        f"SELECT * WHERE {{ SERVICE <{EX}sparql> {{ ?s ?p ?o }} }}",
        f"DESCRIBE <{EX}a>",
        "SELECT * WHERE { ?s <relative> ?o }",
        "SELECT * WHERE { ?s ?p }",
    ],
)
def test_what_it_cannot_vouch_for_is_none(sparql: str) -> None:
    assert query_probes(sparql) is None


def test_a_query_not_needing_it_is_analysed_when_asked_again() -> None:
    sparql = f"SELECT * WHERE {{ ?s <{EX}asked-twice> ?o }}"
    assert query_probes(sparql, needed=False) is None  # asked once: rdflib's parse would cost more than it saves
    assert query_probes(sparql, needed=False) == {(f"?v0 <{EX}asked-twice> ?v1", "")}
