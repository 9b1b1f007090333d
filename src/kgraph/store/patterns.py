"""The triple patterns a query can match, reduced to their constants: which graphs could change its answer.

A graph of the store that holds no triple matching any of a query's patterns adds nothing to any of its solutions,
whether it is in the default graph or not (its triples are never matched, and a pattern's solutions only ever come
from matched triples). Over Virtuoso this lets a query of "every graph but a few" be sent against Virtuoso's own
default graph (the union of every graph) without excluding the few that cannot matter, Virtuoso's system graphs
among them: Virtuoso 7.2 plans a query differently once graphs are excluded or listed, and some of those plans are
wrong (a ``+`` path over three excluded graphs or more: no rows; issue 16).

A probe is one pattern's subject, predicate and object in SPARQL syntax, None where a variable or a blank node
stands (a path step: its predicate only). The analysis is the one of rdflib's parser (an algebra, which pyoxigraph
does not expose), cached per query text. It gives up (None) where the argument above fails or is not shown:

- a path that can match zero steps (``*``, ``?``) between two variables matches every term of the graph to
  itself, triples or not; a negated property set matches any predicate but a few (both: no probe says it);
- ``GRAPH`` (the named graphs are another dataset), ``SERVICE``, ``DESCRIBE`` (its answer is every triple about a
  resource, not a pattern's), relative IRIs, and anything rdflib does not parse.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import BNode, Literal, Node, URIRef, Variable

Probe = tuple[str | None, str | None, str | None]
"""A pattern's subject, predicate and object as SPARQL terms, None where anything matches."""

_GIVE_UP = frozenset({"Graph", "ServiceGraphPattern", "DescribeQuery"})
"""Algebra nodes whose patterns read something other than the default graph's triples."""


class _Unknown(Exception):
    """The query has something the analysis does not vouch for."""


@functools.lru_cache(maxsize=1024)
def query_probes(sparql: str) -> frozenset[Probe] | None:
    """Every pattern of the query (its WHERE clause, subqueries, OPTIONAL, MINUS, EXISTS) as a probe; None when
    the query's answer may depend on a graph none of its probes matches (see the module's docstring)."""
    try:
        algebra = translateQuery(parseQuery(sparql)).algebra
    except Exception:  # rdflib raises parser errors of many types: the query is then not analysed
        return None
    try:
        return frozenset(_probes(algebra))
    except _Unknown:
        return None


def _probes(node: object) -> Iterator[Probe]:
    """The probes of the patterns anywhere under an algebra node (expressions included: EXISTS holds patterns)."""
    if isinstance(node, CompValue):
        if node.name in _GIVE_UP:
            raise _Unknown(node.name)
        for key, value in node.items():
            if key == "triples" and node.name in ("BGP", "TriplesBlock"):
                for triple in value:
                    yield from _triple_probes(triple)
            elif key != "template":  # a CONSTRUCT template is written, not matched
                yield from _probes(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _probes(item)


def _triple_probes(triple: object) -> Iterator[Probe]:
    """The probes of one triple pattern: itself, or one per IRI of its path."""
    if not isinstance(triple, list | tuple) or len(triple) != 3:
        raise _Unknown("a triple pattern rdflib left unexpanded")
    subject, verb, obj = triple
    if isinstance(subject, Path) or isinstance(obj, Path):
        raise _Unknown("a path in a term's place")
    if not isinstance(verb, Path):
        yield _term(subject), _term(verb), _term(obj)
        return
    subject, obj = _term(subject), _term(obj)
    if subject is None and obj is None and _may_be_empty(verb):
        raise _Unknown("a path matching zero steps between two variables")
    for iri in _path_iris(verb):
        yield (None, iri, None)


def _term(term: object) -> str | None:
    """A constant as SPARQL, None for a variable or a blank node (which matches like one)."""
    if isinstance(term, Variable | BNode):
        return None
    if isinstance(term, URIRef):
        if ":" not in term:
            raise _Unknown("a relative IRI")
        return term.n3()
    if isinstance(term, Literal):
        return term.n3()
    if isinstance(term, Node):
        raise _Unknown(f"a term rdflib reads as {type(term).__name__}")
    raise _Unknown("a pattern rdflib left unexpanded")


def _path_iris(path: Path | Node) -> Iterator[str]:
    """The predicates a path's steps match."""
    if isinstance(path, URIRef):
        yield _term(path) or ""
    elif isinstance(path, SequencePath | AlternativePath):
        for arg in path.args:
            yield from _path_iris(arg)
    elif isinstance(path, InvPath | MulPath):
        yield from _path_iris(path.path if isinstance(path, MulPath) else path.arg)
    elif isinstance(path, NegatedPath):
        raise _Unknown("a negated property set matches any predicate but a few")
    else:
        raise _Unknown(f"a path rdflib reads as {type(path).__name__}")


def _may_be_empty(path: Path | Node) -> bool:
    """Whether a path may match zero steps (then every term of the graph matches itself)."""
    if isinstance(path, MulPath):
        return path.mod in ("*", "?") or _may_be_empty(path.path)
    if isinstance(path, SequencePath):
        return all(_may_be_empty(arg) for arg in path.args)
    if isinstance(path, AlternativePath):
        return any(_may_be_empty(arg) for arg in path.args)
    if isinstance(path, InvPath):
        return _may_be_empty(path.arg)
    return False
