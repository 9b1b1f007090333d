"""Why is a triple in the graph? Justifications recomputed on demand, down to the sources.

Inference keeps no trace of how each triple was derived (that would double the graph's size);
instead a justification is recomputed when asked for: each rule is run backwards (its WHERE clause
as a SELECT, with the variables of its template bound to the triple), and so is each OWL 2 RL
pattern that owlrl applies
(https://www.w3.org/TR/owl2-profiles/#Reasoning_in_OWL_2_RL_and_RDF_Graphs_using_Rules). Among the
justifications found, the shallowest wins: a proof is searched by iterative deepening (depth 1, 2, 3...), each
premise proved within one level less than its conclusion, so every proof is well founded and ends in asserted
triples. (Choosing instead the justification with the fewest inferred premises at each step goes round in
circles: ``x kg:locatedIn y`` because ``y kg:contains x``, because ``x kg:locatedIn y``.) A transitive chain of n
steps is explained by splitting it in halves, about log2(n) levels deep. Proofs and failures are remembered per
triple and depth, so the search asks the store each question once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.paths import Path as PropertyPath

from kgraph.config import GRAPH_NS, INFERRED_GRAPH
from kgraph.infer.owlrl_patterns import PATTERNS, chain_patterns
from kgraph.infer.paths import witness
from kgraph.infer.rules import Rule, load_rules
from kgraph.infer.terms import PREFIXES, shorten, shorten_triple, to_oxigraph
from kgraph.store import Store
from kgraph.store.results import solutions

MAX_DEPTH = 32
"""How deep an explanation may go: a transitive chain of n steps needs about log2(n) levels."""

PROV_WAS_DERIVED_FROM = ox.NamedNode(PREFIXES["prov"] + "wasDerivedFrom")


class TripleNotFound(LookupError):
    """The triple is neither asserted nor inferred: there is nothing to explain."""


@dataclass
class Explanation:
    """One triple and why it is there: asserted in files, or derived by a rule or OWL 2 RL."""

    triple: ox.Triple
    kind: str
    """``asserted``, ``rule``, ``owl-rl``, ``depth`` or ``unexplained`` (no pattern replays it)."""
    rule: str = ""
    """The rule file's name (``alliance``) or the OWL 2 RL rule's name (``prp-symp``)."""
    title: str = ""
    meaning: str = ""
    graphs: list[str] = field(default_factory=list)
    """For asserted triples: the files (graph names relative to the project) that state it."""
    sources: list[ox.NamedNode] = field(default_factory=list)
    """For asserted triples: the documents the subject derives from (``prov:wasDerivedFrom``)."""
    premises: list[Explanation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready tree: terms in N-Triples syntax and with prefixed names."""
        data: dict[str, Any] = {
            "triple": {
                "subject": str(self.triple.subject),
                "predicate": str(self.triple.predicate),
                "object": str(self.triple.object),
            },
            "text": shorten_triple(self.triple),
            "kind": self.kind,
        }
        if self.kind == "asserted":
            data["graphs"] = self.graphs
            data["sources"] = [s.value for s in self.sources]
        elif self.rule:
            data.update(rule=self.rule, title=self.title, meaning=self.meaning)
        if self.premises:
            data["premises"] = [p.to_dict() for p in self.premises]
        return data

    def to_text(self, indent: str = "") -> str:
        """An indented tree, one triple per line, each followed by why it holds."""
        lines = [indent + shorten_triple(self.triple)]
        inner = indent + "  "
        if self.kind == "asserted":
            where = "asserted in " + ", ".join(self.graphs)
            if self.sources:
                where += "; source " + ", ".join(shorten(s) for s in self.sources)
            lines.append(f"{inner}[{where}]")
        elif self.kind == "rule":
            lines.append(f"{inner}<- rule {self.rule}: {self.title}")
            lines.append(f"{inner}   meaning: {self.meaning}")
        elif self.kind == "owl-rl":
            lines.append(f"{inner}<- OWL 2 RL {self.rule}: {self.title}")
        elif self.kind == "depth":
            lines.append(f"{inner}[inferred; explanation cut at depth {MAX_DEPTH}]")
        else:
            lines.append(f"{inner}[inferred by the OWL 2 RL closure; no single rule replays it]")
        lines.extend(p.to_text(inner) for p in self.premises)
        return "\n".join(lines)


def explain(store: Store, triple: ox.Triple, *, rules_dir: Path) -> Explanation:
    """Why the triple is in the graph; raises :class:`TripleNotFound` if it is not."""
    explainer = _Explainer(store, load_rules(rules_dir))
    if not explainer.asserted_in(triple) and not explainer.inferred(triple):
        raise TripleNotFound(f"not in the graph: {shorten_triple(triple)}")
    return explainer.explain(triple)


@dataclass(frozen=True)
class _Justification:
    kind: str
    rule: str
    title: str
    meaning: str
    premises: list[ox.Triple]


class _Explainer:
    """Explanations over one store, with the rules loaded once."""

    def __init__(self, store: Store, rules: list[Rule]) -> None:
        self.store = store
        self.rules = rules
        self.graphs = store.graph_names()
        self._asserted: dict[ox.Triple, list[str]] = {}
        self._found: dict[ox.Triple, list[_Justification]] = {}
        self._proved: dict[ox.Triple, tuple[int, Explanation]] = {}
        self._failed: dict[ox.Triple, int] = {}

    def asserted_in(self, triple: ox.Triple) -> list[str]:
        """The graphs asserting the triple, relative to the project (asked once per triple)."""
        if triple not in self._asserted:
            quads = self.store.quads(triple.subject, triple.predicate, triple.object)
            names = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
            names.discard(INFERRED_GRAPH)
            self._asserted[triple] = sorted(n.removeprefix(GRAPH_NS) for n in names)
        return self._asserted[triple]

    def inferred(self, triple: ox.Triple) -> bool:
        quads = self.store.quads(triple.subject, triple.predicate, triple.object, INFERRED_GRAPH)
        return next(iter(quads), None) is not None

    def explain(self, triple: ox.Triple) -> Explanation:
        """The shallowest proof of the triple from asserted triples; ``unexplained`` when there is none."""
        for depth in range(MAX_DEPTH + 1):
            found = self._prove(triple, depth)
            if found is not None:
                return found
        return Explanation(triple, "depth" if self._justifications(triple) else "unexplained")

    def _prove(self, triple: ox.Triple, depth: int) -> Explanation | None:
        """A proof of the triple at most ``depth`` rule applications deep, or None."""
        graphs = self.asserted_in(triple)
        if graphs:
            return Explanation(triple, "asserted", graphs=graphs, sources=self._sources(triple))
        known = self._proved.get(triple)
        if known is not None and known[0] <= depth:
            return known[1]
        if depth == 0 or self._failed.get(triple, -1) >= depth:
            return None
        for justification in self._justifications(triple):
            premises = []
            for premise in justification.premises:
                proof = self._prove(premise, depth - 1)
                if proof is None:
                    break
                premises.append(proof)
            else:
                j = justification
                found = Explanation(triple, j.kind, j.rule, j.title, j.meaning, premises=premises)
                self._proved[triple] = (depth, found)
                return found
        self._failed[triple] = depth
        return None

    def _sources(self, triple: ox.Triple) -> list[ox.NamedNode]:
        quads = self.store.quads(triple.subject, PROV_WAS_DERIVED_FROM, None)
        return sorted({q.object for q in quads if isinstance(q.object, ox.NamedNode)}, key=str)

    def _justifications(self, triple: ox.Triple) -> list[_Justification]:
        """Every way a rule or OWL 2 RL concludes the triple from triples in the graph, fewest inferred premises
        first (asked once per triple)."""
        if triple not in self._found:
            found = [j for j in [*self._by_rules(triple), *self._by_owl_rl(triple)] if triple not in j.premises]
            self._found[triple] = sorted(found, key=lambda j: sum(not self.asserted_in(p) for p in j.premises))
        return self._found[triple]

    def _by_rules(self, triple: ox.Triple) -> list[_Justification]:
        found = []
        for rule in self.rules:
            for head in rule.template:
                bindings = _unify(head, triple)
                if bindings is None:
                    continue
                query = rule.select_for({k: v for k, v in bindings.items() if not isinstance(v, ox.BlankNode)})
                for row in self._select(query):
                    if _instantiate(head, row) != triple:
                        continue
                    premises = [t for p in rule.body for t in self._premises(p, row)]
                    found.append(_Justification("rule", rule.name, rule.title, rule.meaning, premises))
        return found

    def _by_owl_rl(self, triple: ox.Triple) -> list[_Justification]:
        found = []
        for pattern in [*PATTERNS, *chain_patterns(self.store, triple.predicate)]:
            if not pattern.applies_to(triple):
                continue
            for row in self._select(pattern.query(triple)):
                if any(row.get(v) != t for v, t in zip("spo", triple, strict=True)):
                    continue
                premises = pattern.premise_triples(row)
                found.append(_Justification("owl-rl", pattern.name, pattern.title, "", premises))
        return found

    def _select(self, query: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
        result = solutions(self.store.query(query, default_graph=self.graphs))
        names = [v.value for v in result.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in result]

    def _premises(self, pattern: tuple, row: dict) -> list[ox.Triple]:
        """A body pattern with the solution's values: a triple, or the steps of a property path."""
        subject, predicate, obj = pattern
        if isinstance(predicate, PropertyPath):
            ends = [_value(t, row) for t in (subject, obj)]
            if None in ends:
                return []
            return witness(self.store, ends[0], predicate, ends[1]) or []
        triple = _instantiate(pattern, row)
        if triple is None or not (self.asserted_in(triple) or self.inferred(triple)):
            return []
        return [triple]


def _unify(head: tuple, triple: ox.Triple) -> dict[str, Any] | None:
    """Variable bindings that make a template triple equal the triple, or None if none can."""
    bindings: dict[str, Any] = {}
    for pattern, term in zip(head, triple, strict=True):
        if isinstance(pattern, rdflib.Variable):
            if bindings.setdefault(str(pattern), term) != term:
                return None
        elif to_oxigraph(pattern) != term:
            return None
    return bindings


def _value(term: rdflib.term.Identifier, row: dict) -> Any:
    """A pattern's term with the solution's values; None for unbound variables and blank nodes."""
    if isinstance(term, rdflib.Variable):
        return row.get(str(term))
    if isinstance(term, rdflib.BNode):
        return None
    return to_oxigraph(term)


def _instantiate(pattern: tuple, row: dict) -> ox.Triple | None:
    terms = [_value(term, row) for term in pattern]
    if None in terms:
        return None
    try:
        return ox.Triple(*terms)
    except TypeError:
        return None  # a literal where a subject or a predicate must be
