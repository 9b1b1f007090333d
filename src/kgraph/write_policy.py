"""What a contributor may write over HTTP: their own graph; data, never schema; never a copy of what was derived.

Three rules, checked before a write is inferred or validated, so a refused write costs little and changes nothing:

- **Their own graph.** Under ``GRAPH_NS`` a contributor may change only their own graph, ``GRAPH_NS + "contrib/" +
  token name``, where a write that names no graph lands; the graphs loaded from the project's files (they change
  by pull request, reviewed), the inferred graph, the write-provenance graph and other contributors' graphs are
  read-only over HTTP (403). A client may also name any graph outside ``GRAPH_NS``.

- **Contributions are data, not schema.** The ontology gives the graph its meaning, and it changes by pull request
  to ``ontology/`` (reviewed, and checked by ``kgraph validate``), never over HTTP: one accepted
  ``kg:alliedWith rdfs:subPropertyOf kg:adversaryOf`` would make every alliance an enmity for every reader. A write
  that adds or removes a *schema statement* is refused (422, naming the triple): a statement about a class or
  property of the ontology (or about RDF, RDFS or OWL themselves), an RDFS or OWL axiom (subclass, subproperty,
  domain, range, equivalence, inverse, disjointness, property characteristics, restrictions, lists of classes,
  ``owl:imports``...), a declaration of a class or property, and an ``owl:sameAs`` or ``owl:differentFrom`` naming
  an ontology term. Data keeps ``rdf:type`` to an ontology class, ``rdfs:label``/``comment``/``seeAlso``, and
  ``owl:sameAs``/``owl:differentFrom`` between individuals.
- **Derived graphs are never a source.** The inferred graph is computed from the asserted graphs, and the writes
  graph records who wrote what; copying either into an asserted graph (``ADD``, ``COPY``, ``MOVE``, or
  ``INSERT ... WHERE`` reading them) would turn conclusions into premises that no switch (``infer=false``) or
  retraction can take back. An update naming either graph is refused (403); the writer also runs every update over
  a candidate that does not hold them, so a ``GRAPH ?g`` pattern cannot reach them either.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

import pyoxigraph as ox

from kgraph.config import GRAPH_NS, INFERRED_GRAPH, ONTOLOGY_NS
from kgraph.infer.terms import PREFIXES, RDF_TYPE, is_built_in, shorten, shorten_triple
from kgraph.sparql.errors import SparqlError
from kgraph.sparql.guard import significant_tokens as sparql_tokens
from kgraph.store import Store
from kgraph.validate.report import Problem

ONTOLOGY_GRAPHS = GRAPH_NS + "ontology/"
"""Prefix of the graphs loaded from the project's ``ontology/`` folder."""

PROVENANCE_GRAPH = GRAPH_NS + "writes"
"""The write-provenance graph: who wrote what, when (one ``prov:Activity`` per write)."""

DERIVED_GRAPHS = (INFERRED_GRAPH, PROVENANCE_GRAPH)
"""Graphs the server writes itself: never the source of a write."""

SCHEMA_CHANGES = "https://w3id.org/kgraph/ontology (ontology/ in the repository)"

_RDFS, _OWL = PREFIXES["rdfs"], PREFIXES["owl"]
DATA_PREDICATES = frozenset(
    {_RDFS + "label", _RDFS + "comment", _RDFS + "seeAlso", _OWL + "sameAs", _OWL + "differentFrom"}
)
"""The RDFS and OWL properties a data statement may use; every other one states an axiom."""

DATA_CLASSES = frozenset({_OWL + "Thing", _OWL + "NamedIndividual"})
"""The RDF, RDFS and OWL classes an individual may be typed with; every other one declares schema."""

_EQUALITY = frozenset({_OWL + "sameAs", _OWL + "differentFrom"})


class DerivedGraphRead(SparqlError):
    """The update reads the inferred or the writes graph: a write may not copy derived triples (403)."""

    status = 403


def ontology_terms(store: Store) -> frozenset[str]:
    """The IRIs the ontology's graphs say something about: its classes, properties and the ontology itself."""
    return frozenset(
        q.subject.value
        for name in store.graph_names()
        if name.startswith(ONTOLOGY_GRAPHS)
        for q in store.quads(graph=name)
        if isinstance(q.subject, ox.NamedNode)
    )


def schema_problems(quads: Iterable[ox.Quad], terms: frozenset[str], *, removed: bool = False) -> list[Problem]:
    """One problem per schema statement among the quads a write adds (or removes), worded for the contributor."""
    verb = "removes" if removed else "adds"
    problems = []
    for quad in sorted(quads, key=str):
        why = schema_reason(quad.triple, terms)
        if why:
            message = (
                f"The write {verb} a schema statement ({why}): contributions are data, the ontology changes by pull "
                "request to ontology/, checked by kgraph validate"
            )
            problems.append(Problem("schema-statement", message, triples=[shorten_triple(quad.triple)]))
    return problems


def schema_reason(triple: ox.Triple, terms: frozenset[str]) -> str:
    """Why the triple is a schema statement (see the module's docstring), or ``""`` when it is data."""
    subject, predicate, obj = triple.subject, triple.predicate, triple.object
    if _is_term(subject, terms):
        return f"its subject {shorten(subject)} is a term of the ontology"
    if is_built_in(subject):
        return f"its subject {shorten(subject)} is RDF, RDFS or OWL vocabulary"
    if predicate.value in _EQUALITY:
        if _is_term(obj, terms) or is_built_in(obj):
            return f"{shorten(predicate)} a term of the ontology, {shorten(obj)}"
        return ""
    if predicate.value.startswith((_RDFS, _OWL)) and predicate.value not in DATA_PREDICATES:
        return f"a {shorten(predicate)} axiom"
    if predicate == RDF_TYPE and is_built_in(obj) and obj.value not in DATA_CLASSES:
        return f"it declares a {shorten(obj)}"
    return ""


def refuse_derived_reads(sparql: str) -> None:
    """Refuse an update that names the inferred or the writes graph (after PREFIX and BASE), as a source or not."""
    for token in sparql_tokens(sparql):
        if token.kind in ("iri", "pname") and token.text in DERIVED_GRAPHS:
            what = "inferred graph" if token.text == INFERRED_GRAPH else "writes graph"
            raise DerivedGraphRead(
                f"The update names <{token.text}>, the {what}: the server derives it, so it is never the source of a "
                "write (ADD, COPY, MOVE or INSERT ... WHERE reading it would turn conclusions into asserted facts "
                "that infer=false and retractions cannot take back). Assert the facts themselves, from their source."
            )


def _is_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, terms: frozenset[str]) -> bool:
    return isinstance(term, ox.NamedNode) and (term.value in terms or term.value.startswith(ONTOLOGY_NS))


CONTRIB_NS = GRAPH_NS + "contrib/"
"""Where writes land when the client names no graph: one graph per token name."""


class WriteForbidden(SparqlError):
    """The write would change a graph that is read-only over HTTP (403)."""

    status = 403


def is_protected(graph: str, who: str) -> bool:
    """Whether ``who`` may not change ``graph`` over HTTP: project files, inferred, provenance, others' graphs."""
    return graph.startswith(GRAPH_NS) and graph != contrib_graph(who)


def contrib_graph(who: str) -> str:
    """The graph a contributor's writes land in when they name none."""
    return CONTRIB_NS + quote(who, safe="")


def refuse_protected(quads: list[ox.Quad], who: str) -> None:
    """Refuse a write that changes a graph ``who`` may not change over HTTP (403), naming it and where to write."""
    names = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    graphs = sorted(name for name in names if is_protected(name, who))
    if graphs:
        raise WriteForbidden(
            f"The write would change <{graphs[0]}>, which is read-only over HTTP: graphs loaded from the project's "
            f"files change by pull request (kgraph validate checks them). Write to your own graph instead (the "
            f"default, <{contrib_graph(who)}>) or name a graph outside {GRAPH_NS}."
        )
