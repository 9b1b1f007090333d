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
