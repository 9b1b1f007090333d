"""A remote store (``--store URL``) between starts: reused when its inputs are unchanged, updated file by file,
rebuilt when in doubt, over a real ``oxigraph serve`` (and one real Virtuoso).

What a start did is read from its progress messages (the same ones ``kgraph serve`` logs), never from timing.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from builds import FIXTURE, PETS, RDF_TYPE, dogs_and_owners, kill_build, start, triple, up_to_date
from conftest import OXIGRAPH, PROJECT, start_oxigraph, start_server, stop_process
from kgraph import manifest, writes
from kgraph.config import GRAPH_NS, INFERRED_GRAPH, Settings
from kgraph.graph import build, checkpoint
from kgraph.journal import Journal
from kgraph.store import RemoteStore, open_store
from kgraph.store.remote import endpoints
from kgraph.writes import Writer

PETS_GRAPH = GRAPH_NS + "data/ttl/pets.ttl"
TOKEN = "s3cret-token"

_spec = importlib.util.spec_from_file_location("bench_virtuoso", PROJECT / "bench" / "virtuoso.py")
assert _spec and _spec.loader
virtuoso = sys.modules["bench_virtuoso"] = importlib.util.module_from_spec(_spec)  # bench/ is no package
_spec.loader.exec_module(virtuoso)

pytestmark = pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")


class Oxigraph:
    """An ``oxigraph serve`` over a folder, which a test may stop and start again (on the same port) over another."""

    def __init__(self, folder: Path) -> None:
        self.process, self.url = start_oxigraph(folder)

    def restart(self, folder: Path) -> None:
        stop_process(self.process)
        self.process, url = start_oxigraph(folder, int(self.url.rsplit(":", 1)[1]))
        assert url == self.url


@pytest.fixture
def oxigraph(tmp_path: Path) -> Iterator[Oxigraph]:
    server = Oxigraph(tmp_path / "db")
    yield server
    stop_process(server.process)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "project"))


@pytest.fixture
def settings(tmp_path: Path, project: Path, oxigraph: Oxigraph) -> Settings:
    return Settings.from_env(environ={}, project_dir=project, store=oxigraph.url, data_dir=tmp_path / "data")


def rebuilt(settings: Settings, reason: str) -> str:
    return f"{settings.store}: loading every source file and inferring again: {reason}"


def remote(settings: Settings) -> RemoteStore:
    store = open_store(settings.store, timeout=10)
    assert isinstance(store, RemoteStore)
    return store


def manifest_path(settings: Settings) -> Path:
    return manifest.remote_path(settings.data_dir, endpoints(settings.store)[0])


def inferred(quads: set[ox.Quad]) -> int:
    return sum(quad.graph_name == ox.NamedNode(INFERRED_GRAPH) for quad in quads)


def test_the_second_start_loads_and_infers_nothing_and_serves_the_same(settings: Settings) -> None:
    said: list[str] = []
    fresh_graph = build(settings, progress=said.append)
    fresh = set(fresh_graph.store.quads())
    assert said[0] == rebuilt(settings, "the store has no build manifest")
    assert said[-2:] == [
        f"{settings.store}: running inference",
        f"{settings.store}: inferred 2 triples in {fresh_graph.inference.seconds:.1f} s",
    ]
    assert triple("rex", RDF_TYPE, "Animal", INFERRED_GRAPH) in fresh
    assert triple("ann", RDF_TYPE, "PetOwner", INFERRED_GRAPH) in fresh
    assert inferred(fresh) == 2

    said = []
    reused = build(settings, progress=said.append)
    assert said == up_to_date(settings)
    assert set(reused.store.quads()) == fresh
    assert (reused.inference.added, reused.inference.inconsistencies) == (2, [])
    assert reused.inference.reasoned_graphs == fresh_graph.inference.reasoned_graphs
    assert reused.inference.reasoner == fresh_graph.inference.reasoner == "native (in the store)"


@pytest.mark.parametrize("where", ["disk", "remote"])
def test_a_changed_file_is_reloaded_alone_and_inference_runs_again(
    settings: Settings, project: Path, tmp_path: Path, where: str
) -> None:
    """The same plan over either store that keeps its build."""
    if where == "disk":
        settings = settings.with_overrides(store=str(tmp_path / "store"))
    start(settings)
    data = project / "data" / "ttl" / "pets.ttl"
    data.write_text(data.read_text(encoding="utf-8").replace("rex", "fido"), encoding="utf-8")
    quads, lines = start(settings)
    assert lines[:3] == [
        f"{settings.store}: {data} is new or changed: (re)loading its graph",
        f"loading {data}",
        f"loaded {data}: 2 triples into <{PETS_GRAPH}>",
    ]
    assert lines[3] == f"{settings.store}: running inference"
    assert not any("ontology" in line for line in lines)
    assert triple("fido", RDF_TYPE, "Animal", INFERRED_GRAPH) in quads
    assert triple("ann", RDF_TYPE, "PetOwner", INFERRED_GRAPH) in quads
    assert not [q for q in quads if q.subject == ox.NamedNode(PETS + "rex")]
    assert start(settings)[1] == up_to_date(settings)


@pytest.mark.parametrize("where", ["disk", "remote"])
def test_an_added_then_removed_data_file(settings: Settings, tmp_path: Path, where: str) -> None:
    if where == "disk":
        settings = settings.with_overrides(store=str(tmp_path / "store"))
    start(settings)
    extra = tmp_path / "cats.ttl"
    extra.write_text(f"<{PETS}tom> a <{PETS}Dog> .\n", encoding="utf-8")
    with_extra = settings.with_overrides(data=(extra,))
    quads, lines = start(with_extra)
    assert lines[0] == f"{settings.store}: {extra} is new or changed: (re)loading its graph"
    assert triple("tom", RDF_TYPE, "Animal", INFERRED_GRAPH) in quads
    assert start(with_extra)[1] == up_to_date(settings, 3)

    quads, lines = start(settings)
    assert lines[0] == f"{settings.store}: <{GRAPH_NS}external/cats.ttl> has no source file any more: removing it"
    assert not [q for q in quads if q.subject == ox.NamedNode(PETS + "tom")]


def test_changed_rules_are_applied_in_the_store_without_loading_anything(settings: Settings, project: Path) -> None:
    start(settings)
    rule = project / "rules" / "pet-owner.rq"
    rule.write_text(rule.read_text(encoding="utf-8").replace("ex:PetOwner }", "ex:Keeper }"), encoding="utf-8")
    quads, lines = start(settings)
    assert lines[0] == f"{settings.store}: running inference"
    assert not any(line.startswith("loading") for line in lines)
    assert triple("ann", RDF_TYPE, "Keeper", INFERRED_GRAPH) in quads
    assert triple("ann", RDF_TYPE, "PetOwner", INFERRED_GRAPH) not in quads


def test_a_store_changed_behind_kgraphs_back_is_rebuilt(settings: Settings) -> None:
    first, _ = start(settings)
    remote(settings).add([triple("stray", RDF_TYPE, "Dog", PETS_GRAPH)])
    quads, lines = start(settings)
    reason = f"it holds {len(first) + 1} quads where its build left {len(first)}: something else changed it"
    assert lines[0] == rebuilt(settings, reason)
    assert quads == first

    moved = triple("rex", RDF_TYPE, "Dog", PETS_GRAPH)  # the same number of quads, in other graphs
    remote(settings).remove([moved])
    remote(settings).add([triple("rex", RDF_TYPE, "Dog", GRAPH_NS + "elsewhere")])
    quads, lines = start(settings)
    assert lines[0] == rebuilt(
        settings, f"<{PETS_GRAPH}> holds 1 triples where its build left 2: something else changed it"
    )
    assert moved in quads
    assert quads - first == {triple("rex", RDF_TYPE, "Dog", GRAPH_NS + "elsewhere")}  # another graph: kept, served


def test_another_store_at_the_same_address_is_rebuilt(settings: Settings, oxigraph: Oxigraph, tmp_path: Path) -> None:
    first, _ = start(settings)
    oxigraph.restart(tmp_path / "another-db")
    quads, lines = start(settings)
    assert lines[0] == rebuilt(
        settings, f"it holds 0 quads where its build left {len(first)}: something else changed it"
    )
    assert quads == first
    assert start(settings)[1] == up_to_date(settings)


def test_a_removed_manifest_means_a_rebuild(settings: Settings) -> None:
    first, _ = start(settings)
    manifest_path(settings).unlink()
    quads, lines = start(settings)
    assert lines[0] == rebuilt(
        settings, f"the store holds {len(first)} quads but no build manifest (an interrupted build?)"
    )
    assert quads == first


def test_another_kgraph_version_means_a_rebuild(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = start(settings)
    import kgraph

    monkeypatch.setattr(kgraph, "__version__", "0.0.1")
    quads, lines = start(settings)
    assert lines[0].startswith(rebuilt(settings, "it was built by kgraph "))
    assert lines[0].endswith(f"over Oxigraph, this is kgraph 0.0.1 (pyoxigraph {ox.__version__}) over Oxigraph")
    assert quads == first


def test_writes_not_checkpointed_are_replayed_exactly_once(settings: Settings) -> None:
    graph = build(settings)
    writer = Writer(graph, Journal(settings.data_dir))  # no checkpoint: as if killed right after the commit
    writer.update(f"INSERT DATA {{ <{PETS}bella> a <{PETS}Dog> }}", who="ann")
    writer.update(f"INSERT DATA {{ <{PETS}max> a <{PETS}Dog> }}", who="ann")
    written = set(graph.store.quads())
    remote(settings).remove([q for q in written if q.subject == ox.NamedNode(PETS + "max")])  # as if never sent

    quads, lines = start(settings)
    assert f"{settings.store}: applied 2 journaled write(s)" in lines
    assert not any(line.startswith("loading") for line in lines)
    assert quads == written
    assert triple("max", RDF_TYPE, "Animal", INFERRED_GRAPH) in quads
    assert start(settings)[1] == up_to_date(settings)


def test_a_write_reuses_the_copy_the_last_one_left_unless_the_store_changed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = build(settings)
    writer = Writer(graph, Journal(settings.data_dir))
    copies: list[int] = []
    copy = writes._copy
    monkeypatch.setattr(writes, "_copy", lambda store, empty: copies.append(store.count()) or copy(store, empty))
    writer.update(f"INSERT DATA {{ <{PETS}bella> a <{PETS}Dog> }}", who="ann")
    writer.update(f"INSERT DATA {{ <{PETS}max> a <{PETS}Dog> }}", who="ann")
    assert len(copies) == 1  # the second write started from the copy the first one left
    stray = triple("stray", RDF_TYPE, "Dog", PETS_GRAPH)
    remote(settings).add([stray])  # behind kgraph's back: the count differs, so a new copy is made
    writer.update(f"DELETE DATA {{ <{PETS}bella> a <{PETS}Dog> }}", who="ann")
    assert len(copies) == 2
    quads = set(remote(settings).quads())
    assert stray in quads
    assert triple("max", RDF_TYPE, "Animal", INFERRED_GRAPH) in quads
    assert triple("bella", RDF_TYPE, "Animal", INFERRED_GRAPH) not in quads
    assert quads == set(graph.store.quads())


def test_a_checkpoint_moves_the_counts_by_the_write_without_counting_the_store(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = build(settings)
    writer = Writer(
        graph,
        Journal(settings.data_dir),
        on_commit=lambda delta: checkpoint(graph, settings, (delta.added, delta.removed)),
    )
    server = graph.store.sparql_server()
    assert server is not None
    counted = server.graph_counts
    monkeypatch.setattr(server, "graph_counts", lambda: pytest.fail("the store was counted"))
    writer.update(f"INSERT DATA {{ <{PETS}bella> a <{PETS}Dog> }}", who="ann")  # a new graph, and inferred triples
    writer.update(f"INSERT DATA {{ <{PETS}max> a <{PETS}Dog> }}", who="ann")
    writer.update(f"DELETE DATA {{ <{PETS}bella> a <{PETS}Dog> }}", who="ann")  # and what was inferred from it
    recorded = manifest.read(manifest_path(settings))
    assert recorded is not None
    assert recorded.graphs == counted()
    assert start(settings)[1] == up_to_date(settings)


def test_a_data_directory_that_cannot_hold_the_manifest_is_no_failure(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    nowhere = settings.with_overrides(data_dir=tmp_path / "a-file" / "data")
    first, lines = start(nowhere)
    assert lines[0] == rebuilt(settings, "the store has no build manifest")
    path = manifest_path(nowhere)
    assert [record.getMessage() for record in caplog.records if record.name == "kgraph.graph"] == [
        f"cannot keep the build manifest {path} ([Errno 20] Not a directory: '{path.parent}'): the next start builds "
        "the store again"
    ]
    quads, lines = start(nowhere)
    assert lines[0] == rebuilt(
        settings, f"the store holds {len(first)} quads but no build manifest (an interrupted build?)"
    )
    assert quads == first


@pytest.mark.parametrize("where", ["disk", "remote"])
def test_a_write_to_a_reloaded_graph_is_kept(settings: Settings, tmp_path: Path, where: str) -> None:
    """One's own data (every graph writable): a write to a file's graph, then the file changes; its graph is
    loaded again from the file, and the write applied to it again, as a start without a manifest would."""
    mine = tmp_path / "mine.ttl"
    mine.write_text(f"<{PETS}rex> a <{PETS}Dog> .\n", encoding="utf-8")
    store = str(tmp_path / "store") if where == "disk" else settings.store
    own = settings.with_overrides(own_data=True, data=(mine,), store=store)
    graph = build(own)
    named = graph.asserted_graphs()[0]
    writer = Writer(
        graph,
        Journal(settings.data_dir),
        own_data=True,
        on_commit=lambda delta: checkpoint(graph, own, (delta.added, delta.removed)),
    )
    writer.update(f"INSERT DATA {{ GRAPH <{named}> {{ <{PETS}bella> a <{PETS}Dog> }} }}", who="ann")
    writer.update(f"INSERT DATA {{ <{PETS}max> a <{PETS}Dog> }}", who="ann")
    graph.store.close()
    assert start(own)[1] == up_to_date(own, 1)
    mine.write_text(f"<{PETS}fido> a <{PETS}Dog> .\n", encoding="utf-8")
    quads, lines = start(own)
    assert lines[0] == f"{store}: {mine} is new or changed: (re)loading its graph"
    assert f"{store}: applied 1 earlier journaled write(s) again to the graphs reloaded or removed" in lines
    dogs = {q.subject.value.removeprefix(PETS) for q in quads if q.object == ox.NamedNode(PETS + "Dog")}
    assert dogs == {"fido", "bella", "max"}


@pytest.mark.slow
def test_a_write_through_kgraph_is_there_once_after_a_restart(settings: Settings, project: Path) -> None:
    """Over HTTP, with a token: the write is journaled, committed to the store and checkpointed, so the restart
    replays nothing (a blank node would be duplicated by a second replay) and serves the write."""
    env = {"KGRAPH_PROJECT_DIR": str(project), "KGRAPH_DATA_DIR": str(settings.data_dir), "KGRAPH_TOKEN": TOKEN}
    args = ["--store", str(settings.store)]
    server = start_server(args, env)
    try:
        update = f'INSERT DATA {{ <{PETS}bella> a <{PETS}Dog> ; <{PETS}collar> [ <{PETS}colour> "red" ] }}'
        wrote = requests.post(
            server.endpoint,
            data={"update": update},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        )
        assert wrote.status_code == 200, wrote.text
        first_log = server.output()
    finally:
        server.stop()
    assert rebuilt(settings, "the store has no build manifest") in first_log

    server = start_server(args, env)
    try:
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?collar <{PETS}colour> ?c }}"
        answer = requests.post(server.endpoint, data={"query": query}, headers={"Accept": "text/csv"}, timeout=10)
        animals = requests.post(
            server.endpoint,
            data={"query": f"SELECT ?a WHERE {{ ?a a <{PETS}Animal> }} ORDER BY ?a"},
            headers={"Accept": "text/csv"},
            timeout=10,
        )
        second_log = server.output()
    finally:
        server.stop()
    assert up_to_date(settings)[0] in second_log
    assert "journaled write" not in second_log
    assert (answer.status_code, answer.text) == (200, "n\r\n1\r\n")
    assert (animals.status_code, animals.text) == (200, f"a\r\n{PETS}bella\r\n{PETS}rex\r\n")


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["big.nt is new or changed", "loaded ", "running inference"])
def test_a_build_killed_half_way_is_never_trusted(settings: Settings, tmp_path: Path, moment: str) -> None:
    big = dogs_and_owners(tmp_path / "big.nt")
    with_big = settings.with_overrides(data=(big,))
    first, _ = start(settings)  # a complete build of the other inputs: its manifest is invalidated first
    kill_build(settings, big, moment)
    assert not manifest_path(settings).exists()

    quads, lines = start(with_big)
    assert lines[0].startswith(rebuilt(settings, "the store holds "))
    assert lines[0].endswith(" quads but no build manifest (an interrupted build?)")
    assert first < quads
    assert len(quads) == len(first) + 2 * 20_000 + 2 * 20_000  # the file; each dog an animal, each owner a pet owner
    assert start(with_big)[1] == up_to_date(settings, 3)


@pytest.mark.slow
@pytest.mark.skipif(virtuoso.SERVER is None, reason="Virtuoso is not installed (apt-get install virtuoso-opensource)")
def test_a_virtuoso_store_is_reused_then_rebuilt_when_changed_behind_kgraphs_back(
    settings: Settings, tmp_path: Path
) -> None:
    with virtuoso.start(tmp_path / "virtuoso", buffers=10_000) as instance:
        over = settings.with_overrides(store=instance.endpoint)
        said: list[str] = []
        fresh_graph = build(over, progress=said.append)
        fresh = set(fresh_graph.store.quads())
        assert said[0] == rebuilt(over, "the store has no build manifest")
        assert triple("ann", RDF_TYPE, "PetOwner", INFERRED_GRAPH) in fresh

        said = []
        reused = build(over, progress=said.append)
        assert said == up_to_date(over)
        assert set(reused.store.quads()) == fresh
        assert (reused.inference.added, reused.inference.inconsistencies) == (fresh_graph.inference.added, [])
        assert reused.inference.reasoner == "native (in the store)"

        remote(over).add([triple("stray", RDF_TYPE, "Dog", PETS_GRAPH)])
        quads, lines = start(over)
        reason = f"it holds {len(fresh) + 1} quads where its build left {len(fresh)}: something else changed it"
        assert lines[0] == rebuilt(over, reason)
        assert quads == fresh
        assert start(over)[1] == up_to_date(over)
