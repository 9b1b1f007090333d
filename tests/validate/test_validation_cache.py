"""The validation cache: reused when it matches the project, rebuilt when it does not; never a different answer."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kgraph.cli import main
from kgraph.config import Settings
from kgraph.project import ProjectFiles
from kgraph.validate import cache, validate_paths
from kgraph.validate.reach import Reach
from kgraph.validate.report import ShaclResult, to_text

FIXTURES = Path(__file__).parents[1] / "fixtures" / "validate"


@pytest.fixture
def project(tmp_path: Path) -> ProjectFiles:
    """A copy of the validation fixture project, to edit."""
    shutil.copytree(FIXTURES / "project", tmp_path / "project")
    return ProjectFiles(tmp_path / "project")


@pytest.fixture(autouse=True)
def in_fixtures(monkeypatch):
    monkeypatch.chdir(FIXTURES)


def both(paths: list[Path], project: ProjectFiles, cache: Path) -> tuple[str, str]:
    full = to_text(validate_paths(paths, project=project))
    return full, to_text(validate_paths(paths, project=project, cache_dir=cache))


def cache_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.json"))


def test_the_first_run_caches_the_project_and_later_runs_reuse_it(project, tmp_path):
    cache = tmp_path / "cache"
    assert (
        both([Path("contrib/unlabelled.ttl")], project, cache)
        == (
            "contrib/unlabelled.ttl:5: kgr:martynovka rdfs:label: This resource needs a name: add an English "
            "rdfs:label (expected at least 1 value(s), found 0)\n1 problem found\n",
        )
        * 2
    )
    [cached] = cache_files(cache)
    written = cached.stat().st_mtime_ns
    assert both([Path("contrib/good.ttl")], project, cache) == ("conforms\n", "conforms\n")
    assert cache_files(cache) == [cached]
    assert cached.stat().st_mtime_ns == written  # a contributor's file is not the project: the cache stays


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: "{not json",
        lambda text: text[: len(text) // 2],
        lambda text: json.dumps({**json.loads(text), "nquads": json.loads(text)["nquads"][:-40]}),
        lambda text: json.dumps({**json.loads(text), "format": 0}),
        lambda text: json.dumps({**json.loads(text), "results": [{"focus": "not a term"}]}),
    ],
    ids=["not-json", "truncated", "quads-changed", "old-format", "bad-result"],
)
def test_a_damaged_cache_is_rebuilt(project, tmp_path, damage):
    cache = tmp_path / "cache"
    validate_paths([], project=project, cache_dir=cache)
    [cached] = cache_files(cache)
    cached.write_text(damage(cached.read_text()))
    assert both([Path("contrib/unlabelled.ttl")], project, cache)[1].endswith("1 problem found\n")
    assert json.loads(cached.read_text())["format"] == 1  # written again, whole


def test_an_edited_data_file_is_checked_again(project, tmp_path):
    cache = tmp_path / "cache"
    validate_paths([], project=project, cache_dir=cache)
    places = project.data / "places.ttl"
    places.write_text(places.read_text().replace('rdfs:label "Kursk Oblast"@en', 'rdfs:comment "no name"@en'))
    full, cached = both([places], project, cache)
    assert cached == full
    assert "kgr:kursk-oblast rdfs:label: This resource needs a name" in cached


def test_changed_shapes_are_another_cache(project, tmp_path):
    cache = tmp_path / "cache"
    validate_paths([], project=project, cache_dir=cache)
    labels = project.shapes / "labels.ttl"
    labels.write_text(labels.read_text() + "\n# a comment changes the file, hence the key\n")
    validate_paths([], project=project, cache_dir=cache)
    assert len(cache_files(cache)) == 2


def test_an_unwritable_cache_folder_still_answers(project, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would be")
    assert both([Path("contrib/unlabelled.ttl")], project, blocked / "cache")[1].endswith("1 problem found\n")


def test_no_cache_writes_nothing(tmp_path):
    cache = tmp_path / "cache"
    env = {"KGRAPH_PROJECT_DIR": str(FIXTURES / "project"), "KGRAPH_CACHE_DIR": str(cache)}
    result = CliRunner().invoke(main, ["validate", "--no-cache", "contrib/good.ttl"], env=env)
    assert (result.exit_code, result.stdout, cache.exists()) == (0, "conforms\n", False)
    result = CliRunner().invoke(main, ["validate", "contrib/good.ttl"], env=env)
    assert (result.exit_code, result.stdout, len(cache_files(cache))) == (0, "conforms\n", 1)


def test_the_cache_folder_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Settings.from_env({}).cache_dir == tmp_path / "xdg" / "kgraph"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Settings.from_env({}).cache_dir == tmp_path / "home" / ".cache" / "kgraph"
    assert Settings.from_env({"KGRAPH_CACHE_DIR": "/somewhere"}).cache_dir == Path("/somewhere")


def test_without_the_project_data_is_another_cache(project, tmp_path):
    cache = tmp_path / "cache"
    unlabelled = [Path("contrib/unlabelled.ttl")]
    full = to_text(validate_paths(unlabelled, project=project, project_data=False))
    assert to_text(validate_paths(unlabelled, project=project, project_data=False, cache_dir=cache)) == full
    assert both(unlabelled, project, cache)[1] != full  # kgr:kursk-oblast is known with the data
    assert len(cache_files(cache)) == 2


def test_old_cache_files_are_removed(project, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    for n in range(10):
        (cache / f"old-{n}.json").write_text("{}")
        os.utime(cache / f"old-{n}.json", (1_000_000 + n, 1_000_000 + n))
    (cache / "killed.tmp").write_text("half a file")
    os.utime(cache / "killed.tmp", (1_000_000, 1_000_000))
    validate_paths([], project=project, cache_dir=cache)
    names = sorted(path.name for path in cache.iterdir())
    assert len(names) == 8
    assert [n for n in names if n.startswith("old-")] == [f"old-{n}.json" for n in range(3, 10)]


KGR = "https://w3id.org/kgraph/id/"


def _state() -> cache.CachedState:
    quad = ox.Quad(ox.NamedNode(KGR + "a"), ox.NamedNode(KGR + "p"), ox.Literal("x"), ox.NamedNode(KGR + "g"))
    results = [
        ShaclResult(ox.NamedNode(KGR + "a"), ox.NamedNode(KGR + "p"), "m", "Violation", "sh:MinCount", "kgsh:S", None),
        ShaclResult(ox.Literal("12", language="en"), None, "lit", "Warning", "sh:Datatype", "kgsh:T", "12"),
    ]
    return cache.CachedState({KGR + "g": cache.Source("a.ttl", "0" * 64)}, [quad], results, Reach())


def test_a_saved_state_loads_as_it_was(tmp_path: Path) -> None:
    """A literal focus node (SHACL targets may be literals) and an absent path survive the round trip."""
    state = _state()
    cache.save(tmp_path, "k", state)
    assert cache.load(tmp_path, "k") == state


def test_a_result_whose_path_is_no_iri_makes_the_cache_untrusted(tmp_path: Path) -> None:
    cache.save(tmp_path, "k", _state())
    file = tmp_path / "k.json"
    document = json.loads(file.read_text())
    document["results"][0]["path"] = '"not an IRI"'
    file.write_text(json.dumps(document))
    assert cache.load(tmp_path, "k") is None
