"""Tests of ``kgraph.infer.paths``: the triples that witness a SPARQL property path between two nodes."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath

from kgraph.infer import paths
from kgraph.infer.paths import witness
from kgraph.store import EmbeddedStore

EX = "http://example.org/"
PART = rdflib.URIRef(EX + "partOf")
FORCE = rdflib.URIRef(EX + "forceOf")


def node(name: str) -> ox.NamedNode:
    return ox.NamedNode(EX + name)


def triple(subject: str, predicate: str, obj: str) -> ox.Triple:
    return ox.Triple(node(subject), node(predicate), node(obj))


@pytest.fixture
def store() -> EmbeddedStore:
    """squad partOf company partOf battalion forceOf russia; battalion partOf squad (a cycle)."""
    store = EmbeddedStore()
    facts = [
        triple("squad", "partOf", "company"),
        triple("company", "partOf", "battalion"),
        triple("battalion", "forceOf", "russia"),
        triple("battalion", "partOf", "squad"),
    ]
    store.add([ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in facts])
    store.add([ox.Quad(node("squad"), node("label"), ox.Literal("squad"), ox.DefaultGraph())])
    return store


def test_a_plain_predicate_is_witnessed_by_its_one_triple(store: EmbeddedStore) -> None:
    assert witness(store, node("squad"), PART, node("company")) == [triple("squad", "partOf", "company")]
    assert witness(store, node("squad"), PART, node("battalion")) is None


def test_an_inverse_step_walks_from_object_to_subject(store: EmbeddedStore) -> None:
    assert witness(store, node("company"), InvPath(PART), node("squad")) == [triple("squad", "partOf", "company")]


def test_a_sequence_shows_every_step(store: EmbeddedStore) -> None:
    path = SequencePath(MulPath(PART, "*"), FORCE)
    assert witness(store, node("squad"), path, node("russia")) == [
        triple("squad", "partOf", "company"),
        triple("company", "partOf", "battalion"),
        triple("battalion", "forceOf", "russia"),
    ]
    assert witness(store, node("battalion"), path, node("russia")) == [triple("battalion", "forceOf", "russia")]


def test_zero_or_more_reaches_the_start_with_no_triples_and_one_or_more_needs_a_step(store: EmbeddedStore) -> None:
    assert witness(store, node("russia"), MulPath(PART, "*"), node("russia")) == []
    assert witness(store, node("russia"), MulPath(PART, "+"), node("russia")) is None


def test_one_or_more_follows_a_cycle_back_to_the_start_and_stops(store: EmbeddedStore) -> None:
    assert witness(store, node("squad"), MulPath(PART, "+"), node("squad")) == [
        triple("squad", "partOf", "company"),
        triple("company", "partOf", "battalion"),
        triple("battalion", "partOf", "squad"),
    ]


def test_zero_or_one_takes_at_most_one_step(store: EmbeddedStore) -> None:
    path = MulPath(PART, "?")
    assert witness(store, node("squad"), path, node("squad")) == []
    assert witness(store, node("squad"), path, node("company")) == [triple("squad", "partOf", "company")]
    assert witness(store, node("squad"), path, node("battalion")) is None


def test_an_alternative_keeps_the_first_branch_that_reaches(store: EmbeddedStore) -> None:
    path = AlternativePath(FORCE, PART)
    assert witness(store, node("battalion"), path, node("russia")) == [triple("battalion", "forceOf", "russia")]
    assert witness(store, node("battalion"), path, node("squad")) == [triple("battalion", "partOf", "squad")]


def test_a_literal_start_has_no_forward_step(store: EmbeddedStore) -> None:
    assert witness(store, ox.Literal("squad"), rdflib.URIRef(EX + "label"), node("squad")) is None
    label = InvPath(rdflib.URIRef(EX + "label"))
    assert witness(store, ox.Literal("squad"), label, node("squad")) == [
        ox.Triple(node("squad"), node("label"), ox.Literal("squad"))
    ]


def test_a_negated_property_set_is_not_replayed(store: EmbeddedStore) -> None:
    from rdflib.paths import NegatedPath

    assert witness(store, node("squad"), NegatedPath(FORCE), node("company")) is None


def test_a_repeat_stops_after_max_nodes(store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    chain = [ox.Quad(node(f"n{i}"), node("next"), node(f"n{i + 1}"), ox.DefaultGraph()) for i in range(10)]
    store.add(chain)
    path = MulPath(rdflib.URIRef(EX + "next"), "+")
    assert len(witness(store, node("n0"), path, node("n10")) or []) == 10
    monkeypatch.setattr(paths, "MAX_NODES", 3)
    assert witness(store, node("n0"), path, node("n3")) == [q.triple for q in chain[:3]]
    assert witness(store, node("n0"), path, node("n4")) is None


def test_an_inverse_of_a_repeated_path_is_witnessed(store: EmbeddedStore) -> None:
    assert witness(store, node("battalion"), InvPath(MulPath(PART, "+")), node("squad")) == [
        triple("company", "partOf", "battalion"),
        triple("squad", "partOf", "company"),
    ]


def test_an_inverse_of_a_sequence_walks_it_backwards(store: EmbeddedStore) -> None:
    assert witness(store, node("battalion"), InvPath(SequencePath(PART, PART)), node("squad")) == [
        triple("company", "partOf", "battalion"),
        triple("squad", "partOf", "company"),
    ]
