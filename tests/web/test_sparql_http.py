"""The /sparql endpoint over real HTTP: a running ``kgraph serve`` on the fixture project, driven by
requests.

Each result format is parsed back with a real parser; each malformed request is checked for its
exact status and message; the runaway-query test checks that the time limit stops one client without
stopping the others.
"""

from __future__ import annotations

import csv
import io
import threading
from typing import TYPE_CHECKING

import pytest
import rdflib
import requests
from rdflib.namespace import RDFS
from rdflib.query import Result

if TYPE_CHECKING:
    from conftest import LiveServer

KG = "https://w3id.org/kgraph/ontology#"
KGR = "https://w3id.org/kgraph/id/"
GRAPHS = "https://w3id.org/kgraph/graph/"
PREFIXES = f"PREFIX kg: <{KG}>\nPREFIX kgr: <{KGR}>\nPREFIX rdfs: <{RDFS}>\n"
LABELS = PREFIXES + (
    "SELECT ?place ?label WHERE { ?place rdfs:label ?label FILTER(STRSTARTS(STR(?place), STR(kgr:))) } ORDER BY ?label"
)
CONSTRUCT = PREFIXES + "CONSTRUCT { kgr:sudzha rdfs:label ?l } WHERE { kgr:sudzha rdfs:label ?l }"
SUDZHA_TRIPLE = (rdflib.URIRef(KGR + "sudzha"), RDFS.label, rdflib.Literal("Sudzha", lang="en"))
EXPECTED_LABELS = [
    (KGR + "kursk-oblast", "Kursk Oblast"),
    (KGR + "russia", "Russia"),
    (KGR + "sudzha", "Sudzha"),
]
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o . ?p ?q ?r }"


def _bindings(response: requests.Response) -> list[tuple[str, ...]]:
    """The rows of a SPARQL JSON result, each a tuple of values in the head's variable order."""
    data = response.json()
    names = data["head"]["vars"]
    return [tuple(row[n]["value"] for n in names if n in row) for row in data["results"]["bindings"]]


def _get(server: LiveServer, query: str, **params: str) -> requests.Response:
    return requests.get(server.endpoint, params={"query": query, **params}, timeout=30)


# --- the three ways to send a query ---


def test_get_query(fixture_server: LiveServer) -> None:
    response = _get(fixture_server, LABELS)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/sparql-results+json"
    assert "Accept" in response.headers["Vary"]
    assert _bindings(response) == EXPECTED_LABELS


def test_head_query(fixture_server: LiveServer) -> None:
    response = requests.head(fixture_server.endpoint, params={"query": LABELS}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/sparql-results+json"
    assert response.content == b""


def test_url_encoded_post(fixture_server: LiveServer) -> None:
    response = requests.post(fixture_server.endpoint, data={"query": LABELS}, timeout=30)
    assert response.status_code == 200
    assert _bindings(response) == EXPECTED_LABELS


def test_direct_post(fixture_server: LiveServer) -> None:
    response = requests.post(
        fixture_server.endpoint,
        data=LABELS.encode(),
        headers={"Content-Type": "application/sparql-query; charset=utf-8"},
        timeout=30,
    )
    assert response.status_code == 200
    assert _bindings(response) == EXPECTED_LABELS


# --- formats, parsed back ---


def test_select_as_xml(fixture_server: LiveServer) -> None:
    response = _get(fixture_server, LABELS, format="xml")
    assert response.headers["Content-Type"] == "application/sparql-results+xml; charset=utf-8"
    rows = Result.parse(io.BytesIO(response.content), format="xml")
    assert [(str(r.place), str(r.label)) for r in rows] == EXPECTED_LABELS


def test_select_as_csv(fixture_server: LiveServer) -> None:
    response = requests.get(
        fixture_server.endpoint,
        params={"query": LABELS},
        headers={"Accept": "text/csv"},
        timeout=30,
    )
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [["place", "label"], *map(list, EXPECTED_LABELS)]


def test_select_as_tsv(fixture_server: LiveServer) -> None:
    headers = {"Accept": "text/tab-separated-values"}
    response = requests.get(fixture_server.endpoint, params={"query": LABELS}, headers=headers, timeout=30)
    assert response.headers["Content-Type"] == "text/tab-separated-values; charset=utf-8"
    rows = [line.split("\t") for line in response.text.splitlines()]
    assert rows[0] == ["?place", "?label"]
    assert rows[3] == [f"<{KGR}sudzha>", '"Sudzha"@en']


def test_ask_as_json(fixture_server: LiveServer) -> None:
    response = _get(fixture_server, PREFIXES + "ASK { kgr:sudzha a kg:Settlement }")
    assert response.headers["Content-Type"] == "application/sparql-results+json"
    assert response.json() == {"head": {}, "boolean": True}


# rdflib 7.6's own JSON-LD parser still builds a ConjunctiveGraph, which warns.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    ("accept", "content_type", "rdflib_format"),
    [
        (None, "text/turtle; charset=utf-8", "turtle"),
        ("application/n-triples", "application/n-triples", "nt"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("application/rdf+xml", "application/rdf+xml; charset=utf-8", "xml"),
    ],
)
def test_construct_formats(
    fixture_server: LiveServer, accept: str | None, content_type: str, rdflib_format: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = requests.get(fixture_server.endpoint, params={"query": CONSTRUCT}, headers=headers, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    graph = rdflib.Graph().parse(data=response.content, format=rdflib_format)
    assert set(graph) == {SUDZHA_TRIPLE}


# --- content negotiation ---


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/sparql-results+xml;q=0.5, text/csv;q=0.9", "text/csv; charset=utf-8"),
        ("text/*", "text/csv; charset=utf-8"),
        ("text/csv;q=0.1, */*;q=0.5", "application/sparql-results+json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/sparql-results+json"),
    ],
)
def test_accept_q_values_and_wildcards(fixture_server: LiveServer, accept: str, content_type: str) -> None:
    response = requests.get(fixture_server.endpoint, params={"query": LABELS}, headers={"Accept": accept}, timeout=30)
    assert response.headers["Content-Type"] == content_type


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("text/csv", "text/csv; charset=utf-8"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "text/tab-separated-values; charset=utf-8"),
    ],
    ids=["accept-decides", "the-hint-decides-for-a-browser"],
)
def test_a_format_hint_beside_accept(fixture_server: LiveServer, accept: str, content_type: str) -> None:
    response = requests.get(
        fixture_server.endpoint, params={"query": LABELS, "format": "tsv"}, headers={"Accept": accept}, timeout=30
    )
    assert response.headers["Content-Type"] == content_type


def test_an_unknown_format_hint_is_ignored(fixture_server: LiveServer) -> None:
    response = _get(fixture_server, LABELS, format="yaml")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/sparql-results+json"


def test_unacceptable_accept_is_406(fixture_server: LiveServer) -> None:
    response = requests.get(
        fixture_server.endpoint,
        params={"query": CONSTRUCT},
        headers={"Accept": "image/png"},
        timeout=30,
    )
    assert response.status_code == 406
    assert response.text.startswith("None of the accepted media types is available")


# --- the dataset: inference switch, protocol graphs, GRAPH ---


def test_infer_switch(fixture_server: LiveServer) -> None:
    places = PREFIXES + "SELECT ?x WHERE { ?x a kg:Place }"
    assert _bindings(_get(fixture_server, places)) == [(KGR + "sudzha",)]
    assert _bindings(_get(fixture_server, places, infer="false")) == []


def test_named_graphs_are_the_files_and_the_inferred_graph(fixture_server: LiveServer) -> None:
    response = _get(fixture_server, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g")
    assert _bindings(response) == [
        (GRAPHS + "data/ttl/places.ttl",),
        (GRAPHS + "data/ttl/source.ttl",),
        (GRAPHS + "inferred",),
        (GRAPHS + "ontology/mini.ttl",),
    ]


def test_default_graph_uri_restricts_the_default_graph(fixture_server: LiveServer) -> None:
    response = _get(
        fixture_server,
        "SELECT ?s ?o WHERE { ?s ?p ?o }",
        **{"default-graph-uri": GRAPHS + "data/ttl/source.ttl"},
    )
    assert _bindings(response) == [(KGR + "source-article", "Fixture article")]


def test_named_graph_uri_restricts_graph(fixture_server: LiveServer) -> None:
    response = _get(
        fixture_server,
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
        **{"named-graph-uri": GRAPHS + "ontology/mini.ttl"},
    )
    assert _bindings(response) == [(GRAPHS + "ontology/mini.ttl",)]


def test_named_graph_uri_alone_leaves_the_default_graph_empty(fixture_server: LiveServer) -> None:
    response = _get(
        fixture_server,
        "SELECT * WHERE { ?s ?p ?o }",
        **{"named-graph-uri": GRAPHS + "ontology/mini.ttl"},
    )
    assert _bindings(response) == []


def test_from_a_dataset_graph_selects_it(fixture_server: LiveServer) -> None:
    query = f"SELECT ?s ?o FROM <{GRAPHS}data/ttl/source.ttl> WHERE {{ ?s ?p ?o }}"
    assert _bindings(_get(fixture_server, query)) == [(KGR + "source-article", "Fixture article")]


def test_from_named_limits_what_graph_sees(fixture_server: LiveServer) -> None:
    query = f"SELECT DISTINCT ?g FROM NAMED <{GRAPHS}data/ttl/source.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert _bindings(_get(fixture_server, query)) == [(GRAPHS + "data/ttl/source.ttl",)]


def test_an_unknown_default_graph_uri_is_an_empty_graph(fixture_server: LiveServer) -> None:
    response = _get(fixture_server, LABELS, **{"default-graph-uri": "file:///etc/passwd"})
    assert (response.status_code, _bindings(response)) == (200, [])


# --- refusals: FROM, SERVICE, updates ---


def test_from_a_file_is_refused(fixture_server: LiveServer) -> None:
    response = _get(fixture_server, "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }")
    assert response.status_code == 400
    assert response.text == (
        "FROM <file:///etc/passwd> names a graph that is not in this dataset; "
        "this endpoint never reads files or fetches graphs. Name one of the graphs listed in "
        "the service description, or leave the clause out.\n"
    )


def test_service_is_refused(fixture_server: LiveServer) -> None:
    query = f"SELECT * WHERE {{ SERVICE <{fixture_server.endpoint}> {{ ?s ?p ?o }} }}"
    response = _get(fixture_server, query)
    assert response.status_code == 400
    assert response.text.startswith(
        f"SERVICE <{fixture_server.endpoint}> is not allowed: federated queries are off on this endpoint"
    )


UPDATE_REFUSED = "Updates are disabled on this endpoint: it serves the graph read-only.\n"


def test_load_update_is_refused(fixture_server: LiveServer) -> None:
    response = requests.post(fixture_server.endpoint, data={"update": "LOAD <file:///etc/passwd>"}, timeout=30)
    assert (response.status_code, response.text) == (403, UPDATE_REFUSED)


def test_direct_update_is_refused(fixture_server: LiveServer) -> None:
    response = requests.post(
        fixture_server.endpoint,
        data=b"INSERT DATA { <http://a> <http://b> <http://c> }",
        headers={"Content-Type": "application/sparql-update"},
        timeout=30,
    )
    assert (response.status_code, response.text) == (403, UPDATE_REFUSED)


# --- malformed requests ---


@pytest.mark.parametrize(
    ("method", "url_suffix", "headers", "body", "status", "message"),
    [
        (
            "GET",
            "?query=ASK{}&query=ASK{}",
            {},
            None,
            400,
            "The request has 2 'query' parameters; send exactly one.",
        ),
        (
            "GET",
            "?query=ASK{}&update=CLEAR%20ALL",
            {},
            None,
            400,
            "The request has both 'query' and 'update'; send one operation per request.",
        ),
        (
            "POST",
            "",
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"format=json",
            400,
            "Missing 'query' (or 'update') parameter in the POST body.",
        ),
        (
            "POST",
            "",
            {"Content-Type": "text/plain"},
            b"ASK {}",
            415,
            "Unsupported Content-Type 'text/plain' for a POST: use application/sparql-query, "
            "application/sparql-update or application/x-www-form-urlencoded.",
        ),
        (
            "POST",
            "",
            {},
            b"ASK {}",
            415,
            "Unsupported Content-Type 'none' for a POST: use application/sparql-query, "
            "application/sparql-update or application/x-www-form-urlencoded.",
        ),
        (
            "GET",
            "?query=ASK{}",
            {"Content-Type": "text/plain"},
            b"ASK {}",
            400,
            "A GET request must not have a body: put the query in the URL (?query=...) or use POST.",
        ),
        (
            "GET",
            "?query=ASK%7B%FF%7D",
            {},
            None,
            400,
            "The query string is not valid UTF-8 (byte 0xff at offset 4); SPARQL text must be sent as UTF-8.",
        ),
        (
            "POST",
            "",
            {"Content-Type": "application/sparql-query"},
            b"ASK { ?s ?p \xe9 }",
            400,
            "The request body is not valid UTF-8 (byte 0xe9 at offset 12); SPARQL text must be sent as UTF-8.",
        ),
        (
            "POST",
            "",
            {"Content-Type": "application/sparql-query"},
            b"#" * 10_001,
            413,
            "Request body larger than the server's limit of 10000 bytes (KGRAPH_MAX_BODY_BYTES).",
        ),
        (
            "GET",
            "?query=SELECT%20*%20WHERE%20%7B%0A%20%20%3Fs%20%3Fp%20%7D",
            {},
            None,
            400,
            None,
        ),
        (
            "PUT",
            "",
            {},
            None,
            405,
            "Method Not Allowed: The method is not allowed for the requested URL.",
        ),
        (
            "GET",
            "?query=ASK{}&infer=maybe",
            {},
            None,
            400,
            "The 'infer' parameter must be 'true' or 'false', not 'maybe'.",
        ),
    ],
)
def test_malformed_requests(
    fixture_server: LiveServer,
    method: str,
    url_suffix: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
    message: str | None,
) -> None:
    response = requests.request(method, fixture_server.endpoint + url_suffix, headers=headers, data=body, timeout=30)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Traceback" not in response.text
    if message is not None:
        assert response.text == message + "\n"


def test_syntax_error_says_line_and_column(fixture_server: LiveServer) -> None:
    response = _get(fixture_server, "SELECT * WHERE {\n  ?s ?p }")
    assert response.status_code == 400
    assert response.text.startswith("Syntax error at line 2, column ")


def test_a_query_with_a_relative_iri_is_located_in_the_text_as_written(fixture_server: LiveServer) -> None:
    # <test> is resolved against the endpoint by a BASE line the server adds, which the position leaves out: the
    # same column as for "SELECT ?x WHERE { BIND(<t:st> AS ?x) FILTER(?x = ) }", an absolute IRI of the same length.
    response = _get(fixture_server, "SELECT ?x WHERE { BIND(<test> AS ?x) FILTER(?x = ) }")
    assert (response.status_code, response.text) == (
        400,
        "Syntax error at line 1, column 53 (after '(<test> AS ?x) FILTER(?x = ) }'): expected one of ABS, AVG, DAY, "
        "IRI, MAX, MD5, MIN, NOT, NOW, PREDICATE, STR, STRBEFORE, STRSTARTS, SUM, URI, isLITERAL, isNUMERIC, ...\n",
    )
    opened = _get(fixture_server, "SELECT ?x WHERE { BIND(<test> AS ?x)\n")
    assert opened.text == (
        "Syntax error at line 2, column 1 (after '?x WHERE { BIND(<test> AS ?x)'): the query ends before the '{' "
        "opened at line 1, column 17 is closed\n"
    )


def test_a_group_left_open_is_named_with_where_it_opened(fixture_server: LiveServer) -> None:
    response = _get(fixture_server, "SELECT ?s WHERE {\n  ?s ?p ?o .\n  FILTER (?o != 3)\n")
    assert response.status_code == 400
    assert response.text == (
        "Syntax error at line 4, column 1 (after 'FILTER (?o != 3)'): the query ends before the '{' opened at line 1, "
        "column 17 is closed\n"
    )


def test_method_not_allowed_lists_the_allowed_ones(fixture_server: LiveServer) -> None:
    response = requests.delete(fixture_server.endpoint, timeout=30)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST", "HEAD", "OPTIONS"}


def test_error_as_json_when_asked(fixture_server: LiveServer) -> None:
    response = requests.get(
        fixture_server.endpoint + "?query=ASK{}&query=ASK{}",
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "message": "The request has 2 'query' parameters; send exactly one.",
    }


# --- the time limit ---


@pytest.mark.slow
def test_runaway_query_is_stopped_while_others_are_answered(fixture_server: LiveServer) -> None:
    outcome: dict[str, requests.Response] = {}
    started = threading.Event()

    def runaway() -> None:
        started.set()
        outcome["runaway"] = _get(fixture_server, RUNAWAY)

    thread = threading.Thread(target=runaway)
    thread.start()
    started.wait()
    during = _get(fixture_server, LABELS)
    thread.join()
    assert _bindings(during) == EXPECTED_LABELS
    assert outcome["runaway"].status_code == 503
    assert outcome["runaway"].text == (
        f"Query stopped after {fixture_server.timeout:g} s: the server's time limit (--timeout).\n"
    )
    assert _bindings(_get(fixture_server, LABELS)) == EXPECTED_LABELS


# --- service description ---

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")


@pytest.mark.parametrize(
    ("method", "accept", "rdflib_format"),
    [("GET", None, "turtle"), ("GET", "application/rdf+xml", "xml"), ("POST", None, "turtle")],
)
def test_service_description(fixture_server: LiveServer, method: str, accept: str | None, rdflib_format: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = requests.request(method, fixture_server.endpoint, headers=headers, timeout=30)
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.content, format=rdflib_format)
    service = rdflib.URIRef(fixture_server.endpoint)
    assert (service, SD.endpoint, service) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert len(set(graph.objects(service, SD.resultFormat))) == 10
    assert (service, SD.feature, SD.BasicFederatedQuery) not in graph
    sizes = {
        str(graph.value(named, SD.name)): graph.value(graph.value(named, SD.graph), VOID.triples)
        for named in graph.subjects(rdflib.RDF.type, SD.NamedGraph)
    }
    assert {name: int(size) for name, size in sizes.items()} == {
        GRAPHS + "data/ttl/places.ttl": 56,
        GRAPHS + "data/ttl/source.ttl": 1,
        GRAPHS + "inferred": 52,
        GRAPHS + "ontology/mini.ttl": 8,
    }


# --- CORS ---


def test_cors_on_answers(fixture_server: LiveServer) -> None:
    response = _get(fixture_server, LABELS)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_preflight(fixture_server: LiveServer) -> None:
    response = requests.options(
        fixture_server.endpoint,
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, HEAD, POST, OPTIONS"  # no PUT on /sparql
    assert response.headers["Access-Control-Allow-Headers"] == "Content-Type, Accept, Authorization"
