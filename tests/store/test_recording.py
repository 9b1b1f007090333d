"""A recorded store knows exactly what a write changed, and puts it back."""

from __future__ import annotations

import pyoxigraph as ox

from kgraph.store import EmbeddedStore
from kgraph.store.recording import RecordingStore

EX = "http://example.org/"
GRAPH = EX + "g"


def quad(name: str) -> ox.Quad:
    return ox.Quad(ox.NamedNode(EX + name), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "o"), ox.NamedNode(GRAPH))


def test_only_real_changes_are_recorded_and_undo_restores_the_store() -> None:
    store = EmbeddedStore()
    store.add([quad("a"), quad("b")])
    recorded = RecordingStore(store)
    recorded.add([quad("a"), quad("c"), quad("d")])  # a was there
    recorded.remove([quad("b"), quad("d"), quad("e")])  # d was just added, e never was
    assert (recorded.added, recorded.removed) == ([quad("c")], [quad("b")])
    recorded.clear_graph(GRAPH)
    assert (recorded.added, recorded.removed) == ([], [quad("b"), quad("a")])
    recorded.undo()
    assert sorted(store.quads(), key=str) == [quad("a"), quad("b")]
    assert (recorded.added, recorded.removed) == ([], [])


def test_a_default_graph_quad_is_told_from_the_same_triple_in_a_named_graph() -> None:
    store = EmbeddedStore()
    named = quad("a")
    default = ox.Quad(named.subject, named.predicate, named.object, ox.DefaultGraph())
    store.add([named])
    recorded = RecordingStore(store)
    recorded.add([default])
    assert recorded.added == [default]
    assert store.contains(named) and store.contains(default)
