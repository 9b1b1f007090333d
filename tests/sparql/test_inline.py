"""Lookups answered in the server's own process: which queries qualify, and that the pool's answers stay the
workers' answers (budget, result cap, errors, a write under way, every worker busy)."""

from __future__ import annotations

import threading

import pyoxigraph as ox
import pytest
from test_executor import CARTESIAN, EX, GRAPH, make_store, quad, wait_until

from kgraph.sparql.errors import QuerySyntaxError, ResultTooLarge
from kgraph.sparql.evaluate import evaluate
from kgraph.sparql.executor import QueryPool, QueryRequest
from kgraph.sparql.inline import INLINE_BYTES, is_lookup
from kgraph.sparql.planner import plan

LOOKUP = f"SELECT ?p ?o WHERE {{ <{EX}s1> ?p ?o }}"


@pytest.mark.parametrize(
    "sparql",
    [
        "PREFIX ex: <http://example.org/> SELECT ?p ?o WHERE { ex:s1 ?p ?o }",
        "BASE <http://example.org/> SELECT * { <s1> ?p ?o . }",
        "ASK { ?s a <http://example.org/Class> }",
        'SELECT ?s { ?s <http://example.org/p> "1"@en-GB }',
        'SELECT ?s { ?s <http://example.org/p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> } LIMIT 5',
        "SELECT ?s WHERE { ?s ?p 5 }",
        "# a comment\nSELECT ?s ?p ?o { ?s ?p ?o } LIMIT 10",
    ],
)
def test_one_pattern_read_as_it_is_written_is_a_lookup(sparql: str) -> None:
    assert is_lookup(sparql)
    assert plan(sparql, lambda pattern: 1).rewritten == sparql  # so a lookup skips the planner


@pytest.mark.parametrize(
    "sparql",
    [
        "SELECT ?s { ?s ?p ?s }",  # a variable twice: a scan that may write nothing
        "SELECT DISTINCT ?p { ?s ?p ?o }",  # duplicates dropped: work without output
        "SELECT ?s { ?s ?p ?o } ORDER BY ?s",  # sorted: everything read first
        "SELECT ?s { ?s ?p ?o } OFFSET 5",  # skipped rows: work without output
        "SELECT ?s { ?s ?p ?o } LIMIT 5 OFFSET 2",
        "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
        "SELECT ?s { ?s ?p ?o . ?o ?q ?r }",
        "SELECT ?s { ?s ?p ?o FILTER (?o = 1) }",
        "SELECT ?s FROM <http://example.org/g> { ?s ?p ?o }",
        "SELECT ?s { GRAPH ?g { ?s ?p ?o } }",
        "SELECT ?s { _:b ?p ?s }",
        "SELECT ?s { ?s ?p [] }",
        "SELECT ?s { ?s <http://example.org/p>+ ?o }",
        "SELECT ?s { ?s <http://example.org/p>/<http://example.org/q> ?o }",
        "SELECT ?s { ?s ?p ?o } VALUES ?s { <http://example.org/a> }",
        "CONSTRUCT WHERE { ?s ?p ?o }",
        "DESCRIBE <http://example.org/s1>",
        'SELECT ?s { ?s ?p "{" }',  # a brace in a string: the quick count of braces sends it to a worker
        "SELECT ?s {",
        "",
    ],
)
def test_anything_else_is_left_to_a_worker(sparql: str) -> None:
    assert not is_lookup(sparql)


def test_a_lookup_is_answered_while_every_worker_is_busy() -> None:
    """The cross product over 250 triples keeps the only worker busy for over a second."""
    with QueryPool(make_store(250), workers=1, timeout=60, max_result_bytes=100_000) as pool:
        busy = threading.Thread(target=lambda: pool.run(QueryRequest(CARTESIAN)))
        busy.start()
        wait_until(lambda: pool.status().idle == 0, "the long query occupies the only worker")
        answer = pool.run(QueryRequest(LOOKUP, format="csv"))
        assert answer.body == f"p,o\r\n{EX}p,1\r\n".encode()
        assert busy.is_alive()
        busy.join()


def test_a_lookup_during_a_write_is_answered_by_a_worker_from_before_it() -> None:
    """The served store's readers wait while a write is applied in place; a lookup does not wait, it goes to a
    worker, which answers from the state before the write."""
    store = make_store(100)
    with QueryPool(store, workers=1, timeout=60, max_result_bytes=100_000) as pool:
        answers: list[bytes] = []
        with store.writing():
            store.add([quad(1000)])
            reader = threading.Thread(
                target=lambda: answers.append(pool.run(QueryRequest(f"ASK {{ <{EX}s1000> ?p ?o }}")).body)
            )
            reader.start()
            reader.join(timeout=30)
            assert answers == [b'{"head":{},"boolean":false}']
        assert pool.run(QueryRequest(f"ASK {{ <{EX}s1000> ?p ?o }}")).body == b'{"head":{},"boolean":true}'


def test_an_answer_over_the_budget_comes_whole_from_a_worker() -> None:
    store = make_store(3000)
    request = QueryRequest("SELECT * { ?s ?p ?o }", format="csv")
    whole = evaluate(store, request, 1 << 20)
    assert whole[0] == "ok" and len(whole[1]) > INLINE_BYTES
    with QueryPool(store, workers=1, timeout=60, max_result_bytes=1 << 20) as pool:
        assert pool.run(request).body == whole[1]


def test_the_servers_result_cap_still_applies() -> None:
    with QueryPool(make_store(100), workers=1, timeout=60, max_result_bytes=500) as pool:
        with pytest.raises(ResultTooLarge) as caught:
            pool.run(QueryRequest("SELECT * { ?s ?p ?o }"))
        assert str(caught.value) == (
            "Result larger than the server's limit of 500 bytes (--max-result-bytes); "
            "add a LIMIT or select fewer variables."
        )


def test_an_error_is_the_workers_error() -> None:
    pool = QueryPool(make_store(10), workers=1, timeout=60, max_result_bytes=100_000)
    with pool, pytest.raises(QuerySyntaxError) as caught:
        pool.run(QueryRequest("SELECT ?p ?o WHERE { ex:s1 ?p ?o }"))
    assert caught.value.status == 400
    assert str(caught.value) == (
        "Syntax error at line 1, column 30 (after 'SELECT ?p ?o WHERE { ex:s1 ?p'): expected OPTIONAL"
    )


def test_a_lookup_honours_the_requests_dataset() -> None:
    store = make_store(10)
    store.add([ox.Quad(ox.NamedNode(EX + "s1"), ox.NamedNode(EX + "q"), ox.Literal("other"), ox.NamedNode(EX + "g2"))])
    with QueryPool(store, workers=1, timeout=60, max_result_bytes=100_000) as pool:
        only = pool.run(QueryRequest(LOOKUP, default_graph=[GRAPH.value], format="csv"))
        both = pool.run(QueryRequest(LOOKUP, format="csv"))
    assert only.body == f"p,o\r\n{EX}p,1\r\n".encode()
    assert sorted(both.body.split(b"\r\n")) == sorted(f"p,o\r\n{EX}p,1\r\n{EX}q,other\r\n".encode().split(b"\r\n"))
