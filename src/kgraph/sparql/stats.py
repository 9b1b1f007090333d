"""Statistics of the store for the planner: how many triples match a pattern, per predicate, class and graph.

The planner (:mod:`kgraph.sparql.planner`) orders a query's triple patterns by how many triples each matches. The
counts come from the store itself, over the query's own dataset (so per graph when the query names graphs): one
``COUNT`` query per distinct pattern shape (``?s kg:about ?o``, ``?x a kg:Claim``, ``?c kg:stance kg:denies``),
asked the first time a query needs it and kept until the data changes. pyoxigraph answers such a count from its
indexes in milliseconds.

Kept up to date on writes: :func:`note_write` forgets every count of a store (the writer, or whoever changes a
store in place, calls it). A query worker is forked afresh after each write, so its counts start empty there.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence

from kgraph.sparql.planner import Pattern
from kgraph.store import Store
from kgraph.store.results import solutions

MAX_COUNTS = 100_000
"""Counts kept per store at most (queries with ever new constants would otherwise grow the memo for ever)."""

_lock = threading.Lock()
_by_store: weakref.WeakKeyDictionary[Store, dict[tuple, int]] = weakref.WeakKeyDictionary()


class Statistics:
    """Counts of matching triples for the planner, over one dataset of one store; memoised per store."""

    def __init__(
        self, store: Store, default_graph: Sequence[str] | None = None, named_graphs: Sequence[str] | None = None
    ) -> None:
        self.store = store
        self.default_graph = list(default_graph) if default_graph is not None else None
        self.named_graphs = list(named_graphs) if named_graphs is not None else None
        self._dataset = (tuple(self.default_graph or ()), self.default_graph is None)

    def __call__(self, pattern: Pattern) -> int:
        """Triples of the dataset's default graph matching the pattern's constants (its other positions free)."""
        key = (self._dataset, pattern.triple())
        with _lock:
            memo = _by_store.setdefault(self.store, {})
            if key in memo:
                return memo[key]
        count = self._count(pattern)
        with _lock:
            memo = _by_store.setdefault(self.store, {})
            if len(memo) >= MAX_COUNTS:
                memo.clear()
            memo[key] = count
        return count

    def _count(self, pattern: Pattern) -> int:
        terms = [
            "?s" if pattern.subject is None else _term(pattern.subject),
            "?p" if pattern.predicate is None else _term(pattern.predicate),
            "?o" if pattern.object is None else _term(pattern.object),
        ]
        sparql = f"SELECT (COUNT(*) AS ?n) WHERE {{ {' '.join(terms)} }}"
        try:
            result = solutions(self.store.query(sparql, default_graph=self.default_graph))
            return int(next(iter(result))["n"].value)
        except (SyntaxError, ValueError, StopIteration, OSError):
            return 1_000_000_000  # an unreadable constant: unknown, so last


def _term(value: str) -> str:
    return value if value.startswith(('"', "'")) else f"<{value}>"


def note_write(store: Store) -> None:
    """Forget the counts of ``store``: its data changed."""
    with _lock:
        _by_store.pop(store, None)
