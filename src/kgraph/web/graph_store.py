"""``/store``: the SPARQL 1.1 Graph Store HTTP Protocol, a thin view over :mod:`kgraph.writes`.

https://www.w3.org/TR/sparql11-http-rdf-update/ names a graph indirectly, with ``?graph=IRI`` or ``?default``, or
directly: a graph whose IRI is a URL under this server's ``/store/`` is read and written at that URL itself. GET and
HEAD are open to anyone; PUT (replace), POST (add) and DELETE need the write token and go through the same validated
transaction as a SPARQL Update. A POST to ``/store`` itself creates a new graph and answers 201 with its Location. A
body may be in any RDF syntax the server reads, or ``multipart/form-data`` of such files; its blank nodes are
renamed so that they never merge with the store's.

On the article server the default graph is the union of the asserted graphs, as queries see it with ``infer=false``:
it can be read and added to (a POST lands in the contributor's own graph), but not replaced or deleted, since it is
made of the project's files. On a server of one's own data (``--own-data``) it is the store's default graph, and
everything is writable.

A graph made empty (a PUT of nothing, a CLEAR) still exists (GET 200 with no triples) until it is deleted or dropped;
the store's journal keeps triples, not graph names, so the running server remembers an empty graph, a restart does
not.
"""

from __future__ import annotations

import io
import uuid
from typing import TYPE_CHECKING

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from kgraph import bounds
from kgraph.sparql.errors import SparqlError
from kgraph.sparql.formats import negotiate
from kgraph.sparql.protocol import ProtocolError, read_body
from kgraph.web import service
from kgraph.web.auth import authorize
from kgraph.web.writing import perform
from kgraph.write_policy import contrib_graph

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

SUFFIX_TYPES = {
    "text/turtle": ("ttl",),
    "application/n-triples": ("nt",),
    "application/n-quads": ("nq",),
    "application/trig": ("trig",),
    "text/n3": ("n3",),
    "application/ld+json": ("jsonld", "json"),
    "application/rdf+xml": ("rdf", "owl", "xml"),
}
"""The media type of a multipart file that names none, by its file name's suffix."""


@bp.route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def graph_store() -> Response:
    """Read, replace, add to or delete one graph named by ``?graph=`` or ``?default``; POST alone makes a new one."""
    if request.method == "POST" and not request.args.getlist("graph") and "default" not in request.args:
        return _create(service(current_app))
    return _serve(service(current_app), _target())


@bp.route("/store/<path:name>", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def direct(name: str) -> Response:
    """Direct graph identification: the graph whose IRI is this very URL."""
    if request.args:
        raise ProtocolError("A graph's own URL takes no parameters: use /store?graph=IRI to name another graph.")
    return _serve(service(current_app), request.base_url)


def _serve(state: Service, graph: str | None) -> Response:
    if request.method in ("GET", "HEAD"):
        return _read(state, graph)
    who = authorize(state.settings, WRITES_DISABLED)  # before reading the body: no token, no parsing
    if request.method == "DELETE":
        existing = _existing(state, graph)
        return perform(lambda writer: writer.delete_graph(existing, who=who))
    quads = _body_quads(state, graph)
    if request.method == "POST":
        if graph is None and not state.settings.own_data:
            graph = contrib_graph(who)
        created = _is_new(state, graph)
        return perform(lambda writer: writer.post_graph(graph, quads, who=who), created=created)
    if graph is None and not state.settings.own_data:
        raise SparqlError(
            "PUT ?default would replace the default graph, the union of the graphs loaded from the project's files, "
            "which are read-only over HTTP: PUT a named graph (?graph=IRI).",
            status=403,
        )
    created = _is_new(state, graph)
    return perform(lambda writer: writer.put_graph(graph, quads, who=who), created=created)


def _create(state: Service) -> Response:
    """POST to the store itself: a new graph under ``/store/`` holding the body, 201 with its Location."""
    who = authorize(state.settings, WRITES_DISABLED)
    graph = f"{request.base_url.rstrip('/')}/{uuid.uuid4().hex}"
    quads = _body_quads(state, graph)
    response = perform(lambda writer: writer.post_graph(graph, quads, who=who), created=True)
    if response.status_code < 300:
        response.headers["Location"] = graph
    return response


def _body_quads(state: Service, graph: str | None) -> list[ox.Quad]:
    """The statements of the request body: one RDF document, or every file of a multipart/form-data body."""
    if request.mimetype == "multipart/form-data":
        read_body(io.BytesIO(), request.content_length, state.settings.max_body_bytes)  # refuses one too large
        quads: list[ox.Quad] = []
        for part in request.files.values():
            quads += _parse(part.read(), graph, part.mimetype or _by_suffix(part.filename))
        return quads
    body = read_body(request.stream, request.content_length, state.settings.max_body_bytes)
    if not body.strip() and request.mimetype not in READABLE:
        return []  # an empty body says "no triples" in any syntax
    return _parse(body, graph, request.mimetype)


def _by_suffix(filename: str | None) -> str:
    """A media type for a multipart file sent without one, from its name (``x.ttl``), else none."""
    suffix = (filename or "").rpartition(".")[2].lower()
    return next((media for media, names in SUFFIX_TYPES.items() if suffix in names), "")


def _is_new(state: Service, graph: str | None) -> bool:
    """Whether a write to ``graph`` creates it (201): a graph not in the store, or the default graph while empty."""
    if graph is None:
        return not bool(state.graph.store.query("ASK { ?s ?p ?o }", default_graph=[]))
    return not _exists(state, graph)


def _exists(state: Service, graph: str | None) -> bool:
    """Whether a graph is in the store (the default graph always is); empty graphs made by PUT count."""
    return graph is None or graph in state.empty_graphs or graph in state.graph.store.graph_names()


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


def _existing(state: Service, graph: str | None) -> str | None:
    if graph is None and not state.settings.own_data:
        raise SparqlError(
            "DELETE ?default would delete the default graph, the union of the graphs loaded from the project's files, "
            "which are read-only over HTTP: DELETE a named graph.",
            status=403,
        )
    if not _exists(state, graph):
        raise SparqlError(f"There is no graph <{graph}> in this store.", status=404)
    return graph


def _read(state: Service, graph: str | None) -> Response:
    """The graph's triples in the format the client accepts (Turtle by default)."""
    store = state.graph.store
    if graph is None and state.settings.own_data:
        triples = {q.triple for q in store.quads() if isinstance(q.graph_name, ox.DefaultGraph)}
    elif graph is None:
        triples = {q.triple for g in state.default_graphs[False] for q in store.quads(graph=g)}
    elif _exists(state, graph):
        triples = {q.triple for q in store.quads(graph=graph)}
    else:
        raise SparqlError(f"There is no graph <{graph}> in this store.", status=404)
    fmt = negotiate("graph", request.headers.get("Accept"), request.args.getlist("format"))
    body = ox.serialize(sorted(triples, key=str), format=fmt.rdf_format) or b""
    response = Response(body, content_type=fmt.content_type)
    response.vary.add("Accept")
    return response


def _parse(body: bytes, graph: str | None, media_type: str) -> list[ox.Quad]:
    """The body's statements (fresh blank nodes; a TriG or N-Quads body's graphs are ignored: the target graph
    gets them all), or 400 with the position of a syntax error, or 415."""
    media_type = media_type.split(";")[0].strip().lower()
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
        ended = _with_final_dot(body, rdf_format, graph, max_nesting)
        if ended is not None:
            return ended
        where = f" at line {error.line}, column {error.column}" if error.line else ""
        raise ProtocolError(f"The {media_type} body does not parse{where}: {error.message}") from None


def _with_final_dot(body: bytes, rdf_format: ox.RdfFormat, graph: str | None, max_nesting: int) -> list[ox.Quad] | None:
    """A Turtle or N3 body whose last statement lacks its final dot, read with the dot; None if that does not parse.

    The W3C Graph Store Protocol's own examples end so, and the mature servers take them."""
    if rdf_format not in (ox.RdfFormat.TURTLE, ox.RdfFormat.N3) or body.rstrip().endswith(b"."):
        return None
    try:
        return bounds.parse(
            body + b"\n.\n", rdf_format, max_nesting=max_nesting, base_iri=graph, rename_blank_nodes=True
        )
    except bounds.InputRefused:
        return None
