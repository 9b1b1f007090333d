"""Serving the application with waitress: one process holding the graph, an event loop in front of a few threads.

Why this shape: the knowledge graph lives in memory in one process, and query evaluation runs in the QueryPool's
worker processes, so the server process only moves bytes. waitress reads every request whole (headers and body) in
its event loop before a thread sees it, and writes every response from buffers in the same loop, so a slow or idle
client costs a socket, never one of the ``http_threads`` threads that answer. What waitress lacks for a public
endpoint is added here: a time limit to receive the headers, another for the body, one for idle keep-alive
connections, a cap on connections answered with a clear 503, and errors in kgraph's own style (414 for a request
line over the limit, 400 for malformed framing, never a 5xx for a bad request).

The application (and so the query pool's zygote) is created before waitress starts its threads, while the process
is still single-threaded, which is what the pool's fork needs. SIGTERM and SIGINT stop accepting, let the requests
in flight finish for up to :data:`GRACEFUL_SECONDS`, then stop the pool.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.receiver import ChunkedReceiver
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher
from waitress.utilities import Error, RequestEntityTooLarge, RequestHeaderFieldsTooLarge, ServerNotImplemented

from kgraph.config import Settings

GRACEFUL_SECONDS = 10
"""How long a stopping server lets requests in flight finish before it stops anyway."""

LOOP_SECONDS = 0.5
"""The event loop wakes at least this often, to enforce the time limits and notice a stop."""

MAX_CHUNK_LINE = 4096
"""The longest chunk-size line (chunk extensions included) or trailer of a chunked body: clients send a few bytes."""

_log = logging.getLogger("kgraph.web.server")


class Worded(Error):
    """An error waitress found, worded the way kgraph words its own: the whole message is ``body``."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class KgraphParser(HTTPRequestParser):
    """waitress's parser, noting when the request started and its headers ended, and naming its errors in kgraph's
    words: 414 when the request line alone is over the header limit, 413 as the application says it, 400 rather
    than 501 for an unknown transfer coding."""

    error: Error | None  # set by waitress's parser, which has no type hints

    def __init__(self, adj: Adjustments) -> None:
        super().__init__(adj)
        self.started = time.monotonic()
        self.headers_done: float | None = None

    def received(self, data: bytes) -> int:
        pending = self.header_plus + data
        consumed = super().received(data)
        if self.headers_finished and self.headers_done is None:
            self.headers_done = time.monotonic()
        if self.error is None and self._chunk_line_too_long():
            self.error = Worded(
                400,
                "Bad Request",
                f"Bad Request: a chunk's size line (with its extensions) or the trailer is longer than "
                f"{MAX_CHUNK_LINE} bytes.",
            )
            self.completed = True
        if self.error is not None and not isinstance(self.error, Worded):
            self.error = self._reworded(self.error, pending)
        return consumed

    def _chunk_line_too_long(self) -> bool:
        """Whether a chunked body's size line or trailer, which waitress buffers by joining each piece received to
        what it has (time quadratic in its length, in the event loop every client shares), has passed the limit."""
        receiver = self.body_rcv
        if not isinstance(receiver, ChunkedReceiver):
            return False
        return max(len(receiver.control_line), len(receiver.trailer)) > MAX_CHUNK_LINE

    def _reworded(self, error: Error, pending: bytes) -> Error:
        header_limit = self.adj.max_request_header_size
        if isinstance(error, RequestHeaderFieldsTooLarge) and b"\n" not in pending[:header_limit]:
            return Worded(
                414,
                "URI Too Long",
                f"URI Too Long: the request line is longer than the server's limit of {header_limit} bytes "
                "(KGRAPH_MAX_HEADER_BYTES); send a long query with POST (Content-Type: application/sparql-query).",
            )
        if isinstance(error, RequestHeaderFieldsTooLarge):
            return Worded(
                431,
                error.reason,
                f"{error.reason}: the request line and headers are longer than the server's limit of "
                f"{header_limit} bytes (KGRAPH_MAX_HEADER_BYTES).",
            )
        if isinstance(error, RequestEntityTooLarge):
            body_limit = self.adj.max_request_body_size - 1
            return Worded(
                413,
                error.reason,
                f"Request body larger than the server's limit of {body_limit} bytes (KGRAPH_MAX_BODY_BYTES).",
            )
        if isinstance(error, ServerNotImplemented):
            return Worded(400, "Bad Request", f"Bad Request: {error.body}")
        return Worded(error.code, error.reason, f"{error.reason}: {error.body}")


class KgraphErrorTask(ErrorTask):
    """An error waitress answers itself (malformed framing, oversized headers), in kgraph's plain-text style with
    the CORS headers every other answer carries."""

    def execute(self) -> None:
        from kgraph.web import CORS_HEADERS
        from kgraph.web.headers import SECURITY_HEADERS

        error = self.request.error
        message = error.body if isinstance(error, Worded) else f"{error.reason}: {error.body}"
        body = (message + "\n").encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "text/plain; charset=utf-8"))
        self.response_headers.extend(CORS_HEADERS.items())
        self.response_headers.extend(SECURITY_HEADERS.items())
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class KgraphChannel(HTTPChannel):
    """One client connection, parsed by :class:`KgraphParser`, its errors told by :class:`KgraphErrorTask`."""

    parser_class = KgraphParser
    error_task_class = KgraphErrorTask

    def overdue(self, now: float, limits: Limits) -> bool:
        """Whether this connection has run out of time: idle too long, or too slow sending its request."""
        if self.requests:
            return False  # a request is being answered: the query time limit applies
        request = self.request
        if request is None:
            return time.time() - self.last_activity > limits.idle
        if request.headers_done is None:
            return now - request.started > limits.header
        return now - request.headers_done > limits.body


class Limits:
    """The connection limits of one server, from its settings."""

    def __init__(self, settings: Settings) -> None:
        self.header = settings.header_timeout
        self.body = settings.body_timeout
        self.idle = settings.idle_timeout
        self.connections = settings.max_connections


def overloaded(message: bytes) -> bytes:
    """The whole answer to a connection over the cap, sent without reading its request: with the headers every
    answer carries."""
    from kgraph.web.headers import SECURITY_HEADERS

    headers = {
        "Content-Type": "text/plain; charset=utf-8",
        "Connection": "close",
        "Retry-After": "5",
        "Access-Control-Allow-Origin": "*",
        **SECURITY_HEADERS,
        "Content-Length": str(len(message)),
    }
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"HTTP/1.1 503 Service Unavailable\r\n{head}\r\n".encode() + message


class KgraphServer(TcpWSGIServer):
    """waitress's TCP server with time limits on slow and idle connections and a cap on their number."""

    channel_class = KgraphChannel

    def __init__(self, application: Any, settings: Settings, **kwargs: Any) -> None:
        self.limits = Limits(settings)
        self._refused_logged = 0.0
        super().__init__(application, **kwargs)

    def readable(self) -> bool:
        """Keep accepting past the cap (to answer 503 rather than leave clients waiting in the backlog)."""
        super().readable()
        return self.accepting

    def handle_accept(self) -> None:
        if len(self.active_channels) < self.limits.connections:
            super().handle_accept()
            return
        try:
            accepted = self.accept()
        except OSError:
            return
        if accepted is None:
            return
        conn = accepted[0]
        message = (
            f"Service Unavailable: the server has {self.limits.connections} open connections, its limit "
            "(--max-connections); try again in a few seconds.\n"
        ).encode()
        try:
            conn.setblocking(False)
            conn.send(overloaded(message))
        except OSError:
            pass
        finally:
            conn.close()
        if time.monotonic() - self._refused_logged > 10:
            self._refused_logged = time.monotonic()
            _log.warning("kgraph: refusing connections: %d open, the limit", self.limits.connections)

    def maintenance(self, now: float) -> None:
        """Close the connections that are idle too long or too slow sending a request."""
        mono = time.monotonic()
        for channel in list(self.active_channels.values()):
            if channel.overdue(mono, self.limits):
                channel.will_close = True


def adjustments(settings: Settings) -> dict[str, Any]:
    """waitress's settings for one kgraph server; the query time limit is the pool's, not here."""
    return {
        "host": settings.host,
        "port": settings.port,
        "threads": settings.http_threads,
        "ident": "kgraph",
        "max_request_header_size": settings.max_header_bytes,
        "max_request_body_size": settings.max_body_bytes + 1,  # waitress refuses a body of this size or more
        "channel_timeout": settings.idle_timeout,
        "cleanup_interval": 1,
        "asyncore_loop_timeout": LOOP_SECONDS,
        "asyncore_use_poll": True,
        "connection_limit": settings.max_connections + 16,
        "backlog": 1024,
        "trusted_proxy": "127.0.0.1",
        "trusted_proxy_headers": {"x-forwarded-proto"},
        "clear_untrusted_proxy_headers": True,
        "expose_tracebacks": False,
    }


def _log_to_stderr(level: str) -> None:
    """kgraph's own log messages from ``level`` up on stderr, as bare lines (other libraries' stay at Python's
    default: warnings and up)."""
    logger = logging.getLogger("kgraph")
    logger.setLevel(level)
    if any(handler.get_name() == _STDERR for handler in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_STDERR)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)


_STDERR = "kgraph-stderr"


def serve(settings: Settings) -> None:
    """Run the server until SIGTERM or SIGINT; exit status 2 when the data cannot be loaded."""
    from kgraph.web import create_app, service

    _log_to_stderr(settings.log_level)
    try:
        app = create_app(settings)  # before any thread: the query pool forks its zygote here
    except (ValueError, OSError) as error:  # a bad data file (RdfSyntaxError), a missing one
        print(f"kgraph: cannot load the graph: {error}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    logging.getLogger("waitress").setLevel(logging.ERROR)
    socket_map: dict = {}
    adj = Adjustments(**adjustments(settings))
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    try:
        server = KgraphServer(app, settings, map=socket_map, dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0])
    except OSError as error:
        dispatcher.shutdown(timeout=1)
        service(app).close()
        print(f"kgraph: cannot listen on {settings.host}:{settings.port}: {error.strerror}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"kgraph: serving on http://{_bracket(settings.host)}:{server.effective_port}/sparql", flush=True)
    try:
        _run_until_signalled(socket_map)
        _drain(server, socket_map)
    finally:
        dispatcher.shutdown(timeout=GRACEFUL_SECONDS)
        service(app).close()


def _run_until_signalled(socket_map: dict) -> None:
    """Run the event loop until SIGTERM or SIGINT."""
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        wasyncore.loop(timeout=LOOP_SECONDS, map=socket_map, use_poll=True, count=1)


def _drain(server: KgraphServer, socket_map: dict) -> None:
    """Stop accepting, then let the requests in flight finish and their answers go out, for a while."""
    server.accepting = False
    server.del_channel(socket_map)
    server.socket.close()
    deadline = time.monotonic() + GRACEFUL_SECONDS
    while time.monotonic() < deadline and any(_busy(channel) for channel in server.active_channels.values()):
        wasyncore.loop(timeout=0.1, map=socket_map, use_poll=True, count=1)


def _busy(channel: HTTPChannel) -> bool:
    return bool(channel.requests or channel.total_outbufs_len)


def _bracket(host: str) -> str:
    """IPv6 literals need brackets in a URL."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
