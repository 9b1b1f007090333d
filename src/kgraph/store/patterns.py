"""The triple patterns a query can match, reduced to their constants: which graphs could change its answer.

A graph of the store that holds no triple matching any of a query's patterns adds nothing to any of its solutions,
whether it is in the default graph or not (its triples are never matched, and a pattern's solutions only ever come
from matched triples). Over Virtuoso this lets a query of "every graph but a few" be sent against Virtuoso's own
default graph (the union of every graph) without excluding the few that cannot matter, Virtuoso's system graphs
among them: Virtuoso 7.2 plans a query differently once graphs are excluded or listed, and some of those plans are
wrong (a ``+`` path over three excluded graphs or more: no rows; issue 16).

A probe is one pattern in SPARQL syntax (a path step: a triple with its predicate), with another pattern of its
basic graph pattern that shares a variable with it, when there is one: a graph whose triples match the first but
whose values match the second nowhere adds nothing either (Virtuoso's system graphs type their own nodes with
``rdf:type``, which a query's ``?event a ?type . ?event kg:attacker ?unit`` can never join). The analysis is the one
of rdflib's parser (an algebra, which pyoxigraph does not expose), cached per query text. It gives up (None) where
the argument above fails or is not shown:

- a path that can match zero steps (``*``, ``?``) between two variables matches every term of the graph to
  itself, triples or not; a negated property set matches any predicate but a few (both: no probe says it);
- ``GRAPH`` (the named graphs are another dataset), ``SERVICE``, ``DESCRIBE`` (its answer is every triple about a
  resource, not a pattern's), relative IRIs, and anything rdflib does not parse.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Sequence

from rdflib.namespace import RDF
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import BNode, Literal, Node, URIRef, Variable

Probe = tuple[str, str]
"""A pattern in SPARQL syntax, and another pattern of the same basic graph pattern sharing a variable with it ("" for
none): a triple of a graph matters to the query only if it matches the first and its values match the second
somewhere (both are needed for any solution of that basic graph pattern)."""

_GIVE_UP = frozenset({"Graph", "ServiceGraphPattern", "DescribeQuery"})
"""Algebra nodes whose patterns read something other than the default graph's triples."""


class _Unknown(Exception):
    """The query has something the analysis does not vouch for."""


def query_probes(sparql: str, *, needed: bool = True) -> frozenset[Probe] | None:
    """Every pattern of the query (its WHERE clause, subqueries, OPTIONAL, MINUS, EXISTS) as a probe; None when
    the query's answer may depend on a graph none of its probes matches (see the module's docstring).

    rdflib takes 5 to 30 ms to parse a query, more than Virtuoso takes to answer many: unless the answer is
    ``needed`` (to answer it right), a query is analysed the second time it is asked, not the first (None then)."""
    if not needed:
        with _SEEN_LOCK:
            first = sparql not in _SEEN
            _SEEN[sparql] = None
            if len(_SEEN) > SEEN:
                del _SEEN[next(iter(_SEEN))]
        if first:
            return None
    return _analysed(sparql)


SEEN = 4096
"""Query texts remembered as asked once (the oldest forgotten first)."""

_SEEN: dict[str, None] = {}
_SEEN_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1024)
def _analysed(sparql: str) -> frozenset[Probe] | None:
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
                yield from _block_probes(value)
            elif key != "template":  # a CONSTRUCT template is written, not matched
                yield from _probes(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _probes(item)


def _block_probes(triples: object) -> Iterator[Probe]:
    """The probes of a basic graph pattern's triples: each triple with its first companion (a triple that is no
    path, with a constant predicate, sharing a variable with it), each path step alone."""
    if not isinstance(triples, list | tuple) or not all(isinstance(t, list | tuple) and len(t) == 3 for t in triples):
        raise _Unknown("a triple pattern rdflib left unexpanded")
    plain = [t for t in triples if not isinstance(t[1], Path)]
    for triple in triples:
        subject, verb, obj = triple
        if isinstance(subject, Path) or isinstance(obj, Path):
            raise _Unknown("a path in a term's place")
        if not isinstance(verb, Path):
            companion = next((c for c in plain if c is not triple and _joins(triple, c)), None)
            yield _probe(triple, companion)
            continue
        if _term(subject) is None and _term(obj) is None and _may_be_empty(verb):
            raise _Unknown("a path matching zero steps between two variables")
        for iri in _path_iris(verb):
            yield f"?_s {iri} ?_o", ""


def _joins(triple: Sequence[object], companion: Sequence[object]) -> bool:
    """Whether ``companion`` has a constant predicate and shares a variable (or a blank node) with ``triple``."""
    shared = {t for t in triple if isinstance(t, Variable | BNode)} & set(companion)
    return bool(shared) and isinstance(companion[1], URIRef)


def _probe(triple: Sequence[object], companion: Sequence[object] | None) -> Probe:
    """The probe of a triple and its companion, both made general so that queries share probes (and the answers
    kept for them): variables named by their order, and a constant kept only as a predicate or a class (the object
    of ``rdf:type``); any other stands for a variable of its own. A more general probe matches more, so it can
    only exclude more graphs, never fewer."""
    names: dict[object, str] = {}

    def written(pattern: Sequence[object]) -> str:
        parts = []
        for index, term in enumerate(pattern):
            kept = index == 1 or (index == 2 and pattern[1] == RDF.type)
            constant = _term(term) if kept or isinstance(term, Variable | BNode) else None
            if constant is None:
                key = term if isinstance(term, Variable | BNode) else object()
                constant = names.setdefault(key, f"?v{len(names)}")
            parts.append(constant)
        return " ".join(parts)

    return written(triple), "" if companion is None else written(companion)


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
