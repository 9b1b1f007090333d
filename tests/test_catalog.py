"""The resource index and the label search over a small in-memory graph written here (exact answers)."""

from __future__ import annotations

import unicodedata

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.catalog import LabelIndex, classes, fold, instances, search
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
    found = LabelIndex(labelled([label]), [GRAPH]).matches(query)
    assert {iri: rank for iri, (rank, _, _) in found.items()} == ({} if expected is None else {EX + "0": expected})


EX = "http://example.org/"


def labelled(labels: list[str]) -> EmbeddedStore:
    """A store in which ``EX + str(i)`` has the i-th label."""
    store = EmbeddedStore()
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    store.add(
        ox.Quad(ox.NamedNode(f"{EX}{i}"), label, ox.Literal(text), ox.NamedNode(GRAPH)) for i, text in enumerate(labels)
    )
    return store


def scanned(labels: list[str], query: str) -> dict[str, int]:
    """The rank of each matching label, found the plain way: the whole folded label, its start, a later word's."""
    found = {}
    for i, text in enumerate(labels):
        words = fold(text).split(" ")
        ranks = [0 if fold(text) == query else 1] if fold(text).startswith(query) else []
        ranks += [2 for k in range(1, len(words)) if " ".join(words[k:]).startswith(query)]
        if ranks:
            found[f"{EX}{i}"] = min(ranks)
    return found


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.text(alphabet="aAäb -é1", max_size=12), min_size=1, max_size=8),
    st.text(alphabet="aAäb -é1", min_size=1, max_size=4),
)
def test_the_index_finds_what_a_scan_of_every_label_finds(labels: list[str], text: str) -> None:
    query = fold(text)
    found = LabelIndex(labelled(labels), [GRAPH]).matches(query) if query else {}
    assert {iri: rank for iri, (rank, _, _) in found.items()} == (scanned(labels, query) if query else {})


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


def folded_char_by_char(text: str) -> str:
    """What fold() means, written plainly: decompose, drop combining marks, casefold, anything not alphanumeric a
    space."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in bare).split())


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=30) | st.text(alphabet="Kursk-Oblast_ (2024)é\u0301\u00df\u2163\u0660", max_size=30))
def test_fold_is_the_plain_definition(text: str) -> None:
    assert fold(text) == folded_char_by_char(text)
