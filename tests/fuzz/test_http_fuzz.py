"""Hostile requests to a real ``kgraph serve`` over loopback: what the test client cannot show.

gunicorn parses the request line and headers itself, and a query worker that crashes is a real
process dying; so a few properties run over real HTTP, raw bytes included, and the server must still
answer the known query afterwards.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING
from urllib.parse import quote_from_bytes, urlsplit

import requests
from hostile import KNOWN_ANSWER, KNOWN_QUERY, NESTING, accept_headers, assert_clean, fuzz_settings, mutated_queries
from hypothesis import example, given
from hypothesis import strategies as st

if TYPE_CHECKING:
    from conftest import LiveServer

SESSION = requests.Session()


def still_answers(server: LiveServer) -> None:
    response = SESSION.get(server.endpoint, params={"query": KNOWN_QUERY, "format": "csv"}, timeout=10)
    assert (response.status_code, response.text) == (200, KNOWN_ANSWER)


def raw_exchange(server: LiveServer, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (no client library tidying them up); the status and body of the reply."""
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@fuzz_settings(30)
@given(query=mutated_queries(), accept=accept_headers)
@example(query=KNOWN_QUERY, accept=" ")
def test_mutated_queries_over_http(fixture_server: LiveServer, query: str, accept: str) -> None:
    response = SESSION.post(
        fixture_server.endpoint,
        data=query.encode("utf-8", "surrogatepass"),
        # a value's leading spaces are not part of it on the wire (RFC 9110's OWS), and requests refuses to send them
        headers={"Content-Type": "application/sparql-query", "Accept": accept.lstrip(" ").encode("latin-1")},
        timeout=10,
    )
    assert_clean(response.status_code, response.content)


@fuzz_settings(30)
@given(raw=st.binary(max_size=100), method=st.sampled_from([b"GET", b"POST", b"PUT", b"BREW", b"get"]))
@example(raw=b"\xff", method=b"GET")
@example(raw=b"\x00\r\n", method=b"POST")
def test_raw_bytes_in_the_request_line_and_body(fixture_server: LiveServer, raw: bytes, method: bytes) -> None:
    target = b"/sparql?query=" + quote_from_bytes(raw).encode("ascii")
    request = (
        method + b" " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/sparql-query\r\nContent-Length: " + str(len(raw)).encode() + b"\r\n\r\n" + raw
    )
    status, body = raw_exchange(fixture_server, request)
    assert_clean(status, body, method=method.decode())


def test_unencoded_bytes_in_the_request_line(fixture_server: LiveServer) -> None:
    status, body = raw_exchange(
        fixture_server, b"GET /sparql?query=\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status == 400
    assert_clean(status, body)


def test_deep_nesting_over_http_keeps_the_workers(fixture_server: LiveServer) -> None:
    for _, build in NESTING:
        query = build(2_000)[: fixture_server.max_body_bytes]
        response = SESSION.post(
            fixture_server.endpoint, data=query, headers={"Content-Type": "application/sparql-query"}, timeout=10
        )
        assert response.status_code == 400, (query[:40], response.text)
        assert_clean(response.status_code, response.content)
    still_answers(fixture_server)


def test_still_answers_after_the_fuzzing(fixture_server: LiveServer) -> None:
    still_answers(fixture_server)
