"""Bad files and arguments: one located line and the documented exit code (2 unreadable input, 1 violations),
never a traceback. Run as users run the command, in a subprocess."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import KGRAPH, free_port

FIXTURES = Path(__file__).parent / "fixtures"
VALIDATE = FIXTURES / "validate"
QUERY_PROJECT = FIXTURES / "infer" / "project"
KNOWN = ".ttl .nt .nq .trig .jsonld .rdf .owl .xml"


def kgraph(*args: str, cwd: Path, project: Path = VALIDATE / "project") -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(KGRAPH), *args],
        env={**os.environ, "KGRAPH_PROJECT_DIR": str(project)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def odd_paths(tmp_path: Path) -> Path:
    """A folder of things that are not RDF files under RDF names."""
    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    (tmp_path / "link.ttl").symlink_to("notes.txt")
    (tmp_path / "dangling.ttl").symlink_to("nowhere.ttl")
    os.mkfifo(tmp_path / "fifo.ttl")
    (tmp_path / "empty.ttl").mkdir()
    (tmp_path / "zero.ttl").symlink_to("/dev/zero")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("link.ttl", f"link.ttl: a symbolic link to notes.txt, which is not an RDF file (known extensions: {KNOWN})"),
        ("dangling.ttl", "dangling.ttl: a symbolic link to nowhere.ttl, which does not exist"),
        ("fifo.ttl", "fifo.ttl: a named pipe (FIFO), not a file: kgraph reads regular files only"),
        ("empty.ttl", f"empty.ttl: a folder without RDF files (known extensions: {KNOWN})"),
        (
            "zero.ttl",
            "zero.ttl: a symbolic link to /dev/zero, which is a device, not a file: kgraph reads regular files only",
        ),
        ("notes.txt", f"notes.txt: not an RDF file (known extensions: {KNOWN})"),
        ("missing.ttl", "missing.ttl: no such file or folder"),
    ],
)
def test_validate_says_what_a_path_is_instead_of_an_rdf_file(odd_paths: Path, name: str, message: str) -> None:
    result = kgraph("validate", "--no-project-data", name, cwd=odd_paths)
    assert (result.returncode, result.stdout, result.stderr) == (2, f"{message}\n1 problem found\n", "")


def test_validate_names_a_device_given_directly(tmp_path: Path) -> None:
    result = kgraph("validate", "--no-project-data", "/dev/zero", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (
        2,
        "/dev/zero: a device, not a file: kgraph reads regular files only\n1 problem found\n",
    )


def test_an_ill_typed_literal_is_one_located_line_without_rdflib_traceback() -> None:
    result = kgraph("validate", "contrib/ill-typed-date.ttl", cwd=VALIDATE)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        'contrib/ill-typed-date.ttl:6:29: "2024-13-45"^^xsd:date is not a valid xsd:date (month must be in 1..12); '
        'xsd:date expects YYYY-MM-DD, e.g. "2024-08-06"\n1 problem found\n',
        "",
    )


def test_a_byte_order_mark_is_accepted_by_validate(tmp_path: Path) -> None:
    good = (VALIDATE / "contrib" / "good.ttl").read_bytes()
    (tmp_path / "bom.ttl").write_bytes(b"\xef\xbb\xbf" + good)
    result = kgraph("validate", "bom.ttl", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "conforms\n", "")


def test_a_mistyped_query_file_is_no_such_file(tmp_path: Path) -> None:
    result = kgraph("query", "queries/allies-of-rusia.rq", cwd=tmp_path, project=QUERY_PROJECT)
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        "kgraph: queries/allies-of-rusia.rq: no such file\n",
    )


def test_a_query_file_with_a_byte_order_mark_runs(tmp_path: Path) -> None:
    (tmp_path / "ask.rq").write_bytes(b"\xef\xbb\xbfASK { }")
    result = kgraph("query", "ask.rq", cwd=tmp_path, project=QUERY_PROJECT)
    assert (result.returncode, result.stdout) == (0, "true\n")


@pytest.mark.parametrize(
    ("query", "fmt", "message"),
    [
        (
            "SELECT * WHERE { ?s ?p ?o } LIMIT 1",
            "turtle",
            "kgraph: --format turtle does not fit a SELECT query; use one of: table, json, xml, csv, tsv\n",
        ),
        (
            "ASK { ?s ?p ?o }",
            "ntriples",
            "kgraph: --format ntriples does not fit an ASK query; use one of: table, json, xml, csv, tsv\n",
        ),
        (
            "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1",
            "csv",
            "kgraph: --format csv does not fit a CONSTRUCT or DESCRIBE query; use one of: table, turtle, ntriples, "
            "rdfxml, jsonld\n",
        ),
    ],
)
def test_a_format_that_does_not_fit_the_query_form_is_refused(tmp_path: Path, query: str, fmt: str, message: str):
    result = kgraph("query", "--format", fmt, query, cwd=tmp_path, project=QUERY_PROJECT)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message)


INFERRED = "https://w3id.org/kgraph/graph/inferred"


@pytest.mark.parametrize(
    ("name", "text", "where", "graph", "what"),
    [
        (
            "inferred.nq",
            f"<http://example.org/a> <http://example.org/p> <http://example.org/o> <{INFERRED}> .\n",
            ":1:70",
            INFERRED,
            "kgraph's inferred graph",
        ),
        (
            "writes.trig",
            "@prefix ex: <http://example.org/> .\n<https://w3id.org/kgraph/graph/contrib/alice> { ex:a ex:p ex:o }\n",
            ":2:1",
            "https://w3id.org/kgraph/graph/contrib/alice",
            "a graph of writes made over HTTP",
        ),
        (
            "file.jsonld",
            '{"@id": "https://w3id.org/kgraph/graph/data/ttl/places.ttl",\n'
            ' "@graph": [{"@id": "http://example.org/a", "http://example.org/p": "x"}]}\n',
            ":1:9",
            "https://w3id.org/kgraph/graph/data/ttl/places.ttl",
            "a graph kgraph keeps for a project file",
        ),
    ],
)
def test_serve_refuses_data_that_names_a_graph_of_the_project(
    tmp_path: Path, name: str, text: str, where: str, graph: str, what: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = kgraph("serve", "--port", str(free_port()), "--data", str(path), cwd=tmp_path, project=QUERY_PROJECT)
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        f"kgraph: cannot load the graph: {path}{where}: names the graph <{graph}>, {what}; a --data file may fill "
        f"its own graph <https://w3id.org/kgraph/graph/external/{name}> and graphs outside "
        "<https://w3id.org/kgraph/graph/> only\n",
    )


def test_data_in_its_own_graphs_outside_the_project_is_served(tmp_path: Path) -> None:
    path = tmp_path / "mine.nq"
    path.write_text("<http://example.org/a> <http://example.org/p> <http://example.org/o> <http://example.org/g> .\n")
    ask = "ASK { GRAPH <http://example.org/g> { <http://example.org/a> ?p ?o } }"
    result = subprocess.run(
        [str(KGRAPH), "query", ask],
        env={**os.environ, "KGRAPH_PROJECT_DIR": str(QUERY_PROJECT), "KGRAPH_DATA": str(path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "true\n")


def test_a_long_validation_ends_with_a_summary_line_off_a_terminal(monkeypatch) -> None:
    from click.testing import CliRunner

    from kgraph.cli import _Progress, main

    monkeypatch.setattr(_Progress, "SUMMARY_AFTER", 0.0)
    monkeypatch.chdir(VALIDATE)
    result = CliRunner().invoke(main, ["validate", "contrib/good.ttl"], env={"KGRAPH_PROJECT_DIR": "project"})
    assert (result.exit_code, result.stdout) == (0, "conforms\n")
    [summary] = result.stderr.splitlines()
    assert summary.startswith("kgraph validate: ")
    assert summary.endswith(" s, the last one: checking the shapes")


def test_a_long_run_on_a_terminal_shows_each_step(monkeypatch) -> None:
    from click.testing import CliRunner

    from kgraph.cli import _Progress, main

    monkeypatch.setattr(_Progress, "STEPS_AFTER", 0.0)
    monkeypatch.chdir(VALIDATE)
    monkeypatch.setattr(_Progress, "__init__", _terminal_init(_Progress.__init__))  # CliRunner's stderr is no tty
    result = CliRunner().invoke(main, ["validate", "contrib/good.ttl"], env={"KGRAPH_PROJECT_DIR": "project"})
    steps = result.stderr.splitlines()
    assert steps[0].startswith("kgraph validate: loading ")
    assert steps[-2:] == [steps[-2], "kgraph validate: checking the shapes"]
    assert steps[-2].startswith("kgraph validate: inferring over ")


def _terminal_init(init):
    """``_Progress.__init__`` as on a terminal."""

    def terminal(self, command: str) -> None:
        init(self, command)
        self.terminal = True

    return terminal
