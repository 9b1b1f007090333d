"""Real SPARQL clients at their defaults against a running ``kgraph serve`` of the article, with a write token.

SPARQLWrapper (every query form, every return format, GET and POST, ``setCredentials`` for an update), rdflib's
SPARQLStore and SPARQLUpdateStore (``auth=``), and Comunica 4 (``tests/clients``, installed by ``make test``: reads, and
an update with ``httpAuth``). Each sends its own mix of parameters, Accept headers and credentials; the endpoint must
serve them unmodified, and each answer is checked exactly against the article's statements about Sudzha. Queries are
kept short (a GET query is one URL).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
import requests
from rdflib.namespace import RDF, RDFS
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import CSV, GET, JSON, JSONLD, N3, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper import RDF as RDF_FORMAT

from conftest import PROJECT, LiveServer, start_server

TOKEN = "clients-token"
KGR = "https://w3id.org/kgraph/id/"
KG = "https://w3id.org/kgraph/ontology#"
GEO = "http://www.opengis.net/ont/geosparql#"
SUDZHA = rdflib.URIRef(KGR + "sudzha")
POINT = rdflib.URIRef(KGR + "sudzha-point")
LABEL = rdflib.Literal("Sudzha", lang="en")

SELECT = f"SELECT ?label WHERE {{ <{SUDZHA}> <{RDFS.label}> ?label }}"
ASK = f"ASK {{ <{SUDZHA}> a <{KG}Settlement> }}"
CONSTRUCT = f"CONSTRUCT {{ <{SUDZHA}> <{RDFS.label}> ?l }} WHERE {{ <{SUDZHA}> <{RDFS.label}> ?l }}"
DESCRIBE = f"DESCRIBE <{POINT}>"

SUDZHA_LABEL = {(SUDZHA, RDFS.label, LABEL)}
POINT_TRIPLES = {
    (POINT, RDF.type, rdflib.URIRef(GEO + "Geometry")),
    (POINT, RDFS.label, rdflib.Literal("Location of Sudzha", lang="en")),
    (
        POINT,
        RDFS.comment,
        rdflib.Literal(
            "WGS 84 coordinates from public references (51.19139 N, 35.27056 E), written longitude first as WKT "
            "requires.",
            lang="en",
        ),
    ),
    (POINT, rdflib.URIRef(GEO + "asWKT"), rdflib.Literal("POINT(35.27056 51.19139)", datatype=GEO + "wktLiteral")),
}
"""What the article says of Sudzha's location (data/ttl/places.ttl): DESCRIBE's answer."""

SELECT_JSON = {
    "head": {"vars": ["label"]},
    "results": {"bindings": [{"label": {"type": "literal", "value": "Sudzha", "xml:lang": "en"}}]},
}
ASK_JSON = {"head": {}, "boolean": True}

COMUNICA = Path(__file__).parents[1] / "clients"
needs_comunica = pytest.mark.skipif(
    shutil.which("node") is None or not (COMUNICA / "node_modules" / "@comunica" / "query-sparql").is_dir(),
    reason="Comunica is not installed (make clients)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``kgraph serve`` over the article, writable with a token (the updates write graphs of their own)."""
    env = {
        "KGRAPH_PROJECT_DIR": str(PROJECT),
        "KGRAPH_TOKEN": TOKEN,
        "KGRAPH_TOKEN_FILE": "",
        "KGRAPH_DATA_DIR": str(tmp_path_factory.mktemp("clients")),
    }
    started = start_server([], env, ready_within=120)
    yield started
    started.stop()


def converted(server: LiveServer, query: str, return_format: str, method: str) -> object:
    """What SPARQLWrapper's ``queryAndConvert`` gives, the client left at its defaults but for format and method."""
    client = SPARQLWrapper(server.endpoint)
    client.setQuery(query)
    client.setReturnFormat(return_format)
    client.setMethod(method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SPARQLWrapper's notes on formats a form cannot have, rdflib's deprecations
        return client.queryAndConvert()


def sent_update(client: SPARQLWrapper) -> object:
    """An update sent as SPARQLWrapper sends it by default: a form POST, with its warning that updates need POST."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "update operations MUST be done by POST")
        return client.query()


def triples(result: object, rdf_format: str = "turtle") -> set:
    """The triples of a converted graph result: an rdflib graph, or the bytes SPARQLWrapper leaves unparsed."""
    graph = result if isinstance(result, rdflib.Graph) else rdflib.Graph().parse(data=result, format=rdf_format)
    return set(graph)


# --- SPARQLWrapper: every form, every return format, GET and POST ---

METHODS = pytest.mark.parametrize("method", [GET, POST])


@METHODS
@pytest.mark.parametrize(("query", "expected"), [(SELECT, SELECT_JSON), (ASK, ASK_JSON)], ids=["select", "ask"])
@pytest.mark.parametrize("return_format", [JSON, TURTLE, N3, RDF_FORMAT, RDFXML, JSONLD])
def test_sparqlwrapper_select_and_ask_as_json(
    server: LiveServer, method: str, query: str, expected: dict, return_format: str
) -> None:
    """JSON, and the graph formats SELECT and ASK cannot have, for which SPARQLWrapper asks for anything, reads JSON."""
    assert converted(server, query, return_format, method) == expected


@METHODS
def test_sparqlwrapper_select_as_xml(server: LiveServer, method: str) -> None:
    document = converted(server, SELECT, XML, method)
    literals = document.getElementsByTagName("literal")
    assert [(node.firstChild.data, node.getAttribute("xml:lang")) for node in literals] == [("Sudzha", "en")]


@METHODS
@pytest.mark.parametrize(("return_format", "delimiter", "cell"), [(CSV, ",", "Sudzha"), (TSV, "\t", '"Sudzha"@en')])
def test_sparqlwrapper_select_as_csv_and_tsv(
    server: LiveServer, method: str, return_format: str, delimiter: str, cell: str
) -> None:
    body = converted(server, SELECT, return_format, method).decode("utf-8")
    header = "label" if return_format == CSV else "?label"
    assert list(csv.reader(io.StringIO(body), delimiter=delimiter, quoting=csv.QUOTE_NONE)) == [[header], [cell]]


@METHODS
def test_sparqlwrapper_ask_as_xml_csv_tsv(server: LiveServer, method: str) -> None:
    document = converted(server, ASK, XML, method)
    assert [node.firstChild.data for node in document.getElementsByTagName("boolean")] == ["true"]
    assert converted(server, ASK, CSV, method) == b"true"
    assert converted(server, ASK, TSV, method) == b"true"


@METHODS
@pytest.mark.parametrize(
    ("query", "expected"), [(CONSTRUCT, SUDZHA_LABEL), (DESCRIBE, POINT_TRIPLES)], ids=["construct", "describe"]
)
@pytest.mark.parametrize("return_format", [XML, RDFXML, RDF_FORMAT, JSONLD, JSON, TURTLE, N3, CSV, TSV])
def test_sparqlwrapper_graph_results(
    server: LiveServer, method: str, query: str, expected: set, return_format: str
) -> None:
    """XML, RDF, JSON-LD and JSON become rdflib graphs; Turtle and N3 come as text (as do CSV and TSV, which a graph
    cannot have: SPARQLWrapper then asks for anything and gets Turtle)."""
    assert triples(converted(server, query, return_format, method)) == expected


def test_sparqlwrapper_update_with_set_credentials(server: LiveServer) -> None:
    graph = "http://example.org/sparqlwrapper"
    client = SPARQLWrapper(server.endpoint)
    client.setCredentials("contributor", TOKEN)
    client.setQuery(f'INSERT DATA {{ GRAPH <{graph}> {{ <{SUDZHA}> <http://example.org/seen> "by SPARQLWrapper" }} }}')
    response = sent_update(client).response
    assert response.status == 200
    assert response.read().decode().startswith("write ")
    check = f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    assert converted(server, check, JSON, GET)["results"]["bindings"] == [
        {"o": {"type": "literal", "value": "by SPARQLWrapper"}}
    ]


def test_sparqlwrapper_update_with_wrong_credentials_changes_nothing(server: LiveServer) -> None:
    client = SPARQLWrapper(server.endpoint)
    client.setCredentials("contributor", TOKEN + "x")
    client.setQuery(
        'INSERT DATA { GRAPH <http://example.org/refused> { <http://example.org/a> <http://example.org/b> "c" } }'
    )
    with pytest.raises(Exception, match="403"):
        sent_update(client)
    assert (
        requests.get(server.url + "/store", params={"graph": "http://example.org/refused"}, timeout=30).status_code
        == 404
    )


# --- rdflib ---


def test_rdflib_sparqlstore_query(server: LiveServer) -> None:
    graph = rdflib.Graph(store=SPARQLStore(server.endpoint))
    assert [row.label for row in graph.query(SELECT)] == [LABEL]
    assert bool(graph.query(ASK)) is True
    assert set(graph.query(CONSTRUCT)) == SUDZHA_LABEL


def test_rdflib_sparqlstore_triples(server: LiveServer) -> None:
    graph = rdflib.Graph(store=SPARQLStore(server.endpoint))
    assert set(graph.triples((SUDZHA, RDFS.label, None))) == SUDZHA_LABEL


def test_rdflib_len_of_a_graph_not_in_the_store_is_zero(server: LiveServer) -> None:
    graph = rdflib.Graph(store=SPARQLStore(server.endpoint), identifier=rdflib.URIRef("http://example.org/nothing"))
    assert len(graph) == 0


def test_rdflib_sparqlupdatestore_with_auth(server: LiveServer) -> None:
    store = SPARQLUpdateStore(server.endpoint, server.endpoint, auth=("contributor", TOKEN))
    graph = rdflib.Graph(store=store, identifier=rdflib.URIRef("http://example.org/rdflib"))
    added = (SUDZHA, rdflib.URIRef("http://example.org/seen"), rdflib.Literal("by rdflib"))
    graph.add(added)
    assert set(graph) == {added}
    assert len(graph) == 1
    graph.remove(added)
    assert len(graph) == 0


# --- Comunica 4 ---


def comunica(server: LiveServer, query: str, auth: str | None = None) -> str:
    """What ``tests/clients/comunica.mjs`` prints for one query or update (Comunica at its defaults)."""
    done = subprocess.run(
        ["node", "comunica.mjs", server.endpoint, query, *([auth] if auth else [])],
        cwd=COMUNICA,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@needs_comunica
def test_comunica_reads(server: LiveServer) -> None:
    assert json.loads(comunica(server, SELECT)) == [{"label": '"Sudzha"@en'}]
    assert json.loads(comunica(server, ASK)) is True
    assert comunica(server, CONSTRUCT) == f"{SUDZHA} {RDFS.label} Sudzha"


@needs_comunica
def test_comunica_update_with_http_auth(server: LiveServer) -> None:
    graph = "http://example.org/comunica"
    update = f'INSERT DATA {{ GRAPH <{graph}> {{ <{SUDZHA}> <http://example.org/seen> "by Comunica" }} }}'
    assert comunica(server, update, f"contributor:{TOKEN}") == "done"
    assert json.loads(comunica(server, f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")) == [
        {"o": "by Comunica"}
    ]
