"""``/metrics``: how the query service is doing, in Prometheus' text format; and the accounting behind it.

Every query of ``/sparql`` is answered from the result cache (:mod:`kgraph.sparql.cache`) or by the query pool,
and counted here with its outcome and the time taken (``kgraph.web.sparql``, which streams large answers).
``/metrics`` shows those counts: queries by outcome, a latency histogram, cache hits and misses and size, and
query-worker restarts (a worker killed at the time limit or found dead is replaced). Writes call
:func:`after_write`, which empties the cache and forgets the planner's statistics and columns of the served store
(query workers are forked afresh after a write and start without either; this process may keep them too).
"""

from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app
from flask.sansio.app import App
from flask.sansio.blueprints import BlueprintSetupState

from kgraph.sparql import columnar
from kgraph.sparql.cache import ResultCache
from kgraph.sparql.stats import note_write

bp = Blueprint("metrics", __name__)

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Upper bounds (seconds) of the latency histogram's buckets."""

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Prometheus' text exposition format."""

_KEY = "kgraph.metrics"
_create_lock = threading.Lock()


class QueryMetrics:
    """Counters of the queries answered by one application; thread-safe."""

    def __init__(self, cache: ResultCache) -> None:
        self.cache = cache
        self.outcomes = {"ok": 0, "error": 0}
        self.buckets = [0] * len(BUCKETS)
        self.seconds = 0.0
        self.count = 0
        self._lock = threading.Lock()

    def observe(self, seconds: float, ok: bool) -> None:
        """Count one answered query and its duration."""
        with self._lock:
            self.outcomes["ok" if ok else "error"] += 1
            self.count += 1
            self.seconds += seconds
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.buckets[index] += 1

    def exposition(self, restarts: int, workers: int) -> str:
        """The counters in Prometheus' text format."""
        with self._lock:
            lines = _family("kgraph_queries_total", "counter", "Queries answered, by outcome.")
            lines += [f'kgraph_queries_total{{outcome="{name}"}} {value}' for name, value in self.outcomes.items()]
            lines += _family("kgraph_query_duration_seconds", "histogram", "Time to answer a query, cache included.")
            lines += [
                f'kgraph_query_duration_seconds_bucket{{le="{bound:g}"}} {value}'
                for bound, value in zip(BUCKETS, self.buckets, strict=True)
            ]
            lines += [
                f'kgraph_query_duration_seconds_bucket{{le="+Inf"}} {self.count}',
                f"kgraph_query_duration_seconds_sum {self.seconds:.6f}",
                f"kgraph_query_duration_seconds_count {self.count}",
            ]
        cache = self.cache
        for name, kind, text, value in (
            ("kgraph_cache_hits_total", "counter", "Queries answered from the result cache.", cache.hits),
            ("kgraph_cache_misses_total", "counter", "Queries the result cache did not hold.", cache.misses),
            ("kgraph_cache_entries", "gauge", "Results held in the cache.", len(cache)),
            ("kgraph_cache_bytes", "gauge", "Approximate memory the cached results take.", cache.size),
            ("kgraph_worker_restarts_total", "counter", "Query workers replaced after a timeout or a crash.", restarts),
            ("kgraph_query_workers", "gauge", "Query worker processes running.", workers),
        ):
            lines += [*_family(name, kind, text), f"{name} {value}"]
        return "\n".join(lines) + "\n"


def _family(name: str, kind: str, text: str) -> list[str]:
    return [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]


def metrics_of(app: App) -> QueryMetrics:
    """The application's counters and result cache, created at first use (sized by ``KGRAPH_CACHE_BYTES``)."""
    with _create_lock:
        if _KEY not in app.extensions:
            app.extensions[_KEY] = QueryMetrics(ResultCache(app.extensions["kgraph"].settings.cache_bytes))
        return app.extensions[_KEY]


def after_write(app: App) -> None:
    """Forget what a write made stale: cached results, the planner's counts and the columns of the served store."""
    metrics_of(app).cache.clear()
    note_write(app.extensions["kgraph"].graph.store)
    columnar.forget(app.extensions["kgraph"].graph.store)


@bp.record_once
def _forget_after_writes(setup: BlueprintSetupState) -> None:
    """Call :func:`after_write` after each committed write of the application."""
    app = setup.app
    app.extensions["kgraph"].on_commit.append(lambda: after_write(app))


@bp.route("/metrics")
def metrics() -> Response:
    """The counters of this server in Prometheus' text format."""
    state = current_app.extensions["kgraph"]
    status = getattr(state.pool, "status", None)
    workers = len(status().pids) if status else 0
    text = metrics_of(current_app).exposition(getattr(state.pool, "restarts", 0), workers)
    return Response(text, content_type=CONTENT_TYPE)
