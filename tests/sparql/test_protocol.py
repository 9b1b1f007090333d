"""Reading SPARQL 1.1 Protocol requests: accepted shapes, and malformed ones' status and message."""

from __future__ import annotations

import io

import pytest

from kgraph.sparql.protocol import (
    FORM,
    QUERY,
    UPDATE,
    ProtocolError,
    ProtocolRequest,
    parse_request,
    read_body,
)

Q = "SELECT * WHERE { ?s ?p ?o }"
Q_URL = b"query=SELECT+*+WHERE+%7B+%3Fs+%3Fp+%3Fo+%7D"


def test_get_query_with_graphs_infer_and_format() -> None:
    raw = Q_URL + b"&default-graph-uri=http://a&default-graph-uri=http://b"
    raw += b"&named-graph-uri=http://c&named-graph-uri=http://c&infer=false&format=csv&output=text/csv&results=csv"
    assert parse_request("GET", raw, None, b"") == ProtocolRequest(
        "query", Q, ("http://a", "http://b"), ("http://c",), infer=False, formats=("csv", "text/csv", "csv")
    )


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_update_by_get_or_head_is_refused(method: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_request(method, b"update=CLEAR%20ALL", None, b"")
    assert caught.value.status == 405
    assert str(caught.value) == (
        f"An update is sent by POST only (SPARQL 1.1 Protocol); this {method} request changed nothing."
    )


def test_head_is_read_as_get() -> None:
    assert parse_request("HEAD", Q_URL, None, b"") == ProtocolRequest("query", Q)


def test_form_post_reads_the_body_and_the_url() -> None:
    asked = parse_request("POST", b"infer=FALSE", FORM + "; charset=UTF-8", Q_URL)
    assert asked == ProtocolRequest("query", Q, infer=False)


def test_direct_post_of_a_query() -> None:
    asked = parse_request("POST", b"named-graph-uri=http://c", QUERY, Q.encode())
    assert asked == ProtocolRequest("query", Q, named_graph_uris=("http://c",))


@pytest.mark.parametrize(
    ("content_type", "body"),
    [(FORM, b"update=CLEAR+ALL"), (UPDATE, b"CLEAR ALL")],
)
def test_updates_are_recognised(content_type: str, body: bytes) -> None:
    assert parse_request("POST", b"", content_type, body) == ProtocolRequest("update", "CLEAR ALL")


@pytest.mark.parametrize(
    ("method", "query_string", "content_type", "body"),
    [("GET", b"", None, b""), ("GET", b"format=turtle", None, b""), ("POST", b"", None, b"")],
)
def test_no_operation_asks_for_the_description(
    method: str, query_string: bytes, content_type: str | None, body: bytes
) -> None:
    assert parse_request(method, query_string, content_type, body).operation == "describe"


@pytest.mark.parametrize(
    ("method", "query_string", "content_type", "body", "status", "message"),
    [
        (
            "GET",
            Q_URL + b"&" + Q_URL,
            None,
            b"",
            400,
            "The request has 2 'query' parameters; send exactly one.",
        ),
        (
            "GET",
            Q_URL + b"&update=CLEAR+ALL",
            None,
            b"",
            400,
            "The request has both 'query' and 'update'; send one operation per request.",
        ),
        (
            "GET",
            Q_URL,
            None,
            b"x",
            400,
            "A GET request must not have a body: put the query in the URL (?query=...) or use POST.",
        ),
        (
            "POST",
            b"",
            FORM,
            b"format=json",
            400,
            "Missing 'query' (or 'update') parameter in the POST body.",
        ),
        (
            "POST",
            b"",
            "text/plain",
            Q.encode(),
            415,
            "Unsupported Content-Type 'text/plain' for a POST: use application/sparql-query, "
            "application/sparql-update or application/x-www-form-urlencoded.",
        ),
        (
            "POST",
            b"",
            None,
            Q.encode(),
            415,
            "Unsupported Content-Type 'none' for a POST: use application/sparql-query, "
            "application/sparql-update or application/x-www-form-urlencoded.",
        ),
        (
            "POST",
            Q_URL,
            QUERY,
            Q.encode(),
            400,
            "A direct POST of application/sparql-query carries the query in its body; "
            "the URL must not have a 'query' or 'update' parameter too.",
        ),
        (
            "POST",
            b"",
            QUERY,
            b"  ",
            400,
            "The request body is empty: a POST of application/sparql-query must carry the query.",
        ),
        (
            "GET",
            b"query=%FF",
            None,
            b"",
            400,
            "The query string is not valid UTF-8 (byte 0xff at offset 0); SPARQL text must be sent as UTF-8.",
        ),
        (
            "POST",
            b"",
            QUERY,
            b"SELECT \xe9",
            400,
            "The request body is not valid UTF-8 (byte 0xe9 at offset 7); SPARQL text must be sent as UTF-8.",
        ),
        ("GET", b"query=", None, b"", 400, "The 'query' parameter is empty."),
        (
            "GET",
            Q_URL + b"&infer=maybe",
            None,
            b"",
            400,
            "The 'infer' parameter must be 'true' or 'false', not 'maybe'.",
        ),
        (
            "GET",
            Q_URL + b"&infer=true&infer=false",
            None,
            b"",
            400,
            "The request has 2 'infer' parameters; send exactly one.",
        ),
        ("PUT", b"", None, b"", 405, "Method PUT is not allowed: use GET or POST."),
    ],
)
def test_malformed_requests(
    method: str,
    query_string: bytes,
    content_type: str | None,
    body: bytes,
    status: int,
    message: str,
) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_request(method, query_string, content_type, body)
    assert (caught.value.status, caught.value.message) == (status, message)


def test_read_body_within_the_limit() -> None:
    assert read_body(io.BytesIO(b"abc"), 3, limit=3) == b"abc"


@pytest.mark.parametrize("declared", [4, None])
def test_read_body_over_the_limit(declared: int | None) -> None:
    with pytest.raises(ProtocolError) as caught:
        read_body(io.BytesIO(b"abcd"), declared, limit=3)
    assert caught.value.status == 413
    assert caught.value.message == ("Request body larger than the server's limit of 3 bytes (KGRAPH_MAX_BODY_BYTES).")
