"""Content negotiation and the result formats: every format of every kind parses back."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest
import rdflib

from kgraph.sparql.errors import NotAcceptable
from kgraph.sparql.evaluate import QueryRequest, evaluate
from kgraph.sparql.formats import GRAPH_FORMATS, SOLUTION_FORMATS, negotiate, parse_accept
from kgraph.store import EmbeddedStore

EX = "http://example.org/"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    store = EmbeddedStore()
    graph = ox.NamedNode(EX + "g")
    store.add(
        [
            ox.Quad(
                ox.NamedNode(EX + "sudzha"),
                ox.NamedNode(EX + "name"),
                ox.Literal("Суджа", language="ru"),
                graph,
            ),
            ox.Quad(
                ox.NamedNode(EX + "sudzha"),
                ox.NamedNode(EX + "pop"),
                ox.Literal("5000", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
                graph,
            ),
        ]
    )
    return store


def ok(store: EmbeddedStore, sparql: str, fmt: str) -> tuple[bytes, str]:
    reply = evaluate(store, QueryRequest(sparql, format=fmt), 1_000_000)
    assert reply[0] == "ok", reply
    return reply[1], reply[2]


# --- Accept parsing ---


def test_parse_accept_orders_by_q_and_keeps_written_order_for_ties() -> None:
    assert parse_accept("text/csv;q=0.5, application/sparql-results+json, text/*;q=0.5") == [
        ("application/sparql-results+json", 1.0),
        ("text/csv", 0.5),
        ("text/*", 0.5),
    ]


def test_parse_accept_drops_parameters_and_lowercases() -> None:
    assert parse_accept("Text/Turtle; charset=UTF-8; q=0.7") == [("text/turtle", 0.7)]


def test_parse_accept_tolerates_garbage() -> None:
    header = "garbage, text/csv;q=abc, /json, text/, text/tsv;q=2, , application/json;q=0.1"
    assert parse_accept(header) == [("application/json", 0.1)]
    assert parse_accept(None) == []
    assert parse_accept("") == []


# --- negotiation ---


@pytest.mark.parametrize(
    ("kind", "accept", "expected"),
    [
        ("solutions", None, "json"),
        ("solutions", "*/*", "json"),
        ("boolean", "*/*", "json"),
        ("graph", None, "turtle"),
        ("graph", "*/*", "turtle"),
        ("solutions", BROWSER, "json"),
        ("graph", BROWSER, "turtle"),
        ("solutions", "application/sparql-results+xml", "xml"),
        ("solutions", "text/csv;q=0.4, text/tab-separated-values;q=0.6", "tsv"),
        ("solutions", "text/*", "csv"),
        ("solutions", "application/json", "json"),
        ("solutions", "*/*, application/sparql-results+json;q=0", "xml"),
        ("graph", "application/n-triples", "ntriples"),
        ("graph", "application/ld+json", "jsonld"),
        ("graph", "application/json", "jsonld"),
        ("graph", "application/rdf+xml;q=0.5, text/*;q=0.6", "turtle"),
        ("graph", "application/*", "ntriples"),
        ("boolean", "text/csv", "csv"),
    ],
)
def test_negotiate_by_accept(kind: str, accept: str | None, expected: str) -> None:
    assert negotiate(kind, accept, None).name == expected


def test_accept_decides_over_a_format_hint() -> None:
    assert negotiate("solutions", "application/sparql-results+json", "csv").name == "json"
    assert negotiate("graph", "text/turtle", "application/rdf+xml").name == "turtle"


def test_a_hint_decides_when_accept_prefers_nothing() -> None:
    assert negotiate("solutions", None, " TSV ").name == "tsv"
    assert negotiate("solutions", "*/*", ["csv"]).name == "csv"
    assert negotiate("graph", "text/html,application/xhtml+xml,*/*;q=0.8", ["ntriples"]).name == "ntriples"
    assert negotiate("graph", "application/*", ["turtle"]).name == "turtle"


@pytest.mark.parametrize(
    ("kind", "hints", "expected"),
    [
        ("graph", ["xml", "application/rdf+xml"], "rdfxml"),
        ("graph", ["rdf"], "rdfxml"),
        ("graph", ["json"], "jsonld"),
        ("graph", ["n3"], "turtle"),
        ("graph", ["nquads"], "nquads"),
        ("graph", ["trig"], "trig"),
        ("solutions", ["xml"], "xml"),
        ("solutions", ["tsv", "text/tab-separated-values"], "tsv"),
        ("boolean", ["json", "json"], "json"),
    ],
)
def test_hints_may_repeat_and_mean_the_natural_thing_for_the_form(kind: str, hints: list[str], expected: str) -> None:
    assert negotiate(kind, None, hints).name == expected


def test_a_hint_that_does_not_fit_falls_back_to_accept() -> None:
    assert negotiate("solutions", None, ["turtle"]).name == "json"
    assert negotiate("solutions", "text/csv", ["n3"]).name == "csv"
    assert negotiate("graph", None, ["csv", "tsv"]).name == "turtle"


def test_a_fitting_hint_rescues_an_accept_that_names_nothing_available() -> None:
    assert negotiate("graph", "application/sparql-results+xml", ["xml"]).name == "rdfxml"


def test_text_plain_is_tsv_for_solutions_and_ntriples_for_graphs() -> None:
    assert negotiate("solutions", "text/plain", None).name == "tsv"
    assert negotiate("boolean", "text/plain", None).name == "tsv"
    assert negotiate("graph", "text/plain", None).name == "ntriples"


def test_nothing_acceptable_names_the_choices() -> None:
    with pytest.raises(NotAcceptable) as caught:
        negotiate("graph", "image/png, application/sparql-results+json", None)
    assert str(caught.value) == (
        "None of the accepted media types is available for CONSTRUCT/DESCRIBE results; "
        "choose one of: turtle (text/turtle), ntriples (application/n-triples), "
        "jsonld (application/ld+json), rdfxml (application/rdf+xml), nquads (application/n-quads), "
        "trig (application/trig)."
    )


def test_content_type_names_charset_only_for_textual_types() -> None:
    types = {f.name: f.content_type for f in (*SOLUTION_FORMATS, *GRAPH_FORMATS)}
    assert types == {
        "json": "application/sparql-results+json",
        "xml": "application/sparql-results+xml; charset=utf-8",
        "csv": "text/csv; charset=utf-8",
        "tsv": "text/tab-separated-values; charset=utf-8",
        "turtle": "text/turtle; charset=utf-8",
        "ntriples": "application/n-triples",
        "jsonld": "application/ld+json",
        "rdfxml": "application/rdf+xml; charset=utf-8",
        "nquads": "application/n-quads",
        "trig": "application/trig; charset=utf-8",
    }


# --- every format parses back ---

SELECT = f"SELECT ?name ?pop WHERE {{ <{EX}sudzha> <{EX}name> ?name ; <{EX}pop> ?pop }}"
CONSTRUCT = "CONSTRUCT WHERE { ?s ?p ?o }"


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv"])  # CSV is lossy: pyoxigraph won't read it
def test_select_results_parse_back_with_pyoxigraph(store: EmbeddedStore, fmt: str) -> None:
    body, _ = ok(store, SELECT, fmt)
    serializer = next(f.serializer for f in SOLUTION_FORMATS if f.name == fmt)
    results = ox.parse_query_results(body, format=serializer)
    names = [v.value for v in results.variables]
    rows = [{name: solution[name].value for name in names} for solution in results]
    assert rows == [{"name": "Суджа", "pop": "5000"}]


def test_select_csv_and_tsv_read_with_the_csv_module(store: EmbeddedStore) -> None:
    body, media_type = ok(store, SELECT, "csv")
    assert media_type == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(body.decode()))) == [["name", "pop"], ["Суджа", "5000"]]
    body, _ = ok(store, SELECT, "tsv")
    assert list(csv.reader(io.StringIO(body.decode()), delimiter="\t", quoting=csv.QUOTE_NONE)) == [
        ["?name", "?pop"],
        ['"Суджа"@ru', "5000"],
    ]


def test_select_json_reads_with_the_json_module(store: EmbeddedStore) -> None:
    body, _ = ok(store, SELECT, "json")
    assert json.loads(body)["results"]["bindings"][0]["name"] == {
        "type": "literal",
        "value": "Суджа",
        "xml:lang": "ru",
    }


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("json", b'{"head":{},"boolean":true}'), ("csv", b"true"), ("tsv", b"true")],
)
def test_ask_results(store: EmbeddedStore, fmt: str, expected: bytes) -> None:
    assert ok(store, "ASK { ?s ?p ?o }", fmt)[0] == expected


def test_ask_xml_parses_back(store: EmbeddedStore) -> None:
    body, _ = ok(store, "ASK { ?s ?p ?o }", "xml")
    assert bool(ox.parse_query_results(body, format=ox.QueryResultsFormat.XML)) is True


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    ("fmt", "rdflib_format"),
    [("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld"), ("rdfxml", "xml")],
)
def test_graph_results_parse_back_with_rdflib(store: EmbeddedStore, fmt: str, rdflib_format: str) -> None:
    body, _ = ok(store, CONSTRUCT, fmt)
    graph = rdflib.Graph().parse(data=body, format=rdflib_format)
    assert set(graph) == {
        (
            rdflib.URIRef(EX + "sudzha"),
            rdflib.URIRef(EX + "name"),
            rdflib.Literal("Суджа", lang="ru"),
        ),
        (
            rdflib.URIRef(EX + "sudzha"),
            rdflib.URIRef(EX + "pop"),
            rdflib.Literal("5000", datatype=rdflib.XSD.integer),
        ),
    }


@pytest.mark.parametrize("fmt", [f.name for f in GRAPH_FORMATS])
def test_graph_results_parse_back_with_pyoxigraph(store: EmbeddedStore, fmt: str) -> None:
    body, _ = ok(store, CONSTRUCT, fmt)
    serializer = next(f.serializer for f in GRAPH_FORMATS if f.name == fmt)
    assert len(list(ox.parse(body, format=serializer))) == 2


def test_graph_format_hint_for_select_falls_back_to_the_default(store: EmbeddedStore) -> None:
    reply = evaluate(store, QueryRequest(SELECT, format="turtle"), 1_000_000)
    assert reply[0] == "ok"
    assert reply[2] == "application/sparql-results+json"


def test_graph_format_for_select_is_not_acceptable(store: EmbeddedStore) -> None:
    reply = evaluate(store, QueryRequest(SELECT, accept="text/turtle"), 1_000_000)
    assert reply[:2] == ("error", "NotAcceptable")
    assert reply[3] == 406
