"""``GET /explain?s=...&p=...&o=...``: why a triple is in the served graph, for people and programs.

A thin view over :func:`kgraph.infer.explain`: terms are read as on the command line (full IRIs,
prefixed names, Turtle literals); the answer is the indented text tree, its JSON form when asked
for by ``format=json`` or by ``Accept``, or for a browser an HTML proof tree whose terms link to their pages
(the resource pages link every inferred statement here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request

from kgraph.describe import labels_of, to_node
from kgraph.graph import KnowledgeGraph
from kgraph.infer import TripleNotFound, explain
from kgraph.infer.explain import MAX_DEPTH, Explanation
from kgraph.infer.terms import TermSyntaxError, parse_triple
from kgraph.sparql.formats import parse_accept
from kgraph.web import error_response

bp = Blueprint("explain", __name__, template_folder="templates")

FORMATS = {"text": "text/plain; charset=utf-8", "json": "application/json", "html": "text/html; charset=utf-8"}
HTML_TYPES = ("text/html", "application/xhtml+xml")


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
    if fmt == "html":
        return Response(_page(graph, tree), content_type=FORMATS[fmt])
    body = json.dumps(tree.to_dict(), indent=2) if fmt == "json" else tree.to_text()
    return Response(body + "\n", content_type=FORMATS[fmt])


def _page(graph: KnowledgeGraph, tree: Explanation) -> str:
    """The proof tree as HTML: each step's triple with labelled, linked terms, and why it holds."""
    graphs = graph.default_graph(True)
    labels = labels_of(graph.store, list(_terms(tree)), graphs)
    return render_template(
        "explain.html",
        tree=tree,
        term=lambda t: to_node(t, labels),
        max_depth=MAX_DEPTH,
        params=urlencode({name: request.args[name] for name in ("s", "p", "o")}),
        root=request.script_root,
    )


def _terms(tree: Explanation) -> Iterator[ox.NamedNode]:
    """Every IRI of the tree: its triples' terms and the asserted steps' sources."""
    triple = tree.triple
    yield from (t for t in (triple.subject, triple.predicate, triple.object) if isinstance(t, ox.NamedNode))
    yield from tree.sources
    for premise in tree.premises:
        yield from _terms(premise)


def _format() -> str | None:
    """``format=`` wins; else HTML or JSON if the client prefers it to text (a browser gets HTML); else text."""
    asked = request.args.get("format")
    if asked is not None:
        return asked if asked in FORMATS else None
    for media_range, _ in parse_accept(request.headers.get("Accept")):
        if media_range in HTML_TYPES:
            return "html"
        if media_range.endswith(("/json", "+json")):
            return "json"
        if media_range.startswith("text/") or media_range == "*/*":
            return "text"
    return "text"
