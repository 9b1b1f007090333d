"""Inference: the OWL 2 RL closure and the domain rules, alternated until nothing new appears.

The closure is computed by the native engine (:mod:`kgraph.infer.native`) or by owlrl, its reference
(:mod:`kgraph.infer.closure`), as the ``reasoner`` setting says; both conclude the same triples.

The result lives in its own named graph (``INFERRED_GRAPH``), apart from the asserted graphs, so
that a query can be answered with or without inference and a write can be re-inferred by replacing
that one graph.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from kgraph.config import INFERRED_GRAPH, ReasonerName
from kgraph.infer.budget import Budget
from kgraph.infer.closure import (
    OwlRlReasoner,
    is_schema_graph,
    uses_vocabulary,
    vocabulary,
)
from kgraph.infer.consistency import Inconsistency, find_inconsistencies, owlrl_inconsistencies
from kgraph.infer.native import NativeReasoner, compile_schema, load_owl_rl_rules
from kgraph.infer.rules import Rule, apply_rules, load_rules
from kgraph.infer.terms import NTriple, parse_ntriples
from kgraph.store import Store

MAX_ROUNDS = 50
"""Rounds before giving up: a rule that keeps producing new triples is a bug in the rule."""

REASONERS = tuple(ReasonerName)
"""The OWL 2 RL engines: ours (fast), and owlrl (the reference it is tested against)."""


@dataclass(frozen=True)
class InferenceReport:
    """What one inference run did: triples inferred, contradictions found, time taken."""

    added: int
    inconsistencies: list[Inconsistency] = field(default_factory=list)
    seconds: float = 0.0
    reasoned_graphs: list[str] = field(default_factory=list)
    """The asserted graphs that went through the OWL 2 RL closure (the rest: rules only)."""
    engine: ReasonerName = ReasonerName.NATIVE
    """The OWL 2 RL engine that ran (owlrl when native was asked for but cannot reason over the graphs)."""
    fallback: str = ""
    """Why owlrl ran when native was asked for: the constructs native does not implement; empty otherwise."""
    in_store: bool = False
    """Whether the rules ran in a remote store as SPARQL updates (:mod:`kgraph.infer.in_store`), not in memory."""

    @property
    def reasoner(self) -> str:
        """The engine that ran, for people: its name, and why owlrl ran when it stood in for native, or where."""
        if self.fallback:
            return f"{self.engine} ({self.fallback})"
        return f"{self.engine} (in the store)" if self.in_store else str(self.engine)


class Reasoner(Protocol):
    """An OWL 2 RL closure kept up to date as the project's rules add triples to it."""

    @property
    def errors(self) -> list[str]:
        """What the closure found wrong, as sentences."""

    def triggers(self, triples: Iterable[NTriple]) -> bool:
        """Whether adding these triples can make the closure grow."""

    def add(self, triples: Iterable[NTriple]) -> None:
        """Add triples concluded by the rules."""

    def close(self) -> Iterable[NTriple]:
        """The meaningful triples the closure adds, none of them asserted in the graphs reasoned over."""


def asserted_graphs(store: Store, names: Iterable[str] | None = None) -> list[str]:
    """Every named graph that holds asserted triples (all but the inferred ones), of the store's graph ``names`` when
    they are known already (asking a remote store costs a request)."""
    return [g for g in (store.graph_names() if names is None else names) if g != INFERRED_GRAPH]


def run_inference(
    store: Store, *, rules_dir: Path, reasoner: ReasonerName = ReasonerName.NATIVE, budget: Budget | None = None
) -> InferenceReport:
    """Replace the inferred graph with the OWL 2 RL closure and the rules' conclusions.

    ``reasoner`` is the engine asked for (the ``reasoner`` setting, passed down by the caller: nothing here reads
    the environment); native hands the
    closure to owlrl when the graphs use a construct it does not implement, and the report says so. Past the
    ``budget`` (none by default) it raises :class:`~kgraph.infer.budget.BudgetExceeded`, the inferred graph half made.
    """
    started = time.perf_counter()
    budget = budget or Budget()
    rules = load_rules(rules_dir)
    store.clear_graph(INFERRED_GRAPH)  # the rules must not see the previous run's conclusions
    graphs = asserted_graphs(store)
    everything = dataset(store, graphs, graphs)
    reasoned = _graphs_to_reason_over(store, graphs)
    engine, (ran, fallback) = open_reasoner(
        store, dataset(store, reasoned, graphs), ReasonerName(reasoner or ReasonerName.NATIVE), budget
    )
    inferred: set[NTriple] = set()
    for round_number in range(MAX_ROUNDS):
        derived = _rules_to_fixpoint(store, rules, everything, inferred, budget)
        if round_number and not engine.triggers(derived):
            break  # the closure cannot grow: nothing new for the rules either
        engine.add(derived)
        closed = [t for t in engine.close() if t not in inferred]
        if not closed:
            break
        _keep(store, closed, inferred, budget)
    else:
        raise RuntimeError(f"inference did not reach a fixpoint in {MAX_ROUNDS} rounds")
    inconsistencies = find_inconsistencies(store, everything and [*graphs, INFERRED_GRAPH])
    inconsistencies += owlrl_inconsistencies(engine.errors)
    return InferenceReport(
        added=len(inferred),
        inconsistencies=inconsistencies,
        seconds=time.perf_counter() - started,
        reasoned_graphs=reasoned,
        engine=ran,
        fallback=fallback,
    )


def dataset(store: Store, graphs: list[str], names: list[str]) -> list[str] | None:
    """The graphs to query as one default graph: None (the union of the store) when that is the same.

    ``names`` are the store's named graphs. pyoxigraph evaluates a query over its union graph several times faster
    than over a list of graphs.
    """
    if set(graphs) == set(names) and not store.query("ASK { ?s ?p ?o }", default_graph=[]):
        return None
    return graphs


def open_reasoner(
    store: Store, graphs: list[str] | None, name: ReasonerName, budget: Budget | None = None
) -> tuple[Reasoner, tuple[ReasonerName, str]]:
    """The named engine over the graphs (None: all), the engine that runs and why, when that is owlrl standing in
    for native (the constructs native does not implement)."""
    if name is ReasonerName.NATIVE:
        schema = compile_schema(store, graphs, load_owl_rl_rules())
        if not schema.unsupported:
            return NativeReasoner(store, graphs, schema, budget), (name, "")
        return _OwlRl(store, graphs, budget), (
            ReasonerName.OWLRL,
            "native does not implement " + ", ".join(sorted(schema.unsupported)),
        )
    return _OwlRl(store, graphs, budget), (name, "")


class _OwlRl:
    """owlrl behind the :class:`Reasoner` protocol: its conclusions as N-Triples terms, asserted ones left out."""

    def __init__(self, store: Store, graphs: list[str] | None, budget: Budget | None = None) -> None:
        self.store = store
        names = store.graph_names() if graphs is None else graphs
        self.reasoner = OwlRlReasoner((q.triple for g in names for q in store.quads(graph=g)), budget)

    @property
    def errors(self) -> list[str]:
        return self.reasoner.errors

    def triggers(self, triples: Iterable[NTriple]) -> bool:
        return self.reasoner.triggers(parse_ntriples(triples))

    def add(self, triples: Iterable[NTriple]) -> None:
        self.reasoner.add(parse_ntriples(triples))

    def close(self) -> list[NTriple]:
        return [_strings(t) for t in self.reasoner.close() if not _asserted(self.store, t)]


def _rules_to_fixpoint(
    store: Store, rules: list[Rule], graphs: list[str] | None, inferred: set[NTriple], budget: Budget
) -> list[NTriple]:
    """Apply the rules until they conclude nothing new (cheap: pyoxigraph evaluates them)."""
    derived: list[NTriple] = []
    dataset = graphs and [*graphs, INFERRED_GRAPH]
    for _ in range(MAX_ROUNDS):
        budget.check()
        candidates = [t for t in apply_rules(store, rules, dataset) if t not in inferred]
        new = [
            t for t, parsed in zip(candidates, parse_ntriples(candidates), strict=True) if not _asserted(store, parsed)
        ]
        if not new:
            return derived
        _keep(store, new, inferred, budget)
        derived.extend(new)
    raise RuntimeError(f"the rules did not reach a fixpoint in {MAX_ROUNDS} passes")


def _graphs_to_reason_over(store: Store, graphs: list[str]) -> list[str]:
    """The ontology graphs and the data graphs using their terms (others skip the closure)."""
    schema = [g for g in graphs if is_schema_graph(store, g)]
    terms = vocabulary(store, schema)
    return [g for g in graphs if g in schema or uses_vocabulary(store, g, terms)]


def _asserted(store: Store, triple: ox.Triple) -> bool:
    inferred_graph = ox.NamedNode(INFERRED_GRAPH)
    return any(q.graph_name != inferred_graph for q in store.quads(triple.subject, triple.predicate, triple.object))


def _keep(store: Store, triples: list[NTriple], inferred: set[NTriple], budget: Budget) -> None:
    """Remember the triples and write them to the inferred graph, as N-Quads the store parses in bulk.

    pyoxigraph's own loader is three times faster than adding parsed quads, but it renames blank nodes: triples
    with one take the slower way. They go in sorted, so each subject's are added together: the in-memory store
    lays quads out in the order they come, and star joins over 1M triples ran a third faster (bench/README.md).
    """
    budget.spend(len(triples))
    inferred.update(triples)
    graph = f"<{INFERRED_GRAPH}>"
    if store.loads_natively:
        named = sorted(t for t in triples if not _has_blank_node(t))
        if named:
            nquads = io.BytesIO(_nquads(named, graph))
            store.load_file(nquads, ox.RdfFormat.N_QUADS, base_iri=None, graph=INFERRED_GRAPH)
        triples = [t for t in triples if _has_blank_node(t)]
    if triples:
        store.add(ox.parse(input=_nquads(triples, graph), format=ox.RdfFormat.N_QUADS))


def _has_blank_node(triple: NTriple) -> bool:
    return triple[0].startswith("_:") or triple[2].startswith("_:")


def _nquads(triples: list[NTriple], graph: str) -> bytes:
    return "".join(f"{s} {p} {o} {graph} .\n" for s, p, o in triples).encode("utf-8")


def _strings(triple: ox.Triple) -> NTriple:
    return str(triple.subject), str(triple.predicate), str(triple.object)
