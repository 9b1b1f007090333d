"""Explanations: the exact tree of a derivation, down to asserted triples, files and sources."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pyoxigraph as ox
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgraph.config import GRAPH_NS, INFERRED_GRAPH
from kgraph.infer import Explanation, TripleNotFound, explain, run_inference
from kgraph.infer.terms import TermSyntaxError, parse_term
from kgraph.load import load_file, load_paths
from kgraph.store import EmbeddedStore
from kgraph.web.explain import bp

PROJECT = Path(__file__).parent / "fixtures" / "infer" / "project"
FILES = ["ontology/mini.ttl", "data/ttl/facts.ttl", "data/ttl/unrelated.nt"]
RULES = PROJECT / "rules"
PROV = "http://www.w3.org/ns/prov#"


def load(*files: str) -> EmbeddedStore:
    """A store with each file in its own named graph, as the loader makes it."""
    store = EmbeddedStore()
    load_paths(store, [PROJECT / name for name in files], root=PROJECT)
    return store


def triple(text: str) -> ox.Triple:
    return ox.Triple(*(parse_term(t) for t in text.split()))


@pytest.fixture(scope="module")
def store():
    store = load(*FILES)
    run_inference(store, rules_dir=RULES)
    return store


def test_a_two_step_derivation_is_explained_down_to_the_source(store):
    tree = explain(store, triple("kgr:russia kg:alliedWith kgr:north-korea"), rules_dir=RULES)
    assert tree.to_text() == "\n".join(
        [
            "kgr:russia kg:alliedWith kgr:north-korea",
            "  <- OWL 2 RL prp-symp: owl:SymmetricProperty",
            "  kgr:north-korea kg:alliedWith kgr:russia",
            "    <- rule alliance: deployment in support means alliance",
            "       meaning: a state whose forces are deployed in support of another state"
            " is allied with it (the reverse direction follows from kg:alliedWith being"
            " symmetric).",
            "    kgr:nk-deployment kg:deployedBy kgr:north-korea",
            "      [asserted in data/ttl/facts.ttl; source kgr:source/kursk-article]",
            "    kgr:nk-deployment kg:inSupportOf kgr:russia",
            "      [asserted in data/ttl/facts.ttl; source kgr:source/kursk-article]",
            "  kg:alliedWith rdf:type owl:SymmetricProperty",
            "    [asserted in ontology/mini.ttl]",
        ]
    )


def test_the_json_tree_names_rules_files_and_sources(store):
    tree = explain(store, triple("kgr:north-korea kg:alliedWith kgr:russia"), rules_dir=RULES)
    data = tree.to_dict()
    assert data["kind"] == "rule"
    assert data["rule"] == "alliance"
    assert data["title"] == "deployment in support means alliance"
    assert data["triple"] == {
        "subject": "<https://w3id.org/kgraph/id/north-korea>",
        "predicate": "<https://w3id.org/kgraph/ontology#alliedWith>",
        "object": "<https://w3id.org/kgraph/id/russia>",
    }
    assert [p["text"] for p in data["premises"]] == [
        "kgr:nk-deployment kg:deployedBy kgr:north-korea",
        "kgr:nk-deployment kg:inSupportOf kgr:russia",
    ]
    assert data["premises"][0]["graphs"] == ["data/ttl/facts.ttl"]
    assert data["premises"][0]["sources"] == ["https://w3id.org/kgraph/id/source/kursk-article"]


@pytest.mark.parametrize(
    ("text", "rule", "premises"),
    [
        (
            "kgr:putin rdf:type kg:Agent",
            "cax-sco",
            ["kgr:putin rdf:type kg:Person", "kg:Person rdfs:subClassOf kg:Agent"],
        ),
        (
            "kgr:putin rdf:type kg:Person",
            "prp-dom",
            ["kgr:putin kg:leads kgr:russian-government", "kg:leads rdfs:domain kg:Person"],
        ),
        (
            "kgr:kursk-oblast rdf:type kg:Place",
            "prp-rng",
            ["kgr:sudzha kg:locatedIn kgr:kursk-oblast", "kg:locatedIn rdfs:range kg:Place"],
        ),
        (
            "kgr:putin kg:memberOf kgr:russian-government",
            "prp-spo1",
            [
                "kgr:putin kg:leads kgr:russian-government",
                "kg:leads rdfs:subPropertyOf kg:memberOf",
            ],
        ),
        (
            "kgr:kursk-oblast kg:contains kgr:sudzha",
            "prp-inv1",
            ["kgr:sudzha kg:locatedIn kgr:kursk-oblast", "kg:contains owl:inverseOf kg:locatedIn"],
        ),
        (
            "kgr:sudzha kg:locatedIn kgr:russia",
            "prp-trp",
            [
                "kgr:sudzha kg:locatedIn kgr:kursk-oblast",
                "kgr:kursk-oblast kg:locatedIn kgr:russia",
                "kg:locatedIn rdf:type owl:TransitiveProperty",
            ],
        ),
        (
            "kgr:kpa-unit kg:servesState kgr:north-korea",
            "prp-spo2",
            ["kgr:kpa-unit kg:unitOf kgr:kpa", "kgr:kpa kg:forceOf kgr:north-korea"],
        ),
    ],
)
def test_each_owl_rl_pattern_is_replayed(store, text, rule, premises):
    data = explain(store, triple(text), rules_dir=RULES).to_dict()
    assert (data["kind"], data["rule"]) == ("owl-rl", rule)
    assert [p["text"] for p in data["premises"]] == premises


def test_a_rule_after_the_closure_explains_both(store):
    tree = explain(store, triple("kgr:ukraine-mechanized kg:foughtIn kgr:russia"), rules_dir=RULES)
    assert [(p.kind, p.rule) for p in tree.premises] == [
        ("asserted", ""),
        ("asserted", ""),
        ("owl-rl", "prp-trp"),
    ]


def test_an_asserted_triple_says_its_file(store):
    tree = explain(store, triple("kgr:sudzha kg:locatedIn kgr:kursk-oblast"), rules_dir=RULES)
    assert tree.to_text() == ("kgr:sudzha kg:locatedIn kgr:kursk-oblast\n  [asserted in data/ttl/facts.ttl]")


def test_an_absent_triple_is_not_found(store):
    with pytest.raises(TripleNotFound, match="not in the graph: kgr:russia kg:controls kgr:kursk-oblast"):
        explain(store, triple("kgr:russia kg:controls kgr:kursk-oblast"), rules_dir=RULES)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("kgr:sudzha", ox.NamedNode("https://w3id.org/kgraph/id/sudzha")),
        ("<https://w3id.org/kgraph/id/sudzha>", ox.NamedNode("https://w3id.org/kgraph/id/sudzha")),
        ("https://w3id.org/kgraph/id/sudzha", ox.NamedNode("https://w3id.org/kgraph/id/sudzha")),
        (
            '"12"^^xsd:integer',
            ox.Literal("12", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        ),
        ("12", ox.Literal("12", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
        ('"Sudzha"@en', ox.Literal("Sudzha", language="en")),
    ],
)
def test_terms_are_read_as_turtle_writes_them(text, term):
    assert parse_term(text) == term


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo:bar", "unknown prefix foo: in foo:bar"),
        ("sudzha", "not an IRI, prefixed name or literal: sudzha"),
        ('"open', 'not a valid Turtle literal: "open'),
        ("<not an iri>", "not a valid IRI: <not an iri>"),
    ],
)
def test_bad_terms_are_refused_with_a_reason(text, message):
    with pytest.raises(TermSyntaxError, match=message):
        parse_term(text)


@pytest.fixture(scope="module")
def client(store):
    app = Flask(__name__)
    graph = SimpleNamespace(store=store, files=SimpleNamespace(rules=RULES))
    app.extensions["kgraph"] = SimpleNamespace(graph=graph)
    app.register_blueprint(bp)
    return app.test_client()


ALLIANCE = {
    "s": "kgr:russia",
    "p": "kg:alliedWith",
    "o": "<https://w3id.org/kgraph/id/north-korea>",
}


def test_http_explain_answers_the_text_tree(client):
    response = client.get("/explain", query_string=ALLIANCE)
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.text.splitlines()[:2] == [
        "kgr:russia kg:alliedWith kgr:north-korea",
        "  <- OWL 2 RL prp-symp: owl:SymmetricProperty",
    ]


@pytest.mark.parametrize(
    ("query", "headers"),
    [({"format": "json"}, {}), ({}, {"Accept": "application/json"})],
)
def test_http_explain_answers_json_when_asked(client, query, headers):
    response = client.get("/explain", query_string={**ALLIANCE, **query}, headers=headers)
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.json["rule"] == "prp-symp"


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        (
            {"s": "kgr:russia", "p": "kg:alliedWith", "o": "kgr:ukraine"},
            404,
            "not in the graph: kgr:russia kg:alliedWith kgr:ukraine\n",
        ),
        (
            {"s": "kgr:russia", "p": "foo:x", "o": "kgr:ukraine"},
            400,
            "Bad term: unknown prefix foo: in foo:x (known: kg:, kgr:, kgg:, rdf:, rdfs:, owl:,"
            " xsd:, prov:, time:, geo:, skos:, dcterms:, schema:, sem:, wd:)\n",
        ),
        ({"s": "kgr:russia"}, 400, "Missing parameter(s): p, o (a triple is s, p and o).\n"),
        ({**ALLIANCE, "format": "xml"}, 400, "Unknown format: use format=text or format=json.\n"),
    ],
)
def test_http_explain_errors(client, query, status, message):
    response = client.get("/explain", query_string=query)
    assert (response.status_code, response.text) == (status, message)


def test_the_real_alliance_is_explained_down_to_the_deployment_and_the_article():
    from kgraph.config import Settings
    from kgraph.graph import build

    article = build(Settings())
    tree = explain(
        article.store,
        triple("kgr:russia kg:alliedWith kgr:north-korea"),
        rules_dir=article.files.rules,
    )
    assert (tree.kind, tree.rule) == ("owl-rl", "prp-symp")
    reverse = tree.premises[0]
    assert (reverse.kind, reverse.rule) == ("rule", "allied-by-deployment")
    steps = {p.to_dict()["text"]: p for p in reverse.premises}
    deployment = steps["kgr:north-korean-deployment-kursk kg:inSupportOf kgr:russia"]
    assert deployment.kind == "asserted"
    assert deployment.graphs == ["data/ttl/north-korea.ttl"]
    assert [s.value for s in deployment.sources] == ["https://w3id.org/kgraph/id/source/kursk-article"]
    assert "kgr:north-korean-deployment-kursk kg:deployedForce kgr:north-korean-contingent" in steps


PLACES = Path(__file__).parent / "fixtures" / "explain"
"""A transitive ``kg:locatedIn`` with an inverse and a range, and the project's containment rule."""
_ID, _KG = "https://w3id.org/kgraph/id/", "https://w3id.org/kgraph/ontology#"
_ARTICLE = ox.NamedNode(_ID + "source/kursk-article")


@st.composite
def places_and_events(draw: st.DrawFn) -> tuple[list[int], list[int], bool]:
    """A forest of places (each one's parent, or -1), the places of a few events, and whether it is one chain."""
    count = draw(st.integers(min_value=2, max_value=10))
    is_chain = draw(st.booleans())
    parents = [-1] + [i - 1 if is_chain else draw(st.integers(min_value=-1, max_value=i - 1)) for i in range(1, count)]
    events = draw(st.lists(st.integers(min_value=0, max_value=count - 1), min_size=1, max_size=3))
    return parents, events, is_chain


def contributed(parents: list[int], events: list[int]) -> EmbeddedStore:
    """The ontology, and the places and events in a contributor's graph, each place derived from the article."""
    store = EmbeddedStore()
    load_file(store, PLACES / "ontology" / "places.ttl", GRAPH_NS + "ontology/p")
    graph = ox.NamedNode(GRAPH_NS + "contrib/alice")
    place = [ox.NamedNode(f"{_ID}p{i}") for i in range(len(parents))]
    quads = [ox.Quad(p, ox.NamedNode(PROV + "wasDerivedFrom"), _ARTICLE, graph) for p in place]
    quads += [
        ox.Quad(place[i], ox.NamedNode(_KG + "locatedIn"), place[parent], graph)
        for i, parent in enumerate(parents)
        if parent >= 0
    ]
    quads += [
        ox.Quad(ox.NamedNode(f"{_ID}e{n}"), ox.NamedNode(_KG + "hasPlace"), place[at], graph)
        for n, at in enumerate(events)
    ]
    store.add(quads)
    return store


def leaves(tree: Explanation) -> list[Explanation]:
    return [tree] if not tree.premises else [leaf for p in tree.premises for leaf in leaves(p)]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(places_and_events())
def test_every_inferred_triple_of_random_chains_and_trees_explains_down_to_asserted_triples(
    drawn: tuple[list[int], list[int], bool],
) -> None:
    parents, events, _ = drawn
    store = contributed(parents, events)
    run_inference(store, rules_dir=PLACES / "rules")
    inferred = [q.triple for q in store.quads(graph=INFERRED_GRAPH)]
    assert inferred  # every place and event gets a type at least
    for triple in inferred:
        tree = explain(store, triple, rules_dir=PLACES / "rules")
        assert tree.kind in ("rule", "owl-rl"), tree.to_text()
        for leaf in leaves(tree):
            assert leaf.kind == "asserted", tree.to_text()
            assert leaf.graphs in (["contrib/alice"], ["ontology/p"]), tree.to_text()
            if leaf.graphs == ["contrib/alice"]:
                assert leaf.sources == [_ARTICLE] or leaf.triple.subject.value.startswith(_ID + "e")


def test_a_long_chain_is_explained_in_halves_not_step_by_step() -> None:
    store = contributed(list(range(-1, 31)), [31])
    run_inference(store, rules_dir=PLACES / "rules")
    tree = explain(store, triple("kgr:p31 kg:locatedIn kgr:p0"), rules_dir=PLACES / "rules")

    def depth(node: Explanation) -> int:
        return 1 + max((depth(p) for p in node.premises), default=0)

    assert {leaf.kind for leaf in leaves(tree)} == {"asserted"}
    assert depth(tree) == 6  # 31 steps: five halvings, then the asserted steps
