"""Tests of ``kgraph.web.server``'s plain parts: waitress's settings and the connection limits taken from kgraph's
settings, and the request parser's errors in kgraph's words (the server itself is tested over HTTP in
``test_server.py``)."""

from __future__ import annotations

import pytest
from waitress.adjustments import Adjustments

from kgraph.config import Settings
from kgraph.web.server import LOOP_SECONDS, KgraphParser, Limits, Worded, _bracket, adjustments

SETTINGS = Settings.from_env(
    environ={},
    host="127.0.0.1",
    port=8123,
    http_threads=3,
    max_header_bytes=2048,
    max_body_bytes=4096,
    header_timeout=4.0,
    body_timeout=6.0,
    idle_timeout=8.0,
    max_connections=20,
)


def test_adjustments_carry_the_settings_with_the_body_limit_one_over() -> None:
    assert adjustments(SETTINGS) == {
        "host": "127.0.0.1",
        "port": 8123,
        "threads": 3,
        "ident": "kgraph",
        "max_request_header_size": 2048,
        "max_request_body_size": 4097,
        "channel_timeout": 8.0,
        "cleanup_interval": 1,
        "asyncore_loop_timeout": LOOP_SECONDS,
        "asyncore_use_poll": True,
        "connection_limit": 36,
        "backlog": 1024,
        "trusted_proxy": "127.0.0.1",
        "trusted_proxy_headers": {"x-forwarded-proto"},
        "clear_untrusted_proxy_headers": True,
        "expose_tracebacks": False,
    }


def test_waitress_accepts_every_adjustment() -> None:
    adj = Adjustments(**adjustments(SETTINGS))
    assert (adj.threads, adj.max_request_body_size, adj.ident, adj.expose_tracebacks) == (3, 4097, "kgraph", False)
    assert adj.trusted_proxy_headers == {"x-forwarded-proto"}


def test_limits_are_the_settings_time_limits_and_cap() -> None:
    limits = Limits(SETTINGS)
    assert (limits.header, limits.body, limits.idle, limits.connections) == (4.0, 6.0, 8.0, 20)


@pytest.mark.parametrize(
    ("host", "shown"), [("127.0.0.1", "127.0.0.1"), ("::1", "[::1]"), ("[::1]", "[::1]"), ("localhost", "localhost")]
)
def test_an_ipv6_host_is_bracketed_in_the_url(host: str, shown: str) -> None:
    assert _bracket(host) == shown


def parsed(data: bytes) -> KgraphParser:
    parser = KgraphParser(Adjustments(**adjustments(SETTINGS)))
    while data and not parser.completed:
        consumed = parser.received(data)
        data = data[consumed:]
        if not consumed:
            break
    return parser


def test_a_well_formed_request_is_parsed_and_its_header_time_noted() -> None:
    parser = parsed(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nASK{")
    assert (parser.error, parser.completed, parser.path) == (None, True, "/sparql")
    assert parser.headers_done is not None and parser.headers_done >= parser.started
    assert parser.get_body_stream().read() == b"ASK{"


def test_a_request_still_sending_its_headers_has_no_header_time() -> None:
    parser = parsed(b"GET /sparql HTTP/1.1\r\nHost: x\r\n")
    assert (parser.error, parser.headers_done) == (None, None)


def test_a_request_line_over_the_header_limit_is_414() -> None:
    error = parsed(b"GET /sparql?query=" + b"x" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n").error
    assert isinstance(error, Worded)
    assert (error.code, error.reason, error.body) == (
        414,
        "URI Too Long",
        "URI Too Long: the request line is longer than the server's limit of 2048 bytes (KGRAPH_MAX_HEADER_BYTES);"
        " send a long query with POST (Content-Type: application/sparql-query).",
    )


def test_headers_over_the_limit_are_431() -> None:
    error = parsed(b"GET /sparql HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 3000 + b"\r\n\r\n").error
    assert isinstance(error, Worded)
    assert (error.code, error.reason, error.body) == (
        431,
        "Request Header Fields Too Large",
        "Request Header Fields Too Large: the request line and headers are longer than the server's limit of 2048"
        " bytes (KGRAPH_MAX_HEADER_BYTES).",
    )


def test_a_body_over_the_limit_is_413_with_the_settings_limit() -> None:
    error = parsed(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: 4097\r\n\r\n").error
    assert isinstance(error, Worded)
    assert (error.code, error.body) == (
        413,
        "Request body larger than the server's limit of 4096 bytes (KGRAPH_MAX_BODY_BYTES).",
    )
    assert parsed(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n").error is None


def test_an_unknown_transfer_coding_is_400_not_501() -> None:
    error = parsed(b"POST /sparql HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n").error
    assert isinstance(error, Worded)
    assert (error.code, error.reason, error.body) == (
        400,
        "Bad Request",
        "Bad Request: Transfer-Encoding requested is not supported.",
    )


def test_malformed_framing_keeps_waitress_reason_in_kgraph_words() -> None:
    error = parsed(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n").error
    assert isinstance(error, Worded)
    assert (error.code, error.reason, error.body) == (400, "Bad Request", "Bad Request: Content-Length is invalid")
