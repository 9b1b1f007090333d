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


def ntriples(result: ox.QueryTriples) -> bytes:
    """The triples in N-Triples: pyoxigraph's stub types ``serialize`` without an output as ``bytes | None``, but it
    answers bytes whenever no output is given."""
    return cast(bytes, result.serialize(format=ox.RdfFormat.N_TRIPLES))
