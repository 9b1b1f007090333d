"""The planning pass: which rewrites it makes, which it refuses, and that answers never change.

The exact-text tests pin each rule (an OPTIONAL moves only past joins that share no uncertain variable with it,
nothing crosses BIND, a FILTER never enters an OPTIONAL); the differential test evaluates random queries over random
data with and without the pass and compares the answers as multisets.
"""

from __future__ import annotations

from collections import Counter

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgraph.sparql.evaluate import QueryRequest, evaluate
from kgraph.sparql.planner import Pattern, normalize, plan
from kgraph.sparql.stats import Statistics, note_write
from kgraph.store import EmbeddedStore

EX = "http://example.org/"
PREFIX = f"PREFIX : <{EX}>\n"


def counts(table: dict[str, int]):
    """An estimator from predicate local names to counts (the rest: 1000)."""
    return lambda pattern: table.get((pattern.predicate or "").removeprefix(EX), 1000)


def test_optional_moves_after_a_join_that_does_not_use_its_new_variables() -> None:
    query = PREFIX + "SELECT * WHERE {\n  ?c :about ?e .\n  OPTIONAL { ?d :disputes ?c }\n  ?e :place ?p .\n}"
    result = plan(query)
    assert result.rewritten == PREFIX + (
        "SELECT * WHERE {\n  ?c :about ?e .\n  ?e :place ?p .\n  OPTIONAL { ?d :disputes ?c }\n}"
    )
    assert result.changes == [
        "OPTIONAL { ?d :disputes ?c } moved after 1 join element(s) that do not use its new variables"
    ]


def test_a_leading_optional_stays_first() -> None:
    query = PREFIX + "SELECT * WHERE { OPTIONAL { ?a :o ?o } ?a :n ?n }"
    assert plan(query).rewritten == query


def test_comments_move_with_the_element_they_precede() -> None:
    optional = "  # disputes, if any\n  OPTIONAL { ?d :disputes ?c }\n"
    query = PREFIX + "SELECT * WHERE {\n  ?c :about ?e .\n" + optional + "  ?e :place ?p .\n}"
    assert plan(query).rewritten == PREFIX + (
        "SELECT * WHERE {\n  ?c :about ?e .\n  ?e :place ?p .\n  # disputes, if any\n  OPTIONAL { ?d :disputes ?c }\n}"
    )


def test_optional_stays_before_a_join_on_a_variable_it_may_bind() -> None:
    query = PREFIX + "SELECT * WHERE { ?c :about ?e OPTIONAL { ?c :by ?who } ?who :label ?l }"
    assert plan(query).rewritten == query


def test_optional_moves_when_the_shared_variable_is_certainly_bound_before_it() -> None:
    query = PREFIX + "SELECT * WHERE { ?c :about ?e OPTIONAL { ?c :by ?who } ?c :label ?l }"
    assert plan(query).rewritten == PREFIX + "SELECT * WHERE { ?c :about ?e . ?c :label ?l . OPTIONAL { ?c :by ?who } }"


def test_a_filter_inside_the_optional_counts_as_its_variables() -> None:
    query = PREFIX + "SELECT * WHERE { ?c :about ?e OPTIONAL { ?c :by ?w FILTER(?l != ?w) } ?c :label ?l }"
    assert plan(query).rewritten == query


def test_nothing_crosses_a_bind() -> None:
    query = PREFIX + "SELECT * WHERE { ?c :about ?e OPTIONAL { ?c :by ?w } BIND(1 AS ?one) ?c :label ?l }"
    assert plan(query).rewritten == query


def test_patterns_become_a_lateral_chain_in_the_order_of_the_counts_joined_ones_first() -> None:
    query = PREFIX + "SELECT * WHERE { ?a :big ?b . ?b :mid ?c . ?c :small :x . ?z :tiny ?y . }"
    result = plan(query, counts({"big": 1000, "mid": 100, "small": 10, "tiny": 1}))
    expected = "SELECT * WHERE { ?z :tiny ?y . LATERAL { ?c :small :x } LATERAL { ?b :mid ?c } LATERAL { ?a :big ?b } }"
    assert result.rewritten == PREFIX + expected
    assert result.statistics[f"? <{EX}small> <{EX}x>"] == 10


def test_a_lookup_from_a_bound_subject_comes_before_one_from_a_bound_object() -> None:
    query = PREFIX + "SELECT * WHERE { ?c :about ?e . ?e :report ?r . ?e :place :x . }"
    result = plan(query, counts({"about": 50, "report": 90, "place": 5}))
    expected = "SELECT * WHERE { ?e :place :x . LATERAL { ?e :report ?r } LATERAL { ?c :about ?e } }"
    assert result.rewritten == PREFIX + expected


def test_no_chain_from_an_unselective_start_the_patterns_are_only_reordered() -> None:
    query = PREFIX + "SELECT * WHERE { ?a :big ?b . ?b :mid ?c . }"
    result = plan(query, counts({"big": 100_000, "mid": 20_000}))
    assert result.rewritten == PREFIX + "SELECT * WHERE { ?b :mid ?c . ?a :big ?b . }"
    assert result.changes == ["triple patterns ordered by selectivity: ?b :mid ?c . ; ?a :big ?b ."]


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ({"big": 100_000, "mid": 60_000}, "{ ?a :big ?b . ?b :mid ?c . }"),  # within 2x: even, as written
        ({"big": 100_000, "mid": 40_000}, "{ ?b :mid ?c . ?a :big ?b . }"),
    ],
)
def test_patterns_whose_counts_are_within_twice_each_other_keep_the_written_order(
    sizes: dict[str, int], expected: str
) -> None:
    query = PREFIX + "SELECT * WHERE { ?a :big ?b . ?b :mid ?c . }"
    assert plan(query, counts(sizes)).rewritten == PREFIX + "SELECT * WHERE " + expected


@pytest.mark.parametrize("path", [":p*", ":p?", "(:p/:q)*"])
def test_no_chain_through_a_path_that_may_match_zero_steps(path: str) -> None:
    query = PREFIX + f"SELECT * WHERE {{ ?a :big ?b . ?b {path} ?c . }}"
    assert "LATERAL" not in plan(query, counts({"big": 1000, "p": 1})).rewritten


@pytest.mark.parametrize(
    "pattern",
    ["_:x :big ?b . _:x :small ?c .", "?a :big ?b . GRAPH ?g { ?a :p ?c } _:x :big ?c . _:x :small ?b ."],
)
def test_blocks_sharing_a_blank_node_label_stay_as_written(pattern: str) -> None:
    query = PREFIX + f"SELECT * WHERE {{ {pattern} }}"
    assert plan(query, counts({"big": 1000, "small": 1})).rewritten == query


def test_an_optional_body_is_a_chain_from_the_variables_bound_before_it() -> None:
    query = PREFIX + "SELECT * WHERE { ?a :tiny ?b OPTIONAL { ?c :small ?d . ?a :big ?c } }"
    expected = "SELECT * WHERE { ?a :tiny ?b OPTIONAL { ?a :big ?c . LATERAL { ?c :small ?d } } }"
    assert plan(query, counts({"big": 100_000, "small": 1})).rewritten == PREFIX + expected


def test_a_filter_goes_after_the_pattern_binding_its_last_variable_never_into_an_optional() -> None:
    query = PREFIX + "SELECT * WHERE { ?a :big ?b . FILTER(?n > 3) OPTIONAL { ?a :o ?o } ?a :n ?n . }"
    result = plan(query, counts({"big": 1000, "n": 10}))
    expected = "SELECT * WHERE { ?a :n ?n . LATERAL { ?a :big ?b } FILTER(?n > 3) OPTIONAL { ?a :o ?o } }"
    assert result.rewritten == PREFIX + expected


def test_nothing_moves_into_blocks_that_share_a_blank_node_label() -> None:
    for pattern in (
        "FILTER NOT EXISTS { ?a :p ?a } _:x :p ?a . _:x :q ?b .",
        "OPTIONAL { ?b :p ?b } _:x :p ?a . _:x :p ?b .",
    ):
        query = PREFIX + f"SELECT * WHERE {{ {pattern} }}"
        assert plan(query, counts({})).rewritten == query


def test_nested_groups_are_planned_in_place() -> None:
    query = PREFIX + "SELECT * WHERE { { ?a :x ?b OPTIONAL { ?b :o ?o } ?b :y ?c } UNION { ?a :z ?c } }"
    assert plan(query).rewritten == PREFIX + (
        "SELECT * WHERE { { ?a :x ?b . ?b :y ?c . OPTIONAL { ?b :o ?o } } UNION { ?a :z ?c } }"
    )


def test_construct_plans_its_where_clause_not_its_template() -> None:
    query = PREFIX + "CONSTRUCT { ?a :x ?o . ?a :y ?b } WHERE { ?a :x ?b OPTIONAL { ?b :o ?o } ?a :y ?b }"
    assert plan(query).rewritten == PREFIX + (
        "CONSTRUCT { ?a :x ?o . ?a :y ?b } WHERE { ?a :x ?b . ?a :y ?b . OPTIONAL { ?b :o ?o } }"
    )


@pytest.mark.parametrize(
    ("query", "note"),
    [
        ("INSERT DATA { <a:a> <a:b> <a:c> }", "no query pattern to plan"),
        ("INSERT { ?a <a:b> 1 } WHERE { { SELECT ?a { ?a ?b ?c } } }", "no query pattern to plan"),
        ("CONSTRUCT WHERE { ?a <a:b> ?c . ?c <a:d> ?e }", "CONSTRUCT WHERE: its pattern is also its template"),
        ("BASE <http://x/> SELECT * { ?a ?b ?c }", "BASE makes IRIs relative; the query is evaluated as written"),
        ("SELECT * { ?a ?b ?c OPTIONAL }", "expected '{'"),
        ("SELECT * { ?a ?b ?c } }", ""),
        ("SELECT * { ?a :p/ ?c }", "a path the planner does not read"),
    ],
)
def test_what_it_cannot_analyse_runs_as_written(query: str, note: str) -> None:
    result = plan(query)
    assert (result.rewritten, result.changed, result.note) == (query, False, note)


def test_explain_shows_the_query_the_rewrites_and_the_counts() -> None:
    query = PREFIX + "SELECT * WHERE { ?a :m ?m OPTIONAL { ?a :o ?o } ?a :n ?n }"
    assert plan(query, counts({"n": 7})).explain() == (
        "# Query as evaluated\n"
        + PREFIX
        + "SELECT * WHERE { ?a :n ?n . LATERAL { ?a :m ?m } OPTIONAL { ?a :o ?o } }\n\n# Rewrites\n"
        + "- OPTIONAL { ?a :o ?o } moved after 1 join element(s) that do not use its new variables\n"
        + "- triple patterns joined in this order, each after the first as LATERAL so that pyoxigraph looks it up "
        + f"for each row so far: ? <{EX}n> ? ; ? <{EX}m> ?\n\n"
        + f"# Statistics used (matching triples)\n- ? <{EX}m> ?: 1000\n- ? <{EX}n> ?: 7\n"
    )


def test_normalize_ignores_layout_and_comments_not_strings() -> None:
    assert normalize("SELECT *  # all\nWHERE {?s ?p 'a  b'}") == "SELECT * WHERE { ?s ?p 'a  b' }"


def test_statistics_count_in_the_dataset_and_forget_on_write() -> None:
    store = EmbeddedStore()
    store.update(f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}a> <{EX}p> 1, 2 . <{EX}b> <{EX}p> 3 }} }}")
    stats = Statistics(store)
    assert stats(Pattern(None, EX + "p", None)) == 3
    assert stats(Pattern(EX + "b", EX + "p", None)) == 1
    assert Statistics(store, [EX + "other"])(Pattern(None, EX + "p", None)) == 0
    store.update(f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}c> <{EX}p> 4 }} }}")
    assert stats(Pattern(None, EX + "p", None)) == 3  # remembered until told
    note_write(store)
    assert stats(Pattern(None, EX + "p", None)) == 4


def test_a_syntax_error_is_reported_on_the_query_as_written() -> None:
    store = EmbeddedStore()
    query = "SELECT * WHERE { ?a <a:b> ?c OPTIONAL { ?c <a:d> ?e } ?a <a:f> ?g FILTER(?x ==) }"
    reply = evaluate(store, QueryRequest(query), 1 << 20)
    assert reply[0] == "error" and reply[1] == "QuerySyntaxError"
    assert reply == evaluate(store, QueryRequest(query, plan=False), 1 << 20)


# --- differential testing: random queries over random data, with and without the pass ---

VARS = ["?a", "?b", "?c", "?d"]
PREDICATES = [":p", ":q", ":r"]
NODES = [":n0", ":n1", ":n2", ":n3"]

terms = st.sampled_from([*VARS, *NODES[:2], "_:x"])
verbs = st.sampled_from([*PREDICATES, ":p+", ":q*", "^:r", ":p/:q", ":p|:r"])


@st.composite
def triple(draw: st.DrawFn) -> str:
    return f"{draw(terms)} {draw(verbs)} {draw(st.sampled_from([*VARS, *NODES, '1', '2']))} ."


@st.composite
def condition(draw: st.DrawFn) -> str:
    left, right = draw(st.sampled_from(VARS)), draw(st.sampled_from([*VARS, "1", ":n0"]))
    return draw(st.sampled_from([f"FILTER({left} != {right})", f"FILTER(BOUND({left}))", f"FILTER(!BOUND({left}))"]))


def group(depth: int) -> st.SearchStrategy[str]:
    inner = [
        triple(),
        st.lists(triple(), min_size=2, max_size=4).map(" ".join),  # runs of patterns: the LATERAL chains
        condition(),
        st.sampled_from(VARS).map(lambda v: f"VALUES {v} {{ :n0 :n1 UNDEF }}"),
        st.tuples(st.sampled_from(VARS), st.sampled_from(VARS)).map(lambda v: f"[ :p {v[0]} ] :q {v[1]} ."),
    ]
    if depth > 0:
        inner += [
            group(depth - 1).map(lambda g: f"FILTER NOT EXISTS {g}"),
            group(depth - 1).map(lambda g: f"GRAPH ?g {g}"),
            group(depth - 1).map(lambda g: f"OPTIONAL {g}"),
            group(depth - 1).map(lambda g: f"OPTIONAL {g}"),
            st.tuples(group(depth - 1), group(depth - 1)).map(lambda g: f"{g[0]} UNION {g[1]}"),
            st.sampled_from(VARS).map(lambda v: f"BIND({v} AS ?e)"),
            group(depth - 1).map(lambda g: f"MINUS {g}"),
        ]
    return st.lists(st.one_of(*inner), min_size=1, max_size=6).map(lambda items: "{ " + " ".join(items) + " }")


@st.composite
def dataset(draw: st.DrawFn) -> list[str]:
    objects = [*NODES, "1", "2"]
    facts = st.tuples(st.sampled_from(NODES), st.sampled_from(PREDICATES), st.sampled_from(objects))
    return [f"{s} {p} {o} ." for s, p, o in draw(st.lists(facts, min_size=1, max_size=14))]


def answers(store: ox.Store, query: str) -> Counter:
    return Counter(tuple(str(row[v]) if row[v] is not None else None for v in "abcde") for row in store.query(query))


@given(data=dataset(), pattern=group(2), sizes=st.dictionaries(st.sampled_from(["p", "q", "r"]), st.integers(0, 50)))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_pass_never_changes_an_answer(data: list[str], pattern: str, sizes: dict[str, int]) -> None:
    store = ox.Store()
    store.update(PREFIX + "INSERT DATA { " + " ".join(data) + " }")
    query = PREFIX + f"SELECT ?a ?b ?c ?d ?e WHERE {pattern}"
    try:
        expected = answers(store, query)
    except SyntaxError:
        return  # e.g. BIND of a variable already in scope: pyoxigraph refuses both
    rewritten = plan(query, counts(sizes)).rewritten
    assert answers(store, rewritten) == expected, rewritten
