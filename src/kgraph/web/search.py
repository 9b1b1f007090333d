"""``/id/`` and ``/search``: the dataset's resources listed by class and found by label, without SPARQL.

Thin views over :mod:`kgraph.catalog`. ``/search?q=`` answers a page for browsers and JSON for scripts
(``format=json`` or an ``Accept`` preferring JSON); every page carries a search box that submits here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask.sansio.blueprints import BlueprintSetupState

from kgraph.catalog import MAX_LISTED, MAX_RESULTS, ClassCount, LabelIndex, classes, instances, search
from kgraph.describe import Node, labels_of, to_node
from kgraph.sparql.formats import parse_accept
from kgraph.store import Store
from kgraph.web import error_response, service
from kgraph.web.shared import graphs_for, infer_flag

bp = Blueprint("search", __name__, template_folder="templates")

MAX_QUERY = 200
"""Longest search text accepted: labels are short, and a long text would only cost time."""

_MEMOS = "kgraph-catalog-memos"
_Built = TypeVar("_Built")


class _PerVersion(Generic[_Built]):
    """What a page computes from the whole dataset (the label index, the class counts: seconds at 1M triples), per
    dataset (``infer``), kept until the next write. A build that a write overtook is used once and not kept."""

    def __init__(self, build: Callable[[Store, list[str]], _Built]) -> None:
        self._build = build
        self._kept: dict[tuple[str, ...], _Built] = {}
        self._lock = threading.Lock()
        self._version = 0

    def get(self, store: Store, graphs: list[str]) -> _Built:
        """The value kept for ``graphs``, else built (one build at a time: a second caller waits and finds it)."""
        with self._lock:
            kept, version = self._kept, self._version  # forget() replaces both without the lock (a write waits not)
            if tuple(graphs) in kept:
                return kept[tuple(graphs)]
            built = self._build(store, graphs)
            if version == self._version:
                kept[tuple(graphs)] = built  # into the dict of its version: one forget() replaced is never read again
            return built

    def forget(self) -> None:
        """The data changed: nothing kept is current."""
        self._version += 1
        self._kept = {}


@dataclass(frozen=True)
class _Memos:
    labels: _PerVersion[LabelIndex] = field(default_factory=lambda: _PerVersion(LabelIndex))
    classes: _PerVersion[list[ClassCount]] = field(default_factory=lambda: _PerVersion(classes))


@bp.record_once
def _start_memos(setup: BlueprintSetupState) -> None:
    memos = setup.app.extensions[_MEMOS] = _Memos()
    for memo in (memos.labels, memos.classes):
        service(setup.app).on_commit.append(memo.forget)


def _memos() -> _Memos:
    return current_app.extensions[_MEMOS]


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
        classes=_memos().classes.get(store, graphs),
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
    hits = search(store, text, graphs, index=_memos().labels.get(store, graphs))
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
