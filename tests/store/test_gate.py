"""Readers of an embedded store never see a write under way: they wait for its end, or read their snapshot."""

from __future__ import annotations

import threading

import pyoxigraph as ox

from kgraph.store import EmbeddedStore

EX = "http://example.org/"


def quad(name: str) -> ox.Quad:
    return ox.Quad(ox.NamedNode(EX + name), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "o"), ox.NamedNode(EX + "g"))


def test_a_read_that_starts_during_a_write_waits_and_sees_none_of_a_write_taken_back() -> None:
    store = EmbeddedStore()
    store.add([quad("kept")])
    seen: list[int] = []
    reader = threading.Thread(target=lambda: seen.append(store.count()))
    with store.writing():
        store.add([quad("taken-back")])
        assert store.count() == 2  # the writing thread sees its own change
        reader.start()
        reader.join(timeout=0.5)
        assert reader.is_alive()  # waiting for the write to end
        store.remove([quad("taken-back")])
    reader.join(timeout=10)
    assert seen == [1]


def test_a_read_that_starts_during_a_write_sees_it_whole_once_it_ends() -> None:
    store = EmbeddedStore()
    seen: list[list[ox.Quad]] = []
    reader = threading.Thread(target=lambda: seen.append(sorted(store.quads(), key=str)))
    with store.writing():
        store.add([quad("a")])
        reader.start()
        reader.join(timeout=0.2)
        store.add([quad("b")])
    reader.join(timeout=10)
    assert seen == [[quad("a"), quad("b")]]


def test_a_read_started_before_a_write_reads_its_snapshot() -> None:
    store = EmbeddedStore()
    store.add([quad("before")])
    solutions = store.query("SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }")
    quads = store.quads()
    with store.writing():
        store.add([quad("during")])
    assert [row[0] for row in solutions] == [ox.NamedNode(EX + "before")]
    assert list(quads) == [quad("before")]
