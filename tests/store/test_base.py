"""What each back end says it can do, through the one store interface (``store/base.py``): callers ask these
instead of checking a store's class."""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.store import EmbeddedStore, RemoteStore, Store
from kgraph.store.base import named_graph

G = "http://example.org/g"
QUAD = ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o"))


def test_an_in_memory_store_is_in_memory_loads_natively_and_has_no_folder() -> None:
    store = EmbeddedStore()
    assert (store.in_memory, store.path, store.loads_natively, store.sparql_server()) == (True, None, True, None)


def test_an_on_disk_store_has_its_folder_and_snapshots(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "db")
    store.load_file(
        io.BytesIO(b'<http://example.org/s> <http://example.org/p> "o" .\n'),
        ox.RdfFormat.N_TRIPLES,
        base_iri=None,
        graph=G,
    )
    assert (store.in_memory, store.path, store.sparql_server()) == (False, tmp_path / "db", None)
    store.snapshot(tmp_path / "copy")
    store.close()
    copy = EmbeddedStore.open_read_only(tmp_path / "copy")
    assert [named_graph(q) for q in copy.quads()] == [G]


def test_a_remote_store_is_a_sparql_server_and_nothing_else() -> None:
    """Asked without a request being sent (nothing listens on the port)."""
    store: Store = RemoteStore("http://127.0.0.1:9/", timeout=1)
    assert (store.in_memory, store.path, store.loads_natively) == (False, None, False)
    assert store.sparql_server() is store
    with pytest.raises(NotImplementedError, match=r"^RemoteStore makes no snapshots$"):
        store.snapshot(Path("/nonexistent"))
    with pytest.raises(NotImplementedError, match=r"^RemoteStore is not cleared as a whole$"):
        store.clear()
    with pytest.raises(NotImplementedError, match=r"^RemoteStore does not parse files itself$"):
        store.load_file(io.BytesIO(b""), ox.RdfFormat.N_TRIPLES, base_iri=None, graph=G)


def test_the_named_graph_of_a_quad_in_the_default_graph_is_none() -> None:
    assert named_graph(QUAD) is None
    assert named_graph(ox.Quad(QUAD.subject, QUAD.predicate, QUAD.object, ox.NamedNode(G))) == G
