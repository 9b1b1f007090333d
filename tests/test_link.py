"""``kgraph link`` against a real SPARQL endpoint: ``oxigraph serve`` over a small Wikidata-shaped sample.

The sample (``tests/fixtures/link/wikidata-sample.ttl``) holds, for each resource of ``entities.ttl``, the item
that should be proposed and decoys with the same name but another type; the resources include one that is
linked already and one of a kind the class mapping does not cover.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from conftest import KGRAPH, OXIGRAPH, PROJECT, free_port, start_oxigraph, stop_process
from kgraph.cli import main
from kgraph.config import RESOURCE_NS
from kgraph.infer import run_inference
from kgraph.link import USER_AGENT, request
from kgraph.load import load_paths
from kgraph.project import ProjectFiles
from kgraph.store import EmbeddedStore
from kgraph.validate import validate_paths

FIXTURES = Path(__file__).parent / "fixtures" / "link"
ENTITIES = FIXTURES / "entities.ttl"
KG = "https://w3id.org/kgraph/ontology#"
WD = "http://www.wikidata.org/entity/"
SKOS_EXACT_MATCH = "http://www.w3.org/2004/02/skos/core#exactMatch"
OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"

EXPECTED = {
    ("kursk-incursion-2024", "Q99000013", "0.8"),
    ("kursk-oblast", "Q99000003", "1"),
    ("ottawa", "Q99000009", "0.5"),
    ("ottawa", "Q99000010", "0.5"),
    ("sudzha", "Q99000001", "1"),
    ("washington", "Q99000006", "0.8"),
}
"""(resource, proposed item, score) for entities.ttl: label = label scores 1, an alias or altLabel 0.8, shared."""

DECOYS = {"Q99000002", "Q99000004", "Q99000005", "Q99000007", "Q99000008"}
NEVER_ASKED = {"Q99000011", "Q99000012"}
"""Moscow's namesake (Moscow is linked already) and the front's (fronts are not mapped)."""

pytestmark = pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The query URL of a read-only ``oxigraph serve`` holding the sample, for this module's tests."""
    folder = tmp_path_factory.mktemp("wikidata")
    db = folder / "db"
    loaded = [str(OXIGRAPH), "load", "--location", str(db), "--file", str(FIXTURES / "wikidata-sample.ttl")]
    subprocess.run(loaded, check=True, capture_output=True)
    process, base = start_oxigraph(db, read_only=True)
    url = base + "/query"
    yield url
    stop_process(process)
    shutil.rmtree(folder, ignore_errors=True)


def link(*args: str | Path) -> tuple[int, str]:
    """Run ``kgraph link`` in-process; its exit code and what it printed."""
    result = CliRunner().invoke(main, ["link", *map(str, args)])
    return result.exit_code, result.output


def candidates(path: Path) -> set[tuple[str, str, str]]:
    """(resource, item, score) of every candidate in an output file, with namespaces cut off."""
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    rows = store.query(
        f"""SELECT ?for ?match ?score WHERE {{
            ?c a <{KG}LinkCandidate> ; <{KG}candidateFor> ?for ; <{KG}candidateMatch> ?match ;
               <{KG}matchScore> ?score }}"""
    )
    return {
        (r["for"].value.removeprefix(RESOURCE_NS), r["match"].value.removeprefix(WD), r["score"].value) for r in rows
    }


def test_proposes_exactly_the_items_of_matching_name_and_type(endpoint: str, tmp_path: Path) -> None:
    output = tmp_path / "wikidata.ttl"
    code, printed = link(ENTITIES, "--endpoint", endpoint, "-o", output)
    assert code == 0, printed
    assert printed == (
        "6 resources without a Wikidata link searched in 1 query, 1 already linked skipped; "
        f"6 candidates (6 new) written to {output}\n"
    )
    assert candidates(output) == EXPECTED
    proposed = {item for _, item, _ in candidates(output)}
    assert not proposed & (DECOYS | NEVER_ASKED)


def test_a_candidate_says_what_matched_and_why(endpoint: str, tmp_path: Path) -> None:
    output = tmp_path / "wikidata.ttl"
    link(ENTITIES, "--endpoint", endpoint, "-o", output)
    text = output.read_text(encoding="utf-8")
    block = text[text.index("cand:washington-Q99000006\n") :].split("\n\n")[0]
    lines = block.splitlines()
    assert lines[:9] == [
        "cand:washington-Q99000006",
        "    a kg:LinkCandidate ;",
        '    rdfs:label "Washington: Wikidata item Q99000006 (Washington, D.C.)?"@en ;',
        "    kg:candidateFor kgr:washington ;",
        "    kg:candidateMatch wd:Q99000006 ;",
        '    kg:matchedLabel "Washington"@en ;',
        "    kg:matchedClass wd:Q486972 ;",
        "    kg:matchScore 0.80 ;",
        "    kg:matchReason \"The resource's label “Washington” is the item's English alias, and the item is an "
        'instance of human settlement (wd:Q486972) or of a subclass; the only item proposed for this resource." ;',
    ]
    assert lines[9] == f"    kg:queriedEndpoint <{endpoint}> ;"
    assert lines[10].startswith('    prov:generatedAtTime "20') and lines[10].endswith('Z"^^xsd:dateTime ;')
    assert lines[11:] == ["    kg:reviewStatus kg:reviewPending ."]


def test_nothing_becomes_a_link_even_after_inference(endpoint: str, tmp_path: Path) -> None:
    output = tmp_path / "wikidata.ttl"
    link(ENTITIES, "--endpoint", endpoint, "-o", output)
    store = EmbeddedStore()
    project = ProjectFiles.locate(PROJECT)
    load_paths(store, [project.ontology, ENTITIES, output], root=PROJECT)
    run_inference(store, rules_dir=project.rules)
    links = store.query(
        f"""SELECT ?s ?o WHERE {{ ?s <{SKOS_EXACT_MATCH}>|<{OWL_SAME_AS}> ?o
            FILTER(STRSTARTS(STR(?s), "{WD}") || STRSTARTS(STR(?o), "{WD}")) }}"""
    )
    assert {(r["s"].value.removeprefix(RESOURCE_NS), r["o"].value) for r in links} == {("moscow", WD + "Q649")}


@pytest.mark.slow
def test_the_candidates_file_validates_with_the_project(endpoint: str, tmp_path: Path) -> None:
    """Declared terms only, and the candidate shapes hold: `kgraph validate candidates/wikidata.ttl` is clean."""
    output = tmp_path / "wikidata.ttl"
    link(ENTITIES, "--endpoint", endpoint, "-o", output)
    report = validate_paths([output], project=ProjectFiles.locate(PROJECT))
    assert (report.errors, report.violations, report.exit_code) == ([], [], 0)  # the project's own warnings: not shown


def test_rerunning_changes_nothing_and_keeps_the_reviewers_verdicts(endpoint: str, tmp_path: Path) -> None:
    output = tmp_path / "wikidata.ttl"
    link(ENTITIES, "--endpoint", endpoint, "-o", output)
    first = output.read_text(encoding="utf-8")
    code, printed = link(ENTITIES, "--endpoint", endpoint, "-o", output)
    assert (code, output.read_text(encoding="utf-8")) == (0, first)
    assert "6 candidates (0 new)" in printed

    pending = "    kg:candidateMatch wd:Q99000010 ;"
    start = first.index(pending)
    end = first.index("kg:reviewStatus kg:reviewPending .", start)
    reviewed = (
        first[:end]
        + 'kg:reviewStatus kg:reviewRejected ;\n    rdfs:comment "Ottawa, Illinois, not the capital of Canada."@en .'
        + first[end + len("kg:reviewStatus kg:reviewPending .") :]
    )
    output.write_text(reviewed, encoding="utf-8")
    assert link(ENTITIES, "--endpoint", endpoint, "-o", output)[0] == 0
    assert output.read_text(encoding="utf-8") == reviewed


def test_a_promoted_candidate_s_resource_is_skipped_next_time(endpoint: str, tmp_path: Path) -> None:
    output = tmp_path / "wikidata.ttl"
    link(ENTITIES, "--endpoint", endpoint, "-o", output)
    promoted = tmp_path / "promoted.ttl"
    promoted.write_text(
        "<https://w3id.org/kgraph/id/sudzha> <http://www.w3.org/2004/02/skos/core#exactMatch> "
        "<http://www.wikidata.org/entity/Q99000001> .\n",
        encoding="utf-8",
    )
    code, printed = link(ENTITIES, promoted, "--endpoint", endpoint, "-o", output)
    assert code == 0
    assert printed.startswith("5 resources without a Wikidata link searched in 1 query, 2 already linked skipped;")
    assert candidates(output) == {c for c in EXPECTED if c[0] != "sudzha"}


def test_batches_ask_several_smaller_queries_for_the_same_answer(endpoint: str, tmp_path: Path) -> None:
    output = tmp_path / "wikidata.ttl"
    code, printed = link(ENTITIES, "--endpoint", endpoint, "-o", output, "--batch-size", "2", "--pause", "0")
    assert code == 0
    assert printed.startswith("6 resources without a Wikidata link searched in 3 queries,")
    assert candidates(output) == EXPECTED


def test_the_project_data_by_default(endpoint: str, tmp_path: Path) -> None:
    """Without PATHS, the article's resources: Moscow, Kyiv and the states are linked, the rest is searched."""
    output = tmp_path / "wikidata.ttl"
    code, printed = link("--endpoint", endpoint, "-o", output)
    assert code == 0, printed
    assert candidates(output) == {
        ("kursk-oblast", "Q99000003", "1"),
        ("ottawa", "Q99000009", "0.5"),
        ("ottawa", "Q99000010", "0.5"),
        ("sudzha", "Q99000001", "1"),
        ("washington", "Q99000006", "0.8"),
    }


def test_an_endpoint_that_is_down_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/query"
    output = tmp_path / "wikidata.ttl"
    done = subprocess.run(
        [str(KGRAPH), "link", str(ENTITIES), "--endpoint", url, "-o", str(output)],
        capture_output=True,
        text=True,
        env={**os.environ, "KGRAPH_PROJECT_DIR": str(PROJECT)},
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"Error: cannot reach {url}: Connection refused\n")
    assert not output.exists()


def test_an_endpoint_that_refuses_the_query_is_one_line_and_exit_2(endpoint: str, tmp_path: Path) -> None:
    url = endpoint.replace("/query", "/nothing")
    result = CliRunner().invoke(main, ["link", str(ENTITIES), "--endpoint", url, "-o", str(tmp_path / "out.ttl")])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: {url} answered HTTP 404 Not Found: POST /nothing is not supported by this server\n"


class Busy(BaseHTTPRequestHandler):
    """An endpoint that is always overloaded (503, Retry-After: 0), and slow on /slow; it records what it got."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        Busy.seen.append(dict(self.headers))
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/slow":
            time.sleep(1)
        self.send_response(503)
        self.send_header("Retry-After", "0")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def busy() -> Iterator[str]:
    """The base URL of a :class:`Busy` endpoint."""
    Busy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_busy_endpoint_is_asked_again_as_it_says_then_given_up(busy: str, tmp_path: Path) -> None:
    code, printed = link(ENTITIES, "--endpoint", busy + "/sparql", "-o", tmp_path / "out.ttl")
    assert code == 2
    assert printed == f"Error: {busy}/sparql answered HTTP 503 Service Unavailable\n"
    assert len(Busy.seen) == 3  # two retries
    assert {headers["User-Agent"] for headers in Busy.seen} == {USER_AGENT}
    assert not (tmp_path / "out.ttl").exists()


def test_a_slow_endpoint_is_given_up_at_the_timeout(busy: str, tmp_path: Path) -> None:
    code, printed = link(ENTITIES, "--endpoint", busy + "/slow", "-o", tmp_path / "out.ttl", "--timeout", "0.2")
    assert (code, printed) == (2, f"Error: {busy}/slow did not answer within 0.2 s\n")


def test_every_query_says_who_is_asking() -> None:
    """Wikidata's User-Agent policy: name the tool and where to learn about it."""
    sent = request("ASK {}", "https://query.wikidata.org/sparql")
    assert sent.get_header("User-agent") == USER_AGENT
    assert USER_AGENT.startswith("kgraph/0.1.0 (https://w3id.org/kgraph/; `kgraph link` proposes Wikidata links")
    assert sent.get_method() == "POST"


def test_an_unreadable_previous_file_stops_the_run_before_any_query(tmp_path: Path) -> None:
    output = tmp_path / "wikidata.ttl"
    output.write_text("cand:x a kg:LinkCandidate .\n", encoding="utf-8")  # prefixes missing
    code, printed = link(ENTITIES, "--endpoint", f"http://127.0.0.1:{free_port()}/query", "-o", output)
    assert code == 2
    assert printed.startswith(f"Error: {output}:1:") and printed.count("\n") == 1
