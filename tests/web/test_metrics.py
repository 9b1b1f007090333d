"""``/metrics``, the result cache and ``explain=true`` over real HTTP against ``kgraph serve``.

One server per test (over ``tests/fixtures/writes``, writes on), so that its counters start at zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

if TYPE_CHECKING:
    from tests.conftest import LiveServer

PROJECT = Path(__file__).parents[1] / "fixtures" / "writes"
TOKEN = "metrics-token"
PREFIXES = "PREFIX kg: <https://w3id.org/kgraph/ontology#>\nPREFIX kgr: <https://w3id.org/kgraph/id/>\n"
PLACES = PREFIXES + "SELECT ?p WHERE { ?p a kg:Settlement } ORDER BY ?p"
CSV = {"Accept": "text/csv"}

Serve = Callable[[list[str], dict[str, str]], "LiveServer"]


def env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "KGRAPH_PROJECT_DIR": str(PROJECT),
        "KGRAPH_DATA_DIR": str(data_dir),
        "KGRAPH_TOKEN": TOKEN,
        "KGRAPH_TOKEN_FILE": "",
        **extra,
    }


def metrics(server: LiveServer) -> dict[str, float]:
    """The samples of ``/metrics`` by name (labels included), after checking the format's shape."""
    response = requests.get(server.url + "/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {}
    for line in response.text.splitlines():
        if line.startswith("#"):
            assert re.fullmatch(r"# (HELP \w+ .+|TYPE \w+ (counter|gauge|histogram))", line), line
            continue
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    return samples


def query(server: LiveServer, text: str, **params: str) -> requests.Response:
    return requests.post(server.endpoint, data={"query": text, **params}, headers=CSV, timeout=30)


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> LiveServer:
    return serve([], env(tmp_path))


def test_queries_cache_hits_and_latencies_are_counted(server: LiveServer) -> None:
    first = query(server, PLACES)
    again = query(server, PLACES.replace("\n", "\n  # the same query, laid out differently\n"))
    refused = query(server, "SELECT * WHERE { ?s ?p }")
    assert (first.status_code, again.status_code, refused.status_code) == (200, 200, 400)
    assert again.content == first.content
    samples = metrics(server)
    assert samples['kgraph_queries_total{outcome="ok"}'] == 2
    assert samples['kgraph_queries_total{outcome="error"}'] == 1
    assert samples["kgraph_cache_hits_total"] == 1
    assert samples["kgraph_cache_misses_total"] == 2
    assert samples["kgraph_cache_entries"] == 1
    assert samples["kgraph_query_duration_seconds_count"] == 3
    assert samples['kgraph_query_duration_seconds_bucket{le="+Inf"}'] == 3
    assert samples['kgraph_query_duration_seconds_bucket{le="30"}'] == 3
    assert samples["kgraph_worker_restarts_total"] == 0
    assert samples["kgraph_query_workers"] == 3  # the default


def test_a_write_clears_the_cache_and_the_next_answer_sees_it(server: LiveServer) -> None:
    before = query(server, PLACES).text
    update = PREFIXES + 'INSERT DATA { kgr:newtown a kg:Settlement ; <http://www.w3.org/2000/01/rdf-schema#label> "N" ;'
    update += " kg:locatedIn kgr:kursk-oblast }"
    written = requests.post(
        server.endpoint, data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    assert written.status_code == 200, written.text
    assert metrics(server)["kgraph_cache_entries"] == 0
    after = query(server, PLACES).text
    assert after.splitlines()[1:] == sorted([*before.splitlines()[1:], "https://w3id.org/kgraph/id/newtown"])
    assert metrics(server)["kgraph_cache_hits_total"] == 0


def test_the_cache_is_off_at_zero_bytes(serve: Serve, tmp_path: Path) -> None:
    server = serve([], env(tmp_path, KGRAPH_CACHE_BYTES="0"))
    assert query(server, PLACES).content == query(server, PLACES).content
    samples = metrics(server)
    assert (samples["kgraph_cache_hits_total"], samples["kgraph_cache_misses_total"]) == (0, 2)


def test_a_timeout_counts_a_worker_restart(serve: Serve, tmp_path: Path) -> None:
    server = serve(["--timeout", "1"], env(tmp_path))
    patterns = " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(8))  # 20-odd triples to the 8th power
    runaway = query(server, f"SELECT (COUNT(*) AS ?n) WHERE {{ {patterns} }}")
    assert runaway.status_code == 503, runaway.text
    samples = metrics(server)
    assert samples["kgraph_worker_restarts_total"] == 1
    assert samples['kgraph_queries_total{outcome="error"}'] == 1


def test_explain_shows_the_planned_query_and_the_counts(server: LiveServer) -> None:
    text = PREFIXES + "SELECT * WHERE { ?e kg:hasPlace ?p OPTIONAL { ?e kg:label ?l } ?p a kg:Settlement }"
    response = query(server, text, explain="true")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    body = response.text
    assert body.startswith("# Query as evaluated\n" + PREFIXES + "SELECT * WHERE { ")
    assert "OPTIONAL { ?e kg:label ?l } moved after 1 join element(s) that do not use its new variables" in body
    assert re.search(
        r"- \? <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        r"<https://w3id.org/kgraph/ontology#Settlement>: \d+\n",
        body,
    )
    assert metrics(server)['kgraph_queries_total{outcome="ok"}'] == 0  # explained, not evaluated


def test_explain_reports_a_syntax_error_as_a_run_would(server: LiveServer) -> None:
    explained = query(server, "SELECT * WHERE { ?s ?p }", explain="true")
    run = query(server, "SELECT * WHERE { ?s ?p }")
    assert (explained.status_code, explained.text) == (run.status_code, run.text)
    assert (run.status_code, run.text) == (
        400,
        "Syntax error at line 1, column 25 (after 'SELECT * WHERE { ?s ?p }'): expected one of LATERAL, SERVICE, ...\n",
    )


def test_explain_must_be_true_or_false(server: LiveServer) -> None:
    response = query(server, PLACES, explain="yes")
    assert (response.status_code, response.text) == (
        400,
        "The 'explain' parameter must be 'true' or 'false', not 'yes'.\n",
    )
