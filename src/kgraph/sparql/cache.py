"""A bounded in-memory cache of serialised query results, cleared by every write.

Analysts and pages repeat the same queries; a repeat answered from memory skips the hop to a worker process and
the evaluation. The key is everything the answer depends on: the normalised query text (layout and comments do not
matter), the dataset (default and named graphs, which carry the inference switch), the result format asked for, the
planner switch, and the data version, which :meth:`ResultCache.clear` moves on at each write. A result computed
while a write landed is not kept. The cached value is the serialised body itself, so a hit is byte-identical. A
query that calls another endpoint (``SERVICE``) is never kept: that endpoint's data changes without a write here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from kgraph.sparql.evaluate import QueryRequest
from kgraph.sparql.guard import calls_service
from kgraph.sparql.planner import normalize

ENTRY_OVERHEAD = 256
"""Bytes counted for each entry beyond its body and key: the dictionary slot and the objects around it."""


@dataclass(frozen=True)
class CachedResult:
    """A serialised result and its Content-Type."""

    body: bytes
    media_type: str


class ResultCache:
    """Least-recently-used results up to ``max_bytes``; thread-safe. ``max_bytes`` 0 keeps nothing."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self.version = 0
        self.size = 0
        self._entries: OrderedDict[tuple, CachedResult] = OrderedDict()
        self._lock = threading.Lock()

    def key(self, request: QueryRequest, infer: bool) -> tuple | None:
        """What the answer to ``request`` depends on, the current data version included; None when it depends on
        another endpoint too (``SERVICE``), so it is neither looked up nor kept."""
        if calls_service(request.sparql):
            return None
        with self._lock:
            version = self.version
        graphs = (_maybe_tuple(request.default_graph), _maybe_tuple(request.named_graphs))
        return (normalize(request.sparql), graphs, infer, request.accept, request.format, request.plan, version)

    def get(self, key: tuple | None) -> CachedResult | None:
        """The cached result for ``key`` (counted as a hit), or None (a miss)."""
        with self._lock:
            found = self._entries.get(key) if key is not None else None
            if key is None or found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple | None, result: CachedResult) -> None:
        """Keep a result, evicting the least recently used ones to stay within the bound; a result larger than the
        bound, computed before the last write, or without a key, is not kept."""
        if key is None:
            return
        cost = _cost(key, result)
        with self._lock:
            if cost > self.max_bytes or key[-1] != self.version or key in self._entries:
                return
            self._entries[key] = result
            self.size += cost
            while self.size > self.max_bytes:
                old_key, old = self._entries.popitem(last=False)
                self.size -= _cost(old_key, old)

    def clear(self) -> None:
        """Forget every result: the data changed (results computed meanwhile are not kept either)."""
        with self._lock:
            self._entries.clear()
            self.size = 0
            self.version += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _maybe_tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return tuple(values) if values is not None else None


def _cost(key: tuple, result: CachedResult) -> int:
    return len(result.body) + len(key[0]) + ENTRY_OVERHEAD
