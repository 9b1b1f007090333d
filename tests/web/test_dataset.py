"""``/.well-known/void`` and ``/dumps/``: the dataset's description and downloads, over the fixture project.

The fixture project (``tests/fixtures/project``) keeps the counts exact: 65 distinct asserted triples in three files
(the ontology and two data files) and 52 inferred ones, 117 in all.
"""

from __future__ import annotations

import json
import warnings

import pytest
import rdflib
import requests
from flask.testing import FlaskClient
from rdflib import RDF, RDFS, Literal, Namespace, URIRef

from conftest import fixture_application

VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
DATASET = URIRef("https://w3id.org/kgraph/dataset")
ASSERTED = URIRef("https://w3id.org/kgraph/dataset/asserted")
INFERRED = URIRef("https://w3id.org/kgraph/dataset/inferred")
KG = Namespace("https://w3id.org/kgraph/ontology#")
KGR = Namespace("https://w3id.org/kgraph/id/")
GRAPH = "https://w3id.org/kgraph/graph/"
SUFFIXES = ("ttl", "nt", "trig", "jsonld")
RDFLIB_FORMATS = {
    "ttl": "turtle",
    "nt": "nt",
    "trig": "trig",
    "jsonld": "json-ld",
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}


def parse(body: bytes | str, fmt: str) -> rdflib.Dataset:
    """The body parsed by rdflib into a dataset (its own deprecation warnings silenced)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="rdflib")
        dataset = rdflib.Dataset()
        dataset.parse(data=body, format=RDFLIB_FORMATS[fmt])
        return dataset


def triples(dataset: rdflib.Dataset) -> set[tuple]:
    """Every triple of the dataset, whatever its graph."""
    return {(s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None))}


def void(client: FlaskClient, accept: str = "text/turtle") -> rdflib.Dataset:
    response = client.get("/.well-known/void", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == accept
    return parse(response.data, accept)


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/ld+json"])
def test_void_describes_the_dataset(client: FlaskClient, accept: str) -> None:
    found = triples(void(client, accept))
    expected = {
        (DATASET, RDF.type, VOID.Dataset),
        (DATASET, RDF.type, DCAT.Dataset),
        (DATASET, DCTERMS.title, Literal("kgraph: the battle for Russia's Kursk region, 2024-2025", lang="en")),
        (DATASET, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")),
        (DATASET, DCTERMS.creator, Literal("The kgraph project")),
        (DATASET, DCTERMS.source, KGR["source/kursk-article"]),
        (DATASET, VOID.uriSpace, Literal("https://w3id.org/kgraph/id/")),
        (DATASET, VOID.sparqlEndpoint, URIRef("http://localhost/sparql")),
        (DATASET, VOID.triples, Literal(117)),
        (ASSERTED, VOID.triples, Literal(65)),
        (INFERRED, VOID.triples, Literal(52)),
        (DATASET, VOID.subset, ASSERTED),
        (DATASET, VOID.subset, INFERRED),
    }
    assert expected <= found


def test_void_is_turtle_by_default(client: FlaskClient) -> None:
    response = client.get("/.well-known/void")
    assert response.content_type == "text/turtle; charset=utf-8"
    assert "Accept" in response.vary


def test_void_is_the_same_bytes_at_every_request_so_it_revalidates(client: FlaskClient) -> None:
    """Its blank nodes (the dumps' distributions) are named, not fresh at each request: a client's ETag still holds."""
    first, second = client.get("/.well-known/void"), client.get("/.well-known/void")
    assert first.data == second.data
    assert client.get("/.well-known/void", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_void_lists_the_vocabularies_the_data_uses(client: FlaskClient) -> None:
    found = {o for s, p, o in triples(void(client)) if p == VOID.vocabulary}
    assert found == {
        URIRef("http://purl.org/dc/terms/"),
        URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
        URIRef("http://www.w3.org/2000/01/rdf-schema#"),
        URIRef("http://www.w3.org/2002/07/owl#"),
        URIRef("https://w3id.org/kgraph/ontology#"),
    }


def test_void_lists_every_dump_with_its_distribution(client: FlaskClient) -> None:
    found = triples(void(client))
    urls = {URIRef(f"http://localhost/dumps/{n}.{s}") for n in ("asserted", "inferred") for s in SUFFIXES}
    assert {o for s, p, o in found if s == DATASET and p == VOID.dataDump} == urls
    assert {o for s, p, o in found if p == DCAT.downloadURL} == urls
    assert (ASSERTED, VOID.dataDump, URIRef("http://localhost/dumps/asserted.trig")) in found
    assert (INFERRED, VOID.dataDump, URIRef("http://localhost/dumps/inferred.nt")) in found
    media_types = {o for s, p, o in found if p == DCAT.mediaType}
    assert URIRef("https://www.iana.org/assignments/media-types/application/trig") in media_types


def test_the_endpoint_url_comes_from_the_request(client: FlaskClient) -> None:
    response = client.get("/.well-known/void", base_url="https://mirror.example:8443/kg/")
    found = triples(parse(response.data, "text/turtle"))
    assert (DATASET, VOID.sparqlEndpoint, URIRef("https://mirror.example:8443/kg/sparql")) in found
    assert (DATASET, VOID.dataDump, URIRef("https://mirror.example:8443/kg/dumps/asserted.ttl")) in found


def dump(client: FlaskClient, name: str, suffix: str) -> rdflib.Dataset:
    response = client.get(f"/dumps/{name}.{suffix}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="kgraph-{name}.{suffix}"'
    body = response.data
    if suffix == "jsonld":
        document = json.loads(body)
        assert document["@context"] == "http://localhost/dumps/context.jsonld"
        document["@context"] = client.get("/dumps/context.jsonld").get_json()["@context"]
        body = json.dumps(document)
    return parse(body, suffix)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_the_asserted_dump_holds_the_asserted_triples(client: FlaskClient, suffix: str) -> None:
    found = triples(dump(client, "asserted", suffix))
    assert len(found) == 65
    assert (KGR.sudzha, RDFS.label, Literal("Sudzha", lang="en")) in found
    assert (KGR.sudzha, KG.locatedIn, KGR["kursk-oblast"]) in found
    assert (KGR.sudzha, KG.locatedIn, KGR.russia) not in found


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_the_inferred_dump_holds_only_inferred_triples(client: FlaskClient, suffix: str) -> None:
    found = triples(dump(client, "inferred", suffix))
    assert len(found) == 52
    assert (KGR.sudzha, KG.locatedIn, KGR.russia) in found
    assert (KGR.sudzha, RDF.type, KG.Place) in found
    assert (KGR.sudzha, KG.locatedIn, KGR["kursk-oblast"]) not in found


def test_trig_keeps_one_named_graph_per_source_file(client: FlaskClient) -> None:
    dataset = dump(client, "asserted", "trig")
    graphs = {str(g) for _, _, _, g in dataset.quads((None, None, None, None))}
    assert graphs == {
        GRAPH + "ontology/mini.ttl",
        GRAPH + "data/ttl/places.ttl",
        GRAPH + "data/ttl/source.ttl",
    }
    inferred = dump(client, "inferred", "trig")
    assert {str(g) for _, _, _, g in inferred.quads((None, None, None, None))} == {GRAPH + "inferred"}


def test_the_context_holds_the_project_prefixes(client: FlaskClient) -> None:
    response = client.get("/dumps/context.jsonld")
    assert response.mimetype == "application/ld+json"
    context = response.get_json()["@context"]
    assert context["kg"] == "https://w3id.org/kgraph/ontology#"
    assert context["kgr"] == "https://w3id.org/kgraph/id/"


def test_the_jsonld_dump_is_compacted_with_the_context(client: FlaskClient) -> None:
    document = json.loads(client.get("/dumps/asserted.jsonld").data)
    sudzha = next(node for node in document["@graph"] if node["@id"] == "kgr:sudzha")
    assert sudzha["kg:locatedIn"] == {"@id": "kgr:kursk-oblast"}


@pytest.mark.parametrize("path", ["/dumps/everything.ttl", "/dumps/asserted.xml", "/dumps/../pyproject.toml"])
def test_unknown_dumps_are_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_dumps_over_real_http_resolve_their_remote_context(live_server) -> None:
    response = requests.get(live_server.url + "/dumps/inferred.jsonld", timeout=30)
    assert response.status_code == 200
    assert json.loads(response.content)["@context"] == live_server.url + "/dumps/context.jsonld"
    found = triples(parse(response.content, "jsonld"))
    assert (KGR.sudzha, KG.locatedIn, KGR.russia) in found
    described = triples(parse(requests.get(live_server.url + "/.well-known/void", timeout=30).content, "ttl"))
    assert (DATASET, VOID.sparqlEndpoint, URIRef(live_server.url + "/sparql")) in described


def test_a_server_of_ones_own_data_describes_its_files_not_the_article(tmp_path) -> None:
    data = tmp_path / "mine.ttl"
    data.write_text("<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n")
    with fixture_application(own_data=True, data=(data,)) as application:
        found = triples(void(application.test_client()))
    dataset = URIRef("http://localhost/.well-known/void#dataset")
    asserted, inferred = (URIRef(f"http://localhost/.well-known/void#{name}") for name in ("asserted", "inferred"))
    assert {
        (dataset, RDF.type, VOID.Dataset),
        (dataset, DCTERMS.title, Literal("Data served by kgraph", lang="en")),
        (dataset, VOID.sparqlEndpoint, URIRef("http://localhost/sparql")),
        (dataset, VOID.subset, asserted),
        (asserted, VOID.triples, Literal(1)),
        (dataset, VOID.dataDump, URIRef("http://localhost/dumps/asserted.ttl")),
        (asserted, VOID.dataDump, URIRef("http://localhost/dumps/asserted.ttl")),
        (inferred, VOID.dataDump, URIRef("http://localhost/dumps/inferred.ttl")),
    } <= found
    said = {(p, o) for s, p, o in found if s == dataset}
    assert not {p for p, _ in said} & {DCTERMS.license, DCTERMS.creator, DCTERMS.source, VOID.uriSpace}
    assert not any("Kursk" in str(o) or "w3id.org/kgraph" in str(s) for s, _, o in found)


def test_the_pages_of_ones_own_data_do_not_name_the_battle(tmp_path) -> None:
    data = tmp_path / "mine.ttl"
    data.write_text("<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n")
    with fixture_application(own_data=True, data=(data,)) as application:
        client = application.test_client()
        pages = [client.get(path) for path in ("/", "/search?q=a")]
    assert [page.status_code for page in pages] == [200, 200]
    for page in pages:
        assert '<span class="tagline">Data served by kgraph</span>' in page.text
        assert "Kursk" not in page.text


def test_the_article_graphs_pages_name_the_battle(client: FlaskClient) -> None:
    page = client.get("/")
    tagline = (
        '<span class="tagline">An open knowledge graph of the 2024&ndash;2025 battle for Russia\'s Kursk region</span>'
    )
    assert tagline in page.text
