"""The remote store against a real Oxigraph server started here: the store interface, a build, and serving over it."""

from __future__ import annotations

import csv
import http.server
import io
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from conftest import (
    KGRAPH,
    OXIGRAPH,
    PROJECT,
    LiveServer,
    free_port,
    start_oxigraph,
    stop_process,
    whole_graph_is_read_as_a_pattern_reads_it,
)
from kgraph.config import INFERRED_GRAPH, Settings
from kgraph.graph import build
from kgraph.sparql.errors import NotAcceptable, QuerySyntaxError, QueryTimeout, ResultTooLarge
from kgraph.sparql.evaluate import QueryRequest
from kgraph.sparql.executor import QueryResponse
from kgraph.sparql.remote_runner import UNAVAILABLE, RemoteQueryRunner, StreamedAnswer
from kgraph.store import RemoteStore, RemoteStoreError, open_store
from kgraph.store import remote as remote_module
from kgraph.store.remote import (
    ConnectionPool,
    endpoints,
    has_path_closure,
    parsed_triples,
    standard_json,
    thin_dataset,
)

G1, G2 = "http://example.org/g1", "http://example.org/g2"
RUNAWAY_SIZE = 250
"""Quads under the runaway query (a cube of them): about 2 s on Oxigraph, far past the tests' 0.5 s limits, and short
enough that the query, which the remote finishes after the client gave up, does not slow the next tests."""
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
S, P = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")

pytestmark = pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of an Oxigraph server that lives as long as this module's tests."""
    folder = tmp_path_factory.mktemp("oxigraph")
    process, url = start_oxigraph(folder / "db")
    yield url
    stop_process(process)
    shutil.rmtree(folder, ignore_errors=True)


def _quad(value: str, graph: str) -> ox.Quad:
    return ox.Quad(S, P, ox.Literal(value), ox.NamedNode(graph))


@pytest.fixture
def store(oxigraph: str) -> Iterator[RemoteStore]:
    store = open_store(oxigraph, timeout=10)
    assert isinstance(store, RemoteStore)
    store.update("DROP SILENT ALL")
    store.add([_quad("one", G1), _quad("two", G2)])
    yield store
    store.update("DROP SILENT ALL")


def _values(result: ox.QuerySolutions) -> list[str]:
    return sorted(solution["o"].value for solution in result)


def test_property_paths_with_closure_are_told_apart_from_stars_and_sums() -> None:
    closures = ["{ ?x kg:locatedIn+ gen:r }", "{ ?x <p>* ?y }", "{ ?x (<p>|<q>)+ ?y }", "{ ?x <p>? ?y }"]
    others = [
        "SELECT * { ?s a ?o }",
        "SELECT (COUNT(*) AS ?n) {}",
        "{ ?x <p> ?y FILTER (?y + 1 > 2) }",
        '{ ?x <p> "a+" }',
    ]
    assert [has_path_closure(q) for q in closures + others] == [True] * 4 + [False] * 4


def test_virtuosos_typed_literals_are_literals_however_spaced() -> None:
    spaced = b'{ "x": { "type": "typed-literal", "datatype": "d", "value": "1" } }'
    packed = b'{"y":{"type"  :"typed-literal","datatype":"d","value":"\\"type\\": \\"typed-literal\\""}}'
    assert standard_json(spaced) == b'{ "x": { "type": "literal", "datatype": "d", "value": "1" } }'
    assert (
        standard_json(packed) == b'{"y":{"type"  :"literal","datatype":"d","value":"\\"type\\": \\"typed-literal\\""}}'
    )


def test_a_construct_answer_is_parsed_to_its_triples_virtuosos_geometries_as_geosparqls() -> None:
    body = (
        b'<http://example.org/s> <http://example.org/p> "POINT(35.27 51.72)"'
        b"^^<http://www.openlinksw.com/schemas/virtrdf#Geometry> .\n"
        b'<http://example.org/s> <http://example.org/p> "s\\u00e9"@uk .\n'
    )
    assert list(parsed_triples(body, "application/n-triples")) == [
        ox.Triple(S, P, ox.Literal("POINT(35.27 51.72)", datatype=ox.NamedNode(WKT))),
        ox.Triple(S, P, ox.Literal("s\u00e9", language="uk")),
    ]
    with pytest.raises(RemoteStoreError, match=r"^The SPARQL store answered in an unexpected format: text/html$"):
        parsed_triples(b"<html/>", "text/html")


WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"


def test_endpoints_follow_oxigraph_layout() -> None:
    assert endpoints("http://h:7878/") == ("http://h:7878/query", "http://h:7878/update")
    assert endpoints("http://h/db/query") == ("http://h/db/query", "http://h/db/update")
    assert endpoints("http://h/sparql") == ("http://h/sparql", "http://h/sparql")


def test_default_graph_is_the_union_unless_named(store: RemoteStore) -> None:
    query = "SELECT ?o WHERE { ?s ?p ?o }"
    assert _values(store.query(query)) == ["one", "two"]
    assert _values(store.query(query, default_graph=[G1])) == ["one"]
    assert _values(store.query(query, default_graph=[])) == []


def test_named_graphs_limit_graph_patterns(store: RemoteStore) -> None:
    graph_query = "SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert _values(store.query(graph_query, named_graphs=[G2])) == ["two"]
    assert _values(store.query(graph_query, default_graph=[G1])) == ["one", "two"]
    assert _values(store.query(graph_query, default_graph=[G1], named_graphs=[])) == []


def test_results_are_pyoxigraph_objects(store: RemoteStore) -> None:
    assert bool(store.query("ASK { ?s ?p 'one' }")) is True
    assert isinstance(store.query("ASK { ?s ?p 'three' }"), ox.QueryBoolean)
    triples = list(store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", default_graph=[G2]))
    assert triples == [ox.Triple(S, P, ox.Literal("two"))]


def test_graph_names_counts_and_clear(store: RemoteStore) -> None:
    assert store.graph_names() == [G1, G2]
    assert (store.count(G1), len(store)) == (1, 2)
    store.clear_graph(G1)
    store.clear_graph("http://example.org/never-there")
    assert store.graph_names() == [G2]
    assert len(store) == 1


def test_graph_names_are_asked_once_until_a_write_through_the_store_or_a_copy(
    store: RemoteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    select = RemoteStore._raw_select
    monkeypatch.setattr(RemoteStore, "_raw_select", lambda self, sparql: asked.append(sparql) or select(self, sparql))
    copy = store.with_timeout(60)
    store.add([_quad("three", G1)])  # whatever was asked before
    assert store.graph_names() == copy.graph_names() == store.graph_names() == [G1, G2]
    assert len(asked) == 1
    copy.clear_graph(G1)
    assert store.graph_names() == [G2]
    assert len(asked) == 2
    store.add([_quad("one", G1)])  # the module's data again


def test_quads_match_patterns(store: RemoteStore) -> None:
    assert sorted(q.object.value for q in store.quads()) == ["one", "two"]
    assert list(store.quads(obj=ox.Literal("two"))) == [_quad("two", G2)]
    assert list(store.quads(S, P, ox.Literal("one"), graph=G1)) == [_quad("one", G1)]
    assert list(store.quads(graph=G1, obj=ox.Literal("two"))) == []


def test_replace_graph_keeps_other_graphs(store: RemoteStore) -> None:
    store.replace_graph(G1, [_quad("three", G1), _quad("four", G1)])
    assert sorted(q.object.value for q in store.quads(graph=G1)) == ["four", "three"]
    assert [q.object.value for q in store.quads(graph=G2)] == ["two"]


def test_remove_and_update(store: RemoteStore) -> None:
    store.remove([_quad("two", G2)])
    store.update(f'INSERT DATA {{ GRAPH <{G2}> {{ <http://example.org/s> <http://example.org/p> "five" }} }}')
    assert [q.object.value for q in store.quads(graph=G2)] == ["five"]


def test_add_in_batches_keeps_blank_nodes_together(store: RemoteStore) -> None:
    blank = ox.BlankNode()
    many = [ox.Quad(ox.NamedNode(f"http://example.org/n{i}"), P, blank, ox.NamedNode(G1)) for i in range(3)]
    many += [_quad(str(i), G2) for i in range(12_000)]
    store.add(many)
    assert store.count(G2) == 12_001
    shared = store.query(f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{ GRAPH <{G1}> {{ ?s <{P.value}> ?o }} }}")
    assert next(iter(shared))["n"].value == "2"  # "one" and the one blank node


def test_malformed_query_names_line_and_column(store: RemoteStore) -> None:
    with pytest.raises(SyntaxError, match=r"error at 2:16"):
        store.query("SELECT *\nWHERE { ?s ?p }")
    with pytest.raises(SyntaxError, match=r"error at 1:"):
        store.update("INSERT DATA {")


def test_a_down_remote_is_a_clear_oserror() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    store = open_store(url, timeout=2)
    with pytest.raises(RemoteStoreError, match=rf"^The SPARQL store at {url}/query cannot be reached: ") as caught:
        store.graph_names()
    assert isinstance(caught.value, OSError)


def test_a_slow_remote_is_a_timeout_not_a_hang(store: RemoteStore) -> None:
    slow = RemoteStore(store.url, timeout=0.5)
    store.add([_quad(str(i), G1) for i in range(RUNAWAY_SIZE)])
    with pytest.raises(RemoteStoreError, match=r"^The SPARQL store at .*/query did not answer within 0.5 s$"):
        slow.query(RUNAWAY)


# --- the query runner: forwarding, negotiation, limits ---


def _request(sparql: str, **kwargs: object) -> QueryRequest:
    return QueryRequest(sparql=sparql, default_graph=[G1, G2], **kwargs)


def test_runner_forwards_with_the_dataset_and_the_negotiated_format(store: RemoteStore) -> None:
    runner = RemoteQueryRunner(store, timeout=10, max_result_bytes=10_000)
    csv = runner.run(_request("SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o", accept="text/csv"))
    assert (csv.body, csv.media_type) == (b"o\r\none\r\ntwo\r\n", "text/csv; charset=utf-8")
    only_g1 = runner.run(QueryRequest("SELECT ?o WHERE { ?s ?p ?o }", default_graph=[G1], format="tsv"))
    assert only_g1.body == b'?o\n"one"\n'
    in_g2 = runner.run(QueryRequest("SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }", default_graph=[], format="csv"))
    assert sorted(in_g2.body.splitlines()) == [b"o", b"one", b"two"]
    turtle = runner.run(_request("CONSTRUCT WHERE { ?s ?p 'two' }", accept="text/turtle"))
    assert turtle.media_type == "text/turtle; charset=utf-8"
    assert [q.triple for q in ox.parse(turtle.body, format=ox.RdfFormat.TURTLE)] == [ox.Triple(S, P, ox.Literal("two"))]
    assert runner.run(_request("ASK { ?s ?p 'one' }")).body == b'{"head":{},"boolean":true}'


def test_runner_refuses_a_format_the_result_kind_lacks(store: RemoteStore) -> None:
    runner = RemoteQueryRunner(store, timeout=10, max_result_bytes=10_000)
    with pytest.raises(NotAcceptable, match=r"^None of the accepted media types is available for SELECT results"):
        runner.run(_request("SELECT * WHERE { ?s ?p ?o }", accept="text/turtle"))
    with pytest.raises(QuerySyntaxError, match=r"^Syntax error at line 2, column 16"):
        runner.run(_request("SELECT *\nWHERE { ?s ?p }"))


def test_runner_enforces_size_cap_and_time_limit(store: RemoteStore) -> None:
    store.add([_quad(str(i), G1) for i in range(RUNAWAY_SIZE)])
    small = RemoteQueryRunner(store, timeout=10, max_result_bytes=1_000)
    with pytest.raises(ResultTooLarge):
        small.run(_request("SELECT * WHERE { ?s ?p ?o }"))
    quick = RemoteQueryRunner(store, timeout=0.5, max_result_bytes=1_000)
    with pytest.raises(QueryTimeout, match=r"^Query stopped after 0.5 s"):
        quick.run(_request(RUNAWAY))


def test_runner_streams_a_long_answer_as_it_came_and_keeps_the_cap(store: RemoteStore) -> None:
    store.add([_quad(f"value {i:05}", G1) for i in range(10_000)])
    query = _request("SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o", accept="text/tab-separated-values")
    runner = RemoteQueryRunner(store, timeout=10, max_result_bytes=500_000)
    whole = runner.run(query)
    assert whole.body.splitlines()[:3] == [b"?o", b'"one"', b'"two"'] and len(whole.body.splitlines()) == 10_003
    streamed = runner.stream(query, prefetch=1_000)
    assert isinstance(streamed, StreamedAnswer)
    assert len(streamed.head) < len(whole.body)
    assert (streamed.media_type, b"".join(streamed)) == (whole.media_type, whole.body)
    streamed.close()
    short = runner.stream(
        _request("SELECT ?o WHERE { ?s ?p ?o FILTER (?o = 'one') }", accept="text/csv"), prefetch=1_000
    )
    assert isinstance(short, QueryResponse) and short.body == b"o\r\none\r\n"  # shorter than the prefetch: whole
    capped = RemoteQueryRunner(store, timeout=10, max_result_bytes=100_000).stream(query, prefetch=1_000)
    assert isinstance(capped, StreamedAnswer)
    with pytest.raises(ResultTooLarge):
        b"".join(capped)
    capped.close()


@pytest.mark.slow
def test_serve_streams_a_remote_answer_when_no_cache_keeps_it(
    serve: Callable[..., LiveServer], store: RemoteStore, oxigraph: str, tmp_path: Path
) -> None:
    store.add([_quad(f"value {i:05}", G2) for i in range(40_000)])  # a graph of the store's: served too
    env = {"KGRAPH_CACHE_BYTES": "0", **_data_dir(tmp_path)}
    server = serve(["--store", oxigraph, "--data", str(PROJECT / "tests" / "fixtures" / "project" / "data")], env)
    query = {"query": "SELECT ?o WHERE { ?s ?p ?o FILTER STRSTARTS(?o, 'value') } ORDER BY ?o"}
    through = requests.post(server.endpoint, data=query, headers={"Accept": "text/csv"}, timeout=30)
    assert (through.status_code, through.headers.get("Transfer-Encoding")) == (200, "chunked")
    assert through.content == b"o\r\n" + b"".join(f"value {i:05}\r\n".encode() for i in range(40_000))
    metrics = requests.get(server.url + "/metrics", timeout=10).text
    assert 'kgraph_queries_total{outcome="ok"} 1' in metrics.splitlines()


# --- the whole application over a remote store ---


@pytest.mark.slow
def test_build_puts_the_article_and_its_inference_in_the_remote(oxigraph: str, tmp_path: Path) -> None:
    open_store(oxigraph).update("DROP SILENT ALL")
    settings = Settings.from_env(environ={}, project_dir=PROJECT, data_dir=tmp_path)
    remote = build(settings.with_overrides(store=oxigraph))
    embedded = build(settings)
    assert isinstance(remote.store, RemoteStore)
    assert remote.inference.added == embedded.inference.added > 0
    assert remote.store.graph_names() == embedded.store.graph_names()
    assert remote.store.count(INFERRED_GRAPH) == embedded.store.count(INFERRED_GRAPH)
    assert remote.store.count() == embedded.store.count()


def _csv_rows(text: str) -> set[tuple[str, ...]]:
    return {tuple(row) for row in csv.reader(io.StringIO(text))}


@pytest.mark.slow
def test_serve_over_a_remote_store(serve: Callable[..., LiveServer], tmp_path: Path) -> None:
    process, url = start_oxigraph(tmp_path / "db")
    try:
        server = serve(["--store", url, "--timeout", "5"], {"KGRAPH_PROJECT_DIR": str(PROJECT), **_data_dir(tmp_path)})
        query = (PROJECT / "queries" / "allies-of-russia.rq").read_text(encoding="utf-8")
        expected = (PROJECT / "queries" / "allies-of-russia.expected.csv").read_text(encoding="utf-8")
        answer = requests.post(server.endpoint, data={"query": query}, headers={"Accept": "text/csv"}, timeout=10)
        assert (answer.status_code, _csv_rows(answer.text)) == (200, _csv_rows(expected))
        assert requests.get(url + "/query", params={"query": "ASK { GRAPH ?g { ?s ?p ?o } }"}, timeout=5).json()[
            "boolean"
        ]
        plain = requests.post(server.endpoint + "?infer=false", data={"query": query}, headers={"Accept": "text/csv"})
        assert (plain.status_code, plain.text) == (200, "ally,label\r\n")
        why = requests.get(server.url + "/explain?s=kgr:north-korea&p=kg:alliedWith&o=kgr:russia", timeout=10)
        assert (why.status_code, why.text.splitlines()[0]) == (200, "kgr:north-korea kg:alliedWith kgr:russia")
    finally:
        stop_process(process)
    down = requests.post(server.endpoint, data={"query": query}, timeout=10)
    assert (down.status_code, down.text) == (502, UNAVAILABLE + "\n")


def _data_dir(tmp_path: Path) -> dict[str, str]:
    return {"KGRAPH_DATA_DIR": str(tmp_path / "data")}


def test_serve_with_a_down_remote_exits_2_with_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "KGRAPH_PROJECT_DIR": str(PROJECT), **_data_dir(tmp_path)}
    result = subprocess.run(
        [str(KGRAPH), "serve", "--port", str(free_port()), "--store", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"kgraph: cannot load the graph: The SPARQL store at {url}/query cannot be reached" in result.stderr


@pytest.mark.slow
def test_cli_query_over_a_remote_store(oxigraph: str, tmp_path: Path) -> None:
    open_store(oxigraph).update("DROP SILENT ALL")
    env = {**os.environ, "KGRAPH_PROJECT_DIR": str(PROJECT), "KGRAPH_STORE": oxigraph, **_data_dir(tmp_path)}
    allies = (
        "CONSTRUCT WHERE { <https://w3id.org/kgraph/id/north-korea> <https://w3id.org/kgraph/ontology#alliedWith> ?o }"
    )
    result = subprocess.run(
        [str(KGRAPH), "query", "--format", "ntriples", allies], env=env, capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, result.stdout) == (
        0,
        "<https://w3id.org/kgraph/id/north-korea> <https://w3id.org/kgraph/ontology#alliedWith> "
        "<https://w3id.org/kgraph/id/russia> .\n",
    )


@pytest.mark.parametrize(
    ("sparql", "thin"),
    [
        ("# every graph\nSELECT * WHERE { ?s ?p ?o }", True),
        ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", False),
        ("PREFIX a: <http://example.org/#> SELECT * WHERE { graph ?g { ?s ?p ?o } }", False),
        ("SELECT * WHERE { ?s ?p ?o } # not GRAPH, but said after the query on its line", False),
    ],
)
def test_virtuoso_gets_its_own_default_graph_only_for_queries_without_graph(sparql: str, thin: bool) -> None:
    sent = thin_dataset(sparql, [G1], None, [G1, G2], virtuoso=True)
    if not thin:
        assert sent is None
        return
    assert sent is not None
    text, params = sent
    assert params == []
    assert text.endswith(sparql)
    assert f"define input:default-graph-exclude <{G2}>" in text.splitlines()
    assert thin_dataset(sparql, [G1], None, [G1, G2], virtuoso=False) is None  # others: listed, G2 left out
    assert thin_dataset(sparql, None, None, [G1, G2], virtuoso=False) == (sparql, [("union-default-graph", "")])


class _Brief(http.server.BaseHTTPRequestHandler):
    """Answers every POST with "ok", keeps the connection alive, and closes it after 0.2 s idle (as Virtuoso does
    after its keep-alive timeout)."""

    protocol_version = "HTTP/1.1"
    timeout = 0.2

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        """Quiet."""


def test_connections_the_remote_closed_while_idle_are_replaced() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Brief)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/query"
    pool = ConnectionPool()
    try:
        held = [pool.request(url, b"q", {}, 5) for _ in range(3)]  # three connections at once
        for response in held:
            assert response.read() == b"ok"
            response.close()  # back in the pool, idle
        time.sleep(0.6)  # the server has closed all three
        for _ in range(2):
            with pool.request(url, b"q", {}, 5) as response:
                assert response.read() == b"ok"
    finally:
        pool.close()
        server.shutdown()
        server.server_close()


def test_a_store_with_a_longer_time_limit_is_the_same_store(store: RemoteStore) -> None:
    """Long jobs (inference, the dumps) use the store with their own time limit; the client's stays as it was, and
    both see the same graphs."""
    longer = store.with_timeout(1800.0)
    assert (longer.timeout, store.timeout) == (1800.0, 10)
    longer.add([_quad("three", G1)])
    assert _values(store.query(f"SELECT ?o WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}")) == ["one", "three"]


class _Recording(http.server.BaseHTTPRequestHandler):
    """Says it is the software named by the server's ``software`` attribute, answers ASK with true, and records
    the bodies of the updates it is sent."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers["Content-Type"] == "application/sparql-update":
            self.server.updates.append(body.decode())  # type: ignore[attr-defined]
            answer, media = b"", "text/plain"
        else:
            answer, media = b'{"head":{},"boolean":true}', "application/sparql-results+json"
        self.send_response(200)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def version_string(self) -> str:
        return self.server.software  # type: ignore[attr-defined]

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.mark.parametrize(
    ("software", "prologue"),
    [("Virtuoso/07.20.3240 (Linux) x86_64-pc-linux-gnu", "define sql:log-enable 2\n"), ("Oxigraph/0.5.2", "")],
    ids=["virtuoso", "oxigraph"],
)
def test_an_unlogged_copy_writes_outside_virtuosos_log_and_the_store_itself_does_not(software, prologue) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recording)
    server.software, server.updates = software, []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        store = RemoteStore(f"http://127.0.0.1:{server.server_address[1]}/sparql", timeout=5)
        update = "INSERT DATA { <http://example.org/s> <http://example.org/p> 1 }"
        store.unlogged_copy().update(update)
        store.update(update)
        store.close()
    finally:
        server.shutdown()
        server.server_close()
    assert server.updates == [prologue + update, update]  # type: ignore[attr-defined]


def test_a_whole_graph_is_read_as_a_pattern_reads_it(store: RemoteStore) -> None:
    whole_graph_is_read_as_a_pattern_reads_it(store)


def test_an_n_triples_file_is_cut_into_whole_lines_its_blank_node_lines_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote_module, "LOAD_PIECE_BYTES", 400)  # blocks of 100 bytes
    lines = [f'<http://example.org/n{i}> <http://example.org/p> "{i}" .\n'.encode() for i in range(40)]
    lines[0] = lines[1] = b'_:first <http://example.org/p> "the first block blank only" .\n'
    lines[7] = b'_:a <http://example.org/p> "blank" .\n'
    lines[8] = b'<http://example.org/x> <http://example.org/p> "a _: in a literal" .\n'
    lines[20] = b'<http://example.org/long> <http://example.org/p> "' + b"x" * 500 + b'" .\n'
    lines[-1] = b'_:a <http://example.org/q> "last, no newline" .'
    source = tmp_path / "data.nt"
    source.write_bytes(b"".join(lines))
    blank = tmp_path / "pieces.blank.nt"
    pieces = list(remote_module._split_for_load(source, tmp_path / "pieces", blank))
    written = [piece.read_bytes() for piece in pieces]
    assert b"".join(written) == b"".join(line for line in lines if b"_:" not in line)
    assert blank.read_bytes() == lines[0] + lines[1] + lines[7] + lines[8] + lines[-1]
    assert all(piece.endswith(b"\n") for piece in written)  # whole lines, none empty
    assert [len(piece) <= 400 for piece in written].count(False) == 1  # the long line's, alone
    assert lines[20] in written
