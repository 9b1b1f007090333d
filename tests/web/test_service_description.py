"""The service description links the dataset's VoID description, and the two agree on the dataset and endpoint."""

from __future__ import annotations

import pytest
import rdflib
from flask.testing import FlaskClient
from rdflib import FOAF, RDF, RDFS, URIRef

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
