"""``/id/<path>``: every resource IRI of the project resolves, to a page for people and RDF for programs.

``https://w3id.org/kgraph/id/sudzha`` is served at ``/id/sudzha`` on whatever host runs the server: the IRI is
always built from ``RESOURCE_NS``, never from the request's host, so a mirror describes the same resources. A
browser gets an HTML page readable without JavaScript; an RDF client gets the resource's triples (outgoing and
incoming) in the format its ``Accept`` asks for; a suffix (``/id/sudzha.ttl``) picks the format for people who
cannot set headers. The queries are in :mod:`kgraph.describe` and :mod:`kgraph.timeline`; this module only moves
HTTP. ``/timeline`` lists every dated thing of the graph.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request

from kgraph.config import ONTOLOGY_NS
from kgraph.describe import describe, description_triples, exists, ontology, resource_iri
from kgraph.sparql.formats import GRAPH_FORMATS, ResultFormat, negotiate
from kgraph.timeline import timeline
from kgraph.web import error_response, service
from kgraph.web.diagram import ontology_diagram
from kgraph.web.shared import MAP_FILES, graphs_for, infer_flag, rdf_response, vendored, wants_html

bp = Blueprint("resources", __name__, template_folder="templates")

SUFFIXES: dict[str, ResultFormat] = {
    suffix: next(fmt for fmt in GRAPH_FORMATS if fmt.name == name)
    for suffix, name in {"ttl": "turtle", "nt": "ntriples", "jsonld": "jsonld", "rdf": "rdfxml"}.items()
}
"""The file suffix that picks each RDF format in a link a person can click."""


@bp.get("/id/<path:path>")
def resource(path: str) -> Response:
    """The resource's page or RDF description; 404 for a name the graph does not mention."""
    name, suffix_format = split_suffix(path)
    iri = resource_iri(name)
    graphs = graphs_for(infer_flag(request.args.get("infer")))
    fmt = choose_format(suffix_format)
    store = service(current_app).graph.store
    if iri is None or not exists(store, iri, graphs):
        return _not_found(iri or name, html=fmt is None)
    if fmt is None:
        page = render_template(
            "resources/resource.html",
            d=describe(store, iri, graphs),
            t=timeline(store, graphs, focus=iri),
            map_assets=map_installed(),
            kg_ns=ONTOLOGY_NS,
            root=request.script_root,
        )
        return _vary(Response(page, content_type="text/html; charset=utf-8"))
    return _vary(rdf_response(description_triples(store, iri, graphs), fmt))


@bp.get("/timeline")
def timeline_page() -> Response:
    """Every dated event and claim of the graph, in order, each time as precise as the data gives it."""
    store = service(current_app).graph.store
    graphs = graphs_for(infer_flag(request.args.get("infer")))
    page = render_template("resources/timeline.html", t=timeline(store, graphs), root=request.script_root)
    return Response(page, content_type="text/html; charset=utf-8")


def map_installed() -> bool:
    """Whether ``make assets`` has put the map's files in place (a page without them must not load broken scripts)."""
    return vendored(MAP_FILES)


@bp.get("/ontology")
@bp.get("/ontology.<suffix>")
def ontology_page(suffix: str | None = None) -> Response:
    """The ontology IRI: a reference page of its classes and properties, or its triples for RDF clients."""
    if suffix is not None and suffix not in SUFFIXES:
        return error_response(404, f"Not found: no format '.{suffix}'; use .ttl, .nt, .jsonld or .rdf.")
    fmt = choose_format(SUFFIXES.get(suffix or ""))
    kg = service(current_app).graph
    graphs = ontology_graphs()
    if fmt is None:
        terms = ontology(kg.store, graphs)
        diagram = ontology_diagram(terms, root=request.script_root)
        page = render_template("resources/ontology.html", o=terms, diagram=diagram, root=request.script_root)
        return _vary(Response(page, content_type="text/html; charset=utf-8"))
    quads = (q for g in graphs for q in kg.store.quads(graph=g))
    return _vary(rdf_response(sorted({q.triple for q in quads}, key=str), fmt))


def ontology_graphs() -> list[str]:
    """The named graphs the ``ontology/`` files were loaded into (asserted only: the page shows what is written)."""
    return service(current_app).ontology_graphs


def split_suffix(path: str) -> tuple[str, ResultFormat | None]:
    """``sudzha.ttl`` -> (``sudzha``, Turtle); a path without a known suffix is the name itself."""
    stem, dot, suffix = path.rpartition(".")
    if dot and stem and suffix in SUFFIXES:
        return stem, SUFFIXES[suffix]
    return path, None


def choose_format(suffix_format: ResultFormat | None) -> ResultFormat | None:
    """The RDF format to answer in, or None for the HTML page: a suffix decides, else the Accept header."""
    accept = request.headers.get("Accept")
    if suffix_format is not None:
        return suffix_format
    return None if wants_html(accept) else negotiate("graph", accept, None)


def _not_found(name: str, html: bool) -> Response:
    message = f"Not found: no resource {name} in this graph."
    if not html:
        return error_response(404, message)
    page = render_template("resources/not_found.html", message=message)
    return Response(page, status=404, content_type="text/html; charset=utf-8")


def _vary(response: Response) -> Response:
    response.vary.add("Accept")
    return response
