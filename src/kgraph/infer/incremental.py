"""Inference for a write that only adds triples: the closure extended from the delta, not recomputed.

Semi-naive evaluation: only the added triples, and what they lead to, are matched. The native OWL 2 RL engine starts
from the closure already in the store (the asserted triples it reasons over and the inferred graph) and matches the
delta against it. A domain rule (``rules/*.rq``) is evaluated again only when the delta touches a predicate its
WHERE clause reads; it is monotone for the delta unless the delta touches what it reads under ``NOT EXISTS``,
``MINUS``, ``OPTIONAL`` or an aggregate, where an added triple can take a conclusion away. Then, and whenever the
delta is beyond this (a remove, owlrl, a graph that starts using the ontology's terms), :func:`infer_additions`
answers None and the caller recomputes the whole closure (:func:`kgraph.infer.engine.run_inference`), so the result
never depends on which way it was computed. ``tests/infer/test_incremental.py`` checks that on random sequences of
writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kgraph.config import INFERRED_GRAPH, ReasonerName
from kgraph.infer.budget import Budget
from kgraph.infer.closure import is_schema_graph, uses_vocabulary, vocabulary
from kgraph.infer.consistency import find_inconsistencies, owlrl_inconsistencies
from kgraph.infer.engine import (
    MAX_ROUNDS,
    InferenceReport,
    _asserted,
    _keep,
    asserted_graphs,
    dataset,
)
from kgraph.infer.native import NativeReasoner, compile_schema, load_owl_rl_rules
from kgraph.infer.rules import Rule, _split_construct, apply_rules, load_rules
from kgraph.infer.terms import PREFIXES, NTriple, parse_ntriples
from kgraph.sparql.guard import significant_tokens as sparql_tokens
from kgraph.store import Store

_RDF_TYPE = PREFIXES["rdf"] + "type"
_NEGATING = ("MINUS", "OPTIONAL")
_AGGREGATES = frozenset({"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT", "GROUP"})


@dataclass(frozen=True)
class RuleReach:
    """The predicates a rule's WHERE clause reads (None: any, through a variable), and those it reads where an added
    triple can take a conclusion away (under NOT EXISTS, MINUS, OPTIONAL, or anywhere in a rule that aggregates)."""

    reads: frozenset[str] | None
    negated: frozenset[str] | None


def rule_reach(rule: Rule) -> RuleReach:
    """What a rule reads, from its tokens (IRIs expanded through PREFIX, ``a`` as ``rdf:type``)."""
    reads: set[str] = set()
    negated: set[str] = set()
    any_read = any_negated = aggregates = False
    depth, negated_from, previous = 0, None, None
    prologue, where = _split_construct(rule.query)
    pending_negation = False
    for token in sparql_tokens(prologue + where):
        word = token.raw.upper() if token.kind == "word" else ""
        if word in _AGGREGATES:
            aggregates = True
        if word in _NEGATING or (word == "EXISTS" and previous == "NOT"):
            pending_negation = True
        if token.kind == "other" and token.raw == "{":
            depth += 1
            if pending_negation and negated_from is None:
                negated_from, pending_negation = depth, False
        elif token.kind == "other" and token.raw == "}":
            if negated_from == depth:
                negated_from = None
            depth -= 1
        iri = _RDF_TYPE if token.kind == "word" and token.raw == "a" else token.text
        if token.kind in ("iri", "pname") or (token.kind == "word" and token.raw == "a"):
            (negated if negated_from else reads).add(iri)
        if token.kind == "var" and previous == "var":
            any_read = True
            any_negated = any_negated or negated_from is not None
        previous = word or token.kind
    if aggregates:
        negated |= reads
        any_negated = any_negated or any_read
    reads |= negated
    return RuleReach(None if any_read else frozenset(reads), None if any_negated else frozenset(negated))


def touches(iris: frozenset[str] | None, triples: Iterable[NTriple]) -> bool:
    """Whether any triple's predicate is among the IRIs (None: any predicate)."""
    if iris is None:
        return True
    return any(p[1:-1] in iris for _, p, _ in triples)


def infer_additions(
    store: Store,
    added: list[ox.Quad],
    previous: InferenceReport,
    *,
    rules_dir: Path,
    reasoner: ReasonerName,
    budget: Budget | None = None,
) -> InferenceReport | None:
    """Extend the inferred graph of a store that already holds ``added`` and the closure from before them (an added
    triple that was inferred is now asserted: it leaves the inferred graph, as a full run would leave it out).

    None when only a full recomputation is right (see the module's docstring); the store is then unchanged.
    """
    budget = budget or Budget()
    delta = [_strings(q.triple) for q in added]
    rules = load_rules(rules_dir)
    reaches = [rule_reach(rule) for rule in rules]
    if reasoner is not ReasonerName.NATIVE or any(touches(r.negated, delta) for r in reaches):
        return None
    graphs = asserted_graphs(store)
    reasoned = _reasoned(store, graphs, previous, added)
    if reasoned is None:
        return None
    closed = dataset(store, [*reasoned, INFERRED_GRAPH], [*graphs, INFERRED_GRAPH])
    schema = compile_schema(store, closed, load_owl_rl_rules())
    if schema.unsupported:
        return None
    asserted_now = [q for q in added if _in_inferred(store, _strings(q.triple))]
    store.remove(ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(INFERRED_GRAPH)) for q in asserted_now)
    engine = NativeReasoner(store, closed, schema, budget, closed_already=True)
    everything = dataset(store, graphs, graphs)
    inferred: set[NTriple] = set()
    reasoned_names = {ox.NamedNode(g) for g in reasoned}
    new = delta
    engine.add((_strings(q.triple) for q in added if q.graph_name in reasoned_names), known_too=True)
    for _ in range(MAX_ROUNDS):
        derived = _touched_rules_to_fixpoint(store, rules, reaches, everything, new, inferred, budget)
        engine.add(derived)
        closed_new = [t for t in engine.close() if t not in inferred and not _in_inferred(store, t)]
        _keep(store, closed_new, inferred, budget)
        new = [*derived, *closed_new]
        if not closed_new:
            break
        if any(touches(r.negated, closed_new) for r in reaches):
            return None
    else:
        raise RuntimeError(f"inference did not reach a fixpoint in {MAX_ROUNDS} rounds")
    inconsistencies = find_inconsistencies(store, everything and [*graphs, INFERRED_GRAPH])
    return InferenceReport(
        added=previous.added - len({q.triple for q in asserted_now}) + len(inferred),
        inconsistencies=inconsistencies + owlrl_inconsistencies(engine.errors),
        seconds=budget.elapsed(),
        reasoned_graphs=reasoned,
        engine=ReasonerName.NATIVE,
    )


def _reasoned(store: Store, graphs: list[str], previous: InferenceReport, added: list[ox.Quad]) -> list[str] | None:
    """The graphs the closure covers: as before, and the graphs the write creates that use the ontology's terms (the
    delta holds all of them); None when a graph that was there starts to need it (its old triples were never
    reasoned over)."""
    before = set(previous.reasoned_graphs)
    if any(not isinstance(q.graph_name, ox.NamedNode) for q in added):
        return None
    sizes = Counter(q.graph_name.value for q in added if isinstance(q.graph_name, ox.NamedNode))  # all are, above
    fresh = [g for g in sizes if g not in before and g in graphs]
    schema = [g for g in graphs if g in before and is_schema_graph(store, g)]
    terms = vocabulary(store, schema) if fresh else set()
    reasoned = set(before)
    for graph in fresh:
        if is_schema_graph(store, graph) or uses_vocabulary(store, graph, terms):
            if store.count(graph) != sizes[graph]:
                return None
            reasoned.add(graph)
    return [g for g in graphs if g in reasoned]


def _touched_rules_to_fixpoint(
    store: Store,
    rules: list[Rule],
    reaches: list[RuleReach],
    graphs: list[str] | None,
    new: list[NTriple],
    inferred: set[NTriple],
    budget: Budget,
) -> list[NTriple]:
    """Evaluate the rules the new triples touch, again for what their conclusions touch, until nothing is new."""
    derived: list[NTriple] = []
    scope = graphs and [*graphs, INFERRED_GRAPH]
    for _ in range(MAX_ROUNDS):
        budget.check()
        touched = [rule for rule, reach in zip(rules, reaches, strict=True) if touches(reach.reads, new)]
        if not touched:
            return derived
        candidates = [t for t in apply_rules(store, touched, scope) if t not in inferred]
        new = [
            t for t, parsed in zip(candidates, parse_ntriples(candidates), strict=True) if not _asserted(store, parsed)
        ]
        new = [t for t in new if not _in_inferred(store, t)]
        if not new:
            return derived
        _keep(store, new, inferred, budget)
        derived.extend(new)
    raise RuntimeError(f"the rules did not reach a fixpoint in {MAX_ROUNDS} passes")


def _in_inferred(store: Store, triple: NTriple) -> bool:
    [parsed] = parse_ntriples([triple])
    found = store.quads(parsed.subject, parsed.predicate, parsed.object, INFERRED_GRAPH)
    return next(iter(found), None) is not None


def _strings(triple: ox.Triple) -> NTriple:
    return str(triple.subject), str(triple.predicate), str(triple.object)
