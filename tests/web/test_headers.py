"""Security headers on every answer of a real ``kgraph serve``: pages, RDF, errors and static files alike.

One test per header, each asserting its exact value, so that dropping or weakening any of them fails a test.
"""

from __future__ import annotations

import pytest
import requests

from kgraph.web.headers import YASR_TABLE_STYLE

STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

PATHS = [
    "/id/sudzha",
    "/id/sudzha.ttl",
    "/timeline",
    "/ontology",
    "/sparql",
    "/sparql?query=ASK%7B%7D",
    "/sparql?query=BAD",
    "/id/no-such-thing",
    "/assets/kgraph.css",
    "/assets/map.js",
    "/explain?s=x",
]
"""Pages, an RDF body, results, a 400, a 404, static files: every kind of answer."""


def _get(live_server, path: str) -> requests.Response:
    return requests.get(live_server.url + path, headers={"Accept": "text/html"}, timeout=30)


@pytest.mark.parametrize("path", PATHS)
def test_content_security_policy_allows_only_this_origin(live_server, path: str) -> None:
    assert _get(live_server, path).headers["Content-Security-Policy"] == STRICT_CSP


def test_the_query_page_adds_only_the_hash_of_yasrs_table_style(live_server) -> None:
    policy = _get(live_server, "/").headers["Content-Security-Policy"]
    assert policy == STRICT_CSP.replace("style-src 'self'", f"style-src 'self' {YASR_TABLE_STYLE}")
    assert "unsafe" not in policy


@pytest.mark.parametrize("path", PATHS)
def test_nosniff(live_server, path: str) -> None:
    assert _get(live_server, path).headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", PATHS)
def test_referrer_policy(live_server, path: str) -> None:
    assert _get(live_server, path).headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", PATHS)
def test_no_framing_by_another_site(live_server, path: str) -> None:
    response = _get(live_server, path)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"].split("; ")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_post_and_a_preflight_carry_them_too(live_server) -> None:
    post = requests.post(live_server.url + "/sparql", data={"query": "ASK {}"}, timeout=30)
    preflight = requests.options(live_server.url + "/sparql", timeout=30)
    for response in (post, preflight):
        assert response.headers["Content-Security-Policy"] == STRICT_CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
