"""The on-disk store between starts: reused when its inputs are unchanged, updated file by file, rebuilt when in doubt.

What a start did is read from its progress messages (the same ones ``kgraph serve`` logs), never from timing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from builds import FIXTURE, PETS, RDF_TYPE, dogs_and_owners, kill_build, start, triple, up_to_date
from kgraph.config import GRAPH_NS, INFERRED_GRAPH, Settings
from kgraph.graph import KnowledgeGraph, build, checkpoint
from kgraph.journal import Journal
from kgraph.manifest import MANIFEST_NAME
from kgraph.store import EmbeddedStore
from kgraph.writes import Writer

PROV_ACTIVITY = "http://www.w3.org/ns/prov#Activity"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "project"))


@pytest.fixture
def settings(tmp_path: Path, project: Path) -> Settings:
    return Settings.from_env(environ={}, project_dir=project, store=str(tmp_path / "store"), data_dir=tmp_path / "data")


def test_the_first_start_builds_and_the_next_one_loads_and_infers_nothing(settings: Settings) -> None:
    first, lines = start(settings)
    assert lines[0] == f"{settings.store}: building the store from scratch: the store has no build manifest"
    assert sum(line.startswith("loading ") for line in lines) == 2
    assert triple("rex", RDF_TYPE, "Animal", INFERRED_GRAPH) in first
    assert triple("ann", RDF_TYPE, "PetOwner", INFERRED_GRAPH) in first

    second, lines = start(settings)
    assert lines == up_to_date(settings)
    assert second == first


def test_a_reused_store_keeps_its_inference_report(settings: Settings) -> None:
    fresh = build(settings)
    fresh.store.close()
    reused = build(settings)
    reused.store.close()
    assert (reused.inference.added, reused.inference.inconsistencies) == (fresh.inference.added, [])
    assert reused.inference.reasoned_graphs == fresh.inference.reasoned_graphs


def test_a_touched_but_unchanged_file_is_not_reloaded(settings: Settings, project: Path) -> None:
    start(settings)
    os.utime(project / "data" / "ttl" / "pets.ttl", ns=(1, 1))
    assert start(settings)[1] == up_to_date(settings)


def test_changed_rules_are_applied_without_loading_anything(settings: Settings, project: Path) -> None:
    start(settings)
    rule = project / "rules" / "pet-owner.rq"
    rule.write_text(rule.read_text(encoding="utf-8").replace("ex:PetOwner }", "ex:Keeper }"), encoding="utf-8")
    quads, lines = start(settings)
    assert not any(line.startswith("loading") for line in lines)
    assert lines[0] == f"{settings.store}: running inference"
    assert triple("ann", RDF_TYPE, "Keeper", INFERRED_GRAPH) in quads
    assert triple("ann", RDF_TYPE, "PetOwner", INFERRED_GRAPH) not in quads


def test_an_unreadable_manifest_means_a_rebuild_and_says_so(settings: Settings) -> None:
    first, _ = start(settings)
    manifest = Path(settings.store) / MANIFEST_NAME
    manifest.write_text("{not json", encoding="utf-8")
    quads, lines = start(settings)
    assert lines[0].startswith(
        f"{settings.store}: building the store from scratch: its build manifest {manifest} is unreadable ("
    )
    assert quads == first


def test_a_store_changed_behind_its_manifest_is_rebuilt(settings: Settings) -> None:
    first, _ = start(settings)
    store = EmbeddedStore(Path(settings.store))
    store.add([triple("stray", RDF_TYPE, "Dog", GRAPH_NS + "data/ttl/pets.ttl")])
    store.close()
    quads, lines = start(settings)
    assert lines[0] == (
        f"{settings.store}: building the store from scratch: it holds {len(first) + 1} quads where its build left "
        f"{len(first)}: something else changed it"
    )
    assert quads == first


def test_journaled_writes_survive_restarts_exactly_once(settings: Settings) -> None:
    graph = build(settings)
    writer = Writer(graph, Journal(settings.data_dir))
    writer.update(f"INSERT DATA {{ <{PETS}bella> a <{PETS}Dog> . <{PETS}ann> <{PETS}owns> <{PETS}bella> }}", who="ann")
    writer.update(f"DELETE DATA {{ <{PETS}ann> <{PETS}owns> <{PETS}bella> }}", who="ann")
    written = set(graph.store.quads())
    graph.store.close()

    quads, lines = start(settings)
    assert f"{settings.store}: applied 2 journaled write(s)" in lines
    assert not any(line.startswith("loading") for line in lines)
    assert quads == written
    assert triple("bella", RDF_TYPE, "Animal", INFERRED_GRAPH) in quads
    assert not [q for q in quads if q.predicate == ox.NamedNode(PETS + "owns") and q.object.value.endswith("bella")]
    assert len([q for q in quads if q.object == ox.NamedNode(PROV_ACTIVITY)]) == 2

    again, lines = start(settings)
    assert lines == up_to_date(settings)
    assert again == written


def test_a_replaced_journal_means_a_rebuild(settings: Settings) -> None:
    graph = build(settings)
    Writer(graph, Journal(settings.data_dir)).update(f"INSERT DATA {{ <{PETS}bella> a <{PETS}Dog> }}", who="ann")
    graph.store.close()
    start(settings)
    (Path(settings.data_dir) / "journal.jsonl").unlink()
    quads, lines = start(settings)
    assert "no longer begins with the writes the store holds" in lines[0]
    assert not [q for q in quads if q.subject == ox.NamedNode(PETS + "bella")]


def in_memory(settings: Settings) -> KnowledgeGraph:
    return build(settings.with_overrides(store=""))


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["% read", "loaded ", "running inference", "quads to disk"])
def test_a_build_killed_half_way_is_never_trusted(settings: Settings, tmp_path: Path, moment: str) -> None:
    big = dogs_and_owners(tmp_path / "big.nt")
    kill_build(settings, big, moment)

    with_big = settings.with_overrides(data=(big,))
    quads, lines = start(with_big)
    assert lines[0].startswith(f"{settings.store}: building the store from scratch: ")
    expected = in_memory(with_big)
    assert quads == set(expected.store.quads())
    assert start(with_big)[1] == up_to_date(settings, 3)


def test_another_reasoner_means_inference_again_but_no_load(settings: Settings) -> None:
    first, _ = start(settings)
    quads, lines = start(settings.with_overrides(reasoner="owlrl"))
    assert lines[0] == f"{settings.store}: running inference"
    assert quads == first


def test_a_checkpoint_after_each_write_spares_the_next_start_any_work(settings: Settings) -> None:
    graph = build(settings)
    writer = Writer(
        graph,
        Journal(settings.data_dir),
        on_commit=lambda delta: checkpoint(graph, settings, (delta.added, delta.removed)),
    )
    writer.update(f"INSERT DATA {{ <{PETS}bella> a <{PETS}Dog> }}", who="ann")
    written = set(graph.store.quads())
    graph.store.close()
    quads, lines = start(settings)
    assert lines == up_to_date(settings)
    assert quads == written
    assert triple("bella", RDF_TYPE, "Animal", INFERRED_GRAPH) in quads
