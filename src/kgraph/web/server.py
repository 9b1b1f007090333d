"""Serving the application with gunicorn: one process holding the graph, many threads receiving
requests.

Why this shape: the knowledge graph lives in memory in one process, so there is exactly one gunicorn
worker; its gthread worker class gives it ``http_threads`` threads to receive requests, while query
evaluation runs in the QueryPool's worker processes and so uses every core. The application is
created inside the gunicorn worker (no preload), while that process is still single-threaded, which
is what the pool's fork needs. gunicorn's arbiter turns SIGTERM and SIGINT into a graceful stop; the
pool is closed when the worker exits.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from kgraph.config import Settings

APP_LOAD_ERROR = 4
"""gunicorn's exit code for a worker whose application failed to load: the arbiter stops with it."""

GRACEFUL_SECONDS = 10
"""How long a stopping server lets requests in flight finish before it kills them."""


class KgraphServer(BaseApplication):
    """A gunicorn application whose only worker calls :func:`kgraph.web.create_app`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for name, value in gunicorn_options(self.settings).items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        from kgraph.web import create_app  # in the worker process, after gunicorn has forked it

        try:
            return create_app(self.settings)
        except (ValueError, OSError) as error:  # a bad data file (RdfSyntaxError), a missing one
            print(f"kgraph: cannot load the graph: {error}", file=sys.stderr, flush=True)
            sys.exit(APP_LOAD_ERROR)


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """gunicorn's settings for one kgraph server; the query time limit is the pool's, not here."""
    return {
        "bind": [f"{_bracket(settings.host)}:{settings.port}"],
        "workers": 1,
        "worker_class": "gthread",
        "threads": settings.http_threads,
        "preload_app": False,
        "timeout": max(30, int(settings.timeout) * 2 + 10),
        "graceful_timeout": GRACEFUL_SECONDS,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "kgraph",
        "post_worker_init": _announce,
        "worker_exit": _close_service,
    }


def _bracket(host: str) -> str:
    """IPv6 literals need brackets in a bind address and a URL."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _announce(worker: Any) -> None:
    """Say where the endpoint is, once the graph is loaded and requests are about to be accepted."""
    settings = worker.app.settings
    print(f"kgraph: serving on http://{_bracket(settings.host)}:{settings.port}/sparql", flush=True)


def _close_service(server: Any, worker: Any) -> None:
    """Stop the query pool with the worker, so no query process outlives the server."""
    wsgi = getattr(worker, "wsgi", None)
    state = getattr(wsgi, "extensions", {}).get("kgraph")
    if state is not None:
        state.close()


def serve(settings: Settings) -> None:
    """Run the server until SIGTERM or SIGINT; exit status 2 when the data cannot be loaded."""
    arbiter = os.getpid()
    try:
        KgraphServer(settings).run()
    except SystemExit as stop:
        # The worker is a fork of this function's caller: only the arbiter's own exit is reworded.
        if stop.code == APP_LOAD_ERROR and os.getpid() == arbiter:
            raise SystemExit(2) from None
        raise
