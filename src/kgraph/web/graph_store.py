"""``/store``: the SPARQL 1.1 Graph Store HTTP Protocol, a thin view over :mod:`kgraph.writes`.

https://www.w3.org/TR/sparql11-http-rdf-update/ names a graph with ``?graph=IRI`` or ``?default``. GET and HEAD are
open to anyone; PUT (replace), POST (add) and DELETE need the write token and go through the same validated
transaction as a SPARQL Update. The default graph is the union of the asserted graphs, as queries see it with
``infer=false``: it can be read and added to (a POST lands in the contributor's own graph), but not replaced or
deleted, since it is made of the project's files. A body may be in any RDF syntax the server reads; its blank nodes
are renamed so that they never merge with the store's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from kgraph import bounds
from kgraph.sparql.errors import SparqlError
from kgraph.sparql.formats import negotiate, parse_accept
from kgraph.sparql.protocol import ProtocolError, read_body
from kgraph.validate.report import to_json, to_text
from kgraph.web import service
from kgraph.web.auth import authorize, current_writer
from kgraph.writes import Writer, WriteRejected, WriteResult, contrib_graph

if TYPE_CHECKING:
    from kgraph.web import Service

bp = Blueprint("graph_store", __name__)

WRITES_DISABLED = "Writes are disabled on this server: it serves the graph read-only (no KGRAPH_TOKEN is configured)."

READABLE = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
    "text/n3": ox.RdfFormat.N3,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
"""Media types a PUT or POST body may have: every syntax ``--data`` files may be in."""


@bp.route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def graph_store() -> Response:
    """Read, replace, add to or delete one graph of the store."""
    state = service(current_app)
    graph = _target()
    if request.method in ("GET", "HEAD"):
        return _read(state, graph)
    who = authorize(state.settings, WRITES_DISABLED)  # before reading the body: no token, no parsing
    if request.method == "DELETE":
        return perform(lambda writer: writer.delete_graph(_existing(state, graph), who=who))
    body = read_body(request.stream, request.content_length, state.settings.max_body_bytes)
    quads = _parse(body, graph)
    if request.method == "POST":
        return perform(lambda writer: writer.post_graph(graph or contrib_graph(who), quads, who=who))
    if graph is None:
        raise SparqlError("PUT ?default would replace the project's files: PUT a named graph (?graph=IRI).", status=403)
    created = graph not in state.graph.store.graph_names()
    return perform(lambda writer: writer.put_graph(graph, quads, who=who), created=created)


def perform(write: Callable[[Writer], WriteResult], *, created: bool = False) -> Response:
    """Run an authorised write and answer: its summary, or the validation report (422)."""
    try:
        result = write(current_writer())
    except WriteRejected as rejected:
        return _rejected(rejected)
    response = Response(result.summary() + "\n", status=201 if created else 200, content_type="text/plain")
    response.headers["Kgraph-Write"] = result.id
    return response


def _rejected(rejected: WriteRejected) -> Response:
    """The validation report, worded as ``kgraph validate`` words it; its JSON when the client prefers JSON."""
    ranges = parse_accept(request.headers.get("Accept"))
    if ranges and ranges[0][0].endswith(("/json", "+json")):
        return Response(to_json(rejected.report), status=422, content_type="application/json")
    text = "The write was refused; nothing was changed.\n" + to_text(rejected.report)
    return Response(text, status=422, content_type="text/plain; charset=utf-8")


def _target() -> str | None:
    """The graph the request names: an IRI, or ``None`` for the default graph."""
    graphs = request.args.getlist("graph")
    has_default = "default" in request.args
    if len(graphs) + has_default != 1:
        raise ProtocolError("Name exactly one graph: ?graph=IRI or ?default.")
    if has_default:
        return None
    try:
        return ox.NamedNode(graphs[0]).value
    except ValueError:
        raise ProtocolError(f"?graph={graphs[0]} is not an absolute IRI.") from None


def _existing(state: Service, graph: str | None) -> str:
    if graph is None:
        raise SparqlError("DELETE ?default would delete the project's files: DELETE a named graph.", status=403)
    if graph not in state.graph.store.graph_names():
        raise SparqlError(f"There is no graph <{graph}> in this store.", status=404)
    return graph


def _read(state: Service, graph: str | None) -> Response:
    """The graph's triples in the format the client accepts (Turtle by default)."""
    store = state.graph.store
    if graph is None:
        triples = {q.triple for g in state.default_graphs[False] for q in store.quads(graph=g)}
    elif graph in store.graph_names():
        triples = {q.triple for q in store.quads(graph=graph)}
    else:
        raise SparqlError(f"There is no graph <{graph}> in this store.", status=404)
    fmt = negotiate("graph", request.headers.get("Accept"), request.args.get("format"))
    body = ox.serialize(sorted(triples, key=str), format=fmt.serializer) or b""
    response = Response(body, content_type=fmt.content_type)
    response.vary.add("Accept")
    return response


def _parse(body: bytes, graph: str | None) -> list[ox.Quad]:
    """The body's statements (fresh blank nodes; a TriG or N-Quads body's graphs are ignored: the target graph
    gets them all), or 400 with the position of a syntax error, or 415."""
    media_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    rdf_format = READABLE.get(media_type)
    if rdf_format is None:
        raise ProtocolError(
            f"Unsupported Content-Type '{media_type or 'none'}' for RDF: use one of {', '.join(READABLE)}.",
            status=415,
        )
    max_nesting = service(current_app).settings.max_nesting
    try:
        return bounds.parse(body, rdf_format, max_nesting=max_nesting, base_iri=graph, rename_blank_nodes=True)
    except bounds.InputRefused as error:
        where = f" at line {error.line}, column {error.column}" if error.line else ""
        raise ProtocolError(f"The {media_type} body does not parse{where}: {error.message}") from None
