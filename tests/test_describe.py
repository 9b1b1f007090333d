"""What a resource page is made of, gathered from the real article data (no web layer)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.config import Settings
from kgraph.describe import (
    Node,
    describe,
    description_triples,
    exists,
    local_path,
    ontology,
    resource_iri,
    triple_count,
    vocabularies,
)
from kgraph.geo import LatLon, Located
from kgraph.graph import KnowledgeGraph, build
from kgraph.store import EmbeddedStore

PROJECT = Path(__file__).parents[1]
KGR = "https://w3id.org/kgraph/id/"
KG = "https://w3id.org/kgraph/ontology#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"


@pytest.fixture(scope="module")
def graph() -> Iterator[KnowledgeGraph]:
    """The project's own ontology and article data, inferred."""
    kg = build(Settings.from_env(environ={}, project_dir=PROJECT))
    yield kg
    kg.store.close()


@pytest.mark.parametrize(
    ("path", "iri"),
    [
        ("sudzha", KGR + "sudzha"),
        ("aim/outflank-ukrainian-troops-near-sudzha", KGR + "aim/outflank-ukrainian-troops-near-sudzha"),
        ("..", None),
        ("../config", None),
        ("a/../b", None),
        ("./sudzha", None),
        ("a//b", None),
        ("", None),
        ("sudzha/", None),
        ("%2e%2e", None),
        ("a>b", None),
        ("a b", None),
    ],
)
def test_resource_iri_only_names_plain_paths_under_the_namespace(path: str, iri: str | None) -> None:
    assert resource_iri(path) == iri


def test_local_path_maps_project_iris_to_server_paths() -> None:
    assert local_path(KGR + "sudzha") == "id/sudzha"
    assert local_path(KG + "Settlement") == "ontology#Settlement"
    assert local_path("https://w3id.org/kgraph/ontology") == "ontology"
    assert local_path("http://www.wikidata.org/entity/Q1") is None


def test_exists_tells_known_from_unknown_resources(graph: KnowledgeGraph) -> None:
    graphs = graph.default_graph(True)
    assert exists(graph.store, KGR + "sudzha", graphs)
    assert not exists(graph.store, KGR + "no-such-place", graphs)


def test_description_triples_hold_outgoing_and_incoming(graph: KnowledgeGraph) -> None:
    triples = set(description_triples(graph.store, KGR + "sudzha", graph.default_graph(False)))
    sudzha = ox.NamedNode(KGR + "sudzha")
    assert ox.Triple(sudzha, ox.NamedNode(KG + "locatedIn"), ox.NamedNode(KGR + "kursk-oblast")) in triples
    assert ox.Triple(ox.NamedNode(KGR + "sudzha-pipeline-infiltration"), ox.NamedNode(KG + "near"), sudzha) in triples
    assert ox.Triple(sudzha, ox.NamedNode(KG + "locatedIn"), ox.NamedNode(KGR + "russia")) not in triples


def test_inference_adds_the_transitive_containment(graph: KnowledgeGraph) -> None:
    triples = set(description_triples(graph.store, KGR + "sudzha", graph.default_graph(True)))
    sudzha = ox.NamedNode(KGR + "sudzha")
    assert ox.Triple(sudzha, ox.NamedNode(KG + "locatedIn"), ox.NamedNode(KGR + "russia")) in triples


def test_describe_sudzha(graph: KnowledgeGraph) -> None:
    d = describe(graph.store, KGR + "sudzha", graph.default_graph(True))
    assert d.label == "Sudzha"
    assert d.comment == "Town in the Kursk region; Ukraine's operational hub in Kursk according to the article."
    assert Node("settlement", KG + "Settlement", "ontology#Settlement") in d.types
    located_in = Node("located in", KG + "locatedIn", "ontology#locatedIn")
    assert (located_in, Node("Kursk Oblast", KGR + "kursk-oblast", "id/kursk-oblast")) in d.statements
    infiltration = Node(
        "Russian infiltration through a natural gas pipeline near Sudzha (March 2025)",
        KGR + "sudzha-pipeline-infiltration",
        "id/sudzha-pipeline-infiltration",
    )
    assert (infiltration, Node("near", KG + "near", "ontology#near")) in d.incoming
    assert d.points == [
        (d.points[0][0], Located(KGR + "sudzha", "POINT(35.27056 51.19139)", LatLon(51.19139, 35.27056)))
    ]
    assert d.points[0][0] == Node("Sudzha", KGR + "sudzha", "id/sudzha")


def test_a_region_without_coordinates_maps_the_places_in_it(graph: KnowledgeGraph) -> None:
    d = describe(graph.store, KGR + "kursk-oblast", graph.default_graph(False))
    assert [(place.text, p.wkt) for place, p in d.points] == [("Sudzha", "POINT(35.27056 51.19139)")]


def test_describe_lists_claims_with_claimant_and_stance(graph: KnowledgeGraph) -> None:
    d = describe(graph.store, KGR + "kursk-oblast", graph.default_graph(True))
    by_claim = {ref.claim.iri: ref for ref in d.claims}
    ref = by_claim[KGR + "claim/russia-claims-full-control-of-kursk"]
    assert ref.claim.text == "Russia claims full control over the Kursk region"
    assert ref.claimant is not None and ref.claimant.iri == KGR + "russian-government"
    assert ref.stance == Node("claims", KG + "stanceClaims", "ontology#stanceClaims")


def test_describe_shows_the_source_and_literal_notes(graph: KnowledgeGraph) -> None:
    d = describe(graph.store, KGR + "sudzha-pipeline-infiltration", graph.default_graph(True))
    assert [s.iri for s in d.sources] == [KGR + "source/kursk-article"]
    labels = [o for p, o in d.statements if p.iri == "http://www.w3.org/2000/01/rdf-schema#label"]
    assert labels == [Node("Russian infiltration through a natural gas pipeline near Sudzha (March 2025)", note="@en")]
    assert not d.points


def test_ontology_lists_classes_properties_and_individuals(graph: KnowledgeGraph) -> None:
    reference = ontology(graph.store, ["https://w3id.org/kgraph/graph/ontology/kgraph.ttl"])
    classes = {t.name: t for t in reference.classes}
    properties = {t.name: t for t in reference.properties}
    assert classes["Settlement"].label == "settlement"
    assert Node("place", KG + "Place", "ontology#Place") in classes["Settlement"].parents
    located_in = properties["locatedIn"]
    assert located_in.domain == [Node("place", KG + "Place", "ontology#Place")]
    assert located_in.range == [Node("place", KG + "Place", "ontology#Place")]
    assert "stanceClaims" in {t.name for t in reference.individuals}
    assert not set(classes) & set(properties)
    title = Node("dcterms:title", "http://purl.org/dc/terms/title")
    assert (title, Node("kgraph ontology", note="@en")) in reference.header


def test_triple_count_and_vocabularies_of_the_article_data(graph: KnowledgeGraph) -> None:
    asserted = graph.default_graph(False)
    assert triple_count(graph.store, graph.default_graph(True)) > triple_count(graph.store, asserted)
    used = vocabularies(graph.store, asserted)
    assert {KG, "http://www.opengis.net/ont/geosparql#", "http://www.w3.org/2004/02/skos/core#"} <= set(used)
    assert used == sorted(used)


def test_describe_gives_where_the_article_says_it(graph: KnowledgeGraph) -> None:
    d = describe(graph.store, KGR + "claim/russia-claims-full-control-of-kursk", graph.default_graph(infer=True))
    assert [(a.start, a.end) for a in d.anchors] == [(178, 323), (3683, 3769)]
    assert d.anchors[1].exact == (
        "By April 2025, Moscow claimed full control over Kursk, although Ukraine disputes this."
    )
    assert describe(graph.store, KGR + "sudzha", graph.default_graph(infer=True)).anchors == []


def test_a_triple_term_object_is_shown_as_its_three_terms() -> None:
    """RDF 1.2 allows a triple term as an object: the page shows it, and a comment that is one is not its text."""
    store = EmbeddedStore()
    graph = "https://w3id.org/kgraph/graph/x"
    store.update(
        f"""VERSION "1.2" INSERT DATA {{ GRAPH <{graph}> {{
            <{KGR}a> <{RDF}reifies> <<( <{KGR}b> <{KG}p> <{KGR}c> )>> .
            <{KGR}a> <{RDFS}comment> <<( <{KGR}b> <{KG}p> "x" )>> .
            <{KGR}a> <{KG}claimant> <<( <{KGR}b> <{KG}p> "y" )>> . }} }}"""
    )
    page = describe(store, KGR + "a", [graph])
    assert page.comment == ""
    assert [(p.text, o.text, o.iri) for p, o in page.statements] == [
        ("kg:claimant", '<<( kgr:b kg:p "y" )>>', None),
        ("rdf:reifies", "<<( kgr:b kg:p kgr:c )>>", None),
        ("rdfs:comment", '<<( kgr:b kg:p "x" )>>', None),
    ]
