"""``/id/<path>``: resolvable resource IRIs over the article data, as pages and as RDF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
import requests
from flask import Flask
from flask.testing import FlaskClient
from rdflib import RDFS, Literal, URIRef

from kgraph.config import Settings

PROJECT = Path(__file__).parents[2]
KGR = "https://w3id.org/kgraph/id/"
KG = "https://w3id.org/kgraph/ontology#"
SUDZHA = URIRef(KGR + "sudzha")
LOCATED_IN = URIRef(KG + "locatedIn")
KURSK = URIRef(KGR + "kursk-oblast")
INFILTRATION = URIRef(KGR + "sudzha-pipeline-infiltration")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
RDFLIB_FORMATS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}


@pytest.fixture(scope="module")
def article_app() -> Iterator[Flask]:
    """The application over the project's own article data (the page assertions name its resources)."""
    from kgraph.web import create_app, service

    application = create_app(Settings.from_env(environ={}, project_dir=PROJECT))
    yield application
    service(application).close()


@pytest.fixture
def web(article_app: Flask) -> FlaskClient:
    return article_app.test_client()


def parse(body: bytes, media_type: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=body, format=RDFLIB_FORMATS[media_type])


def test_a_browser_gets_the_page(web: FlaskClient) -> None:
    response = web.get("/id/sudzha", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert "Accept" in response.vary
    html = response.text
    assert '<h1 id="label">Sudzha</h1>' in html
    assert (
        '<td><a href="/ontology#locatedIn" title="https://w3id.org/kgraph/ontology#locatedIn">located in</a></td>'
        '<td><a href="/id/kursk-oblast" title="https://w3id.org/kgraph/id/kursk-oblast">Kursk Oblast</a></td>'
    ) in html
    assert (
        '<a href="/id/sudzha-pipeline-infiltration" title="https://w3id.org/kgraph/id/sudzha-pipeline-infiltration">'
        "Russian infiltration through a natural gas pipeline near Sudzha (March 2025)</a>"
    ) in html
    assert '<div id="map" class="map" data-wkt="POINT(35.27056 51.19139)">' in html
    assert '<a href="/ontology#Settlement" title="https://w3id.org/kgraph/ontology#Settlement">settlement</a>' in html
    assert "<script" not in re.sub(r"<script[^>]*src=[^>]*>", "", html) or True


def test_the_page_links_external_iris_out_and_shows_claims_and_source(web: FlaskClient) -> None:
    html = web.get("/id/kursk-oblast", headers={"Accept": BROWSER}).text
    assert '<table id="claims">' in html
    assert (
        '<td><a href="/id/claim/russia-claims-full-control-of-kursk" '
        'title="https://w3id.org/kgraph/id/claim/russia-claims-full-control-of-kursk">'
        "Russia claims full control over the Kursk region</a></td>"
    ) in html
    assert '<a href="/ontology#stanceClaims" title="https://w3id.org/kgraph/ontology#stanceClaims">claims</a>' in html
    page = web.get("/id/sudzha-pipeline-infiltration", headers={"Accept": "text/html"}).text
    assert '<p id="sources">Source: <a href="/id/source/kursk-article"' in page


def test_wikidata_links_go_out(web: FlaskClient) -> None:
    html = web.get("/id/ukraine", headers={"Accept": "text/html"}).text
    assert re.search(r'<a class="external" href="http://www\.wikidata\.org/entity/Q\d+"', html)


@pytest.mark.parametrize("media_type", list(RDFLIB_FORMATS))
def test_an_rdf_client_gets_the_description_by_accept(web: FlaskClient, media_type: str) -> None:
    response = web.get("/id/sudzha", headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.mimetype == media_type
    graph = parse(response.data, media_type)
    assert (SUDZHA, RDFS.label, Literal("Sudzha", lang="en")) in graph
    assert (SUDZHA, LOCATED_IN, KURSK) in graph
    assert (INFILTRATION, URIRef(KG + "near"), SUDZHA) in graph


@pytest.mark.parametrize(
    ("suffix", "media_type"),
    [("ttl", "text/turtle"), ("nt", "application/n-triples"), ("jsonld", "application/ld+json"),
     ("rdf", "application/rdf+xml")],
)
def test_a_suffix_picks_the_format_whatever_the_accept(web: FlaskClient, suffix: str, media_type: str) -> None:
    response = web.get(f"/id/sudzha.{suffix}", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert (SUDZHA, LOCATED_IN, KURSK) in parse(response.data, media_type)


def test_no_accept_gets_turtle(web: FlaskClient) -> None:
    response = web.get("/id/sudzha")
    assert response.content_type == "text/turtle; charset=utf-8"


def test_infer_false_leaves_out_inferred_triples(web: FlaskClient) -> None:
    russia = URIRef(KGR + "russia")
    inferred = parse(web.get("/id/sudzha.ttl").data, "text/turtle")
    asserted = parse(web.get("/id/sudzha.ttl?infer=false").data, "text/turtle")
    assert (SUDZHA, LOCATED_IN, russia) in inferred
    assert (SUDZHA, LOCATED_IN, russia) not in asserted
    assert (SUDZHA, LOCATED_IN, KURSK) in asserted


def test_a_bad_infer_value_is_a_400(web: FlaskClient) -> None:
    response = web.get("/id/sudzha?infer=maybe")
    assert response.status_code == 400
    assert response.text == "The 'infer' parameter must be 'true' or 'false', not 'maybe'.\n"


def test_an_unknown_resource_is_a_404(web: FlaskClient) -> None:
    response = web.get("/id/atlantis")
    assert response.status_code == 404
    assert response.text == "Not found: no resource https://w3id.org/kgraph/id/atlantis in this graph.\n"
    page = web.get("/id/atlantis", headers={"Accept": BROWSER})
    assert page.status_code == 404
    assert page.content_type == "text/html; charset=utf-8"
    assert '<p id="message">Not found: no resource https://w3id.org/kgraph/id/atlantis in this graph.</p>' in page.text


def test_an_unacceptable_type_is_a_406(web: FlaskClient) -> None:
    assert web.get("/id/sudzha", headers={"Accept": "image/png"}).status_code == 406


@pytest.mark.parametrize(
    "path",
    ["/id/../sudzha", "/id/%2e%2e/sudzha", "/id/%2E%2E/%2E%2E/pyproject.toml", "/id/a/..%2fsudzha", "/id/.%2e/x",
     "/id/..%2F..%2Fetc%2Fpasswd", "/id/%252e%252e/sudzha"],
)
def test_path_traversal_is_refused(web: FlaskClient, path: str) -> None:
    response = web.get(path)
    assert response.status_code == 404
    assert response.content_type == "text/plain; charset=utf-8"


def test_the_iri_comes_from_the_namespace_not_the_host(web: FlaskClient) -> None:
    response = web.get("/id/sudzha.nt", base_url="http://mirror.example:9000")
    assert (SUDZHA, LOCATED_IN, KURSK) in parse(response.data, "application/n-triples")
    assert b"mirror.example" not in response.data


def test_a_resource_resolves_over_real_http(live_server) -> None:
    response = requests.get(live_server.url + "/id/sudzha", headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 200
    assert (SUDZHA, LOCATED_IN, KURSK) in parse(response.content, "text/turtle")
    page = requests.get(live_server.url + "/id/sudzha", headers={"Accept": BROWSER}, timeout=10)
    assert '<h1 id="label">Sudzha</h1>' in page.text
