"""Evaluate one query and serialise its result, within a byte limit: what a worker process does.

Kept apart from the process machinery so it can be tested (and reasoned about) without forking.
Content negotiation happens here, once the result shows the query form (SELECT, ASK, CONSTRUCT).

An answer larger than :data:`STREAM_AFTER` may be sent on in pieces as pyoxigraph serialises it (when the request
asks for it): the worker's reply is then ``("head", content type, first bytes)``, ``("chunk", bytes)`` messages and
a last ``("end",)``, or an ``("error", ...)`` should the query fail or pass the byte limit midway.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, cast

import pyoxigraph as ox

from kgraph.sparql import columnar
from kgraph.sparql.errors import QueryFailed, QuerySyntaxError, ResultTooLarge, ServiceFailed, SparqlError
from kgraph.sparql.formats import negotiate
from kgraph.sparql.planner import Plan, plan
from kgraph.sparql.stats import Statistics
from kgraph.store import Store
from kgraph.store.base import QueryResult


@dataclass(frozen=True)
class QueryRequest:
    """One query as the protocol layer read it; the worker negotiates once the form is known."""

    sparql: str
    default_graph: list[str] | None = None
    named_graphs: list[str] | None = None
    accept: str | None = None
    format: str | Sequence[str] | None = None
    plan: bool = True
    """Whether the planner (:mod:`kgraph.sparql.planner`) may reorder the query before it is evaluated."""
    stream: bool = False
    """Whether an answer larger than :data:`STREAM_AFTER` is sent on in pieces as it is serialised."""
    time_limit: float | None = None
    """Seconds the query may run (the worker is stopped after): what the planner may spend on faster paths."""


STREAM_AFTER = 1 << 16
"""Bytes of an answer held before it is sent on in pieces: smaller answers travel whole (and may be cached)."""


def evaluate(
    store: Store, request: QueryRequest, max_result_bytes: int, emit: Callable[[tuple], None] | None = None
) -> tuple:
    """Run one query and serialise its result; the reply a worker sends back.

    ``("ok", body, content_type)`` or ``("error", class name, message, status)``, so errors cross
    the pipe intact. With ``emit`` and a request that streams, a large answer goes out through ``emit`` as it is
    written, and the reply is ``("end",)``.
    """
    buffer = _BoundedBuffer(max_result_bytes, emit if request.stream else None)
    try:
        result = run_query(store, request)
        fmt = negotiate(_kind(result), request.accept, request.format)
        buffer.content_type = fmt.content_type
        _serialize(result, fmt.serializer, buffer)
    except SyntaxError as error:
        return _error(QuerySyntaxError.from_pyoxigraph(error, request.sparql))
    except SparqlError as error:
        return _error(error)
    except Exception as error:
        if buffer.overflowed:
            return _error(ResultTooLarge.over(max_result_bytes))
        if isinstance(error, OSError) and "SERVICE" in request.sparql.upper():  # the remote failed, not the query
            return _error(ServiceFailed(f"A SERVICE endpoint failed: {error}"))
        return _error(QueryFailed(f"Query evaluation failed: {error}"))
    if buffer.streaming:
        buffer.send(final=True)
        return ("end",)
    return ("ok", bytes(buffer.data), fmt.content_type)


def planned(store: Store, request: QueryRequest) -> Plan:
    """The query as the planner rewrites it, with the store's statistics over the request's dataset (the query as
    written, should the planner fail: it must never cause an error)."""
    try:
        return plan(request.sparql, Statistics(store, request.default_graph, request.named_graphs))
    except Exception as error:  # any planner fault: the query as written
        return Plan(request.sparql, request.sparql, note=f"the planner failed ({error}); the query runs as written")


def explain(store: Store, request: QueryRequest) -> str:
    """What the planner does with a query, as text (``kgraph query --explain``, ``explain=true``): the query as it
    would be evaluated, the rewrites and the statistics used; nothing is evaluated over the data. A query that does
    not parse raises :class:`QuerySyntaxError`, located as when it is run (the planner would pass it through)."""
    try:
        ox.Store().query(request.sparql)  # parsed; its solutions, over no data, are never read
    except SyntaxError as error:
        raise QuerySyntaxError.from_pyoxigraph(error, request.sparql) from None
    except (OSError, ValueError, RuntimeError):
        pass  # parsed: an ASK evaluated over the empty store failed, which the real run will report
    if not request.plan:
        return Plan(request.sparql, request.sparql, note="the planner is off (KGRAPH_PLAN_QUERIES=false)").explain()
    text = planned(store, request).explain()
    if columnar.recognise(request.sparql) is not None and store.sparql_server() is None:
        text += f"\n# Evaluation\n{columnar.EXPLAINED}\n"
    return text


def run_query(store: Store, request: QueryRequest) -> QueryResult:
    """Evaluate the query as planned (as written when ``request.plan`` is off): a grouped count over columns when
    it has that shape (:mod:`kgraph.sparql.columnar`), else by pyoxigraph; a syntax error is reported on the query
    as written, so its positions are the user's."""
    if request.plan:
        counted = columnar.answer(store, request.sparql, request.default_graph, request.time_limit)
        if counted is not None:
            with contextlib.suppress(SyntaxError):  # modifiers pyoxigraph refuses: it reports them on the user's text
                return store.query(counted)
    sparql = planned(store, request).rewritten if request.plan else request.sparql
    dataset = {"default_graph": request.default_graph, "named_graphs": request.named_graphs}
    try:
        return store.query(sparql, **dataset)
    except SyntaxError:
        if sparql == request.sparql:
            raise
        return store.query(request.sparql, **dataset)


def _kind(result: QueryResult) -> str:
    if isinstance(result, ox.QuerySolutions):
        return "solutions"
    if isinstance(result, ox.QueryBoolean):
        return "boolean"
    return "graph"


def _serialize(result: QueryResult, serializer: ox.QueryResultsFormat | ox.RdfFormat, buffer: _BoundedBuffer) -> None:
    # pyoxigraph writes to any object with write(); its stubs ask for IO[bytes]. negotiate() chose the serializer
    # for the result's kind, so it is an RdfFormat for triples and a QueryResultsFormat otherwise.
    output = cast(IO[bytes], buffer)
    if isinstance(result, ox.QueryTriples):
        ox.serialize(result, output, cast(ox.RdfFormat, serializer))
    else:
        result.serialize(output, cast(ox.QueryResultsFormat, serializer))


def _error(error: SparqlError) -> tuple:
    return ("error", type(error).__name__, error.message, error.status)


class _BoundedBuffer:
    """A write-only byte buffer that refuses to grow past a limit, so a huge result stops early; with ``emit``, it
    sends its bytes on every :data:`STREAM_AFTER` bytes instead of holding them all."""

    def __init__(self, limit: int, emit: Callable[[tuple], None] | None = None) -> None:
        self.limit = limit
        self.data = bytearray()
        self.overflowed = False
        self.emit = emit
        self.content_type = ""
        self.streaming = False
        self.written = 0

    def write(self, chunk: bytes) -> int:
        if self.written + len(chunk) > self.limit:
            self.overflowed = True
            raise OverflowError("result too large")
        self.written += len(chunk)
        self.data += chunk
        if self.emit is not None and self.content_type and len(self.data) >= STREAM_AFTER:
            self.send()
        return len(chunk)

    def send(self, *, final: bool = False) -> None:
        """Send what is held: the head of the answer first, then chunks."""
        if self.emit is None or (final and not self.data):
            return
        message = ("chunk", bytes(self.data)) if self.streaming else ("head", self.content_type, bytes(self.data))
        self.emit(message)
        self.streaming = True
        self.data = bytearray()

    def flush(self) -> None:
        """pyoxigraph flushes its writer at the end; there is nothing to flush here."""
