"""The native OWL 2 RL engine: the rules compiled from the schema, applied semi-naively in Python.

owlrl re-applies every rule to every triple on each pass over an rdflib graph: about a thousand triples a second, so
a million generated triples would take a quarter of an hour. Here each rule of ``owl_rl/*.rq`` is first compiled from
the schema into a table (which class implies which, which property has which inverse...), and the data is then read
once, as N-Triples lines, and closed in rounds where only the triples the previous round added are matched against the
tables and joined with what is known. Terms stay strings in N-Triples syntax throughout: no term objects are built
for the hundreds of thousands of triples that pass through.

It concludes what owlrl concludes, after :func:`kgraph.infer.closure.is_meaningful` (the tests compare the two on the
article's graph and on generated data); graphs using a construct it does not implement (``owl_rl/unsupported.rq``)
are left to owlrl.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

import pyoxigraph as ox
import rdflib
from owlrl.DatatypeHandling import AltXSDToPYTHON
from owlrl.XsdDatatypes import OWL_RL_Datatypes

from kgraph.infer.budget import Budget
from kgraph.infer.closure import ANNOTATIONS
from kgraph.infer.rules import header_comments
from kgraph.infer.terms import BUILT_IN_NAMESPACES, PREFIXES, NTriple, split_ntriples
from kgraph.store import Store
from kgraph.store.results import serialized, solutions, triples

RULES_DIR = Path(str(resources.files("kgraph.infer") / "owl_rl"))
"""The OWL 2 RL rules, as commented SPARQL files (see the README there)."""

TYPE = f"<{PREFIXES['rdf']}type>"
SAME_AS = f"<{PREFIXES['owl']}sameAs>"
STEPS = ("type", "domain", "range", "property", "inverse", "transitive", "chain", "unsupported")
_BUILT_IN = tuple("<" + namespace for namespace in BUILT_IN_NAMESPACES)
CHECK_EVERY = 4096
"""Triples matched between two looks at the clock."""
_ANNOTATIONS = frozenset(str(term) for term in ANNOTATIONS)


class OwlRlRuleError(ValueError):
    """An OWL 2 RL rule file without a known ``# step:`` or whose SELECT lacks the step's columns."""


@dataclass(frozen=True)
class OwlRlRule:
    """One rule file: its name, what it means, how it applies to the data, and the SELECT compiling it."""

    name: str
    meaning: str
    step: str
    query: str


def load_owl_rl_rules(rules_dir: Path = RULES_DIR) -> list[OwlRlRule]:
    """Every rule file, sorted by name."""
    rules = []
    for path in sorted(rules_dir.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        comments = header_comments(text)
        step = comments.get("step", "").split(" ")[0]
        if step not in STEPS:
            raise OwlRlRuleError(f"{path}: '# step:' must be one of {', '.join(STEPS)}")
        rules.append(OwlRlRule(path.stem, comments.get("meaning", ""), step, text))
    return rules


@dataclass
class Schema:
    """The rules compiled from the schema: for each trigger (a class or a property), what it entails."""

    types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    domains: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    ranges: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    properties: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    inverses: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    transitive: set[str] = field(default_factory=set)
    chains: dict[str, list[list[str]]] = field(default_factory=lambda: defaultdict(list))
    """The chains defining each property, as lists of properties in order."""
    unsupported: set[str] = field(default_factory=set)

    @property
    def linked(self) -> set[str]:
        """Properties whose triples are joined with each other (transitive ones and chain links)."""
        return self.transitive | {p for chains in self.chains.values() for chain in chains for p in chain}

    def triggers(self, triple: NTriple) -> bool:
        """Whether a rule can fire on the triple."""
        _, p, o = triple
        return (p == TYPE and o in self.types) or p in self.plans

    @cached_property
    def plans(self) -> dict[str, tuple[set[str], set[str], set[str], set[str]]]:
        """For each property: the classes of its subjects and objects, the properties it implies either way.

        One look-up per triple instead of one per table; the joined properties (transitive, chains) have an entry
        too, even an empty one.
        """
        triggers = {*self.domains, *self.ranges, *self.properties, *self.inverses, *self.linked}
        return {
            p: (
                self.domains.get(p, set()),
                self.ranges.get(p, set()),
                self.properties.get(p, set()),
                self.inverses.get(p, set()),
            )
            for p in triggers
        }

    def concluded(self) -> tuple[set[str], set[str]]:
        """The predicates and classes of every triple a rule may use or conclude, to read from the data."""
        predicates = {*self.domains, *self.ranges, *self.linked, *self.properties, *self.inverses}
        predicates |= {q for table in (self.properties, self.inverses) for qs in table.values() for q in qs}
        predicates |= set(self.chains)
        classes = {
            *self.types,
            *(c for table in (self.types, self.domains, self.ranges) for cs in table.values() for c in cs),
        }
        return predicates, classes


def compile_schema(store: Store, graphs: list[str] | None, rules: list[OwlRlRule]) -> Schema:
    """Run each rule's SELECT over the graphs: the tables the data is then matched against."""
    schema = Schema()
    chains: dict[tuple[str, str], dict[int, str]] = defaultdict(dict)
    for rule in rules:
        for row in _rows(store, rule.query, graphs):
            try:
                _compile_row(schema, rule.step, row, chains)
            except KeyError as error:
                raise OwlRlRuleError(f"{rule.name}: a '{rule.step}' rule must select ?{error.args[0]}") from None
    for (prop, _), links in chains.items():
        if sorted(links) == list(range(1, len(links) + 1)):
            schema.chains[prop].append([links[i] for i in sorted(links)])
    return schema


def _compile_row(schema: Schema, step: str, row: dict[str, str], chains: dict) -> None:
    if step == "type":
        schema.types[row["from"]].add(row["to"])
    elif step == "domain":
        schema.domains[row["property"]].add(row["class"])
    elif step == "range":
        schema.ranges[row["property"]].add(row["class"])
    elif step == "property":
        schema.properties[row["from"]].add(row["to"])
    elif step == "inverse":
        schema.inverses[row["from"]].add(row["to"])
    elif step == "transitive":
        schema.transitive.add(row["property"])
    elif step == "chain":
        chains[row["property"], row["chain"]][int(row["position"].split('"')[1])] = row["link"]
    else:
        schema.unsupported.add(row["construct"])


def _rows(store: Store, query: str, graphs: list[str] | None) -> list[dict[str, str]]:
    result = solutions(store.query(query, default_graph=graphs))
    names = [v.value for v in result.variables]
    return [{n: str(s[n]) for n in names if s[n] is not None} for s in result]


class NativeReasoner:
    """A set of triples kept closed under the compiled rules, round after round, as triples are added to it."""

    def __init__(
        self,
        store: Store,
        graphs: list[str] | None,
        schema: Schema,
        budget: Budget | None = None,
    ) -> None:
        """Read the triples the rules can use or conclude from the graphs (None: the whole store); all of them are
        matched in the first round (a store whose closure is already inferred is reasoned over incrementally, by
        :mod:`kgraph.infer.incremental`, which looks the closure up instead of reading it)."""
        self.schema = schema
        self.budget = budget or Budget()
        self.known: set[NTriple] = set()
        self._delta: list[NTriple] = []
        self._out: dict[str, dict[str, set[str]]] = {p: defaultdict(set) for p in schema.linked}
        self._in: dict[str, dict[str, set[str]]] = {p: defaultdict(set) for p in schema.linked}
        self._plans = schema.plans
        self.errors = ill_typed_literals(store, graphs)
        for triple in read_triples(store, graphs, *schema.concluded()):
            self._learn(triple)
            if triple[1] not in _ANNOTATIONS:  # owlrl never sees annotations either
                self._delta.append(triple)

    def triggers(self, triples: Iterable[NTriple]) -> bool:
        """Whether adding these triples can make the closure grow."""
        return any(map(self.schema.triggers, triples))

    def add(self, triples: Iterable[NTriple], *, known_too: bool = False) -> None:
        """Add triples concluded elsewhere (by the project's rules) to reason over; with ``known_too``, match them even
        when known (a write's own triples, read with the closure they extend)."""
        for triple in triples:
            known = triple in self.known
            if not known:
                self._learn(triple)
            if (known_too or not known) and triple[1] not in _ANNOTATIONS:
                self._delta.append(triple)

    def close(self) -> list[NTriple]:
        """Apply the rules until nothing new appears; return the meaningful new triples."""
        added: list[NTriple] = []
        known = self.known
        while self._delta:
            produced: list[NTriple] = []
            for count, triple in enumerate(self._delta):
                if not count % CHECK_EVERY:
                    self.budget.check()
                produced.extend(self._conclusions(triple))
            self._delta = []
            for triple in produced:
                if triple not in known:
                    self._learn(triple)
                    self._delta.append(triple)
                    if is_meaningful(triple):
                        added.append(triple)
        return added

    def remove(self, triples: Iterable[NTriple]) -> None:
        """Forget triples (a deletion's over-deleted ones): later rounds no longer join with them."""
        for triple in triples:
            if triple in self.known:
                self.known.discard(triple)
                s, p, o = triple
                if p in self._out:
                    self._out[p][s].discard(o)
                    self._in[p][o].discard(s)

    def conclusions(self, triple: NTriple) -> list[NTriple]:
        """What one rule application concludes from the triple joined with the known triples (the triple itself need
        not be known): the step a deletion follows forward to over-delete and replays to re-derive."""
        return self._conclusions(triple)

    def _learn(self, triple: NTriple) -> None:
        self.known.add(triple)
        s, p, o = triple
        if p in self._out:
            self._out[p][s].add(o)
            self._in[p][o].add(s)

    def _conclusions(self, triple: NTriple) -> list[NTriple]:
        """Every conclusion the triple takes part in, joined with the known triples."""
        s, p, o = triple
        found = [(s, TYPE, c) for c in self.schema.types.get(o, ())] if p == TYPE else []
        plan = self._plans.get(p)
        if plan is None:
            return found
        subject_types, object_types, forward, backward = plan
        found += [(s, TYPE, c) for c in subject_types]
        found += [(o, TYPE, c) for c in object_types]
        found += [(s, q, o) for q in forward]
        found += [(o, q, s) for q in backward]
        if p in self.schema.transitive:
            found += [(s, p, z) for z in self._out[p].get(o, ())]
            found += [(x, p, o) for x in self._in[p].get(s, ())]
        if p in self._out:
            self._chains(s, p, o, found.append)
        return found

    def _chains(self, s: str, p: str, o: str, emit: Callable[[NTriple], None]) -> None:
        """prp-spo2: every path along a chain that goes through this triple, from its start to its end."""
        for prop, chains in self.schema.chains.items():
            for chain in chains:
                for index, link in enumerate(chain):
                    if link != p:
                        continue
                    starts = self._walk({s}, reversed(chain[:index]), self._in)
                    ends = self._walk({o}, chain[index + 1 :], self._out)
                    for start in starts:
                        for end in ends:
                            emit((start, prop, end))

    @staticmethod
    def _walk(nodes: set[str], links: Iterable[str], index: dict[str, dict[str, set[str]]]) -> set[str]:
        for link in links:
            nodes = {n for node in nodes for n in index[link].get(node, ())}
        return nodes


def read_triples(store: Store, graphs: list[str] | None, predicates: set[str], classes: set[str]) -> Iterable[NTriple]:
    """The triples of the graphs with one of the predicates, or typed with one of the classes.

    One CONSTRUCT each, serialised as N-Triples by the store and split into terms: far cheaper than a term object
    per triple.
    """
    queries = []
    if predicates - {TYPE}:
        values = " ".join(sorted(predicates - {TYPE}))
        queries.append(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?p {{ {values} }} ?s ?p ?o }}")
    if classes:
        values = " ".join(sorted(classes))
        queries.append(f"CONSTRUCT {{ ?s {TYPE} ?o }} WHERE {{ VALUES ?o {{ {values} }} ?s {TYPE} ?o }}")
    for query in queries:
        result = triples(store.query(query, default_graph=graphs))
        yield from split_ntriples(serialized(result.serialize(format=ox.RdfFormat.N_TRIPLES)))


def ill_typed_literals(store: Store, graphs: list[str] | None) -> list[str]:
    """owlrl's dt-not-type check, worded as owlrl words it: literals outside their datatype's lexical space.

    The store keeps such literals as they were written; owlrl converts each one with its own converters, and so do we,
    but only the distinct literals of the datatypes that have a converter.
    """
    datatypes = " ".join(f"<{datatype}>" for datatype in CHECKED_DATATYPES)
    annotations = ", ".join(sorted(_ANNOTATIONS))
    query = f"""SELECT DISTINCT ?value ?datatype WHERE {{
      VALUES ?datatype {{ {datatypes} }}
      ?s ?p ?value . FILTER (isLiteral(?value) && DATATYPE(?value) = ?datatype && ?p NOT IN ({annotations}))
    }}"""
    rows = solutions(store.query(query, default_graph=graphs))
    return ill_typed((row["value"].value, row["datatype"].value) for row in rows)


CHECKED_DATATYPES = tuple(str(datatype) for datatype in OWL_RL_Datatypes if datatype in AltXSDToPYTHON)
"""The datatypes owlrl checks literals of: those it has a converter for."""


def ill_typed(literals: Iterable[tuple[str, str]]) -> list[str]:
    """The messages for the literals (lexical value, datatype IRI) outside their datatype's lexical space, one per
    literal, sorted; literals of a datatype without a converter are not checked."""
    errors = []
    for value, datatype in sorted(set(literals)):
        convert = AltXSDToPYTHON.get(rdflib.URIRef(datatype))
        if convert is None or datatype not in CHECKED_DATATYPES:
            continue
        try:
            convert(value)
        except ValueError:
            errors.append(f"Lexical value of the literal '{value}' does not match its datatype ({datatype})")
    return errors


def is_meaningful(triple: NTriple) -> bool:
    """:func:`kgraph.infer.closure.is_meaningful` on N-Triples terms."""
    s, p, o = triple
    if s.startswith('"') or s.startswith(_BUILT_IN):
        return False
    if p == TYPE:
        return not o.startswith(_BUILT_IN)
    if p == SAME_AS:
        return s != o
    return not p.startswith(_BUILT_IN)
