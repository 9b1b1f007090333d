"""The query pool: answers, time limit, result cap, writes, dead workers and clean shutdown."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.sparql.errors import (
    NotAcceptable,
    QueryFailed,
    QuerySyntaxError,
    QueryTimeout,
    ResultTooLarge,
    ServiceFailed,
    SparqlError,
)
from kgraph.sparql.executor import JOB_NICENESS, QueryPool, QueryRequest, QueryResponse
from kgraph.store import EmbeddedStore

EX = "http://example.org/"
GRAPH = ox.NamedNode(EX + "graph")
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def quad(i: int) -> ox.Quad:
    return ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "p"), ox.Literal(str(i)), GRAPH)


def make_store(size: int, path: Path | None = None) -> EmbeddedStore:
    store = EmbeddedStore(path)
    store.add(quad(i) for i in range(size))
    return store


@pytest.fixture
def pool() -> Iterator[QueryPool]:
    with QueryPool(make_store(100), workers=2, timeout=10, max_result_bytes=100_000) as pool:
        yield pool


def count(pool: QueryPool, sparql: str = COUNT) -> int:
    response = pool.run(QueryRequest(sparql, format="csv"))
    return int(response.body.decode().split()[1])


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll a condition (processes start and die asynchronously); fail after a generous minute."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting until {what}"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, killed but not yet reaped by its parent, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_select_answer(pool: QueryPool) -> None:
    response = pool.run(QueryRequest(COUNT))
    assert response == QueryResponse(
        body=b'{"head":{"vars":["n"]},"results":{"bindings":[{"n":{"type":"literal",'
        b'"value":"100","datatype":"http://www.w3.org/2001/XMLSchema#integer"}}]}}',
        media_type="application/sparql-results+json",
    )


def test_accept_is_negotiated_in_the_worker(pool: QueryPool) -> None:
    ask = pool.run(QueryRequest("ASK { ?s ?p ?o }", accept="text/csv"))
    assert (ask.body, ask.media_type) == (b"true", "text/csv; charset=utf-8")
    graph = pool.run(QueryRequest(f"CONSTRUCT WHERE {{ <{EX}s1> ?p ?o }}"))
    assert graph.media_type == "text/turtle; charset=utf-8"
    assert graph.body == f'<{EX}s1> <{EX}p> "1" .\n'.encode()


def test_dataset_restriction(pool: QueryPool) -> None:
    assert count(pool) == 100
    empty = pool.run(QueryRequest(COUNT, default_graph=[EX + "other"], format="csv"))
    assert empty.body == b"n\r\n0\r\n"


def test_syntax_error_says_line_and_column(pool: QueryPool) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        pool.run(QueryRequest("SELECT ?x WHERE {\n  ?x ?p ?o\n}\nLIMIT ten"))
    assert caught.value.status == 400
    assert str(caught.value) == (
        "Syntax error at line 4, column 7 (after 'LIMIT'): expected one of HAVING, OFFSET, OPTIONAL, VALUES, ..."
    )


def test_update_in_a_query_is_left_to_the_parser(pool: QueryPool) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        pool.run(QueryRequest("LOAD <file:///etc/passwd>"))
    assert str(caught.value) == ("Syntax error at line 1, column 10 (after 'LOAD <fil'): expected CONSTRUCT")


def test_not_acceptable_crosses_the_pipe_intact(pool: QueryPool) -> None:
    with pytest.raises(NotAcceptable) as caught:
        pool.run(QueryRequest(COUNT, accept="text/turtle"))
    assert caught.value.status == 406
    assert str(caught.value).startswith("None of the accepted media types is available for SELECT results;")


def test_allowed_service_to_an_unreachable_endpoint_fails_cleanly(pool: QueryPool) -> None:
    with pytest.raises(ServiceFailed) as caught:
        pool.run(QueryRequest("SELECT * { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }"))
    assert caught.value.status == 502
    assert str(caught.value) == (
        "A SERVICE endpoint failed: The port 1 is not allowed for HTTP(S) because it is dedicated to an other use"
    )
    assert count(pool) == 100


def test_result_cap() -> None:
    with QueryPool(make_store(3000), workers=1, timeout=10, max_result_bytes=5_000) as pool:
        with pytest.raises(ResultTooLarge) as caught:
            pool.run(QueryRequest("SELECT * { ?s ?p ?o }"))
        assert caught.value.status == 422
        assert str(caught.value) == (
            "Result larger than the server's limit of 5000 bytes (--max-result-bytes); "
            "add a LIMIT or select fewer variables."
        )
        small = pool.run(QueryRequest("SELECT * { ?s ?p ?o } LIMIT 3", format="csv"))
        assert small.body.count(b"\r\n") == 4


@pytest.mark.slow
def test_runaway_query_is_stopped_while_others_are_answered() -> None:
    with QueryPool(make_store(3000), workers=2, timeout=1, max_result_bytes=100_000) as pool:
        outcome: list[BaseException] = []

        def runaway() -> None:
            try:
                pool.run(QueryRequest(CARTESIAN))
            except SparqlError as error:
                outcome.append(error)

        thread = threading.Thread(target=runaway)
        thread.start()
        wait_until(lambda: pool.status().idle == 1, "the runaway query occupies a worker")
        assert count(pool) == 3000  # answered while the runaway query runs
        thread.join()
        [error] = outcome
        assert isinstance(error, QueryTimeout)
        assert error.status == 503
        assert str(error) == "Query stopped after 1 s: the server's time limit (--timeout)."
        assert count(pool) == 3000
        assert len(pool.status().pids) == 2


def test_apply_makes_a_write_visible() -> None:
    """As the server writes: to the served store (which lookups read, :mod:`kgraph.sparql.inline`), then the
    delta to the workers' replica."""
    store = make_store(100)
    with QueryPool(store, workers=2, timeout=10, max_result_bytes=100_000) as pool:
        before = pool.status().pids
        store.add([quad(1000), quad(1001)])
        store.remove([quad(0)])
        pool.apply(added=[quad(1000), quad(1001)], removed=[quad(0)])
        assert count(pool) == 101
        for pattern in (f'<{EX}s0> ?p "0"', f'<{EX}s0> ?p "0" FILTER (true)'):  # in this process, in a worker
            assert pool.run(QueryRequest(f"ASK {{ {pattern} }}", format="csv")).body == b"false"
        assert set(pool.status().pids).isdisjoint(before)


@pytest.mark.slow
def test_running_query_keeps_its_snapshot() -> None:
    with QueryPool(make_store(150), workers=2, timeout=60, max_result_bytes=100_000) as pool:
        result: list[int] = []
        thread = threading.Thread(target=lambda: result.append(count(pool, CARTESIAN)))
        thread.start()
        wait_until(lambda: pool.status().idle == 1, "the long query occupies a worker")
        pool.apply(added=[quad(1000)], removed=[])
        assert count(pool) == 151
        thread.join()
        assert result == [150**3]
        assert count(pool, CARTESIAN) == 151**3


def test_worker_that_died_while_idle_is_replaced(pool: QueryPool) -> None:
    victim, other = pool.status().pids
    os.kill(victim, signal.SIGKILL)
    os.kill(other, signal.SIGKILL)
    wait_until(lambda: not alive(victim) and not alive(other), "both workers are dead")
    assert count(pool) == 100
    assert count(pool) == 100
    assert victim not in pool.status().pids
    assert len(pool.status().pids) == 2


@pytest.mark.slow
def test_worker_that_dies_during_a_query_gives_a_clean_error() -> None:
    with QueryPool(make_store(3000), workers=1, timeout=60, max_result_bytes=100_000) as pool:
        [victim] = pool.status().pids
        outcome: list[BaseException] = []

        def doomed() -> None:
            try:
                pool.run(QueryRequest(CARTESIAN))
            except SparqlError as error:
                outcome.append(error)

        thread = threading.Thread(target=doomed)
        thread.start()
        wait_until(lambda: pool.status().idle == 0, "the query occupies the worker")
        os.kill(victim, signal.SIGKILL)
        thread.join()
        [error] = outcome
        assert isinstance(error, QueryFailed)
        assert error.status == 503
        assert str(error) == "The query worker stopped unexpectedly; the query was not answered. Try again."
        assert count(pool) == 3000


def test_a_dead_zygote_is_reaped_and_replaced() -> None:
    """Guards the supervisor: a killed worker parent is reaped (no zombie) and forked anew, so queries are answered
    again within about a second instead of 503 until a restart."""
    with QueryPool(make_store(10), workers=2, timeout=10, max_result_bytes=100_000) as pool:
        [first, _] = pool.status().pids
        zygote = pool._zygote_pid
        os.kill(zygote, signal.SIGKILL)
        wait_until(lambda: pool._zygote_pid != zygote and len(pool.status().pids) == 2, "a new zygote and workers")
        assert not Path(f"/proc/{zygote}").exists()  # reaped, not a zombie
        assert first not in pool.status().pids
        assert count(pool) == 10


def test_a_query_in_flight_when_the_zygote_dies_is_answered_by_the_new_one() -> None:
    """Guards the retry of a query whose worker died with its parent: the client gets its answer, not a 503."""
    pairs = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"
    with QueryPool(make_store(3000), workers=1, timeout=60, max_result_bytes=100_000) as pool:
        answers: list[int] = []
        thread = threading.Thread(target=lambda: answers.append(count(pool, pairs)))
        thread.start()
        wait_until(lambda: pool.status().idle == 0, "the query occupies the worker")
        os.kill(pool._zygote_pid, signal.SIGKILL)
        thread.join()
        assert answers == [9_000_000]


def test_a_dead_idle_worker_is_replaced_before_a_query_needs_it() -> None:
    """Guards the supervisor's watch on idle workers."""
    with QueryPool(make_store(10), workers=1, timeout=10, max_result_bytes=100_000) as pool:
        [victim] = pool.status().pids
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: pool.status().pids not in ((), (victim,)), "a fresh worker")
        assert pool.status().idle == 1
        assert count(pool) == 10


@pytest.mark.slow
def test_a_query_over_the_memory_limit_is_stopped_and_the_others_go_on() -> None:
    """Guards the per-worker memory limit: an ORDER BY over a cross product grows without bound."""
    hungry = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"
    with QueryPool(make_store(300), workers=2, timeout=60, max_result_bytes=100_000, memory_limit=100) as pool:
        with pytest.raises(QueryFailed) as caught:
            pool.run(QueryRequest(hungry))
        assert (caught.value.status, str(caught.value)) == (
            503,
            "Query stopped: it needed more than 100 MiB; add LIMIT or narrow it.",
        )
        assert count(pool) == 300


def test_reading_the_whole_inherited_store_is_not_counted_against_the_memory_limit() -> None:
    """A query that only reads the store makes the pages it reads the worker's own (pyoxigraph updates reference
    counts), which is no allocation: 40 scans of 100k triples, with a limit of 16 MiB, are answered."""
    scans = " ".join(str(k) for k in range(40))
    scan = "SELECT (COUNT(*) AS ?c) WHERE { ?s ?p ?o }"
    sparql = f"SELECT (SUM(?c) AS ?n) WHERE {{ VALUES ?k {{ {scans} }} LATERAL {{ {scan} }} }}"
    with QueryPool(make_store(100_000), workers=1, timeout=60, max_result_bytes=100_000, memory_limit=16) as pool:
        [worker] = pool.status().pids
        assert count(pool, sparql) == 4_000_000
        assert pool.status().pids == (worker,)
        assert private_mib(worker) > 16  # the copied pages: what the limit used to count


def test_one_client_after_another_is_answered_by_the_same_warm_worker() -> None:
    """The worker used last answers next: it has the store's pages it read as its own already, and the other
    workers' pages stay shared with the zygote (a fresh worker pays for the copy the first time)."""
    with QueryPool(make_store(100_000), workers=3, timeout=60, max_result_bytes=100_000) as pool:
        for _ in range(6):
            assert count(pool) == 100_000
        copied = sorted(private_mib(pid) for pid in pool.status().pids)
        assert copied[1] < 4 < copied[2]


def private_mib(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        fields = [line.split() for line in rollup if line.startswith(("Private_Clean:", "Private_Dirty:"))]
    return sum(int(field[1]) for field in fields) >> 10


class _Priority:
    """A job reporting the CPU priority (niceness) it runs at."""

    def run(self, store: EmbeddedStore) -> int:
        return os.getpriority(os.PRIO_PROCESS, 0)


def test_a_job_runs_below_the_queries_cpu_priority(pool: QueryPool) -> None:
    """The dumps' build takes a core for a minute at 1M triples: the queries come first."""
    assert pool.run_job(_Priority(), 30) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + JOB_NICENESS)
    assert count(pool) == 100


def test_busy_pool_makes_callers_wait_no_longer_than_the_timeout() -> None:
    with QueryPool(make_store(10), workers=1, timeout=0.5, max_result_bytes=100_000) as pool:
        held = pool._checkout()  # as if a long query held the only worker
        with pytest.raises(QueryTimeout) as caught:
            pool.run(QueryRequest(COUNT))
        assert str(caught.value) == ("No query worker became free within 0.5 s: the server is busy; try again later.")
        pool._checkin(held)
        assert count(pool) == 10


def test_close_leaves_no_process_behind() -> None:
    pool = QueryPool(make_store(10), workers=2, timeout=10, max_result_bytes=100_000)
    workers = pool.status().pids
    zygote = pool._zygote_pid
    pool.close()
    assert not alive(zygote)
    wait_until(lambda: not any(alive(pid) for pid in workers), "the workers are gone")
    with pytest.raises(SparqlError) as caught:
        pool.run(QueryRequest(COUNT))
    assert (caught.value.status, str(caught.value)) == (503, "The query service is shutting down.")


def test_forgotten_pool_is_shut_down_when_collected() -> None:
    pool = QueryPool(make_store(10), workers=1, timeout=10, max_result_bytes=100_000)
    pids = [pool._zygote_pid, *pool.status().pids]
    del pool
    gc.collect()
    wait_until(lambda: not any(alive(pid) for pid in pids), "the zygote and worker are gone")


def test_on_disk_store_is_served_from_a_copy(tmp_path: Path) -> None:
    store = make_store(42, tmp_path / "db")
    with QueryPool(store, workers=1, timeout=10, max_result_bytes=100_000) as pool:
        assert count(pool) == 42
    store.close()


CHILD = """
import sys, time
from kgraph.sparql.executor import QueryPool
from kgraph.store import EmbeddedStore
pool = QueryPool(EmbeddedStore(), workers=2, timeout=5, max_result_bytes=1000)
print(pool._zygote_pid, *pool.status().pids, flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_workers_exit_when_the_server_dies() -> None:
    server = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    pids = [int(pid) for pid in server.stdout.readline().split()]
    assert len(pids) == 3
    server.kill()
    server.wait()
    server.stdout.close()
    wait_until(lambda: not any(alive(pid) for pid in pids), "the zygote and workers are gone")


def test_a_zygote_restarted_during_a_write_is_forked_after_it() -> None:
    """Guards the supervisor against forking the new workers' parent from a store a write is half-way through: a
    write that is then taken back must not stay in the replica."""
    store = make_store(10)
    refused = ox.Quad(ox.NamedNode("http://example.org/refused"), ox.NamedNode("http://example.org/p"), ox.Literal("x"))
    with QueryPool(store, workers=1, timeout=10, max_result_bytes=100_000) as pool:
        zygote = pool._zygote_pid
        with store.writing():
            store.add([refused])
            os.kill(zygote, signal.SIGKILL)
            time.sleep(1.0)  # the supervisor notices the death meanwhile, and waits for the write
            assert pool._zygote_pid == zygote
            store.remove([refused])
        wait_until(lambda: pool._zygote_pid != zygote and len(pool.status().pids) == 1, "a new zygote and worker")
        assert count(pool) == 10
