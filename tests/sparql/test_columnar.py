"""Grouped counts over columns (kgraph.sparql.columnar): which queries take the path, and that it never changes an
answer (a differential test against pyoxigraph over random data and random queries of the shape)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgraph.sparql import columnar, processes
from kgraph.sparql.evaluate import QueryRequest, evaluate, explain
from kgraph.store import EmbeddedStore

PREFIX = "PREFIX : <http://e/>\n"
G1, G2, G3 = "http://g/1", "http://g/2", "http://g/3"


def store_of(*graphs: tuple[str, str]) -> EmbeddedStore:
    """A store with Turtle text loaded into named graphs."""
    store = EmbeddedStore()
    for graph, turtle in graphs:
        store.oxigraph.load(
            (PREFIX.replace("PREFIX", "@prefix") + " .\n" + turtle).encode(),
            ox.RdfFormat.TURTLE,
            to_graph=ox.NamedNode(graph),
        )
    return store


def bindings(reply: tuple) -> tuple[list[str], Counter]:
    """Head and rows (as a multiset) of a JSON results reply."""
    assert reply[0] == "ok", reply
    answer = json.loads(reply[1])
    rows = Counter(json.dumps(row, sort_keys=True) for row in answer["results"]["bindings"])
    return answer["head"]["vars"], rows


def counted(store: EmbeddedStore, query: str, graphs: list[str] | None, time_limit: float | None = None) -> str | None:
    """The columns' answer as a query worker gives it from its second such query on: the first notes the columns,
    which are read after its reply."""
    columnar.answer(store, query, graphs, time_limit)
    columnar.read_noted(store)
    return columnar.answer(store, query, graphs, time_limit)


def both(store: EmbeddedStore, query: str, graphs: list[str] | None = None) -> tuple[tuple, tuple]:
    """The reply as served (planner on, the columns read) and pyoxigraph's to the query as written."""
    counted(store, query, graphs, 30)
    served = evaluate(store, QueryRequest(query, default_graph=graphs, time_limit=30), 1 << 24)
    return served, evaluate(store, QueryRequest(query, default_graph=graphs, plan=False), 1 << 24)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e a ?t ; :by ?u } GROUP BY ?t",
        "SELECT (COUNT(*) AS ?n) WHERE { ?e :by ?u . ?u :in ?c }",
        "SELECT DISTINCT ?c (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e :by ?u . ?u :in ?c } GROUP BY ?c ORDER BY DESC(?n)"
        " LIMIT 5 OFFSET 1",
        "SELECT ?c WHERE { ?e :by ?u . ?u :in ?c . ?u a :Unit } GROUP BY ?c",
        "SELECT $c (COUNT(?e) AS ?n) { ?u :by <http://e/a> , ?e ; :in $c ; . } GROUP BY $c ORDER BY ?c",
    ],
)
def test_grouped_counts_over_triple_patterns_take_the_path(query: str) -> None:
    assert columnar.recognise(PREFIX + query) is not None


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?t (SUM(?e) AS ?n) WHERE { ?e a ?t } GROUP BY ?t",  # another aggregate
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e a ?t FILTER(?t != :X) } GROUP BY ?t",  # a filter
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e a ?t OPTIONAL { ?e :by ?u } } GROUP BY ?t",
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e :p+ ?t } GROUP BY ?t",  # a path
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e ?p ?t } GROUP BY ?t",  # a variable predicate
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e :label 'x' ; a ?t } GROUP BY ?t",  # a literal constant
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e a ?t ; :by [] } GROUP BY ?t",  # a blank node
        "SELECT ?t (COUNT(?e) AS ?n) FROM <http://g/1> WHERE { ?e a ?t } GROUP BY ?t",  # its own dataset
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e a ?t . ?x :by ?y } GROUP BY ?t",  # a cross product
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { :a :by ?e . :a :by ?t } GROUP BY ?t",  # joined by a constant only
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e a ?t } GROUP BY ?t HAVING (COUNT(?e) > 1)",
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e a ?t } GROUP BY ?t ORDER BY DESC(COUNT(?e))",
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e a ?t } GROUP BY ?t ORDER BY ?e",  # not grouped
        "SELECT ?e (COUNT(?e) AS ?n) WHERE { ?e a ?t } GROUP BY ?t",  # projects an ungrouped variable
        "SELECT ?t (COUNT(?e) AS ?t) WHERE { ?e a ?t } GROUP BY ?t",  # alias clashes
        "SELECT ?t (COUNT(?z) AS ?n) WHERE { ?e a ?t } GROUP BY ?t",  # counts a variable the pattern lacks
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e a ?t } GROUP BY (STR(?t))",
        "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e a ?t } GROUP BY ?t VALUES ?t { :X }",
        "SELECT ?e ?t WHERE { ?e a ?t }",  # no aggregate, no grouping: pyoxigraph streams it
        "ASK { ?e a ?t }",
        "BASE <http://e/> SELECT (COUNT(*) AS ?n) WHERE { ?e a <T> }",
    ],
)
def test_other_shapes_are_left_to_pyoxigraph(query: str) -> None:
    assert columnar.recognise(PREFIX + query) is None


def test_a_triple_in_two_of_the_default_graphs_graphs_counts_twice_as_in_pyoxigraph() -> None:
    """pyoxigraph 0.5 reads a default graph of several graphs as their union with a triple once per graph holding it
    (oxigraph/oxigraph#1919; SPARQL's merge would hold it once): the columns count as it does, so an answer does not
    depend on which of the two gives it."""
    store = store_of(
        (G1, ":a :by :u1 , :u2 . :b :by :u1 . :u1 :in :ru . :u2 :in :ru , :kp . :a a :E . :b a :E , :F ."),
        (G2, ":a :by :u1 . :c :by :u2 . :c a :F . :b a :E ."),  # :a :by :u1 and :b a :E in both graphs
    )
    query = PREFIX + "SELECT ?c ?t (COUNT(?e) AS ?n) WHERE { ?e :by ?u ; a ?t . ?u :in ?c } GROUP BY ?c ?t"
    assert counted(store, query, [G1, G2]) is not None
    on, off = both(store, query, [G1, G2])
    assert bindings(on) == bindings(off)
    rows = json.loads(on[1])["results"]["bindings"]
    assert sorted((r["c"]["value"][-2:], r["t"]["value"][-1], r["n"]["value"]) for r in rows) == [
        ("kp", "E", "1"),
        ("kp", "F", "1"),
        ("ru", "E", "5"),
        ("ru", "F", "2"),
    ]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("?e :by ?u . ?e a :E", "4"), ("?e :by ?u . ?e :by ?u", "5"), ("?e :by ?u . ?u :of ?e", "4")],
    ids=["constant object", "the same pattern twice", "a cycle"],
)
def test_a_pattern_whose_variables_are_all_bound_repeats_rows_as_its_triple_is_repeated(
    pattern: str, expected: str
) -> None:
    store = store_of(
        (G1, ":a :by :u1 . :b :by :u1 . :a a :E . :u1 :of :a ."),
        (G2, ":a :by :u1 . :a a :E . :u1 :of :a ."),  # each in two graphs
    )
    query = PREFIX + f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"
    on, off = both(store, query, [G1, G2])
    assert on == off
    assert columnar.answer(store, query, [G1, G2]) is not None
    assert json.loads(on[1])["results"]["bindings"][0]["n"]["value"] == expected


def test_no_group_by_over_no_match_gives_one_row_of_zero_and_a_group_by_none() -> None:
    store = store_of((G1, ":a :by :u1 ."))
    counted = PREFIX + "SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?u) AS ?d) WHERE { ?e :by ?u . ?u :in ?c }"
    grouped = counted + " GROUP BY ?c"
    for query, expected in ((counted, [{"n": "0", "d": "0"}]), (grouped, [])):
        on, off = both(store, query, [G1])
        assert bindings(on) == bindings(off)
        assert [{k: v["value"] for k, v in row.items()} for row in json.loads(on[1])["results"]["bindings"]] == expected


def test_count_distinct_counts_each_value_once_per_group() -> None:
    store = store_of((G1, ":a :p :b1 , :b2 . :b1 :q :c1 , :c2 . :b2 :q :c1 . :x :p :b2 ."))
    query = PREFIX + "SELECT ?a (COUNT(DISTINCT ?b) AS ?n) (COUNT(?b) AS ?m) WHERE { ?a :p ?b . ?b :q ?c } GROUP BY ?a"
    on, off = both(store, query, [G1])
    assert bindings(on) == bindings(off)
    rows = json.loads(on[1])["results"]["bindings"]
    assert sorted((r["a"]["value"], r["n"]["value"], r["m"]["value"]) for r in rows) == [
        ("http://e/a", "2", "3"),
        ("http://e/x", "1", "1"),
    ]


LITERALS = r"""
:a :label "tab\there", "line\nbreak", "quote \" and \\ backslash", "Курськ"@uk, "x"@en-GB, "1"^^xsd:decimal, 01, 1,
    1.5e0, true, "2024-08-06"^^xsd:date, "<not an iri>" .
:b :label "x"@en-GB, 1 .
"""


def test_groups_keyed_by_literals_of_every_kind_come_back_as_the_same_terms() -> None:
    store = store_of((G1, "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n" + LITERALS))
    query = PREFIX + "SELECT ?l (COUNT(?s) AS ?n) WHERE { ?s :label ?l } GROUP BY ?l"
    assert counted(store, query, [G1]) is not None
    on, off = both(store, query, [G1])
    assert bindings(on) == bindings(off)
    assert len(json.loads(on[1])["results"]["bindings"]) == 11  # pyoxigraph reads 01 as 1


def test_a_group_keyed_by_a_blank_node_is_left_to_pyoxigraph() -> None:
    store = store_of((G1, ":a :by [ :in :ru ] ."))
    query = PREFIX + "SELECT ?u (COUNT(*) AS ?n) WHERE { ?e :by ?u } GROUP BY ?u"
    assert counted(store, query, [G1]) is None
    on, _ = both(store, query, [G1])
    assert json.loads(on[1])["results"]["bindings"][0]["u"]["type"] == "bnode"
    assert [row["n"]["value"] for row in json.loads(on[1])["results"]["bindings"]] == ["1"]


def test_columns_that_would_take_more_than_a_quarter_of_the_time_limit_are_not_built() -> None:
    store = store_of((G1, " ".join(f":e{i} :by :u{i % 7} ." for i in range(1000))))
    query = PREFIX + "SELECT ?u (COUNT(*) AS ?n) WHERE { ?e :by ?u } GROUP BY ?u"
    seconds = 1000 * columnar.BUILD_SECONDS_PER_TRIPLE / columnar.BUILD_SHARE_OF_TIME_LIMIT
    assert counted(store, query, [G1], time_limit=seconds * 0.9) is None
    assert counted(store, query, [G1], time_limit=seconds * 1.1) is not None
    assert columnar.answer(store, query, [G1], time_limit=seconds * 0.9) is not None  # read: nothing left to read


def test_columns_of_more_than_the_most_triples_a_query_may_read_are_not_built(monkeypatch: pytest.MonkeyPatch) -> None:
    store = store_of((G1, " ".join(f":e{i} :by :u{i % 7} ." for i in range(100))))
    query = PREFIX + "SELECT ?u (COUNT(*) AS ?n) WHERE { ?e :by ?u } GROUP BY ?u"
    monkeypatch.setattr(columnar, "MAX_BUILD_TRIPLES", 99)
    assert counted(store, query, [G1]) is None
    monkeypatch.setattr(columnar, "MAX_BUILD_TRIPLES", 100)
    assert counted(store, query, [G1]) is not None


def test_a_join_past_the_cell_limit_is_left_to_pyoxigraph(monkeypatch: pytest.MonkeyPatch) -> None:
    store = store_of((G1, " ".join(f":e{i} :by :u . :e{i} a :E ." for i in range(50))))
    query = PREFIX + "SELECT ?t (COUNT(*) AS ?n) WHERE { ?e :by ?u . ?f :by ?u ; a ?t } GROUP BY ?t"
    assert counted(store, query, [G1]) is not None
    monkeypatch.setattr(columnar, "MAX_CELLS", 50 * 50)
    assert columnar.answer(store, query, [G1]) is None
    on, off = both(store, query, [G1])
    assert bindings(on) == bindings(off)
    assert json.loads(on[1])["results"]["bindings"][0]["n"]["value"] == "2500"


def test_columns_are_forgotten_when_the_store_is_written() -> None:
    store = store_of((G1, ":a :by :u1 ."))
    query = PREFIX + "SELECT (COUNT(*) AS ?n) WHERE { ?e :by ?u }"
    assert '"1"^^' in (counted(store, query, [G1]) or "")
    store.oxigraph.add(
        ox.Quad(ox.NamedNode("http://e/b"), ox.NamedNode("http://e/by"), ox.NamedNode("http://e/u1"), ox.NamedNode(G1))
    )
    columnar.forget(store)
    assert columnar.answer(store, query, [G1]) is None  # forgotten: noted again
    assert '"2"^^' in (counted(store, query, [G1]) or "")


def test_the_first_query_is_answered_as_written_and_notes_the_columns_read_after_it() -> None:
    store = store_of((G1, ":a :by :u1 . :b :by :u1 . :u1 :in :ru ."))
    query = PREFIX + "SELECT ?c (COUNT(*) AS ?n) WHERE { ?e :by ?u . ?u :in ?c } GROUP BY ?c"
    assert columnar.answer(store, query, [G1]) is None
    assert columnar.answer(store, query, [G1]) is None  # noted, not read: only read_noted reads
    columnar.read_noted(store)
    assert '(<http://e/ru> "2"^^' in (columnar.answer(store, query, [G1]) or "")


def test_a_query_worker_reads_the_noted_columns_once_its_reply_is_sent() -> None:
    store = store_of((G1, ":a :by :u1 . :b :by :u1 . :u1 :in :ru ."))
    query = PREFIX + "SELECT ?c (COUNT(*) AS ?n) WHERE { ?e :by ?u . ?u :in ?c } GROUP BY ?c"
    ours, theirs = socket.socketpair()
    worker = threading.Thread(target=processes._worker, args=(theirs, store, 1 << 20), daemon=True)
    worker.start()
    try:
        processes.send(ours, QueryRequest(query, default_graph=[G1], time_limit=30))
        first, _ = processes.recv(ours, time.monotonic() + 30)
        processes.send(ours, QueryRequest(query, default_graph=[G1], time_limit=30))  # waits for the reading
        second, _ = processes.recv(ours, time.monotonic() + 30)
    finally:
        ours.close()
        worker.join(30)
        theirs.close()
    assert first == second
    assert first[0] == "ok"
    assert columnar.answer(store, query, [G1]) is not None


def test_explain_says_the_counts_are_computed_over_columns() -> None:
    store = store_of((G1, ":a :by :u1 ."))
    text = explain(store, QueryRequest(PREFIX + "SELECT (COUNT(*) AS ?n) WHERE { ?e :by ?u }", default_graph=[G1]))
    assert text.endswith(f"# Evaluation\n{columnar.EXPLAINED}\n")
    assert "# Evaluation" not in explain(
        store, QueryRequest(PREFIX + "SELECT * WHERE { ?e :by ?u }", default_graph=[G1])
    )


def test_modifiers_pyoxigraph_refuses_are_reported_on_the_query_as_written() -> None:
    store = store_of((G1, ":a :by :u1 ."))
    query = PREFIX + "SELECT ?u (COUNT(*) AS ?n) WHERE { ?e :by ?u } GROUP BY ?u ORDER BY"
    on, off = both(store, query, [G1])
    assert on == off
    assert on[:2] == ("error", "QuerySyntaxError")


# --- differential: random data, random grouped counts ---

NODES = [":n0", ":n1", ":n2", ":n3", ":n4"]
PREDICATES = [":p", ":q", ":r"]
VARS = ["?a", "?b", "?c", "?d"]


@st.composite
def dataset(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Up to three graphs of facts over a few nodes, literals and blank nodes, often sharing triples."""
    objects = st.sampled_from([*NODES, '"x"', '"x"@en', "1", "01", "_:k"])
    facts = st.tuples(st.sampled_from([*NODES, "_:k"]), st.sampled_from([*PREDICATES, "a"]), objects)
    graphs = []
    for graph in (G1, G2, G3):
        triples = draw(st.lists(facts, max_size=12))
        graphs.append((graph, " ".join(f"{s} {p} {o} ." for s, p, o in triples)))
    return graphs


@st.composite
def grouped_count(draw: st.DrawFn) -> str:
    """A connected basic graph pattern of 1-4 patterns, grouped by some of its variables, counted."""
    first = (draw(st.sampled_from(VARS)), draw(st.sampled_from([*PREDICATES, "a"])), draw(st.sampled_from(VARS)))
    patterns, seen = [first], {first[0], first[2]}
    for _ in range(draw(st.integers(0, 3))):
        joined = draw(st.sampled_from(sorted(seen)))
        other = draw(st.sampled_from([*VARS, *NODES[:2]]))
        pattern = (joined, draw(st.sampled_from(PREDICATES)), other)
        patterns.append(pattern if draw(st.booleans()) else (other, pattern[1], joined))
        seen |= {term for term in (pattern[0], pattern[2]) if term.startswith("?")}
    variables = sorted(seen)
    group = draw(st.lists(st.sampled_from(variables), unique=True, max_size=2))
    counted = draw(st.sampled_from(["*", *variables]))
    distinct = "DISTINCT " if counted != "*" and draw(st.booleans()) else ""
    projection = " ".join(group) + f" (COUNT({distinct}{counted}) AS ?n)"
    where = " ".join(f"{s} {p} {o} ." for s, p, o in patterns)
    query = f"SELECT {projection} WHERE {{ {where} }}"
    if group:
        query += " GROUP BY " + " ".join(group)
        if draw(st.booleans()):
            query += f" ORDER BY DESC(?n) {group[0]} LIMIT {draw(st.integers(0, 3))}"
    return PREFIX + query


@given(data=dataset(), query=grouped_count(), graphs=st.sampled_from([[G1], [G1, G2], [G1, G2, G3], None]))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_counts_never_differ_from_pyoxigraphs(
    data: list[tuple[str, str]], query: str, graphs: list[str] | None
) -> None:
    store = store_of(*data)
    assert columnar.recognise(query) is not None
    on, off = both(store, query, graphs)
    if "ORDER BY" in query:  # ordered and sliced: the same rows in the same order, ties aside
        assert on[0] == off[0] == "ok"
        assert len(json.loads(on[1])["results"]["bindings"]) == len(json.loads(off[1])["results"]["bindings"])
        ns = [[row["n"]["value"] for row in json.loads(reply[1])["results"]["bindings"]] for reply in (on, off)]
        assert ns[0] == ns[1]
    else:
        assert bindings(on) == bindings(off)
