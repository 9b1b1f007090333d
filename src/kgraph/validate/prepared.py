"""rdflib's SPARQL processor with each query parsed once: pySHACL asks the same SPARQL constraint for every node.

pySHACL evaluates a shape's ``sh:sparql`` constraint as a query string, once per focus node, and rdflib parses the
string every time (pyparsing: about 0.15 s a query, 60 parses when a write touches a few places: seconds of a write
spent parsing the same five queries). This processor keeps the translated query for each (string, namespaces,
base) and evaluates it with the call's bindings, as rdflib's own prepared queries are evaluated. It is registered
as rdflib's ``sparql`` processor plugin (rdflib's plugin registry, the way to replace one) by
:mod:`kgraph.validate.shacl`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.processor import SPARQLProcessor
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Identifier

CACHED_QUERIES = 256
"""Distinct query strings kept: the shapes' constraints and the rules' bodies are a few dozen."""


class PreparedSPARQLProcessor(SPARQLProcessor):
    """rdflib's processor, parsing and translating each distinct query string once."""

    def query(  # type: ignore[override]
        self,
        strOrQuery: str | Query,  # rdflib's parameter names
        initBindings: Mapping[str, Identifier] | None = None,
        initNs: Mapping[str, Any] | None = None,
        base: str | None = None,
        DEBUG: bool = False,
    ) -> Mapping[str, Any]:
        """Evaluate the query, translated once per string, namespaces and base."""
        if isinstance(strOrQuery, str):
            strOrQuery = prepared_query(strOrQuery, tuple(sorted((initNs or {}).items())), base)
        return super().query(strOrQuery, initBindings, None, base, DEBUG)


@lru_cache(maxsize=CACHED_QUERIES)
def prepared_query(text: str, namespaces: tuple[tuple[str, Any], ...] = (), base: str | None = None) -> Query:
    """A SPARQL query parsed and translated by rdflib, once per text, namespaces and base."""
    return translateQuery(parseQuery(text), base, dict(namespaces))
