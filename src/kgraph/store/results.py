"""Typed views of query results, for the type checker.

``Store.query`` is typed as answering any of the three result kinds, but which one it answers is decided by the
query's form (SELECT, ASK, CONSTRUCT), which lives in the query text where the types cannot see it.
"""

from __future__ import annotations

from typing import cast

import pyoxigraph as ox

from kgraph.store.base import QueryResult


def solutions(result: QueryResult) -> ox.QuerySolutions:
    """The result of a SELECT query, as its solutions: the caller wrote the SELECT, so it knows the kind."""
    return cast(ox.QuerySolutions, result)


def triples(result: QueryResult) -> ox.QueryTriples:
    """The result of a CONSTRUCT or DESCRIBE query, as its triples: the caller wrote the query, so it knows."""
    return cast(ox.QueryTriples, result)


def serialized(data: bytes | None) -> bytes:
    """What ``serialize`` answers without an output: pyoxigraph's stubs type it ``bytes | None`` (None is for when an
    output is given), so this says it is bytes."""
    return cast(bytes, data)
