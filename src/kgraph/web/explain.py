"""``GET /explain?s=...&p=...&o=...``: why a triple is in the served graph, for people and programs.

A thin view over :func:`kgraph.infer.explain`: terms are read as on the command line (full IRIs,
prefixed names, Turtle literals); the answer is the indented text tree, or its JSON form when asked
for by ``format=json`` or by ``Accept``.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request

from kgraph.infer import TripleNotFound, explain
from kgraph.infer.terms import TermSyntaxError, parse_triple
from kgraph.sparql.formats import parse_accept
from kgraph.web import error_response

bp = Blueprint("explain", __name__)

FORMATS = {"text": "text/plain; charset=utf-8", "json": "application/json"}


@bp.get("/explain")
def explain_triple() -> Response:
    """The explanation tree: 200, or 400 for bad terms, 404 for a triple not in the graph."""
    fmt = _format()
    if fmt is None:
        return error_response(400, "Unknown format: use format=text or format=json.")
    missing = [name for name in ("s", "p", "o") if not request.args.get(name)]
    if missing:
        names = ", ".join(missing)
        return error_response(400, f"Missing parameter(s): {names} (a triple is s, p and o).")
    try:
        triple = parse_triple(request.args["s"], request.args["p"], request.args["o"])
    except TermSyntaxError as error:
        return error_response(400, f"Bad term: {error}")
    graph = current_app.extensions["kgraph"].graph
    try:
        tree = explain(graph.store, triple, rules_dir=graph.files.rules)
    except TripleNotFound as error:
        return error_response(404, str(error))
    body = json.dumps(tree.to_dict(), indent=2) if fmt == "json" else tree.to_text()
    return Response(body + "\n", content_type=FORMATS[fmt])


def _format() -> str | None:
    """``format=`` wins; else JSON if the client prefers it to text; else text."""
    asked = request.args.get("format")
    if asked is not None:
        return asked if asked in FORMATS else None
    for media_range, _ in parse_accept(request.headers.get("Accept")):
        if media_range.endswith(("/json", "+json")):
            return "json"
        if media_range.startswith("text/") or media_range == "*/*":
            return "text"
    return "text"
