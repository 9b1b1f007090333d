"""The application factory, in process: what it stores; how it answers a bug without leaking it."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kgraph.config import INFERRED_GRAPH
from kgraph.web import BLUEPRINTS, create_app, service
from kgraph.web.sparql import service_description


def test_factory_stores_the_service(app: Flask) -> None:
    state = service(app)
    assert INFERRED_GRAPH in state.dataset_graphs
    assert state.graph.files.root.name == "project"
    assert {bp.split(":")[0] for bp in BLUEPRINTS} <= {f"kgraph.web.{name}" for name in app.blueprints}


def test_in_process_query(client: FlaskClient) -> None:
    response = client.post(
        "/sparql",
        data="ASK { ?s ?p ?o }",
        headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"},
    )
    assert (response.status_code, response.content_type) == (200, "text/csv; charset=utf-8")
    assert response.get_data(as_text=True).strip() == "true"


def test_a_bug_is_logged_but_not_shown(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    fresh = create_app(service(app).settings, graph=service(app).graph)
    try:

        @fresh.get("/boom")
        def boom() -> str:
            raise RuntimeError("secret detail")

        with caplog.at_level(logging.ERROR, logger="kgraph.web"):
            response = fresh.test_client().get("/boom")
        assert response.status_code == 500
        assert response.get_data(as_text=True) == ("Internal error: the server logged it; please report it.\n")
        assert "secret detail" in caplog.text
    finally:
        service(fresh).pool.close()


@pytest.mark.parametrize(("allowlist", "listed"), [((), False), (("http://example.org/sparql",), True)])
def test_federation_feature_only_with_an_allow_list(app: Flask, allowlist: tuple[str, ...], listed: bool) -> None:
    state = service(app)
    state = dataclasses.replace(state, settings=dataclasses.replace(state.settings, service_allowlist=allowlist))
    turtle = service_description(state, "http://localhost/sparql")
    assert ("sd:feature sd:BasicFederatedQuery ;" in turtle) is listed


def test_a_get_carries_an_etag_and_an_unchanged_one_gets_an_empty_304(client: FlaskClient) -> None:
    page = client.get("/id/sudzha")
    assert (page.status_code, page.headers["Cache-Control"]) == (200, "no-cache")
    again = client.get("/id/sudzha", headers={"If-None-Match": page.headers["ETag"], "Origin": "https://x.example"})
    assert (again.status_code, again.data) == (304, b"")
    assert again.headers["ETag"] == page.headers["ETag"]
    assert again.headers["Access-Control-Allow-Origin"] == "*"


def test_each_representation_has_its_own_etag(client: FlaskClient) -> None:
    html = client.get("/id/sudzha", headers={"Accept": "text/html"})
    turtle = client.get("/id/sudzha", headers={"Accept": "text/turtle"})
    assert html.headers["ETag"] != turtle.headers["ETag"]
    stale = client.get("/id/sudzha", headers={"Accept": "text/turtle", "If-None-Match": html.headers["ETag"]})
    assert (stale.status_code, stale.data) == (200, turtle.data)


def test_errors_and_writes_carry_no_etag(client: FlaskClient) -> None:
    assert "ETag" not in client.get("/id/no-such-thing").headers
    assert "ETag" not in client.post("/sparql", data={"query": "ASK {}"}).headers
