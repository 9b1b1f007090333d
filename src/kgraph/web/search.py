"""``/id/`` and ``/search``: the dataset's resources listed by class and found by label, without SPARQL.

Thin views over :mod:`kgraph.catalog`. ``/search?q=`` answers a page for browsers and JSON for scripts
(``format=json`` or an ``Accept`` preferring JSON); every page carries a search box that submits here.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, render_template, request

from kgraph.catalog import MAX_LISTED, MAX_RESULTS, classes, instances, search
from kgraph.describe import Node, labels_of, to_node
from kgraph.sparql.formats import parse_accept
from kgraph.web import error_response, service
from kgraph.web.shared import graphs_for, infer_flag

bp = Blueprint("search", __name__, template_folder="templates")

MAX_QUERY = 200
"""Longest search text accepted: labels are short, and a long text would only cost time."""


@bp.get("/id/")
def index() -> Response:
    """The classes of the dataset's resources with their counts; with ``?class=IRI``, that class's resources."""
    store = service(current_app).graph.store
    graphs = graphs_for(infer_flag(request.args.get("infer")))
    chosen = request.args.get("class")
    listed: list[tuple[Node, str]] = []
    more, cls = False, None
    if chosen:
        if not chosen.startswith(("http://", "https://")) or any(c in chosen for c in '<>"{}|\\^` '):
            return error_response(400, f"The 'class' parameter must be a full http(s) IRI, not '{chosen}'.")
        listed, more = instances(store, chosen, graphs)
        cls = to_node(ox.NamedNode(chosen), labels_of(store, [ox.NamedNode(chosen)], graphs))
    page = render_template(
        "search/index.html",
        classes=classes(store, graphs),
        cls=cls,
        listed=listed,
        more=more,
        max_listed=MAX_LISTED,
        root=request.script_root,
    )
    return Response(page, content_type="text/html; charset=utf-8")


@bp.get("/search")
def search_page() -> Response:
    """Resources whose label or alternative label has a word starting with ``q`` (accents and case ignored)."""
    text = request.args.get("q", "").strip()
    as_json = _wants_json()
    if as_json is None:
        return error_response(400, "Unknown format: use format=html or format=json.")
    if len(text) > MAX_QUERY:
        return error_response(400, f"The search text is too long: at most {MAX_QUERY} characters.")
    store = service(current_app).graph.store
    graphs = graphs_for(infer_flag(request.args.get("infer")))
    hits = search(store, text, graphs)
    if as_json:
        return jsonify({"query": text, "results": [hit.to_dict() for hit in hits], "limit": MAX_RESULTS})
    page = render_template("search/results.html", q=text, hits=hits, limit=MAX_RESULTS, root=request.script_root)
    return Response(page, content_type="text/html; charset=utf-8")


def _wants_json() -> bool | None:
    """``format=json`` or ``html`` decides; else JSON when the client rates a JSON type first; None: a bad format."""
    asked = request.args.get("format")
    if asked is not None:
        return {"json": True, "html": False}.get(asked)
    ranges = parse_accept(request.headers.get("Accept"))
    return bool(ranges) and ranges[0][0].endswith(("/json", "+json"))
