"""Federation over real HTTP: ``kgraph serve`` calls SERVICE endpoints on its allow-list, and nothing else.

The remote is a real second endpoint, Oxigraph's server, holding one triple about a fixture resource; the query
joins it with the local graph. The other remotes are local listeners (``tests/listener.py``): one too slow for the
time limit, one that redirects, and canaries that must never be called.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from conftest import FIXTURE_PROJECT, OXIGRAPH, LiveServer, free_port, start_oxigraph, start_server
from listener import Hit, Listener

TIMEOUT = 2.0
"""The server's query time limit in these tests; the slow remote waits far longer."""
KGR = "https://w3id.org/kgraph/id/"
NOTE = "http://example.org/remote#note"
REMOTE_DATA = f'<{KGR}sudzha> <{NOTE}> "held by the remote endpoint" .\n'
JOIN = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?place ?label ?note WHERE {{
  ?place rdfs:label ?label .
  SERVICE <{{remote}}> {{ ?place <{NOTE}> ?note }}
}}"""
LOCAL = "SELECT ?title WHERE { ?s <http://purl.org/dc/terms/title> ?title }"

pytestmark = pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")


@dataclass(frozen=True)
class Federation:
    """The server under test and the endpoints around it."""

    server: LiveServer
    remote: str
    slow: Listener
    redirecting: Listener
    canary: Listener
    down: str
    allowlist: tuple[str, ...]

    def refusal(self, iri: str) -> str:
        """The message of a SERVICE call off the allow-list."""
        listed = ", ".join(f"<{iri}>" for iri in sorted(self.allowlist))
        return f"SERVICE <{iri}> is not allowed: this endpoint only calls {listed} (its --service-allowlist).\n"


def _start_oxigraph(folder: Path) -> tuple[subprocess.Popen, str]:
    """``oxigraph serve`` on a free port, loaded with REMOTE_DATA; returns the process and its query URL."""
    process, base = start_oxigraph(folder)
    loaded = requests.post(
        base + "/store?default", data=REMOTE_DATA, headers={"Content-Type": "application/n-triples"}, timeout=5
    )
    loaded.raise_for_status()
    return process, base + "/query"


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """``kgraph serve`` whose allow-list holds Oxigraph, the slow and the redirecting listeners, and a closed port."""
    oxigraph, remote = _start_oxigraph(tmp_path_factory.mktemp("remote") / "db")
    try:
        with Listener() as canary, Listener(delay=60) as slow, Listener(redirect=canary.url + "/stolen") as redirecting:
            down = f"http://127.0.0.1:{free_port()}/sparql"
            allowlist = (remote, slow.url + "/sparql", redirecting.url + "/sparql", down)
            options = [arg for endpoint in allowlist for arg in ("--service-allowlist", endpoint)]
            server = start_server(["--timeout", str(TIMEOUT), *options], {"KGRAPH_PROJECT_DIR": str(FIXTURE_PROJECT)})
            try:
                yield Federation(server, remote, slow, redirecting, canary, down, allowlist)
            finally:
                server.stop()
    finally:
        oxigraph.terminate()
        oxigraph.wait(timeout=10)


def _get(server: LiveServer, query: str) -> requests.Response:
    return requests.get(server.endpoint, params={"query": query}, headers={"Accept": "text/csv"}, timeout=TIMEOUT + 30)


def test_service_on_the_allowlist_joins_the_remote_rows(federation: Federation) -> None:
    response = _get(federation.server, JOIN.replace("{remote}", federation.remote))
    assert response.status_code == 200, response.text
    assert response.text.splitlines() == [
        "place,label,note",
        f"{KGR}sudzha,Sudzha,held by the remote endpoint",
    ]


@pytest.mark.parametrize(
    "target",
    [
        "{canary}/sparql",  # another loopback port
        "{remote}?query=ASK%7B%7D",  # the listed endpoint with something appended
        "{remote}/",
        "http://localhost:{port}/query",  # the listed endpoint under another host name
        "https://127.0.0.1:{port}/query",
        "http://example.org/sparql",
        "https://query.wikidata.org/sparql",
        "file:///etc/passwd",
    ],
)
def test_service_off_the_allowlist_is_refused(federation: Federation, target: str) -> None:
    port = str(urlsplit(federation.remote).port)
    iri = target.replace("{canary}", federation.canary.url).replace("{remote}", federation.remote)
    iri = iri.replace("{port}", port)
    response = _get(federation.server, JOIN.replace("{remote}", iri))
    assert (response.status_code, response.text) == (400, federation.refusal(iri))
    assert federation.canary.hits == []


def test_service_silent_off_the_allowlist_is_refused_too(federation: Federation) -> None:
    iri = federation.canary.url + "/sparql"
    response = _get(federation.server, f"SELECT * WHERE {{ SERVICE SILENT <{iri}> {{ ?s ?p ?o }} }}")
    assert (response.status_code, response.text) == (400, federation.refusal(iri))
    assert federation.canary.hits == []


def test_service_silent_to_a_down_endpoint_gives_one_empty_solution(federation: Federation) -> None:
    """SPARQL 1.1 Federated Query, section 4: a failing SILENT service contributes one solution binding nothing."""
    query = (
        "SELECT ?title ?x WHERE { ?s <http://purl.org/dc/terms/title> ?title "
        f"SERVICE SILENT <{federation.down}> {{ ?x ?p ?o }} }}"
    )
    response = _get(federation.server, query)
    assert (response.status_code, response.text.splitlines()) == (200, ["title,x", "Fixture article,"])


def test_service_to_a_down_endpoint_fails_with_a_message(federation: Federation) -> None:
    response = _get(federation.server, f"SELECT * WHERE {{ SERVICE <{federation.down}> {{ ?s ?p ?o }} }}")
    refused = "A SERVICE endpoint failed: Connection refused (os error 111)\n"
    assert (response.status_code, response.text) == (502, refused)


def test_a_redirect_from_an_allowed_endpoint_is_not_followed(federation: Federation) -> None:
    target = federation.redirecting.url + "/sparql"
    response = _get(federation.server, f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}")
    assert (response.status_code, response.text) == (
        502,
        "A SERVICE endpoint failed: The server requested too many redirects (1). "
        f"The latest redirection target is {federation.canary.url}/stolen\n",
    )
    assert federation.redirecting.hits == [Hit("POST", "/sparql", "application/sparql-query")]
    assert federation.canary.hits == []


@pytest.mark.slow
def test_a_slow_remote_is_stopped_at_the_time_limit_and_the_server_keeps_answering(federation: Federation) -> None:
    slow = federation.slow.url + "/sparql"
    response = _get(federation.server, f"SELECT * WHERE {{ SERVICE <{slow}> {{ ?s ?p ?o }} }}")
    assert (response.status_code, response.text) == (
        503,
        f"Query stopped after {TIMEOUT:g} s: the server's time limit (--timeout).\n",
    )
    assert federation.slow.hits == [Hit("POST", "/sparql", "application/sparql-query")]
    for _ in range(3):  # more queries than workers: the killed worker was replaced
        answer = _get(federation.server, LOCAL)
        assert (answer.status_code, answer.text.splitlines()) == (200, ["title", "Fixture article"])
