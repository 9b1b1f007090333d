"""Hostile requests to the endpoint through the Flask test client: fast, so hypothesis can try many.

Every property checks the invariant of :mod:`hostile` on each response and, at its end, that the
application still answers a known query correctly. The nesting tests are the regression tests of a
bug these properties found: queries nested or chained a few thousand deep crashed the query worker
(a 503) until the guard limited them.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote_from_bytes

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hostile import (
    KNOWN_ANSWER,
    KNOWN_QUERY,
    NESTING,
    accept_headers,
    assert_clean,
    content_types,
    fuzz_settings,
    mutated_queries,
)
from hypothesis import example, given
from hypothesis import strategies as st

from conftest import fixture_application
from kgraph.sparql.guard import MAX_NESTING, MAX_OPERATORS

ROOMY_BODY = 4_000_000
"""A body limit large enough for queries nested a hundred thousand deep (the default is 16 MB)."""


@pytest.fixture(scope="module")
def roomy_app() -> Iterator[Flask]:
    """The application over the fixture project with room for huge bodies."""
    with fixture_application(max_body_bytes=ROOMY_BODY, max_query_bytes=ROOMY_BODY) as application:
        yield application


@pytest.fixture
def roomy(roomy_app: Flask) -> FlaskClient:
    """A test client of the roomy application."""
    return roomy_app.test_client()


def check(response, method: str = "GET") -> None:
    assert_clean(response.status_code, response.get_data(), method=method)


def still_answers(client: FlaskClient) -> None:
    """The known query gets its known answer."""
    response = client.get("/sparql", query_string={"query": KNOWN_QUERY, "format": "csv"})
    assert (response.status_code, response.get_data(as_text=True)) == (200, KNOWN_ANSWER)


@fuzz_settings(150)
@given(query=mutated_queries(), post=st.booleans())
def test_mutated_example_queries(client: FlaskClient, query: str, post: bool) -> None:
    if post:
        response = client.post(
            "/sparql", data=query.encode("utf-8", "surrogatepass"), content_type="application/sparql-query"
        )
    else:
        response = client.get("/sparql", query_string={"query": query})
    check(response)


@fuzz_settings(100)
@given(query=st.text(max_size=200))
@example(query="SELECT * WHERE { ?s ?p ?o } LIMIT 1 \x00")
@example(query="\ud800")
def test_random_text(client: FlaskClient, query: str) -> None:
    raw = quote_from_bytes(query.encode("utf-8", "surrogatepass"))
    check(client.get("/sparql?query=" + raw))


@fuzz_settings(100)
@given(raw=st.binary(max_size=200), where=st.sampled_from(("url", "form", "direct")))
@example(raw=b"\xff\xfe", where="url")
@example(raw=b"\xed\xa0\x80", where="direct")
def test_invalid_utf8(client: FlaskClient, raw: bytes, where: str) -> None:
    encoded = quote_from_bytes(raw).encode("ascii")
    if where == "url":
        response = client.get("/sparql?query=" + encoded.decode())
    elif where == "form":
        response = client.post("/sparql", data=b"query=" + encoded, content_type="application/x-www-form-urlencoded")
    else:
        response = client.post("/sparql", data=raw, content_type="application/sparql-query")
    check(response)


@fuzz_settings(100)
@given(accept=accept_headers, fmt=st.none() | st.text(max_size=30), construct=st.booleans())
@example(accept="application/json;q=nan", fmt=None, construct=False)
@example(accept="a/b;q=1e400,*/*;q=-0", fmt="\x00", construct=True)
def test_absurd_accept_and_format(client: FlaskClient, accept: str, fmt: str | None, construct: bool) -> None:
    query = "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2" if construct else "SELECT * WHERE { ?s ?p ?o } LIMIT 2"
    params = {"query": query} if fmt is None else {"query": query, "format": fmt}
    check(client.get("/sparql", query_string=params, headers={"Accept": accept}))


@fuzz_settings(60)
@given(default=st.lists(st.text(max_size=40), max_size=3), named=st.lists(st.text(max_size=40), max_size=3))
def test_random_graph_parameters(client: FlaskClient, default: list[str], named: list[str]) -> None:
    params = [("query", "SELECT * WHERE { ?s ?p ?o } LIMIT 1")]
    params += [("default-graph-uri", iri) for iri in default] + [("named-graph-uri", iri) for iri in named]
    check(client.get("/sparql", query_string=params))


@fuzz_settings(80)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND"]),
    content_type=st.none() | content_types,
    body=st.binary(max_size=100),
)
def test_random_methods_and_content_types(
    client: FlaskClient, method: str, content_type: str | None, body: bytes
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    check(client.open("/sparql", method=method, data=body, headers=headers), method)


@pytest.mark.parametrize("depth", [10, MAX_NESTING - 2, 3_000, 100_000])
@pytest.mark.parametrize(("shape", "build"), NESTING, ids=[name for name, _ in NESTING])
def test_deep_nesting_is_refused_not_crashed(roomy: FlaskClient, shape: str, build, depth: int) -> None:
    response = roomy.post("/sparql", data=build(depth), content_type="application/sparql-query")
    check(response)
    if depth >= 3_000:
        assert response.status_code == 400
        assert f"at most {MAX_NESTING}" in response.text or f"at most {MAX_OPERATORS}" in response.text
    still_answers(roomy)


def test_deep_nesting_message(roomy: FlaskClient) -> None:
    response = roomy.post("/sparql", data="ASK " + "{" * 3000 + "}" * 3000, content_type="application/sparql-query")
    assert (response.status_code, response.text) == (
        400,
        f"The request nests brackets 3000 deep; this endpoint allows at most {MAX_NESTING}.\n",
    )


def test_long_chain_message(roomy: FlaskClient) -> None:
    response = roomy.post(
        "/sparql", data="SELECT (" + "1+" * 5000 + "1 AS ?x) {}", content_type="application/sparql-query"
    )
    assert (response.status_code, response.text) == (
        400,
        "The request has 5000 operators and group keywords (UNION, FILTER, BIND...); "
        f"this endpoint allows at most {MAX_OPERATORS}. Split it into smaller queries.\n",
    )


@pytest.mark.parametrize("size", [1_000, 1_000_000, ROOMY_BODY + 1_000])
def test_huge_literal(roomy: FlaskClient, size: int) -> None:
    literal = "a" * (size - 40)
    query = f'SELECT (STRLEN("{literal}") AS ?n) {{}}'
    response = roomy.post(
        "/sparql", data=query, content_type="application/sparql-query", headers={"Accept": "text/csv"}
    )
    check(response)
    if len(query) <= ROOMY_BODY:
        assert (response.status_code, response.text) == (200, f"n\r\n{len(literal)}\r\n")
    else:
        assert response.status_code == 413
    still_answers(roomy)


def test_still_answers_after_the_fuzzing(client: FlaskClient) -> None:
    still_answers(client)
