"""Tests of ``kgraph.web.server``'s plain parts: waitress's settings and the connection limits taken from kgraph's
settings, and the request parser's errors in kgraph's words (the server itself is tested over HTTP in
``test_server.py``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from waitress.adjustments import Adjustments

from kgraph.config import Settings
from kgraph.web.server import LOOP_SECONDS, KgraphParser, Limits, Worded, _bracket, _log_to_stderr, adjustments

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


def worded(data: bytes) -> tuple[int, str, str]:
    """The status, reason and body of the error the parser found in ``data``."""
    error = parsed(data).error
    assert isinstance(error, Worded)
    return error.code, error.reason, error.body


HEAD = b"POST /sparql HTTP/1.1\r\nHost: x\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"GET /sparql?query=" + b"x" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            (
                414,
                "URI Too Long",
                "URI Too Long: the request line is longer than the server's limit of 2048 bytes"
                " (KGRAPH_MAX_HEADER_BYTES); send a long query with POST (Content-Type: application/sparql-query).",
            ),
        ),
        (
            HEAD + b"X-Big: " + b"y" * 3000 + b"\r\n\r\n",
            (
                431,
                "Request Header Fields Too Large",
                "Request Header Fields Too Large: the request line and headers are longer than the server's limit"
                " of 2048 bytes (KGRAPH_MAX_HEADER_BYTES).",
            ),
        ),
        (
            HEAD + b"Content-Length: 4097\r\n\r\n",
            (
                413,
                "Request Entity Too Large",
                "Request body larger than the server's limit of 4096 bytes (KGRAPH_MAX_BODY_BYTES).",
            ),
        ),
        (
            HEAD + b"Transfer-Encoding: gzip\r\n\r\n",
            (400, "Bad Request", "Bad Request: Transfer-Encoding requested is not supported."),
        ),
        (HEAD + b"Content-Length: lots\r\n\r\n", (400, "Bad Request", "Bad Request: Content-Length is invalid")),
    ],
    ids=["414-request-line", "431-headers", "413-body", "400-not-501-transfer-coding", "400-framing"],
)
def test_the_parsers_errors_are_worded_with_the_limit_and_its_setting(
    data: bytes, expected: tuple[int, str, str]
) -> None:
    assert worded(data) == expected


def test_a_body_at_the_limit_is_accepted() -> None:
    assert parsed(HEAD + b"Content-Length: 4096\r\n\r\n").error is None


@pytest.fixture
def kgraph_logger() -> Iterator[logging.Logger]:
    """kgraph's logger, put back as it was after the test."""
    logger = logging.getLogger("kgraph")
    level, handlers = logger.level, list(logger.handlers)
    yield logger
    logger.setLevel(level)
    logger.handlers[:] = handlers


def test_the_log_level_shows_kgraphs_debug_lines_once_on_stderr(kgraph_logger, capfd) -> None:
    _log_to_stderr("DEBUG")
    _log_to_stderr("DEBUG")  # a second server in the same process adds no second handler
    logging.getLogger("kgraph.infer.in_store").debug("rules step 0: 0.50 s")
    logging.getLogger("kgraph.other").info("an info line")
    assert capfd.readouterr().err == "rules step 0: 0.50 s\nan info line\n"
    _log_to_stderr("WARNING")
    logging.getLogger("kgraph.infer.in_store").debug("hidden")
    logging.getLogger("kgraph.web").warning("loading data.ttl")
    assert capfd.readouterr().err == "loading data.ttl\n"
