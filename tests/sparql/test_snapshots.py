"""The query pool over an on-disk store: workers read snapshots of it, never a copy in memory."""

from __future__ import annotations

import os
from pathlib import Path

import pyoxigraph as ox

from kgraph.sparql.datasets import SNAPSHOTS
from kgraph.sparql.executor import QueryPool, QueryRequest
from kgraph.store import EmbeddedStore

EX = "http://example.org/"
GRAPH = ox.NamedNode(EX + "graph")
SUBJECTS = f"SELECT ?s WHERE {{ GRAPH <{GRAPH.value}> {{ ?s ?p ?o }} }} ORDER BY ?s"


def quad(name: str) -> ox.Quad:
    return ox.Quad(ox.NamedNode(EX + name), ox.NamedNode(EX + "p"), ox.Literal(name), GRAPH)


def subjects(pool: QueryPool) -> list[str]:
    body = pool.run(QueryRequest(SUBJECTS, format="csv")).body.decode()
    return [line.removeprefix(EX) for line in body.split("\r\n")[1:] if line]


def folders(store: Path) -> list[str]:
    return sorted(str(path.relative_to(store / SNAPSHOTS)) for path in (store / SNAPSHOTS).glob("*/*"))


def test_workers_read_a_snapshot_and_see_each_write(tmp_path: Path) -> None:
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    store.add([quad("a"), quad("b")])
    with QueryPool(store, workers=2, timeout=10, max_result_bytes=100_000) as pool:
        assert subjects(pool) == ["a", "b"]
        snapshot = f"{os.getpid()}-"
        assert [name.split("/")[1] for name in folders(path) if name.startswith(snapshot)] == ["0"]

        store.add([quad("c")])
        store.remove([quad("a")])
        pool.apply([quad("c")], [quad("a")])
        assert subjects(pool) == ["b", "c"]
        pool.apply([quad("d")], [])
        assert subjects(pool) == ["b", "c", "d"]
        assert [name.split("/")[1] for name in folders(path)] == ["2"]  # older generations: no worker left
    assert not list((path / SNAPSHOTS).iterdir())
    store.close()


def test_snapshots_of_a_server_that_died_are_deleted(tmp_path: Path) -> None:
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    store.add([quad("a")])
    dead = path / SNAPSHOTS / "999999999-0" / "0"
    dead.mkdir(parents=True)
    with QueryPool(store, workers=1, timeout=10, max_result_bytes=100_000) as pool:
        assert subjects(pool) == ["a"]
        assert not dead.parent.exists()
    store.close()


def test_the_store_reopens_with_its_snapshots_inside(tmp_path: Path) -> None:
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    store.add([quad("a")])
    with QueryPool(store, workers=1, timeout=10, max_result_bytes=100_000):
        store.add([quad("b")])
        store.flush()
    store.close()
    assert set(EmbeddedStore(path).quads()) == {quad("a"), quad("b")}
