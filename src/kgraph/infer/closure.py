"""The OWL 2 RL closure, computed by owlrl, and the filter keeping what an analyst would query.

owlrl works on rdflib graphs and takes seconds per ten thousand triples, so only the graphs that
need it go through it: the ontology (graphs that declare or axiomatise classes and properties) and
the data graphs that use its terms. Bulk data that uses none of them would gain nothing from the
closure but the reasoner's own noise.

The filter (:func:`is_meaningful`) drops, from what owlrl adds:

- triples with a literal subject (owlrl's datatype-handling artefacts);
- triples about RDF, RDFS, OWL or XSD terms themselves (axiomatic triples);
- triples whose predicate is RDF/RDFS/OWL vocabulary, except ``rdf:type`` and a non-reflexive
  ``owl:sameAs``: the schema's own closure (``rdfs:subClassOf`` chains, reflexive
  ``owl:equivalentClass``) is reachable with property paths over the ontology and would only
  duplicate it;
- ``rdf:type`` triples whose class is RDF/RDFS/OWL vocabulary (``owl:Thing``, ``rdfs:Resource``,
  ``owl:Class``, ``owl:NamedIndividual``...).

What remains is what an analyst asks for: types through subclasses, domains and ranges, inverse,
symmetric and transitive properties, super-properties and property chains.
"""

from __future__ import annotations

from collections.abc import Iterable

import owlrl
import pyoxigraph as ox
import rdflib

from kgraph.infer.budget import Budget
from kgraph.infer.terms import (
    BUILT_IN_NAMESPACES,
    PREFIXES,
    RDF_TYPE,
    Term,
    is_built_in,
    to_oxigraph,
    to_rdflib,
)
from kgraph.store import Store

OWL_SAME_AS = ox.NamedNode(PREFIXES["owl"] + "sameAs")

SCHEMA_PREDICATES = [PREFIXES["rdfs"] + name for name in ("subClassOf", "subPropertyOf", "domain", "range")] + [
    PREFIXES["owl"] + name
    for name in (
        "equivalentClass",
        "equivalentProperty",
        "inverseOf",
        "disjointWith",
        "propertyDisjointWith",
        "propertyChainAxiom",
        "onProperty",
        "hasKey",
    )
]
SCHEMA_TYPES = [
    PREFIXES["owl"] + name
    for name in (
        "Class",
        "ObjectProperty",
        "DatatypeProperty",
        "AnnotationProperty",
        "TransitiveProperty",
        "SymmetricProperty",
        "AsymmetricProperty",
        "IrreflexiveProperty",
        "FunctionalProperty",
        "InverseFunctionalProperty",
        "AllDisjointClasses",
        "Restriction",
    )
] + [PREFIXES["rdfs"] + "Class", PREFIXES["rdf"] + "Property"]


def is_schema_graph(store: Store, graph: str) -> bool:
    """True if the graph declares or axiomatises classes or properties (an ontology)."""
    for predicate in SCHEMA_PREDICATES:
        if _exists(store, None, ox.NamedNode(predicate), None, graph):
            return True
    return any(_exists(store, None, RDF_TYPE, ox.NamedNode(t), graph) for t in SCHEMA_TYPES)


def vocabulary(store: Store, schema_graphs: Iterable[str]) -> set[ox.NamedNode]:
    """Every IRI the ontology says something about: what reasoning can act on."""
    terms: set[ox.NamedNode] = set()
    for graph in schema_graphs:
        for quad in store.quads(graph=graph):
            for term in (quad.subject, quad.object):
                if isinstance(term, ox.NamedNode) and not is_built_in(term):
                    terms.add(term)
    return terms


def uses_vocabulary(store: Store, graph: str, terms: Iterable[ox.NamedNode]) -> bool:
    """True if a graph uses a term as predicate or class (index look-ups, no scan)."""
    return any(_exists(store, None, term, None, graph) or _exists(store, None, RDF_TYPE, term, graph) for term in terms)


ANNOTATIONS = frozenset(
    ox.NamedNode(PREFIXES[prefix] + name)
    for prefix, names in {
        "rdfs": ("label", "comment", "seeAlso", "isDefinedBy"),
        "owl": ("versionInfo",),
        "skos": (
            "prefLabel",
            "altLabel",
            "hiddenLabel",
            "definition",
            "note",
            "scopeNote",
            "example",
        ),
        "dcterms": ("title", "description", "created", "modified", "license", "creator"),
    }.items()
    for name in names
)
"""Annotation properties: OWL 2 RL draws nothing from them, so owlrl never sees them."""


class _Semantics(owlrl.OWLRL_Semantics):
    """owlrl's OWL 2 RL rules without eq-ref, unless equality is actually used.

    eq-ref adds ``x owl:sameAs x`` for every term of every triple: it triples the graph owlrl
    iterates over (and
    its time) to produce triples the filter drops anyway, and that entail nothing new.
    """

    budget: Budget | None = None
    _matched = 0

    def rules(self, triple: tuple, cycle_num: int) -> None:
        """owlrl's rules on one triple, with a look at the clock every few thousand triples."""
        self._matched += 1
        if self.budget is not None and not self._matched % 4096:
            self.budget.check()
        super().rules(triple, cycle_num)

    def _equality(self, triple: tuple, cycle_num: int) -> None:
        _, predicate, obj = triple
        if predicate == _SAME_AS or (predicate == _TYPE and obj == _ALL_DIFFERENT):
            super()._equality(triple, cycle_num)


_SAME_AS = rdflib.OWL.sameAs
_NOTHING = rdflib.OWL.Nothing
_TRIVIAL_OBJECTS = frozenset(
    {
        rdflib.OWL.Thing,
        rdflib.RDFS.Resource,
        rdflib.OWL.Class,
        rdflib.RDFS.Class,
        rdflib.OWL.ObjectProperty,
        rdflib.OWL.DatatypeProperty,
        rdflib.OWL.AnnotationProperty,
        rdflib.RDF.Property,
        rdflib.OWL.NamedIndividual,
    }
)
"""What every class or property is said to be (declarations, and owlrl's scm-cls, scm-op...)."""
_TYPE = rdflib.RDF.type
_ALL_DIFFERENT = rdflib.OWL.AllDifferent


class OwlRlReasoner:
    """An rdflib graph kept closed under OWL 2 RL as triples are added to it, round after round."""

    def __init__(self, triples: Iterable[ox.Triple], budget: Budget | None = None) -> None:
        self.graph = rdflib.Graph(store="SimpleMemory")
        self.budget = budget
        self.errors: list[str] = []
        self._twins: dict[rdflib.term.Identifier, ox.NamedNode | ox.BlankNode | ox.Literal] = {}
        self.add(triples)

    def add(self, triples: Iterable[ox.Triple]) -> None:
        """Add triples (asserted, or concluded by rules) to reason over."""
        for triple in triples:
            subject, predicate, obj = triple.subject, triple.predicate, triple.object
            if predicate in ANNOTATIONS or isinstance(subject, ox.Triple) or isinstance(obj, ox.Triple):
                continue  # RDF 1.2 triple terms: an rdflib graph cannot hold them, and OWL 2 RL draws nothing from them
            self.graph.add((self._twin(subject), self._twin(predicate), self._twin(obj)))

    def close(self) -> set[ox.Triple]:
        """Run the closure; return the meaningful triples it added (see the module's docstring)."""
        before = set(self.graph)
        engine = _Semantics(self.graph, axioms=False, daxioms=False)
        engine.budget = self.budget
        engine.closure()
        self.errors = list(engine.error_messages)
        added = set()
        for s, p, o in set(self.graph) - before:
            triple = self._back(s, p, o)
            if triple is not None and is_meaningful(triple):
                added.add(triple)
        return added

    def _back(self, *nodes: rdflib.term.Node) -> ox.Triple | None:
        """The pyoxigraph triple of one owlrl concluded, as the terms were written; None for a literal subject and
        for owlrl's own blank nodes (its error messages)."""
        terms = []
        for node in nodes:
            if not isinstance(node, rdflib.term.Identifier):
                return None
            if isinstance(node, rdflib.BNode) and node not in self._twins:
                return None
            terms.append(self._twins.get(node) or to_oxigraph(node))
        subject, predicate, obj = terms
        if isinstance(subject, ox.Literal) or not isinstance(predicate, ox.NamedNode):
            return None
        return ox.Triple(subject, predicate, obj)

    def triggers(self, triples: Iterable[ox.Triple]) -> bool:
        """Whether adding these triples can make the closure grow, so that closing again is needed.

        An OWL 2 RL rule fires on a data triple only through an axiom about its predicate (or, for
        ``rdf:type``, its class) or through an ``owl:sameAs`` of its subject or object. Rules
        conclude triples like ``kg:foughtIn`` that no axiom mentions: re-running owlrl over the
        whole graph for them would cost a full pass and add nothing.
        """
        for triple in triples:
            s, p, o = (to_rdflib(t) for t in triple)
            if not self._inert(p) or (p == _TYPE and not self._inert(o)):
                return True
            if any((t, _SAME_AS, None) in self.graph for t in (s, o)):
                return True
        return False

    def _inert(self, term: rdflib.term.Identifier) -> bool:
        """True if no axiom mentions the term: it is only declared, used, or related to itself."""
        if isinstance(term, rdflib.URIRef) and str(term).startswith(BUILT_IN_NAMESPACES):
            return term == _TYPE
        for _, _, o in self.graph.triples((term, None, None)):
            if o != term and o not in _TRIVIAL_OBJECTS:
                return False
        for s, p, _ in self.graph.triples((None, None, term)):
            if s != term and p != _TYPE and s != _NOTHING:
                return False
        return True

    def _twin(self, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Identifier:
        """The rdflib term; the original is kept so literals come back as written."""
        twin = to_rdflib(term)
        self._twins.setdefault(twin, term)
        return twin


def is_meaningful(triple: ox.Triple) -> bool:
    """The filter described in the module's docstring."""
    subject, predicate, obj = triple.subject, triple.predicate, triple.object
    if isinstance(subject, ox.Literal) or is_built_in(subject):
        return False
    if predicate == RDF_TYPE:
        return not is_built_in(obj)
    if predicate == OWL_SAME_AS:
        return subject != obj
    return not is_built_in(predicate)


def _exists(store: Store, subject: Term | None, predicate: ox.NamedNode | None, obj: Term | None, graph: str) -> bool:
    return next(iter(store.quads(subject, predicate, obj, graph)), None) is not None
