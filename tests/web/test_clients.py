"""Real SPARQL clients against a running ``kgraph serve``: SPARQLWrapper and rdflib's SPARQLStore.

These clients send their own mix of parameters and Accept headers; the endpoint must serve them
unmodified.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import rdflib
from rdflib.namespace import RDFS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

if TYPE_CHECKING:
    from conftest import LiveServer

KGR = "https://w3id.org/kgraph/id/"
SELECT = f"SELECT ?label WHERE {{ <{KGR}sudzha> <{RDFS.label}> ?label }}"
CONSTRUCT = f"CONSTRUCT {{ <{KGR}sudzha> <{RDFS.label}> ?l }} WHERE {{ <{KGR}sudzha> <{RDFS.label}> ?l }}"
SUDZHA_TRIPLE = (rdflib.URIRef(KGR + "sudzha"), RDFS.label, rdflib.Literal("Sudzha", lang="en"))


def _wrapper(server: LiveServer, query: str, return_format: str) -> SPARQLWrapper:
    client = SPARQLWrapper(server.endpoint)
    client.setQuery(query)
    client.setReturnFormat(return_format)
    return client


def test_sparqlwrapper_json(fixture_server: LiveServer) -> None:
    result = _wrapper(fixture_server, SELECT, JSON).queryAndConvert()
    assert result["results"]["bindings"] == [{"label": {"type": "literal", "value": "Sudzha", "xml:lang": "en"}}]


def test_sparqlwrapper_xml(fixture_server: LiveServer) -> None:
    document = _wrapper(fixture_server, SELECT, XML).queryAndConvert()
    literals = document.getElementsByTagName("literal")
    assert [(node.firstChild.data, node.getAttribute("xml:lang")) for node in literals] == [("Sudzha", "en")]


def test_sparqlwrapper_csv(fixture_server: LiveServer) -> None:
    body = _wrapper(fixture_server, SELECT, CSV).queryAndConvert()
    assert list(csv.reader(io.StringIO(body.decode("utf-8")))) == [["label"], ["Sudzha"]]


def test_sparqlwrapper_construct_turtle(fixture_server: LiveServer) -> None:
    body = _wrapper(fixture_server, CONSTRUCT, TURTLE).queryAndConvert()
    assert set(rdflib.Graph().parse(data=body, format="turtle")) == {SUDZHA_TRIPLE}


def test_rdflib_sparqlstore_query(fixture_server: LiveServer) -> None:
    graph = rdflib.Graph(store=SPARQLStore(fixture_server.endpoint))
    assert [row.label for row in graph.query(SELECT)] == [rdflib.Literal("Sudzha", lang="en")]


def test_rdflib_sparqlstore_triples(fixture_server: LiveServer) -> None:
    graph = rdflib.Graph(store=SPARQLStore(fixture_server.endpoint))
    assert set(graph.triples((rdflib.URIRef(KGR + "sudzha"), RDFS.label, None))) == {SUDZHA_TRIPLE}
