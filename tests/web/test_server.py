"""The serving layer against hostile clients, over real sockets to a real ``kgraph serve``.

One server over the fixture project with two answering threads and short connection limits (1 s to send headers,
2 s for a body, 2 s idle, 6 connections), so each protection shows within seconds. Each test names the protection
it guards; removing it makes the test fail (a thread held, a socket never closed, a 5xx or waitress's own page).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from conftest import LiveServer, _fixture_env, fixture_application, start_server

THREADS = 2
MAX_CONNECTIONS = 12
ASK = "ASK { ?s ?p ?o }"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """``kgraph serve`` with 2 threads and short connection limits."""
    env = {**_fixture_env(), "KGRAPH_HTTP_THREADS": str(THREADS)}
    args = ["--header-timeout", "1", "--body-timeout", "2", "--idle-timeout", "2"]
    live = start_server([*args, "--max-connections", str(MAX_CONNECTIONS)], env)
    yield live
    live.stop()


def _connect(server: LiveServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _closed_within(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing the socket, or None if it is still open after ``seconds``."""
    sock.settimeout(seconds)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


def _ask(server: LiveServer) -> requests.Response:
    return requests.get(server.endpoint, params={"query": ASK}, headers={"Accept": "text/csv"}, timeout=10)


def test_half_open_requests_do_not_hold_the_answering_threads(server: LiveServer) -> None:
    """Guards reading requests in the event loop: with more half-sent requests than threads, queries are answered
    (a thread-per-connection server hangs until they time out)."""
    held = [_connect(server) for _ in range(THREADS * 2)]
    try:
        for sock in held:
            sock.sendall(b"GET /sparql?query=ASK HTTP/1.1\r\nHost: x")
        assert _ask(server).text == "true"
        still_held = [_closed_within(sock, 0.01) is None for sock in held]
        assert all(still_held)  # answered while every half-sent request was still open
    finally:
        for sock in held:
            sock.close()


def test_a_request_whose_headers_never_end_is_closed(server: LiveServer) -> None:
    """Guards the header time limit (--header-timeout): a client trickling its headers is cut off."""
    sock = _connect(server)
    sock.sendall(b"GET /sparql HTTP/1.1\r\nHost: x\r\n")
    deadline = time.monotonic() + 8
    closed = None
    while closed is None and time.monotonic() < deadline:
        sock.sendall(b"X-Slow: 1\r\n")  # activity, which an idle limit alone would accept
        closed = _closed_within(sock, 0.5)
    sock.close()
    assert closed == b""


def test_a_body_that_never_arrives_is_closed(server: LiveServer) -> None:
    """Guards the body time limit (--body-timeout)."""
    sock = _connect(server)
    sock.sendall(
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 100\r\n\r\nASK"
    )
    assert _closed_within(sock, 8) == b""
    sock.close()


def test_a_silent_connection_is_closed(server: LiveServer) -> None:
    """Guards the idle time limit (--idle-timeout) on a connection that never sends a byte."""
    sock = _connect(server)
    assert _closed_within(sock, 8) == b""
    sock.close()


def test_connections_over_the_cap_are_told_503(server: LiveServer) -> None:
    """Guards --max-connections: one connection over the cap gets a plain 503 at once, and the server answers again
    once connections close."""
    held = [_connect(server) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.3)
        extra = _connect(server)
        answer = _closed_within(extra, 5)
        extra.close()
        assert answer is not None
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert b"\r\nX-Content-Type-Options: nosniff\r\n" in answer.split(b"\r\n\r\n")[0] + b"\r\n"
        assert b"\r\nContent-Security-Policy: default-src 'none';" in answer.split(b"\r\n\r\n")[0]
        assert answer.endswith(
            b"Service Unavailable: the server has 12 open connections, its limit (--max-connections); "
            b"try again in a few seconds.\n"
        )
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.5)
    assert _ask(server).status_code == 200


def test_a_long_get_query_is_answered_and_a_longer_one_gets_a_kgraph_414(server: LiveServer) -> None:
    """Guards --max-header-bytes and the kgraph wording of its error: SPARQLWrapper and rdflib send 16 KB GETs."""
    query = ASK + " #" + "x" * 16_000
    assert _ask_text(server, query).status_code == 200
    refused = _ask_text(server, ASK + " #" + "x" * 70_000)
    assert refused.status_code == 414
    assert refused.text == (
        "URI Too Long: the request line is longer than the server's limit of 65536 bytes (KGRAPH_MAX_HEADER_BYTES); "
        "send a long query with POST (Content-Type: application/sparql-query).\n"
    )
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert (refused.headers["X-Content-Type-Options"], refused.headers["X-Frame-Options"]) == ("nosniff", "DENY")


LONG_CHUNK_LINE = "Bad Request: a chunk's size line (with its extensions) or the trailer is longer than 4096 bytes.\n"


def _ask_text(server: LiveServer, query: str) -> requests.Response:
    return requests.get(server.endpoint, params={"query": query}, timeout=10)


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        (b"zz\r\nASK\r\n0\r\n\r\n", "Bad Request: Invalid chunk size\n"),
        (b"-5\r\nASK\r\n0\r\n\r\n", "Bad Request: Invalid chunk size\n"),
        (b"3;" + b"x" * 70_000 + b"\r\nASK\r\n0\r\n\r\n", LONG_CHUNK_LINE),
        (b"3\r\nASK\r\n0\r\nX-Note: " + b"x" * 70_000 + b"\r\n\r\n", LONG_CHUNK_LINE),
    ],
    ids=["letters", "negative", "long-extension", "long-trailer"],
)
def test_malformed_chunked_bodies_get_400(server: LiveServer, chunk: bytes, message: str) -> None:
    """Guards 4xx rather than 500 for malformed chunked framing."""
    sock = _connect(server)
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nTransfer-Encoding: chunked\r\n"
    )
    sock.sendall(head + b"\r\n" + chunk)
    answer = _closed_within(sock, 8) or b""
    sock.close()
    status = answer.split(b"\r\n", 1)[0]
    assert status == b"HTTP/1.1 400 Bad Request", answer[:200]
    assert b"\r\nX-Content-Type-Options: nosniff\r\n" in answer
    assert answer.endswith(message.encode())


def test_a_chunk_extension_megabytes_long_does_not_hold_up_other_clients(server: LiveServer) -> None:
    """Guards the event loop: waitress joins a chunk-size line piece by piece (quadratic time: 8 MB of extension
    held every client for 5 s); it is refused once past 4096 bytes, while a probe is answered."""
    sock = _connect(server)
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nTransfer-Encoding: chunked\r\n"
    )
    sock.sendall(head + b"\r\n3;")
    with contextlib.suppress(OSError):  # the server closes the socket once it has refused the line
        for _ in range(1000):
            sock.sendall(b"x" * 8192)
    answer = _closed_within(sock, 8) or b""
    sock.close()
    assert answer.startswith(b"HTTP/1.1 400 Bad Request"), answer[:200]
    assert answer.endswith(LONG_CHUNK_LINE.encode())
    started = time.monotonic()
    assert _ask(server).status_code == 200
    assert time.monotonic() - started < 2


def test_a_client_leaving_mid_body_leaves_no_traceback(server: LiveServer) -> None:
    """Guards the log: a disconnect is not an error of the server's."""
    for _ in range(3):
        sock = _connect(server)
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nASK {")
        sock.close()
    time.sleep(0.5)
    assert _ask(server).status_code == 200
    assert "Traceback" not in server.output()


def test_a_query_text_over_the_limit_is_refused_before_parsing() -> None:
    """Guards --max-query-bytes: a text over it gets 413 by its size, for a query and an update alike."""
    with fixture_application(max_query_bytes=1000) as app:
        client = app.test_client()
        big = "ASK { " + "<http://example.org/x> " * 60 + "}"
        refused = client.post("/sparql", data=big, content_type="application/sparql-query")
        assert (refused.status_code, refused.text) == (
            413,
            f"The query text is {len(big)} bytes; this endpoint accepts at most 1000 (KGRAPH_MAX_QUERY_BYTES). "
            "Shorten it, or split it into several queries.\n",
        )
        assert client.post("/sparql", data=big[:900] + "}", content_type="application/sparql-query").status_code == 400


def _children(pid: int) -> list[int]:
    """The children of ``pid``, as the kernel lists them (per thread: a zygote restarted by the supervisor thread is
    that thread's child)."""
    return [
        int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()
    ]


def _answered_again(server: LiveServer, within: float) -> int:
    """How many queries failed before one was answered, polling for ``within`` seconds."""
    deadline = time.monotonic() + within
    failures = 0
    while time.monotonic() < deadline:
        response = _ask(server)
        if response.status_code == 200:
            return failures
        assert response.status_code == 503, response.text
        failures += 1
        time.sleep(0.1)
    raise AssertionError("no answer after the kill")


@pytest.mark.parametrize("victim", ["zygote", "worker"])
def test_a_killed_worker_parent_or_worker_is_replaced(server: LiveServer, victim: str) -> None:
    """Guards the pool's supervisor over real HTTP: SIGKILL of the query workers' parent (the zygote) or of a worker
    is survived, queries are answered again, and the dead process is reaped (no zombie)."""
    [zygote] = _children(server.process.pid)
    target = zygote if victim == "zygote" else _children(zygote)[0]
    os.kill(target, signal.SIGKILL)
    _answered_again(server, within=10)
    time.sleep(0.5)
    assert not Path(f"/proc/{target}").exists()
    assert len(_children(server.process.pid)) == 1
