"""Queries forwarded to a remote SPARQL store, with the same API as the worker pool.

Over a remote store the point is that the database answers, not a forked in-memory copy of it: the query, its dataset
and the negotiated format go to the remote, and its body comes back as is (converted only when the remote answers in
another format). With no result cache to keep it, a long answer is passed on as it arrives (:meth:`RemoteQueryRunner.
stream`) rather than read whole first. The time limit is on the HTTP call and the size cap on the bytes read, so
neither depends on the remote's own settings; the guard has already run in the web layer. A query stopped at the
time limit may keep running on the remote until the remote's own limit: the protocol has no way to cancel it.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import pyoxigraph as ox

from kgraph.sparql.errors import NotAcceptable, QueryFailed, QuerySyntaxError, QueryTimeout, ResultTooLarge
from kgraph.sparql.evaluate import QueryRequest
from kgraph.sparql.executor import QueryResponse
from kgraph.sparql.formats import GRAPH_FORMATS, SOLUTION_FORMATS, ResultFormat, negotiate
from kgraph.store.remote import (
    FORM_ACCEPT,
    VIRTUOSO_GEOMETRY,
    WKT_LITERAL,
    PooledResponse,
    RemoteStore,
    RemoteStoreError,
    RemoteStoreTimeout,
    dataset_params,
    media_type,
    parse_body,
    query_form,
    standard_json,
    thin_dataset,
)
from kgraph.store.results import serialized

JSON_RESULTS = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
"""Virtuoso writes N-Triples to the standard (tabs between terms, which N-Triples allows): passed on as they come."""

_T = TypeVar("_T")

_log = logging.getLogger(__name__)

CHUNK = 1 << 16
"""Bytes read from the remote at a time, so the size cap and the time limit are checked as the body arrives."""

PREFETCH = 1 << 18
"""Bytes of an answer read before any is sent: an answer that fits is sent whole (a clean error should it fail),
a longer one streams from there."""

UNAVAILABLE = "The SPARQL store behind this endpoint did not answer; try again later."
"""What a client is told when the remote fails: its address is the server's business, logged but not shown."""

_KIND_OF_MEDIA = {fmt.media_type: "solutions" for fmt in SOLUTION_FORMATS} | {
    fmt.media_type: "graph" for fmt in GRAPH_FORMATS
}

_FORM_KIND = {"SELECT": "solutions", "ASK": "solutions", "CONSTRUCT": "graph", "DESCRIBE": "graph"}


class RemoteQueryRunner:
    """Answers ``QueryRequest``s by forwarding them to a remote store; thread-safe, nothing to fork."""

    def __init__(self, store: RemoteStore, *, timeout: float, max_result_bytes: int) -> None:
        self.timeout = timeout
        self.max_result_bytes = max_result_bytes
        self._store = copy.copy(store)  # keeps what the store already knows (is it Virtuoso?): no request again
        self._store.timeout = timeout
        self._lock = threading.Lock()
        self._graphs = self._store.graph_names()

    def run(self, request: QueryRequest) -> QueryResponse:
        """Evaluate one query on the remote within the time limit and size cap; raises a SparqlError subclass."""
        answer = self.stream(request, prefetch=self.max_result_bytes + 1)
        assert isinstance(answer, QueryResponse)  # an answer reaching the prefetch would be past the cap: refused
        return answer

    def stream(self, request: QueryRequest, *, prefetch: int = PREFETCH) -> QueryResponse | StreamedAnswer:
        """The remote's answer to one query: whole when it is shorter than ``prefetch`` bytes or must be converted,
        else its first bytes and an iterator over the rest as it arrives, passed on as the remote wrote it (Virtuoso's
        few non-standard terms fixed on the way). Errors found before the first bytes (syntax, time limit, a failing
        remote) are raised here; the size cap and the time limit go on being checked as the rest streams."""
        wanted = {kind: _negotiated(kind, request) for kind in ("solutions", "graph")}
        form = query_form(request.sparql)
        kinds = [_FORM_KIND[form]] if form else list(wanted)  # one format when the form is known: see store.remote
        accept = ", ".join(_format_or_default(wanted[kind], kind).media_type for kind in kinds)
        if form and self._store.is_virtuoso:  # its CSV, TSV, JSON and ASK answers stray from the standards
            accept = FORM_ACCEPT[form]
        deadline = time.monotonic() + self.timeout
        with self._lock:
            graphs = list(self._graphs)
        sparql, params = self._remote(
            lambda: thin_dataset(
                request.sparql,
                request.default_graph,
                request.named_graphs,
                graphs,
                self._store.is_virtuoso,
                matching=self._store.graphs_matching,
                answer=self._store.terms,
            )
        ) or (request.sparql, dataset_params(request.default_graph, request.named_graphs, lambda: graphs))
        if time.monotonic() > deadline:  # what was asked first (a path answered alone) took the time allowed
            raise QueryTimeout.after(self.timeout)
        response = self._remote(lambda: self._store.open_query(self._store.as_sent(sparql), params, accept))
        streaming = False
        try:
            media = media_type(response)
            kind = _KIND_OF_MEDIA.get(media)
            if kind is None:
                raise self._failed(f"the store answered in an unexpected format: {media or 'no Content-Type'}")
            fmt = wanted[kind]
            if isinstance(fmt, NotAcceptable):
                raise fmt
            virtuoso_json = media == fmt.media_type == JSON_RESULTS and form == "SELECT" and self._store.is_virtuoso
            standard = not self._store.is_virtuoso or (media == N_TRIPLES and form in ("CONSTRUCT", "DESCRIBE"))
            passed = virtuoso_json or (media == fmt.media_type and form != "ASK" and standard)
            chunks = self._chunks(response, deadline)
            fixed = _standard_json_chunks(chunks) if virtuoso_json else chunks
            if self._store.is_virtuoso and media == N_TRIPLES:
                fixed = _standard_geometry_lines(fixed)
            if not passed:
                return QueryResponse(body=_convert(b"".join(fixed), media, fmt), media_type=fmt.content_type)
            head = bytearray()
            for chunk in fixed:
                head += chunk
                if len(head) >= prefetch:
                    streaming = True
                    return StreamedAnswer(fmt.content_type, bytes(head), fixed, response)
            return QueryResponse(body=bytes(head), media_type=fmt.content_type)
        finally:
            if not streaming:
                response.close()

    def apply(self, added: Iterable[ox.Quad], removed: Iterable[ox.Quad]) -> None:
        """Take note of a write: the remote already holds it; only the list of its graphs may have changed."""
        graphs = self._store.graph_names()
        with self._lock:
            self._graphs = graphs

    def close(self) -> None:
        """Nothing to stop: every query was one HTTP request."""

    def __enter__(self) -> RemoteQueryRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _remote(self, call: Callable[[], _T]) -> _T:
        """What ``call`` gets from the remote (the answer, or what it asks first to choose how to send the query),
        its failures as the endpoint's errors."""
        try:
            return call()
        except SyntaxError as error:
            raise QuerySyntaxError.from_pyoxigraph(error) from None
        except RemoteStoreTimeout:
            raise QueryTimeout.after(self.timeout) from None
        except RemoteStoreError as error:
            raise self._failed(str(error)) from None

    def _chunks(self, response: PooledResponse, deadline: float) -> Iterator[bytes]:
        """The body as it arrives, up to the size cap and within the time limit."""
        size = 0
        try:
            while chunk := response.read(CHUNK):
                size += len(chunk)
                if size > self.max_result_bytes:
                    raise ResultTooLarge.over(self.max_result_bytes)
                if time.monotonic() > deadline:
                    raise QueryTimeout.after(self.timeout)
                yield chunk
        except TimeoutError:
            raise QueryTimeout.after(self.timeout) from None
        except OSError as error:
            raise self._failed(f"reading its answer failed: {error}") from None

    def _failed(self, detail: str) -> QueryFailed:
        _log.warning("remote store %s: %s", self._store.url, detail)
        return QueryFailed(UNAVAILABLE, status=502)


def _negotiated(kind: str, request: QueryRequest) -> ResultFormat | NotAcceptable:
    """The format the client wants for a result of ``kind``, or the refusal to send if the result is of that kind."""
    try:
        return negotiate(kind, request.accept, request.format)
    except NotAcceptable as error:
        return error


def _format_or_default(fmt: ResultFormat | NotAcceptable, kind: str) -> ResultFormat:
    """What to ask the remote for: the client's format, or the default when the client will get a refusal anyway."""
    return fmt if isinstance(fmt, ResultFormat) else negotiate(kind, None, None)


def _convert(body: bytes, media: str, fmt: ResultFormat) -> bytes:
    """A result re-serialised in the wanted format, for a remote that answered in another one."""
    result = parse_body(body, media)
    if isinstance(result, ox.QueryTriples):
        return serialized(ox.serialize(result, format=fmt.rdf_format))
    if not isinstance(fmt.serializer, ox.QueryResultsFormat):
        raise NotAcceptable(f"{fmt.media_type} is a graph format; this query answers solutions")
    return serialized(result.serialize(format=fmt.serializer))


class StreamedAnswer:
    """A remote's answer being passed on: its Content-Type and, as an iterable, the bytes read so far and then the
    rest as it arrives. The rest raises a SparqlError should it pass the size cap or the time limit: the client's
    connection is then cut, never ended as if the answer were whole. ``close`` (which WSGI servers call) gives the
    connection back, or closes it when the answer was not read to its end."""

    def __init__(self, media_type: str, head: bytes, rest: Iterator[bytes], response: PooledResponse) -> None:
        self.media_type = media_type
        self.head = head
        self._rest = rest
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        yield from self._rest

    def close(self) -> None:
        """Release the remote's response (and its connection)."""
        self._response.close()


def _standard_geometry_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Virtuoso's N-Triples with its geometries' datatype given back as GeoSPARQL's (:data:`kgraph.store.remote.
    VIRTUOSO_GEOMETRY`) as they stream, each piece cut after its last line."""
    return _rewritten(chunks, b"\n", lambda data: data.replace(VIRTUOSO_GEOMETRY, WKT_LITERAL))


def _standard_json_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Virtuoso's JSON results made standard (:func:`kgraph.store.remote.standard_json`) as they stream, each piece
    cut after its last ``}``, which no rewritten term spans."""
    return _rewritten(chunks, b"}", standard_json)


def _rewritten(chunks: Iterable[bytes], boundary: bytes, rewrite: Callable[[bytes], bytes]) -> Iterator[bytes]:
    """A streamed body rewritten piece by piece: each piece is cut after its last ``boundary``, which no rewritten
    term spans, and the remainder joins the next piece."""
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        cut = data.rfind(boundary) + 1
        carry = data[cut:]
        if cut:
            yield rewrite(data[:cut])
    if carry:
        yield rewrite(carry)
