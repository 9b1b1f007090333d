"""SHACL validation of asserted + inferred triples, with each result worded for a contributor.

pySHACL does no inference here: ours has already run, so the data graph holds the inferred triples
and the shapes see exactly what a SPARQL query with inference would see. ``advanced=True`` enables
the SHACL-SPARQL constraints the shapes use.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Iterable

import pyoxigraph as ox
import pyshacl
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH, XSD
from rdflib.plugins.sparql.sparql import Query

from kgraph.config import NAMESPACE
from kgraph.infer.terms import shorten, to_oxigraph, to_rdflib
from kgraph.validate.report import ShaclResult

rdflib.plugin.register("sparql", rdflib.query.Processor, "kgraph.validate.prepared", "PreparedSPARQLProcessor")

SHAPES_NS = NAMESPACE + "shapes#"
"""Where the project's shapes are named (``kgsh:``)."""

_EXPECTED = {
    "MinCountConstraintComponent": ("minCount", "at least {} value(s)"),
    "MaxCountConstraintComponent": ("maxCount", "at most {} value(s)"),
    "DatatypeConstraintComponent": ("datatype", "a literal of type {}"),
    "ClassConstraintComponent": ("class", "an instance of {}"),
    "NodeKindConstraintComponent": ("nodeKind", "a value of kind {}"),
    "InConstraintComponent": ("in", "one of {}"),
    "HasValueConstraintComponent": ("hasValue", "the value {}"),
    "PatternConstraintComponent": ("pattern", "text matching {}"),
    "LanguageInConstraintComponent": ("languageIn", "a language among {}"),
    "NodeConstraintComponent": ("node", "a value conforming to {}"),
    "MinInclusiveConstraintComponent": ("minInclusive", "a value >= {}"),
    "MaxInclusiveConstraintComponent": ("maxInclusive", "a value <= {}"),
    "MinExclusiveConstraintComponent": ("minExclusive", "a value > {}"),
    "MaxExclusiveConstraintComponent": ("maxExclusive", "a value < {}"),
}
"""Constraint component -> (its parameter, how to say what it expects)."""

_PLAIN = {XSD.integer, XSD.decimal, XSD.double, XSD.boolean, XSD.nonNegativeInteger}
"""Literal types shown bare in messages (``at least 1``, not ``"1"^^xsd:integer``)."""

_COUNTED = {"MinCountConstraintComponent", "MaxCountConstraintComponent"}


def to_graph(triples: Iterable[ox.Triple]) -> rdflib.Graph:
    """An rdflib graph holding the triples; blank node labels are kept so results can be traced.

    Each term is converted once: a graph names the same few thousand terms over and over.
    """
    graph = rdflib.Graph()
    terms: dict = {}
    add = graph.store.add
    for triple in triples:
        add(tuple(terms.get(t) or terms.setdefault(t, to_rdflib(t)) for t in triple), graph)
    return graph


_FOCUS: contextvars.ContextVar[frozenset | None] = contextvars.ContextVar("kgraph_shacl_focus", default=None)
"""The focus nodes of the validation running in this context (None: every target)."""


def _select_targets_within_focus() -> None:
    """Make pySHACL select, among a shape's targets, only the focus nodes of the running validation.

    pySHACL's own ``focus_nodes`` option filters every evaluation of a shape by the focus nodes, the nested ones too
    (``sh:or``, ``sh:node``, ``sh:qualifiedValueShape`` on a value node): a value that is not itself a focus node is
    then skipped, and ``sh:or ([sh:datatype xsd:decimal] ...)`` passes for a string. Filtering the targets instead
    validates exactly the focus nodes, each as a validation of every node would.
    """
    from pyshacl.shape import Shape

    if getattr(Shape.focus_nodes, "kgraph_filtered", False):
        return
    targets = Shape.focus_nodes

    def focus_nodes(self: Shape, data_graph: object, debug: bool = False) -> set:
        found = targets(self, data_graph, debug=debug)
        focus = _FOCUS.get()
        return found if focus is None else {node for node in found if node in focus}

    focus_nodes.kgraph_filtered = True  # type: ignore[attr-defined]
    Shape.focus_nodes = focus_nodes


class _PreparedQueries:
    """rdflib's SPARQL processor, remembering each query it has parsed.

    pySHACL runs a SPARQL constraint once per focus node, as text: rdflib would parse the same text again each time
    (75 ms each, nine tenths of a validation). Parsing and translating a query once and evaluating the prepared
    query with each node's bindings is what rdflib's ``prepareQuery`` is for; the answers are the same.
    """

    def __init__(self, graph: object) -> None:
        from rdflib.plugins.sparql.processor import SPARQLProcessor

        self._processor = SPARQLProcessor(graph)

    def query(self, query: object, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(query, str):
            query = prepared_query(query, tuple(sorted((initNs or {}).items())), base)
        return self._processor.query(query, initBindings, initNs, base, DEBUG)


@functools.cache
def prepared_query(text: str, namespaces: tuple = (), base: str | None = None) -> Query:
    """A SPARQL query parsed and translated by rdflib, once per text."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    return translateQuery(parseQuery(text), base, dict(namespaces))


def run_shacl(
    data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph, focus_nodes: list[str] | None = None
) -> list[ShaclResult]:
    """Every result of validating ``data`` (with the ontology) against ``shapes``; with ``focus_nodes`` (IRIs),
    only those of the shapes' targets are validated (a write checks the nodes it touches)."""
    rdflib.plugin.register("sparql", rdflib.query.Processor, __name__, "_PreparedQueries")
    _select_targets_within_focus()
    focus = None if focus_nodes is None else frozenset(rdflib.URIRef(node) for node in focus_nodes)
    token = _FOCUS.set(focus)
    try:
        _, results, _ = pyshacl.validate(
            data,
            shacl_graph=shapes,
            ont_graph=ontology,
            inference="none",
            advanced=True,
            allow_warnings=True,
            inplace=True,  # both graphs are built for this run: pySHACL need not copy them before mixing them
        )
    finally:
        _FOCUS.reset(token)
    found = [_result(results, node, data, shapes) for node in results.objects(None, SH.result)]
    return found


def _result(results: rdflib.Graph, node: rdflib.term.Node, data: rdflib.Graph, shapes: rdflib.Graph) -> ShaclResult:
    focus = results.value(node, SH.focusNode)
    path = results.value(node, SH.resultPath)
    value = results.value(node, SH.value)
    shape = results.value(node, SH.sourceShape)
    component = str(results.value(node, SH.sourceConstraintComponent)).removeprefix(str(SH))
    message = str(results.value(node, SH.resultMessage) or f"fails {component}")
    details = _details(component, shape, shapes)
    if details and component in _COUNTED and isinstance(path, rdflib.URIRef):
        details += f", found {len(set(data.objects(focus, path)))}"
    elif value is not None:
        details += f"{', ' if details else ''}found {_short(value)}"
    return ShaclResult(
        focus=to_oxigraph(focus),
        path=to_oxigraph(path) if isinstance(path, rdflib.URIRef) else None,
        message=f"{message} ({details})" if details else message,
        severity=str(results.value(node, SH.resultSeverity)).removeprefix(str(SH)),
        constraint="sh:" + component,
        shape=_short(shape),
        value=_short(value) if value is not None else None,
    )


def _details(component: str, shape: rdflib.term.Node, shapes: rdflib.Graph) -> str:
    """``expected ...`` from the shape's parameter, when the component is one people know."""
    if component not in _EXPECTED:
        return ""
    parameter = shapes.value(shape, SH[_EXPECTED[component][0]])
    if parameter is None:
        return ""
    if isinstance(parameter, rdflib.BNode) and shapes.value(parameter, RDF.first) is not None:
        text = ", ".join(_short(item) for item in Collection(shapes, parameter))
    else:
        text = _short(parameter)
    return "expected " + _EXPECTED[component][1].format(text)


def _short(term: rdflib.term.Node) -> str:
    """A term of a result in prefixed names (SHACL's as ``sh:``, the project's shapes ``kgsh:``)."""
    if isinstance(term, rdflib.Literal) and term.datatype in _PLAIN:
        return str(term)
    for prefix, namespace in (("sh", str(SH)), ("kgsh", SHAPES_NS)):
        if isinstance(term, rdflib.URIRef) and str(term).startswith(namespace):
            return f"{prefix}:{str(term).removeprefix(namespace)}"
    return shorten(to_oxigraph(term))
