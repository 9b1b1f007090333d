"""Tests of ``kgraph.web.search``'s view functions, called in a request context of the fixture application: the
format negotiation, the length limit at its edge and the class parameter's check (``/id/`` and ``/search`` over
the test client are in ``test_search.py``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask

from conftest import fixture_application
from kgraph.web import search as views
from kgraph.web.search import MAX_QUERY


def call(app: Flask, view: object, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    with app.test_request_context(path, headers=headers or {}):
        response = view()  # type: ignore[operator]
        return response.status_code, response.content_type, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "accept", "wants"),
    [
        ("/search?format=json", "text/html", True),
        ("/search?format=html", "application/json", False),
        ("/search?format=JSON", None, None),
        ("/search?format=", None, None),
        ("/search", "application/sparql-results+json", True),
        ("/search", "application/ld+json;q=0.9, text/html;q=0.5", True),
        ("/search", "text/html, application/json", False),
        ("/search", "application/json;q=0.1, text/html", False),
        ("/search", "*/*", False),
        ("/search", None, False),
    ],
)
def test_json_is_chosen_by_format_else_by_the_first_accepted_type(
    app: Flask, path: str, accept: str | None, wants: bool | None
) -> None:
    with app.test_request_context(path, headers={"Accept": accept} if accept else {}):
        assert views._wants_json() is wants


def test_a_search_text_of_exactly_the_limit_is_searched(app: Flask) -> None:
    status, content_type, body = call(app, views.search_page, f"/search?format=json&q={'s' * MAX_QUERY}")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body) == {"query": "s" * MAX_QUERY, "results": [], "limit": 50}
    too_long = call(app, views.search_page, f"/search?format=json&q={'s' * (MAX_QUERY + 1)}")
    assert too_long == (400, "text/plain; charset=utf-8", "The search text is too long: at most 200 characters.\n")


def test_the_limit_applies_after_surrounding_spaces_are_dropped(app: Flask) -> None:
    padded = "%20" * 10 + "sudzha" + "%20" * (MAX_QUERY)
    status, _, body = call(app, views.search_page, f"/search?format=json&q={padded}")
    assert status == 200
    assert [hit["iri"] for hit in json.loads(body)["results"]] == ["https://w3id.org/kgraph/id/sudzha"]


def test_an_empty_search_finds_nothing(app: Flask) -> None:
    status, _, body = call(app, views.search_page, "/search?q=%20%20&format=json")
    assert (status, json.loads(body)) == (200, {"query": "", "results": [], "limit": 50})


@pytest.mark.parametrize(
    "chosen",
    ["ftp://example.org/C", "https://example.org/a b", "https://example.org/<C>", 'https://example.org/"', "C"],
)
def test_a_class_that_is_not_a_plain_http_iri_is_refused(app: Flask, chosen: str) -> None:
    with app.test_request_context("/id/", query_string={"class": chosen}, headers={"Accept": "application/json"}):
        response = views.index()
    assert response.status_code == 400
    assert response.json == {
        "status": 400,
        "message": f"The 'class' parameter must be a full http(s) IRI, not '{chosen}'.",
    }


def test_an_unknown_class_lists_nothing(app: Flask) -> None:
    status, content_type, html = call(app, views.index, "/id/?class=https%3A%2F%2Fexample.org%2FNothing")
    assert (status, content_type) == (200, "text/html; charset=utf-8")
    section = re.search(r'<section id="instances">(.*?)</section>', html, re.S)
    assert section is not None
    assert re.findall(r"<h2>.*?\((\d+)\+?\)</h2>", section.group(1)) == ["0"]
    assert "<li>" not in section.group(1)


def test_search_and_the_class_counts_follow_a_write(tmp_path: Path) -> None:
    """They are kept per data version, so a write shows in the next answer (the second write goes to the graph the
    first one made: the same dataset, a new version)."""
    token = "s3arch"
    insert = """PREFIX kg: <https://w3id.org/kgraph/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        INSERT DATA {{ <https://w3id.org/kgraph/id/{name}> a kg:Settlement ; rdfs:label "{name}"@en }}"""
    with fixture_application(token=token, data_dir=tmp_path) as application:
        client = application.test_client()

        def write(name: str) -> None:
            update = insert.format(name=name)
            headers = {"Authorization": f"Bearer {token}"}
            assert client.post("/sparql", data={"update": update}, headers=headers).status_code == 200

        def found() -> list[str]:
            return [hit["label"] for hit in client.get("/search?q=zeppel&format=json").get_json()["results"]]

        def settlements() -> int:
            page = client.get("/id/").get_data(as_text=True)
            match = re.search(r'>settlement</a></td><td class="count">(\d+)<', page)
            assert match, page
            return int(match.group(1))

        write("zeppelin-one")
        assert (found(), settlements()) == (["zeppelin-one"], 2)
        write("zeppelin-two")
        assert (found(), settlements()) == (["zeppelin-one", "zeppelin-two"], 3)
