"""The resource index and the label search over a small in-memory graph written here (exact answers)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kgraph.catalog import classes, fold, instances, rank, search
from kgraph.store import EmbeddedStore

GRAPH = "https://w3id.org/kgraph/graph/test"
DATA = """
@prefix kg: <https://w3id.org/kgraph/ontology#> .
@prefix kgr: <https://w3id.org/kgraph/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
kg:Settlement rdfs:label "settlement"@en .
kg:Region rdfs:label "region"@en .
kgr:sudzha a kg:Settlement ; rdfs:label "Sudža"@en ; skos:altLabel "Sudzha"@en .
kgr:kursk-oblast a kg:Region ; rdfs:label "Kursk Oblast"@en ; skos:altLabel "Kursk"@en .
kgr:kursk a kg:Settlement ; rdfs:label "Kursk (city)"@en .
kgr:kurchatov a kg:Settlement ; rdfs:label "Kurchatov"@en .
kgr:battle a kg:Battle ; rdfs:label "Battle for Kursk-Oblast"@en .
<http://example.org/elsewhere> a kg:Settlement ; rdfs:label "Kursk elsewhere"@en .
"""


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    store = EmbeddedStore()
    quads = ox.parse(DATA.encode(), format=ox.RdfFormat.TURTLE)
    store.add(ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(GRAPH)) for q in quads)
    return store


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Sudža", "sudza"), ("  KURSK   Oblast ", "kursk oblast"), ("Kursk-Oblast (2024)", "kursk oblast 2024")],
)
def test_fold_drops_accents_case_and_punctuation(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("label", "query", "expected"),
    [
        ("Kursk", "kursk", 0),
        ("Kursk Oblast", "kursk", 1),
        ("Kursk Oblast", "kursk obl", 1),
        ("Battle for Kursk-Oblast", "kursk o", 2),
        ("Battle for Kursk", "ursk", None),
        ("Kurchatov", "kursk", None),
    ],
)
def test_rank_matches_word_prefixes_only(label: str, query: str, expected: int | None) -> None:
    assert rank(label, query) == expected


def test_search_is_prefix_accent_and_case_insensitive_best_first(store: EmbeddedStore) -> None:
    hits = search(store, "KURSK", [GRAPH])
    assert [(h.resource.iri, h.matched) for h in hits] == [
        ("https://w3id.org/kgraph/id/kursk-oblast", "Kursk"),
        ("https://w3id.org/kgraph/id/kursk", "Kursk (city)"),
        ("http://example.org/elsewhere", "Kursk elsewhere"),
        ("https://w3id.org/kgraph/id/battle", "Battle for Kursk-Oblast"),
    ]
    assert [h.resource.text for h in search(store, "sudz", [GRAPH])] == ["Sudža"]
    assert [h.matched for h in search(store, "SUDŽ", [GRAPH])] == ["Sudža"]


def test_a_hit_knows_its_types_and_its_json_form(store: EmbeddedStore) -> None:
    (hit,) = search(store, "sudzha", [GRAPH])
    assert hit.to_dict() == {
        "iri": "https://w3id.org/kgraph/id/sudzha",
        "label": "Sudža",
        "path": "/id/sudzha",
        "matched": "Sudzha",
        "types": ["https://w3id.org/kgraph/ontology#Settlement"],
    }


def test_an_iri_outside_the_project_has_no_path_here(store: EmbeddedStore) -> None:
    hit = next(h for h in search(store, "kursk e", [GRAPH]))
    assert (hit.to_dict()["iri"], hit.to_dict()["path"]) == ("http://example.org/elsewhere", None)


def test_search_with_no_words_finds_nothing(store: EmbeddedStore) -> None:
    assert search(store, " -- ", [GRAPH]) == []
    assert search(store, "kur", [GRAPH], limit=2) == search(store, "kur", [GRAPH])[:2]


def test_classes_count_the_datasets_resources_only(store: EmbeddedStore) -> None:
    assert [(c.cls.text, c.count) for c in classes(store, [GRAPH])] == [
        ("settlement", 3),
        ("kg:Battle", 1),
        ("region", 1),
    ]


def test_instances_by_label(store: EmbeddedStore) -> None:
    listed, more = instances(store, "https://w3id.org/kgraph/ontology#Settlement", [GRAPH])
    assert [(n.text, why) for n, why in listed] == [("Kurchatov", ""), ("Kursk (city)", ""), ("Sudža", "")]
    assert more is False
