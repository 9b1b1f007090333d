"""``+``, ``*`` and ``?`` paths with SPARQL 1.1's set semantics over Virtuoso: the rewrite of the query text, exact on
a standard engine (pyoxigraph), and kgraph over a real, private Virtuoso answering with the embedded store's rows."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PROJECT, LiveServer, start_server
from kgraph.store import RemoteStore, open_store
from kgraph.store.path_sets import set_paths

_spec = importlib.util.spec_from_file_location("bench_virtuoso", PROJECT / "bench" / "virtuoso.py")
assert _spec and _spec.loader
virtuoso = sys.modules["bench_virtuoso"] = importlib.util.module_from_spec(_spec)  # bench/ is no package
_spec.loader.exec_module(virtuoso)

DATA = Path(__file__).parent.parent / "fixtures" / "paths" / "paths.ttl"
PREFIX = "PREFIX : <http://example.org/paths#> "

# --- the rewrite, on query text ---


@pytest.mark.parametrize(
    ("where", "rewritten"),
    [
        ("{ :a :p+ ?o }", "{ { SELECT DISTINCT ?o WHERE { :a :p+ ?o } } }"),
        ("{ ?s :p* :e . }", "{ { SELECT DISTINCT ?s WHERE { ?s :p* :e } } . }"),
        ("{ :a (:p|:r)? ?o }", "{ { SELECT DISTINCT ?o WHERE { :a (:p|:r)? ?o } } }"),
        ("{ :e ^:p+ ?o }", "{ { SELECT DISTINCT ?o WHERE { :e ^:p+ ?o } } }"),
        ("{ :a ^(^:p)* ?o }", "{ { SELECT DISTINCT ?o WHERE { :a ^(^:p)* ?o } } }"),
        ("{ :a (:p/:p)+ ?o }", "{ { SELECT DISTINCT ?o WHERE { :a (:p/:p)+ ?o } } }"),
        ("{ :a !(:q|^:r)+ ?o }", "{ { SELECT DISTINCT ?o WHERE { :a !(:q|^:r)+ ?o } } }"),
        ('{ ?s :p* "x" }', '{ { SELECT DISTINCT ?s WHERE { ?s :p* "x" } } }'),
        # in a statement's `;` list: the pattern follows the statement (or leads it, when it is the first)
        ("{ ?m :p ?n ; :p+ :e . ?x :q ?m }", "{ ?m :p ?n  . { SELECT DISTINCT ?m WHERE { ?m :p+ :e } }  ?x :q ?m }"),
        ("{ ?m :p ?n ; :p+ :e }", "{ ?m :p ?n   { SELECT DISTINCT ?m WHERE { ?m :p+ :e } } }"),
        ("{ ?m :p+ :e ; :p ?n }", "{ { SELECT DISTINCT ?m WHERE { ?m :p+ :e } } ?m :p ?n }"),
        ("{ ?s :p* :e FILTER(?s != :a) }", "{ { SELECT DISTINCT ?s WHERE { ?s :p* :e } } FILTER(?s != :a) }"),
        # two variables: with the plain triples of its group that join it (Virtuoso needs an end bound)
        ("{ ?s :q ?m . ?m :p+ ?o }", "{ ?s :q ?m . { SELECT DISTINCT ?m ?o WHERE { ?s :q ?m . ?m :p+ ?o } } }"),
        (
            "{ ?s :p+ ?o . ?o :p :e . ?z :r ?w }",
            "{ { SELECT DISTINCT ?s ?o WHERE { ?o :p :e . ?s :p+ ?o } } . ?o :p :e . ?z :r ?w }",
        ),
        (
            "{ ?s :r ?z ; :p+ ?o ; :q ?y . }",
            "{ ?s :r ?z  ; :q ?y . { SELECT DISTINCT ?s ?o WHERE { ?s :r ?z ; :q ?y . ?s :p+ ?o } }  }",
        ),
        (
            "{ ?s :p+ ?o ; :r ?z }",
            "{ { SELECT DISTINCT ?s ?o WHERE { ?s :r ?z . ?s :p+ ?o } } ?s :r ?z }",
        ),
        (  # in OPTIONAL, with what comes before it in the group around (its left side), not after
            "{ ?x :q ?s OPTIONAL { ?s :p+ ?o } ?o :r ?z }",
            "{ ?x :q ?s OPTIONAL { { SELECT DISTINCT ?s ?o WHERE { ?x :q ?s . ?s :p+ ?o } } } ?o :r ?z }",
        ),
        # a sequence is a join, whose duplicates are SPARQL's: a closure at either end is made a set, joined with
        # the other steps through a variable of its own, hidden by a subquery
        (
            "{ ?s :q/:p* :e }",
            "{ { SELECT ?s WHERE { ?s :q ?_step0 . { SELECT DISTINCT ?_step0 WHERE { ?_step0 :p* :e } } } } }",
        ),
        (
            "{ :x :q/:p+ ?o }",
            "{ { SELECT ?o WHERE { :x :q ?_step0 . "
            "{ SELECT DISTINCT ?_step0 ?o WHERE { :x :q ?_step0 . ?_step0 :p+ ?o } } } } }",
        ),
        (
            "{ ?_step0 :p+/^:q ?o }",
            "{ { SELECT ?_step0 ?o WHERE { "
            "{ SELECT DISTINCT ?_step0 ?_step1 WHERE { ?_step1 ^:q ?o . ?_step0 :p+ ?_step1 } } ?_step1 ^:q ?o } } }",
        ),
        # around it, OPTIONAL, UNION, GRAPH <g> and subqueries still apply
        ("{ ?s :q :a OPTIONAL { :a :p+ ?o } }", "{ ?s :q :a OPTIONAL { { SELECT DISTINCT ?o WHERE { :a :p+ ?o } } } }"),
        ("{ GRAPH <g> { :a :p+ ?o } }", "{ GRAPH <g> { { SELECT DISTINCT ?o WHERE { :a :p+ ?o } } } }"),
    ],
)
def test_a_closure_with_a_constant_end_is_made_a_set(where: str, rewritten: str) -> None:
    assert set_paths(f"SELECT * WHERE {where}") == f"SELECT * WHERE {rewritten}"


@pytest.mark.parametrize(
    "where",
    [
        "{ ?s :p+ ?o }",  # two variables and nothing to bind one: Virtuoso refuses it ("transitive start not given")
        "{ ?s :p+ ?s . ?s :q ?z }",  # one variable at both ends
        "{ ?s :q [ :r ?m ] . ?m :p+ ?o }",  # the only binder has a blank node
        "{ { ?x :q ?s } ?s :p+ ?o }",  # nothing in its own group binds it
        "{ :a :p+ :e }",  # two constants: Virtuoso ignores FILTER EXISTS alone in a group
        "{ ?m :p+ :e ; :q+ :a . }",  # the rest of its statement has a path
        "{ ?m :r ?z ; :p+ :e ; :q+ ?m }",
        "{ :x :q+/:p+ ?o }",  # a sequence with two closures
        "{ :x :q/:p+/:r ?o }",  # or one in its middle
        "{ :a :p|:r+ ?o }",  # an alternative is a union: its duplicates are SPARQL's
        "{ :a (:p|:r) ?o }",
        "{ _:b :p+ ?o }",  # a blank node's scope is its group
        "{ [] :p+ ?o }",
        "{ ?s :q [ :p+ :e ] }",
        "{ :a :p+ ?o , ?z }",
        '{ :a :p+ "x"@en }',
        "{ :a :p ?o FILTER NOT EXISTS { :b :p+ ?o } }",  # only whether it matches counts
        "{ :a :p ?o FILTER EXISTS { :b :p+ ?o } }",
        "{ :a :p ?o MINUS { :b :p+ ?o } }",
        "{ GRAPH ?g { :a :p+ ?o } }",
        "{ SERVICE <http://example.org/sparql> { :a :p+ ?o } }",
        '{ ?s :p ?o FILTER(?o = "a+b*") }',
        "{ ?s :p ?o } ORDER BY ?o",
        "{ ?s :p ?o } GROUP BY ?s HAVING (COUNT(*) > 1)",
    ],
)
def test_other_shapes_are_left_as_written(where: str) -> None:
    assert set_paths(f"SELECT * WHERE {where}") == f"SELECT * WHERE {where}"


@pytest.mark.parametrize(
    ("query", "rewritten"),
    [
        ("SELECT DISTINCT ?o WHERE { :a :p+ ?o } LIMIT 1", False),  # duplicates cannot show
        ("SELECT REDUCED ?o WHERE { :a :p+ ?o }", False),
        ("ASK { :a :p+ ?o }", False),
        ("CONSTRUCT { :a :q ?o } WHERE { :a :p+ ?o }", False),
        ("DESCRIBE ?o WHERE { :a :p+ ?o }", False),
        ("SELECT ?o WHERE { :a :p+ ?o }", True),
        ("SELECT ?o (COUNT(*) AS ?n) WHERE { :a :p+ ?o } GROUP BY ?o", True),
        ("SELECT DISTINCT (COUNT(?o) AS ?n) WHERE { :a :p+ ?o }", True),
        ("SELECT DISTINCT ?o WHERE { { SELECT ?o WHERE { :a :p+ ?o } LIMIT 2 } }", True),
        ("CONSTRUCT { :a :q ?o } WHERE { :a :p+ ?o } LIMIT 2", True),
        ("ASK { { SELECT ?o WHERE { :a :p+ ?o } OFFSET 2 } }", True),
    ],
)
def test_a_query_whose_answer_cannot_show_duplicates_goes_as_written(query: str, rewritten: bool) -> None:
    assert (set_paths(query) != query) is rewritten


SHAPES = [
    "SELECT ?o WHERE { :a :p+ ?o }",
    "SELECT ?s WHERE { ?s :p+ :e }",
    "SELECT ?o WHERE { :a :p* ?o }",
    "SELECT ?s WHERE { ?s :p* :e }",
    "SELECT ?o WHERE { :a :p? ?o }",
    "SELECT ?o WHERE { :a (:p|:r)? ?o }",
    "SELECT ?o WHERE { :e ^:p+ ?o }",
    "SELECT ?o WHERE { :a (:p|:r)+ ?o }",
    "SELECT ?o WHERE { :a (:p|:r)* ?o }",
    "SELECT ?s ?m WHERE { ?s :q ?m . ?m :p+ :e }",
    "SELECT ?m ?n WHERE { ?m :p ?n ; :p+ :e }",
    "SELECT ?m ?n WHERE { ?m :p+ :e ; :p ?n }",
    "SELECT ?s ?o WHERE { ?s :q :a OPTIONAL { :a :p+ ?o } }",
    "SELECT ?o WHERE { GRAPH <https://w3id.org/kgraph/graph/external/paths.ttl> { :a :p+ ?o } }",
    "SELECT ?o (COUNT(*) AS ?n) WHERE { :a :p+ ?o } GROUP BY ?o",
    "SELECT ?o WHERE { { :a :p+ ?o } UNION { :b :p+ ?o } }",
    "ASK { :a :p+ :e }",
    "SELECT ?m ?o WHERE { :x :q ?m . ?m :p+ ?o }",
    "SELECT ?m ?o WHERE { :x :q ?m . ?m :p* ?o }",
    "SELECT ?m ?o WHERE { :x :q ?m . ?o ^(:p|:r)+ ?m }",
    "SELECT ?s ?o WHERE { ?s :p+ ?o . ?o :p :e }",
    "SELECT ?s ?o WHERE { ?s :r ?z ; :p+ ?o }",
    "SELECT ?s ?o WHERE { ?x :q ?s . ?s :p+ ?o FILTER(?o != :e) }",
    "SELECT ?s ?o WHERE { ?x :q ?s OPTIONAL { ?s :p+ ?o } }",
    "SELECT ?s ?o ?z WHERE { ?x :q ?s OPTIONAL { ?s :p+ ?o } ?s :r ?z }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?x :q ?s . ?s :p+ ?o }",
    "SELECT ?o WHERE { :x :q/:p+ ?o }",
    "SELECT ?s WHERE { ?s :q/:p* :e }",
    "SELECT ?o WHERE { :a :p+/:p ?o }",
    "SELECT ?s ?o WHERE { ?s :q/:p+ ?o }",
    "SELECT DISTINCT ?o WHERE { :a :p+ ?o }",
    "SELECT DISTINCT ?o WHERE { { SELECT ?o WHERE { :a :p+ ?o } ORDER BY DESC(?o) LIMIT 2 } }",
]
"""Path shapes whose answers over kgraph on Virtuoso equal the embedded store's, on the fixture where Virtuoso 7.2
alone gives duplicates."""


def _rows(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> Counter[tuple[tuple[str, str], ...]]:
    """A result as a multiset of rows, each its bound variables and values (a boolean as one row)."""
    if isinstance(result, ox.QueryBoolean):
        return Counter({(("ask", str(bool(result))),): 1})
    assert isinstance(result, ox.QuerySolutions)
    names = [variable.value for variable in result.variables]
    return Counter(tuple((name, str(row[name])) for name in names if row[name] is not None) for row in result)


def _embedded() -> ox.Store:
    store = ox.Store()
    store.load(path=DATA, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(GRAPH))
    return store


GRAPH = "https://w3id.org/kgraph/graph/external/paths.ttl"
"""The graph ``--own-data --data paths.ttl`` loads the fixture into."""


@pytest.mark.parametrize("query", SHAPES)
def test_the_rewrite_is_exact_on_a_standard_engine(query: str) -> None:
    store = _embedded()
    written, rewritten = (
        store.query(q, use_default_graph_as_union=True) for q in (PREFIX + query, set_paths(PREFIX + query))
    )
    assert _rows(rewritten) == _rows(written)


_NODES = [f":n{i}" for i in range(4)]
_TERM = st.sampled_from(["?a", "?b", "?c", *_NODES[:2]])
_PATH = st.sampled_from(
    [":p", ":p+", ":p*", ":p?", "^:p+", "(:p|:q)+", "(:p/:q)*", ":p/:q+", ":p*/^:q", "(:p+)", ":q?", "^(:p|^:q)*"]
)
_TRIPLE = st.builds(lambda s, p, o: f"{s} {p} {o}", _TERM, _PATH, _TERM)
_LIST = st.builds(lambda s, p, o, q, z: f"{s} {p} {o} ; {q} {z}", _TERM, _PATH, _TERM, _PATH, _TERM)


def _group(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    element = st.one_of(
        _TRIPLE,
        _LIST,
        inner.map(lambda g: f"OPTIONAL {{ {g} }}"),
        st.tuples(inner, inner).map(lambda gs: f"{{ {gs[0]} }} UNION {{ {gs[1]} }}"),
        _TRIPLE.map(lambda t: f"MINUS {{ {t} }}"),
        st.just("FILTER(?a != :n0)"),
    )
    return st.lists(element, min_size=1, max_size=4).map(lambda parts: " . ".join(parts).replace(". FILTER", "FILTER"))


_GROUPS = st.recursive(st.lists(_TRIPLE, min_size=1, max_size=3).map(" . ".join), _group, max_leaves=6)
_EDGES = st.lists(
    st.tuples(st.sampled_from(_NODES), st.sampled_from([":p", ":q"]), st.sampled_from(_NODES)), max_size=9
)


@settings(max_examples=300, deadline=None)
@given(group=_GROUPS, edges=_EDGES, count=st.booleans())
def test_any_query_has_the_same_answer_rewritten(group: str, edges: list[tuple[str, str, str]], count: bool) -> None:
    """Random groups of paths, OPTIONAL, UNION, MINUS and FILTER over random data: the same multiset of rows on a
    standard engine, rewritten or not."""
    store = ox.Store()
    store.load(PREFIX + "".join(f"{s} {p} {o} . " for s, p, o in edges), format=ox.RdfFormat.TURTLE)
    query = PREFIX + ("SELECT (COUNT(*) AS ?n) WHERE { " if count else "SELECT * WHERE { ") + group + " }"
    assert _rows(store.query(set_paths(query))) == _rows(store.query(query))


# --- kgraph serving over a real Virtuoso ---

needs_virtuoso = pytest.mark.skipif(
    virtuoso.SERVER is None, reason="Virtuoso is not installed (apt-get install virtuoso-opensource; .ci/run does)"
)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer, str]]:
    """kgraph serving the fixture from a private Virtuoso, and from its embedded store; and Virtuoso's endpoint."""
    with virtuoso.start(tmp_path_factory.mktemp("virtuoso"), buffers=10_000) as instance:
        args = ["--own-data", "--data", str(DATA), "--timeout", "30"]
        over = start_server(
            [*args, "--store", instance.endpoint], {"KGRAPH_DATA_DIR": str(tmp_path_factory.mktemp("v"))}
        )
        try:
            embedded = start_server(args, {"KGRAPH_DATA_DIR": str(tmp_path_factory.mktemp("e"))})
            try:
                yield over, embedded, instance.endpoint
            finally:
                embedded.stop()
        finally:
            over.stop()


def _answer(endpoint: str, query: str) -> Counter[tuple[tuple[str, str], ...]]:
    response = requests.post(
        endpoint, data={"query": PREFIX + query}, headers={"Accept": "application/sparql-results+json"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return _rows(ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON))


@needs_virtuoso
@pytest.mark.parametrize("query", SHAPES)
def test_paths_over_virtuoso_have_the_embedded_stores_rows(
    servers: tuple[LiveServer, LiveServer, str], query: str
) -> None:
    over, embedded, _ = servers
    assert _answer(over.endpoint, query) == _answer(embedded.endpoint, query)


@needs_virtuoso
def test_each_reached_node_comes_once(servers: tuple[LiveServer, LiveServer, str]) -> None:
    """Virtuoso alone answers with a node once per path to it: :c twice (directly and through :b), :e twice."""
    over, _, virtuoso_endpoint = servers
    query = "SELECT ?o WHERE { :a :p+ ?o }"
    once = Counter({(("o", f"<http://example.org/paths#{name}>"),): 1 for name in "bce"})
    assert _answer(over.endpoint, query) == once
    paths = Counter(
        {(("o", f"<http://example.org/paths#{name}>"),): count for name, count in zip("bce", (1, 2, 2), strict=True)}
    )
    assert _answer(virtuoso_endpoint, query) == paths  # Virtuoso 7.2 alone: a row per path
    store = open_store(virtuoso_endpoint, timeout=30)
    assert isinstance(store, RemoteStore)
    assert _rows(store.query(PREFIX + query)) == once  # kgraph's own queries go the same way
