"""Inference computed inside a remote store equals the in-memory inferred graph, on the article, over a real Oxigraph
server and a real Virtuoso."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import OXIGRAPH, PROJECT, start_oxigraph, stop_process
from kgraph.config import INFERRED_GRAPH, Settings
from kgraph.graph import KnowledgeGraph, build
from kgraph.infer.in_store import DELTA_GRAPH, NEW_GRAPH
from kgraph.store import RemoteStore, open_store

_spec = importlib.util.spec_from_file_location("bench_virtuoso", PROJECT / "bench" / "virtuoso.py")
assert _spec and _spec.loader
virtuoso = sys.modules["bench_virtuoso"] = importlib.util.module_from_spec(_spec)  # bench/ is no package
_spec.loader.exec_module(virtuoso)


@pytest.fixture(scope="module")
def in_memory(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    settings = Settings.from_env(environ={}, project_dir=PROJECT, data_dir=tmp_path_factory.mktemp("data"))
    return build(settings)


def _build_over(url: str, data_dir: Path) -> KnowledgeGraph:
    settings = Settings.from_env(environ={}, project_dir=PROJECT, data_dir=data_dir)
    return build(settings.with_overrides(store=url))


def _inferred(graph: KnowledgeGraph) -> set[ox.Triple]:
    return {quad.triple for quad in graph.store.quads(graph=INFERRED_GRAPH)}


def _assert_same(remote: KnowledgeGraph, in_memory: KnowledgeGraph) -> None:
    assert isinstance(remote.store, RemoteStore)
    assert remote.inference.reasoner == "native (in the store)"
    assert _inferred(remote) == _inferred(in_memory)
    assert remote.inference.added == in_memory.inference.added
    assert remote.inference.reasoned_graphs == in_memory.inference.reasoned_graphs
    assert [str(i) for i in remote.inference.inconsistencies] == [str(i) for i in in_memory.inference.inconsistencies]
    assert not {NEW_GRAPH, DELTA_GRAPH} & set(remote.store.graph_names())  # the scratch graphs are gone


@pytest.mark.slow
@pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")
def test_inference_in_an_oxigraph_server_equals_in_memory(
    in_memory: KnowledgeGraph, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("oxigraph")
    process, url = start_oxigraph(folder / "db")
    try:
        _assert_same(_build_over(url, tmp_path_factory.mktemp("data")), in_memory)
    finally:
        stop_process(process)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[virtuoso.Virtuoso]:
    if virtuoso.SERVER is None:
        pytest.skip("Virtuoso is not installed (apt-get install virtuoso-opensource; .ci/run does)")
    with virtuoso.start(tmp_path_factory.mktemp("virtuoso"), buffers=10_000) as instance:
        yield instance


@pytest.mark.slow
def test_inference_in_virtuoso_equals_in_memory(
    in_memory: KnowledgeGraph, server: virtuoso.Virtuoso, tmp_path_factory: pytest.TempPathFactory
) -> None:
    remote = _build_over(server.endpoint, tmp_path_factory.mktemp("data"))
    _assert_same(remote, in_memory)
    assert open_store(server.endpoint).count(INFERRED_GRAPH) == in_memory.store.count(INFERRED_GRAPH)
