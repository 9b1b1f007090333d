"""One check for every way triples enter the graph: ``kgraph validate``, the write path and the tests.

:func:`check` takes a candidate store (the graph as it would be after a change: asserted graphs, and the inferred
graph of the state before, which it replaces) and what changed, and says what is wrong with it: inference and the
contradictions it finds, SHACL shapes on the focus nodes the change can reach (:mod:`kgraph.validate.reach`), and
``kg:`` terms the ontology does not declare. The schema guard: a change that touches the schema itself (RDFS or OWL
statements) or that the shapes read from everywhere is validated on every node, never on a guess.

Given a :class:`Baseline` (what a complete check of the state before found), the SHACL results are complete: the
baseline's for the nodes the change cannot reach, fresh ones for the others. Without one, only the reached nodes'
results are returned, which is what a write needs: results elsewhere were there before it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kgraph.config import INFERRED_GRAPH, ONTOLOGY_NS, ReasonerName
from kgraph.infer import InferenceReport, run_inference
from kgraph.infer.terms import BUILT_IN_NAMESPACES, PREFIXES, shorten
from kgraph.load import parse_file, rdf_files
from kgraph.store import Store
from kgraph.validate.reach import Reach, affected, analyse, neighbourhood
from kgraph.validate.report import ShaclResult, Violation

if TYPE_CHECKING:
    import rdflib

Node = ox.NamedNode | ox.BlankNode


@dataclass
class Shapes:
    """The SHACL shapes as triples; the rdflib graph pySHACL needs and their reach are made only when asked for."""

    triples: list[ox.Triple]
    known_reach: Reach | None = None

    @cached_property
    def graph(self) -> rdflib.Graph:
        """The shapes as an rdflib graph (imports rdflib and pySHACL: only when shapes are run)."""
        from kgraph.validate.shacl import to_graph

        return to_graph(self.triples)

    @cached_property
    def reach(self) -> Reach:
        """How far the shapes look from a focus node (given by the cache, else worked out from the shapes)."""
        return self.known_reach or analyse(self.graph)


@dataclass
class CheckContext:
    """What a check needs besides the candidate: the rules, the shapes, which graphs are ontology or set aside."""

    rules: Path
    shapes: Shapes | None
    ontology_graphs: set[str]
    ignored_graphs: set[str] = field(default_factory=set)
    """Graphs that are neither data nor ontology for the shapes (a server's write provenance)."""
    reasoner: str | None = None
    _ontology: rdflib.Graph | None = field(default=None, repr=False)
    _declared: set[str] | None = field(default=None, repr=False)

    def ontology(self, store: Store) -> rdflib.Graph:
        """The ontology's graphs as one rdflib graph for pySHACL (their classes and properties), made once."""
        from kgraph.validate.shacl import to_graph

        if self._ontology is None:
            self._ontology = to_graph(q.triple for g in sorted(self.ontology_graphs) for q in store.quads(graph=g))
        return self._ontology

    def declared(self, store: Store) -> set[str]:
        """Every term the ontology declares, read once."""
        if self._declared is None:
            self._declared = declared_terms(store, self.ontology_graphs)
        return self._declared


@dataclass
class Inferred:
    """A closure the caller already brought up to date in the candidate (a write infers in place, from its delta):
    the report, and the inferred quads the change added or removed."""

    report: InferenceReport
    changed: list[ox.Quad]


@dataclass
class Baseline:
    """What a complete check of the state before the change found."""

    inferred: set[ox.Triple]
    results: list[ShaclResult] | None = None
    """Every SHACL result of that state; None when only the change's own results are wanted."""


@dataclass
class Findings:
    """Everything a check found, in RDF terms: the caller words and locates it."""

    inference: InferenceReport
    results: list[ShaclResult]
    undeclared: list[tuple[str, str]]
    """(graph, IRI) of each ``kg:`` term used in a checked graph that the ontology does not declare."""
    validated: set[Node] | None
    """The focus nodes SHACL ran on; None when it ran on every node."""


def check(
    candidate: Store,
    changed: Iterable[ox.Quad] | None,
    *,
    context: CheckContext,
    baseline: Baseline | None = None,
    inferred: Inferred | None = None,
    terms_of: Sequence[str] = (),
    terms_in: Iterable[ox.Quad] = (),
    progress: Callable[[str], None] | None = None,
) -> Findings:
    """Infer over ``candidate`` (unless ``inferred`` says it is done) and check it; ``changed`` (None: everything)
    are the asserted quads added or removed since ``baseline`` (or since the state ``inferred`` started from).
    ``terms_of`` are the graphs, ``terms_in`` the quads, whose ``kg:`` terms must all be declared; ``progress`` is
    told when the shapes start, the long step of a large validation.

    With a focus, SHACL runs over the focus nodes' neighbourhood (:func:`~kgraph.validate.reach.neighbourhood`),
    not the whole store: a write to a large store costs what it touches."""
    inference = (
        inferred.report
        if inferred
        else run_inference(
            candidate, rules_dir=context.rules, reasoner=ReasonerName(context.reasoner or ReasonerName.NATIVE)
        )
    )
    undeclared = undeclared_terms(candidate, terms_of, context.ontology_graphs)
    declared = context.declared(candidate)
    undeclared += [(graph, iri) for graph, iri in _terms(terms_in) if iri not in declared]
    if context.shapes is None:
        return Findings(inference, [], undeclared, None)
    delta = None
    if changed is not None and inferred is not None:
        delta = {q.triple for q in changed} | {q.triple for q in inferred.changed}
    elif changed is not None and baseline is not None:
        inferred_now = {q.triple for q in candidate.quads(graph=INFERRED_GRAPH)}
        delta = {q.triple for q in changed} | (inferred_now ^ baseline.inferred)
    focus = _focus(candidate, delta, context.shapes)
    if progress is not None:
        progress("checking the shapes")
    results = _shacl(candidate, context, focus) if focus is None or focus else []
    if focus is not None and baseline is not None and baseline.results is not None:
        results = [r for r in baseline.results if r.focus not in focus] + results
    return Findings(inference, results, undeclared, focus)


def _focus(candidate: Store, delta: set[ox.Triple] | None, shapes: Shapes) -> set[Node] | None:
    """The nodes to validate again, or None for all of them (no delta, the schema guard)."""
    if delta is None or any(_is_schema(t) for t in delta):
        return None
    if not delta:
        return set()
    reach = shapes.reach
    if reach.needs_everything(delta) or any(_literal_focus(t, reach) for t in delta):
        return None
    return affected(candidate, delta, reach)


def _literal_focus(triple: ox.Triple, reach: Reach) -> bool:
    """A literal the shapes may target through the changed triple (``sh:targetObjectsOf``): focus nodes are named by
    IRI, so only a validation of every node can check it."""
    return isinstance(triple.object, ox.Literal) and reach.steps(triple.predicate.value, backward=True) >= 0


def _is_schema(triple: ox.Triple) -> bool:
    """An axiom or a declaration (OWL, or the RDFS that pySHACL reads: classes, properties): it can change what
    every shape sees."""
    predicate = triple.predicate.value
    if predicate.startswith(PREFIXES["owl"]) or predicate in _RDFS_SCHEMA:
        return True
    return predicate == _RDF_TYPE and getattr(triple.object, "value", "").startswith(BUILT_IN_NAMESPACES)


_RDF_TYPE = PREFIXES["rdf"] + "type"
_RDFS_SCHEMA = {PREFIXES["rdfs"] + name for name in ("subClassOf", "subPropertyOf", "domain", "range")}


def _shacl(candidate: Store, context: CheckContext, focus: set[Node] | None) -> list[ShaclResult]:
    """The shapes run over the data (asserted and inferred) and the ontology: on every node (``focus`` None), or on
    the focus nodes over their neighbourhood only. Focus nodes are named by IRI (pySHACL's filter): with a blank
    node among them, the whole neighbourhood is validated and the focus nodes' results kept."""
    from kgraph.validate.shacl import run_shacl, to_graph

    assert context.shapes is not None
    left_out = context.ontology_graphs | context.ignored_graphs
    if focus is None:
        data_graphs = [g for g in candidate.graph_names() if g not in left_out]
        data = to_graph(q.triple for g in data_graphs for q in candidate.quads(graph=g))
        return run_shacl(data, context.shapes.graph, context.ontology(candidate))
    data = to_graph(neighbourhood(candidate, focus, context.shapes.reach, left_out))
    named = not any(isinstance(node, ox.BlankNode) for node in focus)
    iris = sorted(node.value for node in focus) if named else None
    results = run_shacl(data, context.shapes.graph, context.ontology(candidate), focus_nodes=iris)
    return [r for r in results if r.focus in focus]


def undeclared_terms(store: Store, graphs: Sequence[str], ontology_graphs: set[str]) -> list[tuple[str, str]]:
    """``kg:`` terms used in ``graphs`` that no ontology graph declares (most are typos), as (graph, IRI)."""
    if not graphs:
        return []
    declared = declared_terms(store, ontology_graphs)
    return [found for graph in graphs for found in _terms(store.quads(graph=graph)) if found[1] not in declared]


def _terms(quads: Iterable[ox.Quad]) -> list[tuple[str, str]]:
    """The ``kg:`` terms the quads use, as (graph, IRI), sorted."""
    used = {
        (getattr(q.graph_name, "value", ""), t.value)
        for q in quads
        for t in (q.subject, q.predicate, q.object, getattr(q.object, "datatype", None))
        if isinstance(t, ox.NamedNode) and t.value.startswith(ONTOLOGY_NS)
    }
    return sorted(used)


def shapes_in(folder: Path) -> Shapes | None:
    """The shapes of a project's ``shapes/`` folder; None when it has none."""
    try:
        files = rdf_files([folder])
    except (FileNotFoundError, ValueError):
        return None
    return Shapes([q.triple for file in files for q in parse_file(file, "urn:kgraph:shapes")[0]])


def declared_terms(store: Store, ontology_graphs: set[str]) -> set[str]:
    """The subjects of the ontology's statements: every term it declares."""
    return {
        q.subject.value for g in ontology_graphs for q in store.quads(graph=g) if isinstance(q.subject, ox.NamedNode)
    }


def as_violation(
    result: ShaclResult, file: str | None = None, line: int | None = None, column: int | None = None
) -> Violation:
    """A SHACL result as a person reads it, terms shortened, located in a file when known."""
    return Violation(
        focus=shorten(result.focus),
        path=shorten(result.path) if result.path else None,
        message=result.message,
        severity=result.severity,
        constraint=result.constraint,
        shape=result.shape,
        value=result.value,
        file=file,
        line=line,
        column=column,
    )


def suggestion(iri: str, declared: set[str]) -> str | None:
    """The declared ``kg:`` term closest to a misspelt one, if any is close."""
    close = difflib.get_close_matches(iri, [d for d in declared if d.startswith(ONTOLOGY_NS)], 1)
    return close[0] if close else None
