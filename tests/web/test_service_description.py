"""The service description links the dataset's VoID description, and the two agree on the dataset and endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from flask.testing import FlaskClient
from rdflib import FOAF, RDF, RDFS, URIRef

from conftest import fixture_application

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DATASET = URIRef("https://w3id.org/kgraph/dataset")


@pytest.mark.parametrize("base", ["http://localhost/", "https://mirror.example:8443/kg/"])
@pytest.mark.parametrize(("accept", "rdflib_format"), [("text/turtle", "turtle"), ("application/rdf+xml", "xml")])
def test_the_service_description_links_the_void_description(
    client: FlaskClient, base: str, accept: str, rdflib_format: str
) -> None:
    response = client.get("/sparql", base_url=base, headers={"Accept": accept})
    assert response.status_code == 200
    sd = rdflib.Graph().parse(data=response.data, format=rdflib_format)
    endpoint, void = URIRef(base + "sparql"), URIRef(base + ".well-known/void")
    dataset = sd.value(endpoint, SD.defaultDataset)
    assert (endpoint, RDFS.seeAlso, void) in sd
    assert (dataset, RDFS.seeAlso, void) in sd
    assert (void, RDF.type, VOID.DatasetDescription) in sd
    assert (void, FOAF.primaryTopic, DATASET) in sd
    assert (DATASET, VOID.sparqlEndpoint, endpoint) in sd


def test_the_linked_void_description_describes_that_dataset_and_endpoint(client: FlaskClient) -> None:
    sd = rdflib.Graph().parse(data=client.get("/sparql", headers={"Accept": "text/turtle"}).data, format="turtle")
    void = sd.value(predicate=FOAF.primaryTopic, object=DATASET)
    response = client.get(str(void))
    assert response.status_code == 200
    described = rdflib.Graph().parse(data=response.data, format="turtle")
    assert (DATASET, RDF.type, VOID.Dataset) in described
    assert (DATASET, VOID.sparqlEndpoint, URIRef("http://localhost/sparql")) in described


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
"""What Chromium sends when a person follows a link of the navigation bar."""


@pytest.mark.parametrize("path", ["/sparql", "/.well-known/void"])
def test_no_developer_note_is_served(client: FlaskClient, path: str) -> None:
    body = client.get(path, headers={"Accept": "text/turtle"}).get_data(as_text=True)
    assert body.startswith("@prefix ")
    assert "A template" not in body
    assert "Edit the wording" not in body
    assert [line for line in body.splitlines() if line.lstrip().startswith("#")] == []


@pytest.mark.parametrize(
    ("path", "title"), [("/sparql", "Service description"), ("/.well-known/void", "Dataset (VoID)")]
)
def test_a_browser_gets_a_readable_page(client: FlaskClient, path: str, title: str) -> None:
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    page = response.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in page
    assert '<a href="http://localhost/sparql"><code>&lt;http://localhost/sparql&gt;</code></a>' in page
    assert "A template" not in page
    assert (
        client.get(path, headers={"Accept": "application/rdf+xml"}).content_type == "application/rdf+xml; charset=utf-8"
    )


def test_a_read_only_server_offers_queries_only(client: FlaskClient) -> None:
    sd = rdflib.Graph().parse(data=client.get("/sparql").data, format="turtle")
    endpoint = URIRef("http://localhost/sparql")
    assert set(sd.objects(endpoint, SD.supportedLanguage)) == {SD.SPARQL11Query}
    comment = str(sd.value(endpoint, RDFS.comment))
    assert "updates by POST only, not at all: no write token is configured." in comment
    assert "Relative IRIs in queries and updates resolve against <http://localhost/sparql>." in comment
    assert (
        "A query stops after 3 s; a result may be up to 67108864 bytes and a request body up to 10000 bytes." in comment
    )
    formats = set(sd.objects(endpoint, SD.resultFormat))
    assert URIRef("http://www.w3.org/ns/formats/N-Quads") in formats
    assert URIRef("http://www.w3.org/ns/formats/TriG") in formats
    store = URIRef("http://localhost/store")
    assert (endpoint, RDFS.seeAlso, store) in sd
    assert (
        store,
        URIRef("http://purl.org/dc/terms/conformsTo"),
        URIRef("https://www.w3.org/TR/sparql11-http-rdf-update/"),
    ) in sd


def test_a_writable_server_lists_update_its_base_and_its_empty_graphs(tmp_path: Path) -> None:
    with fixture_application(token="t0k", data_dir=tmp_path, base="http://example.org/base/") as application:
        client = application.test_client()
        put = client.put("/store?graph=http://example.org/empty", headers={"Authorization": "Bearer t0k"})
        assert put.status_code == 201
        assert client.get("/store?graph=http://example.org/empty").status_code == 200
        assert client.head("/store?graph=http://example.org/empty").status_code == 200
        sd = rdflib.Graph().parse(data=client.get("/sparql").data, format="turtle")
    endpoint = URIRef("http://localhost/sparql")
    assert set(sd.objects(endpoint, SD.supportedLanguage)) == {SD.SPARQL11Query, SD.SPARQL11Update}
    comment = str(sd.value(endpoint, RDFS.comment))
    assert "updates by POST only, with a token (HTTP Bearer or Basic)." in comment
    assert "resolve against <http://example.org/base/>." in comment
    sizes = {
        str(sd.value(named, SD.name)): int(sd.value(sd.value(named, SD.graph), VOID.triples))
        for named in sd.subjects(RDF.type, SD.NamedGraph)
    }
    assert sizes["http://example.org/empty"] == 0


@pytest.mark.parametrize(
    ("path", "main"), [("/sparql", "http://localhost/sparql"), ("/.well-known/void", str(DATASET))]
)
def test_the_page_begins_with_what_the_document_describes(client: FlaskClient, path: str, main: str) -> None:
    page = client.get(path, headers={"Accept": BROWSER}).get_data(as_text=True)
    assert page.index('<section class="rdf-subject"') == page.index(f'<section class="rdf-subject" id="{main}">')
