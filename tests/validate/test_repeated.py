"""A triple a checked file repeats from another file is a located warning: the served default graph counts it twice."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kgraph.cli import main
from kgraph.load import load_paths
from kgraph.project import ProjectFiles
from kgraph.store import EmbeddedStore
from kgraph.validate import validate_paths
from kgraph.validate.report import to_sarif, to_text

FIXTURES = Path(__file__).parents[1] / "fixtures" / "validate"
PROJECT = ProjectFiles(FIXTURES / "project")
REPEATS = Path("contrib/repeats.ttl")
TWICE = (
    "is stated in project/data/ttl/places.ttl too: queries over the default graph count the triple twice; "
    "state it in one file"
)


@pytest.fixture(autouse=True)
def in_fixtures(monkeypatch):
    monkeypatch.chdir(FIXTURES)


def test_each_repeated_triple_is_a_warning_in_the_checked_file_naming_the_other() -> None:
    report = validate_paths([REPEATS], project=PROJECT)
    assert report.exit_code == 0
    assert to_text(report) == (
        f"contrib/repeats.ttl:6: warning: kgr:sudzha rdf:type: kg:Settlement {TWICE}\n"
        f'contrib/repeats.ttl:7: warning: kgr:sudzha rdfs:label: "Sudzha"@en {TWICE}\n'
        "conforms (2 warnings)\n"
    )


def test_the_warning_is_what_a_query_over_the_default_graph_shows() -> None:
    store = EmbeddedStore()
    load_paths(store, [Path("project/data/ttl/places.ttl"), REPEATS], root=FIXTURES)
    settlements = "SELECT ?s WHERE { ?s a <https://w3id.org/kgraph/ontology#Settlement> FILTER isIRI(?s) }"
    assert [row["s"].value for row in store.query(settlements)] == ["https://w3id.org/kgraph/id/sudzha"] * 2


def test_in_a_whole_project_run_a_pair_is_warned_about_once(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "project", tmp_path / "project")
    shutil.copy(REPEATS, tmp_path / "project" / "data" / "ttl" / "a-repeats.ttl")
    project = ProjectFiles(tmp_path / "project")
    report = validate_paths([], project=project)
    warned = [(Path(v.file).name, v.line, v.focus, v.path) for v in report.violations]
    assert warned == [
        ("places.ttl", 8, "kgr:sudzha", "rdf:type"),
        ("places.ttl", 9, "kgr:sudzha", "rdfs:label"),
    ]
    assert all(
        v.message.endswith(
            "a-repeats.ttl too: queries over the default graph count the triple twice; state it in one file"
        )
        for v in report.violations
    )


def test_sarif_and_json_name_the_rule() -> None:
    report = validate_paths([REPEATS], project=PROJECT)
    sarif = json.loads(to_sarif(report))["runs"][0]
    assert [rule["id"] for rule in sarif["tool"]["driver"]["rules"]] == ["kgraph:RepeatedTriple"]
    assert {result["level"] for result in sarif["results"]} == {"warning"}


def test_the_cached_run_gives_the_same_warnings(tmp_path: Path) -> None:
    full = to_text(validate_paths([REPEATS], project=PROJECT))
    cached = to_text(validate_paths([REPEATS], project=PROJECT, cache_dir=tmp_path / "cache"))
    again = to_text(validate_paths([REPEATS], project=PROJECT, cache_dir=tmp_path / "cache"))
    assert full == cached == again


def test_the_command_exits_0_and_prints_them() -> None:
    result = CliRunner().invoke(main, ["validate", str(REPEATS)], env={"KGRAPH_PROJECT_DIR": str(FIXTURES / "project")})
    assert result.exit_code == 0, result.output
    assert result.output.count("warning: kgr:sudzha") == 2
