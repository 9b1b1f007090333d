"""Tests of ``kgraph.store.results``: the typed views hand back the very result object the store answered."""

from __future__ import annotations

import pyoxigraph as ox

from kgraph.store import EmbeddedStore
from kgraph.store.results import serialized, solutions, triples

EX = "http://example.org/"


def _store() -> EmbeddedStore:
    store = EmbeddedStore()
    store.add([ox.Quad(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.Literal("x"), ox.DefaultGraph())])
    return store


def test_solutions_are_the_select_result_itself() -> None:
    result = _store().query(f"SELECT ?o WHERE {{ <{EX}a> <{EX}p> ?o }}")
    rows = solutions(result)
    assert rows is result
    assert [row["o"] for row in rows] == [ox.Literal("x")]


def test_triples_are_the_construct_result_itself() -> None:
    result = _store().query("CONSTRUCT WHERE { ?s ?p ?o }")
    assert triples(result) is result
    assert list(triples(result)) == [ox.Triple(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.Literal("x"))]


def test_serialized_passes_the_bytes_through() -> None:
    result = triples(_store().query("CONSTRUCT WHERE { ?s ?p ?o }"))
    data = serialized(result.serialize(format=ox.RdfFormat.N_TRIPLES))
    assert data == f'<{EX}a> <{EX}p> "x" .\n'.encode()
