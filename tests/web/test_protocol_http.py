"""The endpoint's protocol behaviour that a write token changes, through the application factory: updates by POST
only, HTTP Basic beside Bearer, the base IRI, empty graphs, gzip and the lenient format hints."""

from __future__ import annotations

import base64
import contextlib
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from conftest import fixture_application
from kgraph.web import service

TOKEN = "pr0tocol"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
INSERT = 'INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> "o" } }'
COUNT_G = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://example.org/g> { ?s ?p ?o } }"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def writable(tmp_path: Path) -> Iterator[FlaskClient]:
    """A test client of the fixture project with a write token and a data directory of its own."""
    with fixture_application(token=TOKEN, data_dir=tmp_path) as application:
        yield application.test_client()


def count(client: FlaskClient) -> str:
    response = client.get("/sparql", query_string={"query": COUNT_G}, headers={"Accept": "text/csv"})
    return response.get_data(as_text=True).splitlines()[1]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_update_on_get_or_head_is_refused_and_writes_nothing(writable: FlaskClient, method: str) -> None:
    response = writable.open("/sparql", method=method, query_string={"update": INSERT}, headers=BEARER)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, POST"
    if method == "GET":
        assert response.get_data(as_text=True) == (
            "An update is sent by POST only (SPARQL 1.1 Protocol); this GET request changed nothing.\n"
        )
    assert count(writable) == "0"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (basic("contributor", TOKEN), 200),
        (BEARER, 200),
        (basic("someone", TOKEN), 403),
        (basic("contributor", TOKEN + "x"), 403),
        (basic("contributor", ""), 403),
    ],
    ids=["basic", "bearer", "basic-other-name", "basic-wrong-token", "basic-no-password"],
)
def test_http_basic_is_accepted_beside_bearer(writable: FlaskClient, headers: dict[str, str], status: int) -> None:
    response = writable.post("/sparql", data={"update": INSERT}, headers=headers)
    assert response.status_code == status
    assert count(writable) == ("1" if status == 200 else "0")


def test_basic_names_the_token_of_the_token_file(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("alice a-token\n", encoding="utf-8")
    with fixture_application(token_file=tokens, data_dir=tmp_path) as application:
        client = application.test_client()
        assert (
            client.post("/sparql", data={"update": INSERT}, headers=basic("contributor", "a-token")).status_code == 403
        )
        assert client.post("/sparql", data={"update": INSERT}, headers=basic("alice", "a-token")).status_code == 200


def test_relative_iris_resolve_against_the_endpoint(writable: FlaskClient) -> None:
    query = "SELECT ?x WHERE { BIND(<test> AS ?x) }"
    response = writable.get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv"})
    assert response.get_data(as_text=True) == "x\r\nhttp://localhost/test\r\n"
    update = "INSERT DATA { GRAPH <g> { <s> <p> <o> } }"
    assert writable.post("/sparql", data={"update": update}, headers=BEARER).status_code == 200
    stored = writable.get("/store", query_string={"graph": "http://localhost/g"}, headers={"Accept": "text/plain"})
    assert stored.get_data(as_text=True) == "<http://localhost/s> <http://localhost/p> <http://localhost/o> .\n"


def test_a_base_setting_replaces_the_endpoint_url(tmp_path: Path) -> None:
    with fixture_application(base="http://example.org/data/") as application:
        response = application.test_client().get(
            "/sparql", query_string={"query": "SELECT ?x WHERE { BIND(<a/b> AS ?x) }"}, headers={"Accept": "text/csv"}
        )
    assert response.get_data(as_text=True) == "x\r\nhttp://example.org/data/a/b\r\n"


def test_a_graph_emptied_by_put_exists(writable: FlaskClient) -> None:
    graph = {"graph": "http://example.org/empty"}
    assert writable.put("/store", query_string=graph, headers=BEARER).status_code == 201
    got = writable.get("/store", query_string=graph, headers={"Accept": "application/n-triples"})
    assert (got.status_code, got.data) == (200, b"")
    assert writable.head("/store", query_string=graph).status_code == 200
    assert writable.delete("/store", query_string=graph, headers=BEARER).status_code == 200
    assert writable.get("/store", query_string=graph).status_code == 404


def test_dataset_parameters_are_sets(writable: FlaskClient) -> None:
    assert writable.post("/sparql", data={"update": INSERT}, headers=BEARER).status_code == 200
    query = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    twice = [("query", query), ("named-graph-uri", "http://example.org/g"), ("named-graph-uri", "http://example.org/g")]
    response = writable.get("/sparql", query_string=twice, headers={"Accept": "text/csv"})
    assert response.get_data(as_text=True).splitlines()[1] == "1"


def test_large_answers_are_gzipped_when_accepted(writable: FlaskClient) -> None:
    query = {"query": "SELECT * WHERE { ?s ?p ?o }"}
    plain = writable.get("/sparql", query_string=query)
    packed = writable.get("/sparql", query_string=query, headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert len(packed.data) < len(plain.data) / 3
    assert gzip.decompress(packed.data) == plain.data
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert packed.headers["ETag"] == "W/" + plain.headers["ETag"]
    again = {"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
    assert writable.get("/sparql", query_string=query, headers=again).status_code == 304
    small = writable.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers


def test_static_assets_are_compressed_once(writable: FlaskClient) -> None:
    first = writable.get("/assets/kgraph.css", headers={"Accept-Encoding": "gzip"})
    second = writable.get("/assets/kgraph.css", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    assert first.data == second.data
    with writable.get("/assets/kgraph.css") as plain:
        assert gzip.decompress(first.data) == plain.data


@pytest.mark.parametrize(
    ("query", "params", "accept", "content_type"),
    [
        (
            "SELECT * WHERE { ?s ?p ?o } LIMIT 1",
            [("format", "json"), ("output", "json"), ("results", "json")],
            None,
            "application/sparql-results+json",
        ),
        (
            "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1",
            [("format", "xml"), ("format", "application/rdf+xml")],
            None,
            "application/rdf+xml; charset=utf-8",
        ),
        ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", [("format", "n3")], None, "text/turtle; charset=utf-8"),
        ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", [("format", "csv")], None, "text/turtle; charset=utf-8"),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", [], "text/plain", "text/tab-separated-values; charset=utf-8"),
        ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", [], "application/n-quads", "application/n-quads"),
        ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", [], "application/trig", "application/trig; charset=utf-8"),
    ],
    ids=["json-thrice", "xml-on-construct", "n3", "csv-on-construct", "text-plain", "n-quads", "trig"],
)
def test_format_hints_and_media_types(
    writable: FlaskClient, query: str, params: list[tuple[str, str]], accept: str | None, content_type: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = writable.get("/sparql", query_string=[("query", query), *params], headers=headers)
    assert (response.status_code, response.content_type) == (200, content_type)


@pytest.mark.parametrize(
    ("own_data", "drop", "status", "kept"),
    [
        (False, "DROP GRAPH <http://example.org/empty>", 200, 404),
        (False, "DROP SILENT ALL", 403, 200),
        (True, "DROP SILENT ALL", 200, 404),
        (True, "DROP NAMED", 200, 404),
        (True, "CLEAR GRAPH <http://example.org/empty>", 200, 200),
    ],
)
def test_an_empty_graph_is_gone_once_dropped(tmp_path: Path, own_data: bool, drop: str, status: int, kept: int) -> None:
    graph = {"graph": "http://example.org/empty"}
    with fixture_application(token=TOKEN, data_dir=tmp_path, own_data=own_data) as application:
        client = application.test_client()
        assert client.put("/store", query_string=graph, headers=BEARER).status_code == 201
        assert client.post("/sparql", data={"update": drop}, headers=BEARER).status_code == status
        assert client.get("/store", query_string=graph).status_code == kept


def test_an_empty_graph_outlives_a_restart_until_it_is_dropped(tmp_path: Path) -> None:
    """Its existence is journaled with the write that made it (the store itself keeps no trace of it)."""
    graph = {"graph": "http://example.org/empty"}

    def restarted() -> FlaskClient:
        return stack.enter_context(fixture_application(token=TOKEN, data_dir=tmp_path)).test_client()

    with contextlib.ExitStack() as stack:
        assert restarted().put("/store", query_string=graph, headers=BEARER).status_code == 201
    with contextlib.ExitStack() as stack:
        client = restarted()
        response = client.get("/store", query_string=graph, headers={"Accept": "application/n-triples"})
        assert (response.status_code, response.data) == (200, b"")
        drop = "DROP GRAPH <http://example.org/empty>"
        assert client.post("/sparql", data={"update": drop}, headers=BEARER).status_code == 200
    with contextlib.ExitStack() as stack:
        assert restarted().get("/store", query_string=graph).status_code == 404


def test_an_empty_graph_that_cannot_be_journaled_is_not_made(tmp_path: Path, monkeypatch) -> None:
    graph = {"graph": "http://example.org/empty"}
    with fixture_application(token=TOKEN, data_dir=tmp_path) as application:
        client = application.test_client()

        def full_disk(entry: object) -> int:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(service(application).writer().journal, "append", full_disk)
        response = client.put("/store", query_string=graph, headers=BEARER)
        assert (response.status_code, response.get_data(as_text=True)) == (
            503,
            "The server cannot record writes: No space left on device. Nothing was changed; try again later.\n",
        )
        assert client.get("/store", query_string=graph).status_code == 404
