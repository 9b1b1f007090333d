"""The guard: SERVICE only to allow-listed endpoints, FROM only of dataset graphs, no LOAD."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kgraph.sparql.errors import ForbiddenQuery
from kgraph.sparql.guard import QueryDataset, check_query, check_update

GRAPHS = {
    "https://w3id.org/kgraph/graph/data/ttl/places.ttl",
    "https://w3id.org/kgraph/graph/inferred",
}
ENDPOINT = "http://127.0.0.1:1/sparql"
OFF = "is not allowed: federated queries are off on this endpoint (its --service-allowlist is empty)."


def refusal(sparql: str, allowlist: tuple[str, ...] = ()) -> str:
    with pytest.raises(ForbiddenQuery) as caught:
        check_query(sparql, dataset_graphs=GRAPHS, service_allowlist=allowlist)
    assert caught.value.status == 400
    return str(caught.value)


def allowed(sparql: str, allowlist: tuple[str, ...] = ()) -> None:
    check_query(sparql, dataset_graphs=GRAPHS, service_allowlist=allowlist)


def test_service_refused_without_allowlist() -> None:
    assert refusal(f"SELECT * WHERE {{ SERVICE <{ENDPOINT}> {{ ?s ?p ?o }} }}") == (f"SERVICE <{ENDPOINT}> {OFF}")


def test_service_silent_and_lowercase_refused() -> None:
    assert refusal(f"select * {{ service silent <{ENDPOINT}> {{ ?s ?p ?o }} }}") == (f"SERVICE <{ENDPOINT}> {OFF}")


def test_service_off_the_allowlist_names_the_allowed_ones() -> None:
    message = refusal("SELECT * { SERVICE <http://evil.example/> {} }", ("http://a/", "http://b/"))
    assert message == (
        "SERVICE <http://evil.example/> is not allowed: this endpoint only calls "
        "<http://a/>, <http://b/> (its --service-allowlist)."
    )


def test_service_on_the_allowlist_passes() -> None:
    allowed(f"SELECT * {{ SERVICE <{ENDPOINT}> {{ ?s ?p ?o }} }}", (ENDPOINT,))


def test_service_variable_refused() -> None:
    assert refusal("SELECT * { SERVICE ?endpoint { ?s ?p ?o } }", (ENDPOINT,)) == (
        "SERVICE ?endpoint is not allowed: the endpoint to call must be written as an IRI "
        "that is on the server's allow-list (--service-allowlist)."
    )


def test_prefixed_service_iri_is_resolved() -> None:
    sparql = "PREFIX ep: <http://127.0.0.1:1/> SELECT * { SERVICE ep:sparql { ?s ?p ?o } }"
    assert refusal(sparql) == f"SERVICE <{ENDPOINT}> {OFF}"
    allowed(sparql, (ENDPOINT,))


def test_relative_service_iri_is_resolved_against_base() -> None:
    sparql = "BASE <http://127.0.0.1:1/x/> SELECT * { SERVICE <../sparql> { ?s ?p ?o } }"
    assert refusal(sparql) == f"SERVICE <{ENDPOINT}> {OFF}"


def test_escaped_iri_and_local_name_are_unescaped() -> None:
    assert refusal(r"SELECT * { SERVICE <http://127.0.0.1:1/\u0073parql> {} }") == (f"SERVICE <{ENDPOINT}> {OFF}")
    sparql = r"PREFIX ep: <http://127.0.0.1:1/> SELECT * { SERVICE ep:sp\.arql {} }"
    assert refusal(sparql) == f"SERVICE <http://127.0.0.1:1/sp.arql> {OFF}"


def test_redefined_prefix_uses_the_latest_declaration() -> None:
    sparql = "PREFIX ep: <http://safe/> PREFIX ep: <http://127.0.0.1:1/> SELECT * { SERVICE ep:sparql {} }"
    assert refusal(sparql, ("http://safe/sparql",)) == (
        f"SERVICE <{ENDPOINT}> is not allowed: this endpoint only calls <http://safe/sparql> (its --service-allowlist)."
    )


@pytest.mark.parametrize(
    "sparql",
    [
        'SELECT * { ?s ?p "SERVICE <http://127.0.0.1:1/sparql> {}" }',
        "SELECT * { ?s ?p '''it's SERVICE <http://x/> { }''' }",
        'SELECT * { ?s ?p """a "quoted" SERVICE <http://x/>""" }',
        "SELECT * { ?s ?p 'FROM <file:///etc/passwd>' }",
        "SELECT * {\n  # SERVICE <http://127.0.0.1:1/sparql> { }\n  ?s ?p ?o\n}",
        "SELECT * { ?s <http://example.org/SERVICE> ?o }",
        "PREFIX ex: <http://example.org/> SELECT * { ?s ex:SERVICE ?o . ?service ?p ?from }",
        "SELECT * { ?s ?p ?o FILTER(?o<?s) }",
    ],
)
def test_lexer_is_not_fooled(sparql: str) -> None:
    allowed(sparql)


def test_from_file_refused() -> None:
    assert refusal("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }") == (
        "FROM <file:///etc/passwd> names a graph that is not in this dataset; this endpoint never "
        "reads files or fetches graphs. Name one of the graphs listed in the service description, "
        "or leave the clause out."
    )


def test_from_named_of_a_web_graph_refused() -> None:
    message = refusal("SELECT * FROM NAMED <http://example.org/data.ttl> { GRAPH ?g { ?s ?p ?o } }")
    assert message.startswith("FROM NAMED <http://example.org/data.ttl> names a graph that is not")


def test_from_of_dataset_graphs_passes_and_is_reported() -> None:
    dataset = check_query(
        "PREFIX g: <https://w3id.org/kgraph/graph/> "
        "SELECT * FROM g:inferred FROM NAMED <https://w3id.org/kgraph/graph/data/ttl/places.ttl> "
        "WHERE { ?s ?p ?o }",
        dataset_graphs=GRAPHS,
        service_allowlist=(),
    )
    assert dataset == QueryDataset(
        default_graphs=("https://w3id.org/kgraph/graph/inferred",),
        named_graphs=("https://w3id.org/kgraph/graph/data/ttl/places.ttl",),
    )
    assert dataset.declared


def test_query_without_dataset_clauses() -> None:
    dataset = check_query("SELECT * { ?s ?p ?o }", dataset_graphs=GRAPHS, service_allowlist=())
    assert dataset == QueryDataset()
    assert not dataset.declared


def test_update_keywords_in_a_query_are_left_to_the_parser() -> None:
    allowed("LOAD <file:///etc/passwd>")
    allowed("DROP ALL")


def test_load_refused_in_updates() -> None:
    with pytest.raises(ForbiddenQuery) as caught:
        check_update("load silent <file:///etc/passwd> INTO GRAPH <http://g>", service_allowlist=())
    assert str(caught.value) == (
        "LOAD would make the server read files or fetch URLs; it is not allowed. "
        "Send the data itself in an INSERT DATA update."
    )


def test_service_refused_in_updates() -> None:
    update = f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{ENDPOINT}> {{ ?s ?p ?o }} }}"
    with pytest.raises(ForbiddenQuery) as caught:
        check_update(update, service_allowlist=())
    assert str(caught.value) == f"SERVICE <{ENDPOINT}> {OFF}"
    check_update(update, service_allowlist=(ENDPOINT,))


def test_plain_update_passes() -> None:
    check_update('INSERT DATA { <http://a> <http://b> "LOAD <x>" }', service_allowlist=())


@pytest.mark.parametrize(
    ("base", "relative"),
    [
        ("http://127.0.0.1:1/x/", "../sparql"),
        ("http://a/b/c", "//evil/x"),
        ("http://a/b/c?x", "?y"),
        ("http://a/b/c/", "./..//x"),
        ("http://a/b/c/d;p?q", "../../../../g"),
        ("http://a/b/c/d;p?q", "g/../h"),
        ("http://a", "x"),
        ("urn:x:y", "z"),
        ("tag:a,2000:b/c", "d"),
        ("http://a/b/c", "HTTP://B/./c/../d"),
    ],
)
def test_iris_resolve_as_pyoxigraph_resolves_them(base: str, relative: str) -> None:
    sparql = f"BASE <{base}> SELECT (<{relative}> AS ?x) {{}}"
    expected = next(iter(ox.Store().query(sparql)))["x"].value
    assert refusal(f"BASE <{base}> SELECT * {{ SERVICE <{relative}> {{}} }}") == (f"SERVICE <{expected}> {OFF}")


@pytest.mark.parametrize(
    "sparql",
    [
        "ASK { FILTER(\"\"\"a \"\" SERVICE <http://evil/> \"\"\" = '''b '' ''') }",
        "ASK { FILTER('''ends with a quote'''' = \"x\") }",
        "ASK { ?s ?p 1.5e-3, 2, 3 . FILTER(?p IN (1,2,3)) }",
    ],
)
def test_quotes_and_numbers_lex_as_the_parser_reads_them(sparql: str) -> None:
    """Guards the lexer's possessive runs: quotes inside long strings and runs of numbers change no token."""
    assert check_query(sparql, dataset_graphs=set(), service_allowlist=()) == QueryDataset()


def test_a_text_over_the_size_limit_is_refused_before_lexing() -> None:
    """Guards max_bytes: 413, counted in UTF-8 bytes (a character may take four)."""
    with pytest.raises(ForbiddenQuery) as caught:
        check_update("INSERT DATA { <a:b> <a:c> 'é' }" + " " * 40, service_allowlist=(), max_bytes=64)
    assert (caught.value.status, str(caught.value)) == (
        413,
        "The query text is 72 bytes; this endpoint accepts at most 64 (KGRAPH_MAX_QUERY_BYTES). "
        "Shorten it, or split it into several queries.",
    )
    check_query("ASK { 'éé' }", dataset_graphs=set(), service_allowlist=(), max_bytes=14)
