"""Tests of ``kgraph.web.metrics`` as plain functions: the counters, their Prometheus text, and the cache-then-pool
accounting of :func:`kgraph.web.sparql.answer` in the fixture application (``/metrics`` over HTTP is in
``test_metrics.py``)."""

from __future__ import annotations

import pytest
from flask import Flask

from kgraph.sparql.cache import CachedResult, ResultCache
from kgraph.sparql.errors import QuerySyntaxError
from kgraph.sparql.evaluate import QueryRequest
from kgraph.web import service
from kgraph.web.metrics import BUCKETS, QueryMetrics, after_write, metrics_of
from kgraph.web.sparql import answer

EXPOSITION_TAIL = """\
# HELP kgraph_cache_hits_total Queries answered from the result cache.
# TYPE kgraph_cache_hits_total counter
kgraph_cache_hits_total 1
# HELP kgraph_cache_misses_total Queries the result cache did not hold.
# TYPE kgraph_cache_misses_total counter
kgraph_cache_misses_total 1
# HELP kgraph_cache_entries Results held in the cache.
# TYPE kgraph_cache_entries gauge
kgraph_cache_entries 1
# HELP kgraph_cache_bytes Approximate memory the cached results take.
# TYPE kgraph_cache_bytes gauge
kgraph_cache_bytes {size}
# HELP kgraph_worker_restarts_total Query workers replaced after a timeout or a crash.
# TYPE kgraph_worker_restarts_total counter
kgraph_worker_restarts_total 3
# HELP kgraph_query_workers Query worker processes running.
# TYPE kgraph_query_workers gauge
kgraph_query_workers 2
"""


def test_observations_fill_every_bucket_at_or_above_their_duration() -> None:
    metrics = QueryMetrics(ResultCache(0))
    metrics.observe(0.005, ok=True)
    metrics.observe(0.3, ok=False)
    metrics.observe(60.0, ok=True)
    assert metrics.outcomes == {"ok": 2, "error": 1}
    assert metrics.count == 3
    assert metrics.seconds == pytest.approx(60.305)
    assert dict(zip(BUCKETS, metrics.buckets, strict=True)) == {
        0.005: 1,
        0.01: 1,
        0.025: 1,
        0.05: 1,
        0.1: 1,
        0.25: 1,
        0.5: 2,
        1.0: 2,
        2.5: 2,
        5.0: 2,
        10.0: 2,
        30.0: 2,
    }


def test_the_exposition_is_prometheus_text_with_every_family() -> None:
    cache = ResultCache(10_000)
    key = ("SELECT * {}", (None, None), True, None, None, True, 0)
    cache.put(key, CachedResult(b"{}", "application/json"))
    cache.get(key)
    cache.get(("another", *key[1:]))
    metrics = QueryMetrics(cache)
    metrics.observe(0.02, ok=True)
    text = metrics.exposition(restarts=3, workers=2)
    head, _, tail = text.partition("# HELP kgraph_cache_hits_total")
    assert head == (
        "# HELP kgraph_queries_total Queries answered, by outcome.\n"
        "# TYPE kgraph_queries_total counter\n"
        'kgraph_queries_total{outcome="ok"} 1\n'
        'kgraph_queries_total{outcome="error"} 0\n'
        "# HELP kgraph_query_duration_seconds Time to answer a query, cache included.\n"
        "# TYPE kgraph_query_duration_seconds histogram\n"
        'kgraph_query_duration_seconds_bucket{le="0.005"} 0\n'
        'kgraph_query_duration_seconds_bucket{le="0.01"} 0\n'
        'kgraph_query_duration_seconds_bucket{le="0.025"} 1\n'
        'kgraph_query_duration_seconds_bucket{le="0.05"} 1\n'
        'kgraph_query_duration_seconds_bucket{le="0.1"} 1\n'
        'kgraph_query_duration_seconds_bucket{le="0.25"} 1\n'
        'kgraph_query_duration_seconds_bucket{le="0.5"} 1\n'
        'kgraph_query_duration_seconds_bucket{le="1"} 1\n'
        'kgraph_query_duration_seconds_bucket{le="2.5"} 1\n'
        'kgraph_query_duration_seconds_bucket{le="5"} 1\n'
        'kgraph_query_duration_seconds_bucket{le="10"} 1\n'
        'kgraph_query_duration_seconds_bucket{le="30"} 1\n'
        'kgraph_query_duration_seconds_bucket{le="+Inf"} 1\n'
        "kgraph_query_duration_seconds_sum 0.020000\n"
        "kgraph_query_duration_seconds_count 1\n"
    )
    assert "# HELP kgraph_cache_hits_total" + tail == EXPOSITION_TAIL.format(size=cache.size)


def test_answer_runs_a_miss_in_the_pool_then_answers_the_repeat_from_the_cache(app: Flask) -> None:
    request = QueryRequest("ASK { ?s ?p ?o }", accept="application/sparql-results+json")
    with app.app_context():
        metrics = metrics_of(app)
        assert metrics_of(app) is metrics
        after_write(app)
        before = (metrics.cache.hits, metrics.cache.misses, metrics.outcomes["ok"])
        first = answer(service(app), request, infer=True)
        second = answer(service(app), request, infer=True)
    assert (first.get_data(), first.content_type) == (second.get_data(), second.content_type)
    assert first.content_type.startswith("application/sparql-results+json")
    assert b'"boolean":true' in first.get_data().replace(b" ", b"")
    assert (metrics.cache.hits, metrics.cache.misses, metrics.outcomes["ok"]) == (
        before[0] + 1,
        before[1] + 1,
        before[2] + 2,
    )


def test_a_failed_query_is_counted_as_an_error_and_not_cached(app: Flask) -> None:
    with app.app_context():
        metrics = metrics_of(app)
        after_write(app)
        errors = metrics.outcomes["error"]
        with pytest.raises(QuerySyntaxError) as raised:
            answer(service(app), QueryRequest("SELECT WHERE {"), infer=True)
        assert metrics.outcomes["error"] == errors + 1
        assert len(metrics.cache) == 0
    assert str(raised.value) == (
        "Syntax error at line 1, column 15 (after 'SELECT WHERE {'): the query ends before the '{' opened at line 1, "
        "column 14 is closed"
    )


def test_after_write_empties_the_cache(app: Flask) -> None:
    with app.app_context():
        answer(service(app), QueryRequest("SELECT * WHERE { ?s ?p ?o } LIMIT 1"), infer=False)
        metrics = metrics_of(app)
        assert len(metrics.cache) >= 1
        version = metrics.cache.version
        after_write(app)
        assert (len(metrics.cache), metrics.cache.size, metrics.cache.version) == (0, 0, version + 1)
