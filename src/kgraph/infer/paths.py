"""Witnesses of SPARQL property paths: the triples that make a rule's path hold.

For ``?a kg:partOfForce*/kg:forceOf ?b`` an explanation shows (and explains in turn) every step the
path went through, not just its two ends.
"""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox
import rdflib
from rdflib.paths import AlternativePath, InvPath, MulPath, Path, SequencePath

from kgraph.store import Store

Node = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
"""A node a path reaches: an object may be an RDF 1.2 triple term."""
Reached = dict[Node, list[ox.Triple]]
"""Every node reachable from a start, with the triples of one (short) way to reach it."""

MAX_NODES = 10_000
"""How many nodes a ``*`` or ``+`` may visit before the search gives up (no witness then)."""


def witness(store: Store, start: Node, path: Path | rdflib.URIRef, end: Node) -> list[ox.Triple] | None:
    """The triples of one way from ``start`` to ``end`` along the path, or None if there is none."""
    return _reach(store, start, path).get(end)


def _reach(store: Store, start: Node, path: Path | rdflib.URIRef, forward: bool = True) -> Reached:
    """Nodes reachable from ``start`` along ``path`` (against it when not ``forward``: ``^`` flips the direction of
    whatever path it wraps, so ``^(p/q)`` walks ``q`` backwards, then ``p``)."""
    if isinstance(path, rdflib.URIRef):
        return _step(store, start, ox.NamedNode(str(path)), forward=forward)
    if isinstance(path, InvPath):
        return _reach(store, start, path.arg, not forward)
    if isinstance(path, SequencePath):
        return _sequence(store, start, path.args if forward else path.args[::-1], forward)
    if isinstance(path, AlternativePath):
        reached: Reached = {}
        for arg in path.args:
            for node, triples in _reach(store, start, arg, forward).items():
                reached.setdefault(node, triples)
        return reached
    if isinstance(path, MulPath):
        return _repeat(start, lambda node: _reach(store, node, path.path, forward), path.mod)
    return {}  # negated property sets: not replayed


def _step(store: Store, start: Node, predicate: ox.NamedNode, *, forward: bool) -> Reached:
    if isinstance(start, ox.Literal) and forward:
        return {}
    quads = store.quads(start, predicate, None) if forward else store.quads(None, predicate, start)
    reached: Reached = {}
    for quad in quads:
        reached.setdefault(quad.object if forward else quad.subject, [quad.triple])
    return reached


def _sequence(store: Store, start: Node, steps: list, forward: bool) -> Reached:
    frontier: Reached = {start: []}
    for step in steps:
        following: Reached = {}
        for node, triples in frontier.items():
            for reached, more in _reach(store, node, step, forward).items():
                following.setdefault(reached, triples + more)
        frontier = following
    return frontier


def _repeat(start: Node, step: Callable[[Node], Reached], mod: str) -> Reached:
    """``*`` (zero or more), ``+`` (one or more) or ``?`` (zero or one), breadth first."""
    reached: Reached = {start: []} if mod in ("*", "?") else {}
    frontier: Reached = {start: []}
    while frontier and len(reached) < MAX_NODES:
        following: Reached = {}
        for node, triples in frontier.items():
            for target, more in step(node).items():
                if target not in reached and target not in following:
                    following[target] = triples + more
        reached.update(following)
        if mod == "?":
            break
        frontier = following
    return reached
