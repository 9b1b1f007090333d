"""Inference for a write: the closure extended from what it adds and shrunk by what it removes, not recomputed.

Semi-naive evaluation: only the added triples, and what they lead to, are matched. The native OWL 2 RL engine starts
from the closure already in the store (the asserted triples it reasons over and the inferred graph) and matches the
delta against it. A domain rule (``rules/*.rq``) is evaluated again only when the delta touches a predicate its
WHERE clause reads; it is monotone for the delta unless the delta touches what it reads under ``NOT EXISTS``,
``MINUS``, ``OPTIONAL`` or an aggregate, where an added triple can take a conclusion away. Removed triples go by
DRed (:func:`infer_removals`): over-delete what they derive, re-derive what still holds. When the delta is beyond
this (owlrl, a graph that starts or stops using the ontology's terms...), both answer None and the caller
recomputes the whole closure (:func:`kgraph.infer.engine.run_inference`), so the result never depends on which way
it was computed. ``tests/infer/test_incremental.py`` checks that on random sequences of inserts and deletes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import Variable
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from kgraph.config import INFERRED_GRAPH, ReasonerName
from kgraph.infer.budget import Budget
from kgraph.infer.closure import ANNOTATIONS, is_schema_graph, uses_vocabulary, vocabulary
from kgraph.infer.consistency import Inconsistency, find_inconsistencies, owlrl_inconsistencies
from kgraph.infer.engine import (
    MAX_ROUNDS,
    InferenceReport,
    _asserted,
    _keep,
    asserted_graphs,
    dataset,
)
from kgraph.infer.native import (
    NativeReasoner,
    Schema,
    compile_schema,
    ill_typed,
    ill_typed_literals,
    is_meaningful,
    load_owl_rl_rules,
)
from kgraph.infer.rules import Rule, _split_construct, apply_rules, load_rules
from kgraph.infer.terms import PREFIXES, NTriple, parse_ntriples
from kgraph.sparql.guard import significant_tokens as sparql_tokens
from kgraph.store import Store

_RDF_TYPE = PREFIXES["rdf"] + "type"
_TYPE = f"<{_RDF_TYPE}>"
_NEGATING = ("MINUS", "OPTIONAL")
_REMOVED_GRAPH = INFERRED_GRAPH + "/removed"
"""Where a deletion's removed triples stay while what they derived is found (a graph of the candidate store only)."""
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
    any_read, any_negated = _variable_predicates(rule.query)
    aggregates = False
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
        if depth and (token.kind in ("iri", "pname") or (token.kind == "word" and token.raw == "a")):
            (negated if negated_from else reads).add(iri)
        previous = word or token.kind
    if aggregates:
        negated |= reads
        any_negated = any_negated or any_read
    reads |= negated
    return RuleReach(None if any_read else frozenset(reads), None if any_negated else frozenset(negated))


@lru_cache(maxsize=256)
def _variable_predicates(query: str) -> tuple[bool, bool]:
    """Whether the WHERE clause has a triple pattern whose predicate is a variable (it reads any predicate), and
    whether one is under negation (NOT EXISTS, MINUS, OPTIONAL); from rdflib's parse, once per rule text."""
    found: list[bool] = []
    _find_variable_predicates(prepareQuery(query).algebra["p"], False, found)
    return bool(found), any(found)


def _find_variable_predicates(node: object, negated: bool, found: list[bool]) -> None:
    """Append, for each triple pattern under the node with a variable predicate, whether it is under negation."""
    if isinstance(node, CompValue):
        for key, value in node.items():
            under = negated or node.name == "Builtin_NOTEXISTS" or (key == "p2" and node.name in ("Minus", "LeftJoin"))
            if key == "triples":
                found.extend(under for pattern in value if isinstance(pattern[1], Variable))
            elif key not in ("_vars", "PV"):
                _find_variable_predicates(value, under, found)
    elif isinstance(node, list | tuple):
        for item in node:
            _find_variable_predicates(item, negated, found)


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
    engine = _LookupReasoner(store, closed, schema, budget, errors=_new_literal_errors(added))
    everything = dataset(store, graphs, graphs)
    inferred: set[NTriple] = set()
    reasoned_names = {ox.NamedNode(g) for g in reasoned}
    engine.add((_strings(q.triple) for q in added if q.graph_name in reasoned_names), known_too=True)
    if not _extend(store, engine, rules, reaches, everything, delta, inferred, budget):
        return None
    new = find_inconsistencies(store, everything and [*graphs, INFERRED_GRAPH], _focus([*delta, *inferred]))
    return InferenceReport(
        added=previous.added - len({q.triple for q in asserted_now}) + len(inferred),
        inconsistencies=_merged(previous.inconsistencies, new + owlrl_inconsistencies(engine.errors)),
        seconds=budget.elapsed(),
        reasoned_graphs=reasoned,
        engine=ReasonerName.NATIVE,
    )


def infer_removals(
    store: Store,
    removed: list[ox.Quad],
    previous: InferenceReport,
    *,
    rules_dir: Path,
    reasoner: ReasonerName,
    budget: Budget | None = None,
) -> InferenceReport | None:
    """Shrink the inferred graph of a store that no longer holds ``removed`` but still holds the closure from before,
    by DRed (delete and re-derive): what the removed triples derive is over-deleted, then what still has a derivation
    from what remains comes back (a removed triple that is still derivable becomes inferred, as a full run would
    make it).

    Over-deletion follows the native engine's rules one step at a time from the removed triples, joined with the
    closure from before, and every domain rule whose WHERE clause reads a predicate of what was over-deleted: all of
    that rule's conclusions are over-deleted (its body may use property paths, so which of its solutions used a
    removed triple is not traced). Re-derivation replays the native rules on the remaining triples about the
    over-deleted triples' subjects (and objects, for the inverse rule), and the touched domain rules on the remaining
    closure; what comes back is then extended semi-naively as :func:`infer_additions` does.

    None when only a full recomputation is right; the store is then unchanged. That is: owlrl asked for or in use
    (equality, class expressions, cardinalities); a removed triple still asserted in another graph, in the default
    graph, or in an ontology graph (a schema change); a graph reasoned over that stops using the ontology's terms;
    and a domain rule that is not monotone in what is over-deleted: one reading it under ``NOT EXISTS``, ``MINUS``,
    ``OPTIONAL`` or an aggregate, where removing a triple can add a conclusion (in ``rules/``: ``fought-in`` and
    ``corroborated-claim``; :func:`rule_reach` says which predicates).
    """
    budget = budget or Budget()
    removed = [q for q in removed if q.graph_name != ox.NamedNode(INFERRED_GRAPH)]
    deleted = sorted({_strings(q.triple) for q in removed})
    rules = load_rules(rules_dir)
    reaches = [rule_reach(rule) for rule in rules]
    if reasoner is not ReasonerName.NATIVE or previous.engine is not ReasonerName.NATIVE:
        return None
    if not deleted or any(touches(r.negated, deleted) for r in reaches):
        return None
    if any(_asserted(store, q.triple) for q in removed):
        return None
    graphs = asserted_graphs(store)
    reasoned = _still_reasoned(store, graphs, previous, removed)
    if reasoned is None:
        return None
    closed = dataset(store, [*reasoned, INFERRED_GRAPH], [*graphs, INFERRED_GRAPH])
    everything = dataset(store, graphs, graphs)
    schema = compile_schema(store, closed, load_owl_rl_rules())
    if schema.unsupported:
        return None
    store.add(ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(_REMOVED_GRAPH)) for q in removed)
    try:  # the closure from before, as the engine and the rules see it: what remains and what was removed
        engine = _LookupReasoner(store, closed and [*closed, _REMOVED_GRAPH], schema, budget, errors=[])
        scope = everything and [*everything, INFERRED_GRAPH, _REMOVED_GRAPH]
        over = _over_delete(store, engine, rules, reaches, scope, deleted, budget)
    finally:
        store.clear_graph(_REMOVED_GRAPH)
    if over is None:
        return None
    engine.remove(over)
    engine.lookups.graphs = closed  # the removed triples' graph is gone
    literals_removed = any(o.startswith('"') for _, _, o in deleted)
    if literals_removed:  # an ill-typed one may be gone
        engine.errors = ill_typed_literals(store, closed)
    gone = [t for t in over if is_meaningful(t) and _in_inferred(store, t)]
    inferred_graph = ox.NamedNode(INFERRED_GRAPH)
    store.remove(ox.Quad(t.subject, t.predicate, t.object, inferred_graph) for t in parse_ntriples(gone))
    rederived = _rederive(store, engine, over)
    inferred: set[NTriple] = set()
    engine.add(rederived)  # before they are stored: the engine looks up what it knows in the store
    _keep(store, [t for t in rederived if is_meaningful(t)], inferred, budget)
    if not _extend(store, engine, rules, reaches, everything, sorted(over), inferred, budget):
        return None
    checked = everything and [*graphs, INFERRED_GRAPH]
    kept = [found for found in previous.inconsistencies if found.triples and _all_held(store, found.triples, checked)]
    if literals_removed:
        kept += owlrl_inconsistencies(engine.errors)
    else:
        kept += [found for found in previous.inconsistencies if not found.triples]
    return InferenceReport(
        added=previous.added - len(gone) + len(inferred),
        inconsistencies=_merged(kept, []),
        seconds=budget.elapsed(),
        reasoned_graphs=reasoned,
        engine=ReasonerName.NATIVE,
    )


class _StoreKnown(set[NTriple]):
    """The triples a :class:`_LookupReasoner` knows: looked up in the store's graphs (None: all) when asked, with
    what this run added and forgot kept here, instead of the whole closure read into memory."""

    def __init__(self, store: Store, graphs: list[str] | None) -> None:
        super().__init__()
        self.store = store
        self.graphs = graphs
        self.forgotten: set[object] = set()

    def __contains__(self, triple: object) -> bool:
        if super().__contains__(triple):
            return True
        if not isinstance(triple, tuple) or triple in self.forgotten or triple[0].startswith('"'):
            return False
        [parsed] = parse_ntriples([triple])
        return any(
            next(iter(self.store.quads(parsed.subject, parsed.predicate, parsed.object, graph)), None) is not None
            for graph in _scopes(self.graphs)
        )

    def add(self, triple: NTriple) -> None:
        super().add(triple)
        self.forgotten.discard(triple)

    def discard(self, triple: object) -> None:
        super().discard(triple)
        self.forgotten.add(triple)


class _StoreLinks(dict[str, set[str]]):
    """One linked property's triples, by subject (``forward``) or by object, looked up in the store when asked; what
    this run added is kept here, what it forgot is left out through the known triples."""

    def __init__(self, known: _StoreKnown, prop: str, *, forward: bool) -> None:
        super().__init__()
        self.known = known
        self.prop = prop
        self.forward = forward

    def __missing__(self, node: str) -> set[str]:
        self[node] = set()
        return self[node]

    def get(self, node: str, default: object = None) -> set[str]:
        """The nodes linked to ``node``, the default ignored (an empty set when there are none)."""
        found = set(super().get(node, ()))
        [parsed] = parse_ntriples([(node, self.prop, "<urn:x>") if self.forward else ("<urn:x>", self.prop, node)])
        store = self.known.store
        for graph in _scopes(self.known.graphs):
            if self.forward:
                found.update(str(q.object) for q in store.quads(parsed.subject, parsed.predicate, None, graph))
            else:
                found.update(str(q.subject) for q in store.quads(None, parsed.predicate, parsed.object, graph))
        forgotten = self.known.forgotten
        if self.forward:
            return {other for other in found if (node, self.prop, other) not in forgotten}
        return {other for other in found if (other, self.prop, node) not in forgotten}


class _LookupReasoner(NativeReasoner):
    """The native engine over a closure it looks up in the store instead of reading it: a write touches a few
    triples of a closure that may hold millions. ``errors``: the ill-typed literals to report, which the write
    knows from what it changes (reading every literal of the graphs would cost what the store holds)."""

    def __init__(
        self, store: Store, graphs: list[str] | None, schema: Schema, budget: Budget, errors: list[str]
    ) -> None:
        self.schema = schema
        self.budget = budget
        self._delta = []
        self._plans = schema.plans
        known = _StoreKnown(store, graphs)
        self.known = self.lookups = known
        self._out = {p: _StoreLinks(known, p, forward=True) for p in schema.linked}
        self._in = {p: _StoreLinks(known, p, forward=False) for p in schema.linked}
        self.errors = errors


def _new_literal_errors(added: list[ox.Quad]) -> list[str]:
    """The ill-typed literals among what a write adds (those of the store before it are in the previous report)."""
    return ill_typed(
        (q.object.value, q.object.datatype.value)
        for q in added
        if isinstance(q.object, ox.Literal) and q.predicate not in ANNOTATIONS
    )


_OWL = PREFIXES["owl"]
_DATA_LEVEL = frozenset(f"<{PREFIXES['owl']}{name}>" for name in ("sameAs", "differentFrom", "Nothing"))
_LIST_STEPS = frozenset(f"<{PREFIXES['rdf']}{name}>" for name in ("first", "rest"))


def _focus(new: list[NTriple]) -> list[ox.NamedNode] | None:
    """The nodes whose contradictions an addition can create: the subjects of its new triples (asserted and
    inferred), since every contradiction the checks find holds a new triple about its ``?x`` or ``?y``. None (check
    everything) when a new triple can change what the checks read of the schema (an OWL axiom or property
    characteristic, a list's steps) or is about a blank node, which a VALUES clause cannot hold; what RDFS adds (a
    subclass, a range) reaches the checks as new inferred types, which are among the new triples."""
    nodes: set[str] = set()
    for s, p, o in new:
        schema_term = o if p == _TYPE else p
        if p in _LIST_STEPS or (schema_term[1:].startswith(_OWL) and schema_term not in _DATA_LEVEL):
            return None
        if not s.startswith("<") or s.startswith("<<"):
            return None
        nodes.add(s[1:-1])
    return [ox.NamedNode(node) for node in sorted(nodes)]


def _all_held(store: Store, triples: list[ox.Triple], graphs: list[str] | None) -> bool:
    """Whether the store still holds every triple of a contradiction, in one of the graphs checked (None: in any): a
    deletion takes a contradiction away, and adds none, exactly when it takes one of its triples."""
    return all(
        any(
            next(iter(store.quads(t.subject, t.predicate, t.object, graph)), None) is not None
            for graph in _scopes(graphs)
        )
        for t in triples
    )


def _merged(before: list[Inconsistency], new: list[Inconsistency]) -> list[Inconsistency]:
    """The contradictions from before an addition and the new ones (an addition takes none away), in a full run's
    order: the checks' findings by message, then owlrl's."""
    by_message = {found.message: found for found in [*before, *new]}
    return sorted(by_message.values(), key=lambda found: (found.message.startswith("OWL 2 RL: "), found.message))


def _scopes(graphs: list[str] | None) -> list[str | None]:
    """The graphs to look a pattern up in, one at a time (None: every graph)."""
    return [None] if graphs is None else list(graphs)


def _still_reasoned(
    store: Store, graphs: list[str], previous: InferenceReport, removed: list[ox.Quad]
) -> list[str] | None:
    """The graphs the closure covers after a deletion: as before; None when the deletion is from the default graph
    or an ontology graph, or leaves a graph reasoned over without the ontology's terms (a full run would skip it)."""
    if any(not isinstance(q.graph_name, ox.NamedNode) for q in removed):
        return None
    before = set(previous.reasoned_graphs)
    touched = {q.graph_name.value for q in removed if isinstance(q.graph_name, ox.NamedNode)} & before & set(graphs)
    if touched:
        schema = [g for g in graphs if g in before and is_schema_graph(store, g)]
        terms = vocabulary(store, schema)
        if touched & set(schema) or not all(uses_vocabulary(store, g, terms) for g in touched):
            return None
    return [g for g in graphs if g in before]


def _over_delete(
    store: Store,
    engine: NativeReasoner,
    rules: list[Rule],
    reaches: list[RuleReach],
    scope: list[str] | None,
    deleted: list[NTriple],
    budget: Budget,
) -> set[NTriple] | None:
    """The deleted triples and everything derived from them, semi-naively, over the closure from before (which the
    engine and ``scope`` still hold); None when that reaches what a rule reads under negation."""
    over = set(deleted)
    new = deleted
    pending = list(range(len(rules)))
    while new:
        budget.check()
        if any(touches(r.negated, new) for r in reaches):
            return None
        found = {c for t in new for c in engine.conclusions(t)}
        touched = [i for i in pending if touches(reaches[i].reads, new)]
        pending = [i for i in pending if i not in touched]
        if touched:  # the closure from before does not change: each rule is evaluated once
            found |= apply_rules(store, [rules[i] for i in touched], scope)
        candidates = [t for t in found if t not in over and not t[0].startswith('"')]
        new = [
            t for t, parsed in zip(candidates, parse_ntriples(candidates), strict=True) if not _asserted(store, parsed)
        ]
        new += [t for t in found if t not in over and t[0].startswith('"')]  # never asserted
        over.update(new)
    return over


def _rederive(store: Store, engine: NativeReasoner, over: set[NTriple]) -> list[NTriple]:
    """The over-deleted triples one native rule application concludes from what remains.

    Every premise of a native rule concluding ``s p o`` has ``s`` for subject, or ``o`` (prp-inv), or, for
    ``s rdf:type c``, is ``x q s`` with ``c`` a range of ``q`` (prp-rng): those remaining triples, replayed through
    the engine, find every such derivation.
    """
    ranged: dict[str, set[str]] = defaultdict(set)
    for prop, classes in engine.schema.ranges.items():
        for cls in classes:
            ranged[cls].add(prop)
    premises: list[ox.Quad] = []
    heads = sorted(t for t in over if not t[0].startswith('"'))  # a literal subject: in the engine's memory only
    parsed = parse_ntriples(heads)
    subjects = {t.subject for t in parsed} | {
        t.object for t in parsed if t.predicate.value != _RDF_TYPE and isinstance(t.object, ox.NamedNode | ox.BlankNode)
    }
    for subject in subjects:
        premises.extend(store.quads(subject))
    for (_, p, o), triple in zip(heads, parsed, strict=True):
        if p == _TYPE and not isinstance(triple.subject, ox.Triple):
            for prop in ranged.get(o, ()):
                premises.extend(store.quads(None, ox.NamedNode(prop[1:-1]), triple.subject))
    found: set[NTriple] = set()
    for quad in premises:
        premise = _strings(quad.triple)
        if premise in engine.known:
            found.update(c for c in engine.conclusions(premise) if c in over)
    return sorted(found)


def _extend(
    store: Store,
    engine: NativeReasoner,
    rules: list[Rule],
    reaches: list[RuleReach],
    everything: list[str] | None,
    new: list[NTriple],
    inferred: set[NTriple],
    budget: Budget,
) -> bool:
    """Semi-naive forward evaluation: the rules touched by the new triples, the engine's closure of what it was given,
    again for what they conclude, until nothing is new; kept in the inferred graph (and ``inferred``). False when a
    conclusion touches what a rule reads under negation (only a full recomputation is right then)."""
    for _ in range(MAX_ROUNDS):
        derived = _touched_rules_to_fixpoint(store, rules, reaches, everything, new, inferred, budget)
        engine.add(derived, known_too=True)  # kept in the store already, yet new to the closure
        closed_new = [t for t in engine.close() if t not in inferred and not _in_inferred(store, t)]
        _keep(store, closed_new, inferred, budget)
        new = [*derived, *closed_new]
        if not closed_new:
            return True
        if any(touches(r.negated, closed_new) for r in reaches):
            return False
    raise RuntimeError(f"inference did not reach a fixpoint in {MAX_ROUNDS} rounds")


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
