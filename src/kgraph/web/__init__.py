"""The web application: ``create_app`` builds the served graph and its query pool, then registers
the blueprints.

Views are thin: they turn HTTP into calls on :mod:`kgraph.sparql` and back, and every error a
request can end in becomes a plain-text (or JSON) message with the status the error carries, never a
traceback.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Flask, Response, request
from flask.sansio.app import App
from werkzeug.exceptions import HTTPException

from kgraph.config import Settings
from kgraph.graph import KnowledgeGraph, build, checkpoint, recorded_empty_graphs
from kgraph.load import graph_iri, rdf_files
from kgraph.sparql.errors import SparqlError
from kgraph.sparql.executor import QueryPool
from kgraph.sparql.formats import parse_accept
from kgraph.sparql.remote_runner import UNAVAILABLE, RemoteQueryRunner
from kgraph.store import RemoteStoreError
from kgraph.web import headers

if TYPE_CHECKING:
    from kgraph.writes import Delta, Writer

BLUEPRINTS: list[str] = [
    "kgraph.web.sparql:bp",
    "kgraph.web.ui:bp",
    "kgraph.web.explain:bp",
    "kgraph.web.resources:bp",
    "kgraph.web.search:bp",
    "kgraph.web.dataset:bp",
    "kgraph.web.graph_store:bp",
    "kgraph.web.compress:bp",
    "kgraph.web.metrics:bp",
]
"""Every blueprint of the application as ``module:attribute``: a new page or API is one line."""

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Accept, Authorization",
    "Access-Control-Max-Age": "86400",
}
"""A public read-only endpoint: any web page may query it, without credentials."""

_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS")
"""The methods a preflight may be told of, in the order it is told them."""

_log = logging.getLogger(__name__)


@dataclass
class Service:
    """What the application serves: settings, knowledge graph, and the pool evaluating queries."""

    settings: Settings
    graph: KnowledgeGraph
    pool: QueryPool | RemoteQueryRunner
    dataset_graphs: frozenset[str] = field(default_factory=frozenset)
    default_graphs: dict[bool, list[str]] = field(default_factory=dict)
    """The default graph with inference on and off, computed once: listing graphs scans data."""
    ontology_graphs: list[str] = field(default_factory=list)
    """The named graphs of the ``ontology/`` files (asserted only), listed once rather than per page view."""
    empty_graphs: set[str] = field(default_factory=set)
    """Graphs made empty by a Graph Store PUT: they exist (GET 200) though the store holds no triple of theirs."""
    on_close: list[Callable[[], None]] = field(default_factory=list)
    """What else stops with the service (the dump builder)."""
    on_commit: list[Callable[[], None]] = field(default_factory=list)
    """What else follows each committed write (the dumps' rebuild, the result cache's emptying): each blueprint adds
    its own when it is registered, so that no blueprint imports another."""
    _writer: Writer | None = field(default=None, repr=False)
    _writer_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def start(cls, settings: Settings, graph: KnowledgeGraph) -> Service:
        """Start the query runner over the graph (a forked pool, or forwarding to a remote store); note its graphs."""
        pool: QueryPool | RemoteQueryRunner
        server, names = graph.store.sparql_server(), graph.store.graph_names()
        if server is not None:
            pool = RemoteQueryRunner(server, timeout=settings.timeout, max_result_bytes=settings.max_result_bytes)
        else:
            pool = QueryPool(
                graph.store,
                workers=settings.query_workers,
                timeout=settings.timeout,
                max_result_bytes=settings.max_result_bytes,
                memory_limit=settings.query_memory,
                source=lambda: graph.store,
            )
        return cls(
            settings,
            graph,
            pool,
            frozenset(names),
            {infer: graph.default_graph(infer, names) for infer in (True, False)},
            [graph_iri(path, graph.files.root) for path in rdf_files([graph.files.ontology])]
            if graph.files.ontology.is_dir()
            else [],
            recorded_empty_graphs(graph, settings.data_dir),
        )

    def writer(self) -> Writer:
        """The application's one writer, created at its first write (it parses the shapes once)."""
        from kgraph.writes import Writer  # a server nobody writes to never loads the write path

        with self._writer_lock:
            if self._writer is None:
                self._writer = Writer.from_settings(
                    self.graph, self.settings, on_commit=self._committed, empty_graphs=self.empty_graphs
                )
            return self._writer

    def _committed(self, delta: Delta) -> None:
        """Bring what serving keeps of the store up to date after a write: the query workers' copy, the graph lists,
        an on-disk store's manifest (so its next start replays nothing), then the blueprints' :attr:`on_commit`."""
        apply = getattr(self.pool, "apply", None)  # a remote store's runner has no replica to update
        if apply:
            apply(delta.added, delta.removed)
        names = self.graph.store.graph_names()
        self.dataset_graphs = frozenset(names)
        self.default_graphs = {infer: self.graph.default_graph(infer, names) for infer in (True, False)}
        checkpoint(self.graph, self.settings, (delta.added, delta.removed))
        for hook in self.on_commit:
            hook()

    def close(self) -> None:
        """Stop the query workers and release the store."""
        for close in self.on_close:
            close()
        self.pool.close()
        self.graph.store.close()


def create_app(settings: Settings | None = None, graph: KnowledgeGraph | None = None) -> Flask:
    """The Flask application serving ``graph`` (built from ``settings`` when not given)."""
    settings = settings or Settings.from_env()
    importing = threading.Thread(target=_import_blueprints, name="kgraph-imports", daemon=True)
    importing.start()
    try:
        if graph is None:
            graph = build(settings, progress=_progress)
    finally:
        importing.join()  # over before the query pool forks its zygote
    app = Flask(__name__)
    app.extensions["kgraph"] = Service.start(settings, graph)
    for spec in BLUEPRINTS:
        module, _, name = spec.partition(":")
        app.register_blueprint(getattr(importlib.import_module(module), name))
    _register_error_handlers(app)
    app.after_request(_add_cors_headers)
    app.after_request(_revalidate_by_etag)
    headers.install(app)
    return app


def _import_blueprints() -> None:
    """Import the blueprints' modules while the graph builds (the build mostly waits on a remote store): after it,
    they cost a server 0.14 s more before it answers."""
    for spec in BLUEPRINTS:
        importlib.import_module(spec.partition(":")[0])


def service(app: App) -> Service:
    """The :class:`Service` an application was created with."""
    return app.extensions["kgraph"]


def _progress(message: str) -> None:
    """Loading progress on stderr, so a large ``--data`` load shows it is alive."""
    _log.warning("%s", message)


def _revalidate_by_etag(response: Response) -> Response:
    """Every successful GET carries an ETag of its body and ``Cache-Control: no-cache``: a crawler or a proxy may keep
    a page, a dump or a result, must ask again before reusing it (the graph changes with each write), and gets an
    empty 304 when nothing changed. Files served as they are (static assets) keep Flask's own validators. A
    streamed answer (a large query result) is sent before its end is known, so it has no ETag: ``no-cache`` alone."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if response.is_streamed:
        if not response.direct_passthrough:
            response.headers.setdefault("Cache-Control", "no-cache")
        return response
    response.add_etag()
    response.headers.setdefault("Cache-Control", "no-cache")
    response.make_conditional(request)  # changes the response in place (and returns it, typed as werkzeug's)
    return response


def _add_cors_headers(response: Response) -> Response:
    """CORS on every answer; a preflight is told the methods of the route it asks about (Flask's ``Allow``), so a
    browser learns before sending that /sparql takes no PUT."""
    allowed = response.headers.get("Allow") if request.method == "OPTIONS" else None
    response.headers.update(CORS_HEADERS)
    if allowed:
        methods = {method.strip() for method in allowed.split(",")}
        response.headers["Access-Control-Allow-Methods"] = ", ".join(m for m in _METHODS if m in methods)
    return response


def _register_error_handlers(app: Flask) -> None:
    """Every failure becomes a short message with its status: SPARQL errors, a remote store that failed
    (502, or 503 when too slow: its address is logged, not shown), HTTP errors and, as a last resort,
    bugs (logged with their traceback on the server, never shown to the client)."""

    @app.errorhandler(SparqlError)
    def sparql_error(error: SparqlError) -> Response:
        return error_response(error.status, error.message)

    @app.errorhandler(RemoteStoreError)
    def store_unavailable(error: RemoteStoreError) -> Response:
        _log.warning("remote store failed answering %s %s: %s", request.method, request.path, str(error))
        return error_response(503 if isinstance(error, TimeoutError) else 502, UNAVAILABLE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = error_response(error.code or 500, f"{error.name}: {error.description}")
        for name, value in error.get_headers():
            if name.lower() == "allow":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        _log.exception("unexpected error answering %s %s", request.method, request.path)
        return error_response(500, "Internal error: the server logged it; please report it.")


def error_response(status: int, message: str) -> Response:
    """An error as plain text, or as JSON ``{"status", "message"}`` when the client prefers JSON."""
    ranges = parse_accept(request.headers.get("Accept"))
    if ranges and ranges[0][0].endswith(("/json", "+json")):
        body = json.dumps({"status": status, "message": message}, ensure_ascii=False)
        response = Response(body + "\n", content_type="application/json")
    else:
        response = Response(message + "\n", content_type="text/plain; charset=utf-8")
    response.status_code = status
    return response
