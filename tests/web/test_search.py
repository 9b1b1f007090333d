"""``/id/`` and ``/search`` over the fixture project: resources listed by class and found by label, as pages and
as JSON; a search box on every page."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SUDZHA = {
    "iri": "https://w3id.org/kgraph/id/sudzha",
    "label": "Sudzha",
    "path": "/id/sudzha",
    "matched": "Sudzha",
    "types": ["https://w3id.org/kgraph/ontology#Settlement"],  # asserted only: Place is inferred
}


@pytest.mark.parametrize(
    ("query", "headers"),
    [({"q": "SUD", "format": "json"}, {}), ({"q": "sud"}, {"Accept": "application/json"})],
)
def test_search_answers_json_for_scripts(client: FlaskClient, query: dict, headers: dict) -> None:
    response = client.get("/search", query_string=query, headers=headers)
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.json == {"query": query["q"], "results": [SUDZHA], "limit": 50}


def test_search_is_accent_insensitive(client: FlaskClient) -> None:
    assert [r["iri"] for r in client.get("/search?q=Súdž&format=json").json["results"]] == [SUDZHA["iri"]]


def test_search_page_lists_the_hits(client: FlaskClient) -> None:
    response = client.get("/search?q=kursk", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    hits = re.findall(r'<li class="hit">(.*?)</li>', response.text, re.S)
    assert [re.sub(r"\s+", " ", h).strip() for h in hits] == [
        '<a href="/id/kursk-oblast" title="https://w3id.org/kgraph/id/kursk-oblast">Kursk Oblast</a>'
    ]
    assert '<p id="summary">1 resource\n    named <q>kursk</q>&hellip;' in response.text
    assert 'value="kursk"' in response.text  # the search box keeps the text


def test_search_without_a_match_says_so(client: FlaskClient) -> None:
    html = client.get("/search?q=zz", headers={"Accept": BROWSER}).text
    assert "No resource is named <q>zz</q>&hellip;" in html


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({"q": "x", "format": "xml"}, 400, "Unknown format: use format=html or format=json.\n"),
        ({"q": "x" * 201}, 400, "The search text is too long: at most 200 characters.\n"),
        ({"q": "x", "infer": "maybe"}, 400, "The 'infer' parameter must be 'true' or 'false', not 'maybe'.\n"),
    ],
)
def test_bad_search_requests_are_400s(client: FlaskClient, query: dict, status: int, message: str) -> None:
    response = client.get("/search", query_string=query)
    assert (response.status_code, response.text) == (status, message)


def test_every_page_has_the_search_box(client: FlaskClient) -> None:
    for path in ("/", "/id/sudzha", "/timeline", "/ontology", "/id/", "/search"):
        html = client.get(path, headers={"Accept": BROWSER}).text
        assert '<form class="search" role="search" method="get" action="/search">' in html, path
        assert '<input type="search" id="site-search" name="q"' in html, path


def test_the_index_lists_classes_with_counts(client: FlaskClient) -> None:
    response = client.get("/id/", headers={"Accept": BROWSER})
    assert response.status_code == 200
    rows = re.findall(r"<tr><td>(.*?)</td><td class=\"count\">(\d+)</td></tr>", response.text)
    assert rows == [
        (
            '<a href="/id/?class=https%3A%2F%2Fw3id.org%2Fkgraph%2Fontology%23Place" '
            'title="https://w3id.org/kgraph/ontology#Place">place</a>',
            "1",
        ),
        (
            '<a href="/id/?class=https%3A%2F%2Fw3id.org%2Fkgraph%2Fontology%23Settlement" '
            'title="https://w3id.org/kgraph/ontology#Settlement">settlement</a>',
            "1",
        ),
    ]


def test_the_index_lists_a_class_by_label(client: FlaskClient) -> None:
    html = client.get("/id/?class=https%3A%2F%2Fw3id.org%2Fkgraph%2Fontology%23Settlement").text
    section = re.search(r'<section id="instances">(.*?)</section>', html, re.S)
    assert section is not None
    assert re.findall(r"<li>(.*?)</li>", section.group(1)) == [
        '<a href="/id/sudzha" title="https://w3id.org/kgraph/id/sudzha">Sudzha</a>'
    ]


def test_the_index_refuses_a_class_that_is_not_an_iri(client: FlaskClient) -> None:
    response = client.get("/id/?class=kg:Settlement")
    assert (response.status_code, response.text) == (
        400,
        "The 'class' parameter must be a full http(s) IRI, not 'kg:Settlement'.\n",
    )


def test_a_class_listing_marks_the_resources_whose_class_is_inferred(client: FlaskClient) -> None:
    html = client.get("/id/?class=https%3A%2F%2Fw3id.org%2Fkgraph%2Fontology%23Place").text
    section = re.search(r'<section id="instances">(.*?)</section>', html, re.S)
    assert section is not None
    (item,) = re.findall(r"<li>(.*?)</li>", section.group(1))
    assert item == (
        '<a href="/id/sudzha" title="https://w3id.org/kgraph/id/sudzha">Sudzha</a> <a class="inferred" '
        'href="/explain?s=%3Chttps%3A%2F%2Fw3id.org%2Fkgraph%2Fid%2Fsudzha%3E'
        "&amp;p=%3Chttp%3A%2F%2Fwww.w3.org%2F1999%2F02%2F22-rdf-syntax-ns%23type%3E"
        '&amp;o=%3Chttps%3A%2F%2Fw3id.org%2Fkgraph%2Fontology%23Place%3E" '
        'title="Inferred, not stated by a source: see why">inferred</a>'
    )
