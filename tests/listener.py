"""A local HTTP listener that records every request it receives, for the federation and access tests.

Server-side request forgery is proved absent by watching the network, not by reading code: a test points SERVICE,
FROM, LOAD, a JSON-LD ``@context`` or an XML entity at a listener it started, then checks that the listener was
never called. The same listener plays a slow SPARQL endpoint (it waits before answering) and one that redirects.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EMPTY_RESULTS = b'{"head":{"vars":[]},"results":{"bindings":[{}]}}'
"""A SPARQL JSON result with one empty solution: what a canary answers if it is ever asked."""


@dataclass(frozen=True)
class Hit:
    """One request the listener received."""

    method: str
    path: str
    content_type: str | None


class Listener:
    """An HTTP server on a free loopback port, in a daemon thread; a context manager that stops it.

    ``delay``: seconds to wait before answering (the wait ends early on :meth:`close`, so no thread outlives the
    test). ``redirect``: answer every request with a 302 to this URL instead of a result.
    """

    def __init__(self, *, delay: float = 0.0, redirect: str | None = None) -> None:
        self.hits: list[Hit] = []
        self.delay = delay
        self.redirect = redirect
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The listener's base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def close(self) -> None:
        """Release any request still waiting and stop listening."""
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        self.hits.append(Hit(handler.command, handler.path, handler.headers.get("Content-Type")))
        length = int(handler.headers.get("Content-Length") or 0)
        handler.rfile.read(length)
        if self.delay and self._closing.wait(self.delay):
            return
        if self.redirect:
            handler.send_response(302)
            handler.send_header("Location", self.redirect)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "application/sparql-results+json")
        handler.send_header("Content-Length", str(len(EMPTY_RESULTS)))
        handler.end_headers()
        handler.wfile.write(EMPTY_RESULTS)


def _handler(listener: Listener) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            listener._answer(self)

        do_POST = do_HEAD = do_PUT = do_DELETE = do_GET

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the hits are the record."""

    return Handler
