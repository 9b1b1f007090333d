"""Inference: the OWL 2 RL closure and the domain rules, alternated until nothing new appears.

The result lives in its own named graph (``INFERRED_GRAPH``), apart from the asserted graphs, so
that a query can be answered with or without inference and a write can be re-inferred by replacing
that one graph.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kgraph.config import GRAPH_NS, INFERRED_GRAPH
from kgraph.infer.closure import (
    OwlRlReasoner,
    is_schema_graph,
    uses_vocabulary,
    vocabulary,
)
from kgraph.infer.consistency import Inconsistency, find_inconsistencies, owlrl_inconsistencies
from kgraph.infer.rules import Rule, apply_rules, load_rules
from kgraph.store import Store

PENDING_GRAPH = GRAPH_NS + "inferred-pending"
"""Where inferred triples gather while inference runs, for the rules to see; emptied after."""

MAX_ROUNDS = 50
"""Rounds before giving up: a rule that keeps producing new triples is a bug in the rule."""


@dataclass(frozen=True)
class InferenceReport:
    """What one inference run did: triples inferred, contradictions found, time taken."""

    added: int
    inconsistencies: list[Inconsistency] = field(default_factory=list)
    seconds: float = 0.0
    reasoned_graphs: list[str] = field(default_factory=list)
    """The asserted graphs that went through the OWL 2 RL closure (the rest: rules only)."""


def asserted_graphs(store: Store) -> list[str]:
    """Every named graph that holds asserted triples (all but the inferred ones)."""
    return [g for g in store.graph_names() if g not in (INFERRED_GRAPH, PENDING_GRAPH)]


def run_inference(store: Store, *, rules_dir: Path) -> InferenceReport:
    """Replace the inferred graph with the OWL 2 RL closure and the rules' conclusions."""
    started = time.perf_counter()
    rules = load_rules(rules_dir)
    graphs = asserted_graphs(store)
    reasoned = _graphs_to_reason_over(store, graphs)
    reasoner = OwlRlReasoner(q.triple for g in reasoned for q in store.quads(graph=g))
    store.clear_graph(PENDING_GRAPH)
    inferred: set[ox.Triple] = set()
    for round_number in range(MAX_ROUNDS):
        derived = _rules_to_fixpoint(store, rules, graphs, inferred)
        if round_number and not reasoner.triggers(derived):
            break  # the closure cannot grow: nothing new for the rules either
        reasoner.add(derived)
        closed = _new(store, reasoner.close(), inferred)
        if not closed:
            break
        _keep(store, closed, inferred)
    else:
        raise RuntimeError(f"inference did not reach a fixpoint in {MAX_ROUNDS} rounds")
    store.replace_graph(INFERRED_GRAPH, (ox.Quad(*t, ox.NamedNode(INFERRED_GRAPH)) for t in inferred))
    store.clear_graph(PENDING_GRAPH)
    inconsistencies = find_inconsistencies(store, [*graphs, INFERRED_GRAPH])
    inconsistencies += owlrl_inconsistencies(reasoner.errors)
    return InferenceReport(
        added=len(inferred),
        inconsistencies=inconsistencies,
        seconds=time.perf_counter() - started,
        reasoned_graphs=reasoned,
    )


def _rules_to_fixpoint(store: Store, rules: list[Rule], graphs: list[str], inferred: set[ox.Triple]) -> set[ox.Triple]:
    """Apply the rules until they conclude nothing new (cheap: pyoxigraph evaluates them)."""
    derived: set[ox.Triple] = set()
    for _ in range(MAX_ROUNDS):
        new = _new(store, apply_rules(store, rules, [*graphs, PENDING_GRAPH]), inferred)
        if not new:
            return derived
        _keep(store, new, inferred)
        derived |= new
    raise RuntimeError(f"the rules did not reach a fixpoint in {MAX_ROUNDS} passes")


def _graphs_to_reason_over(store: Store, graphs: list[str]) -> list[str]:
    """The ontology graphs and the data graphs using their terms (others skip the closure)."""
    schema = [g for g in graphs if is_schema_graph(store, g)]
    terms = vocabulary(store, schema)
    return [g for g in graphs if g in schema or uses_vocabulary(store, g, terms)]


def _new(store: Store, triples: Iterable[ox.Triple], inferred: set[ox.Triple]) -> set[ox.Triple]:
    """The triples neither inferred already nor asserted in any graph."""
    return {t for t in triples if t not in inferred and not _asserted(store, t)}


def _asserted(store: Store, triple: ox.Triple) -> bool:
    inferred_graphs = {ox.NamedNode(INFERRED_GRAPH), ox.NamedNode(PENDING_GRAPH)}
    return any(
        q.graph_name not in inferred_graphs for q in store.quads(triple.subject, triple.predicate, triple.object)
    )


def _keep(store: Store, triples: set[ox.Triple], inferred: set[ox.Triple]) -> None:
    inferred.update(triples)
    store.add(ox.Quad(*t, ox.NamedNode(PENDING_GRAPH)) for t in triples)
