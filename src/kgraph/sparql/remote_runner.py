"""Queries forwarded to a remote SPARQL store, with the same API as the worker pool.

Over a remote store the point is that the database answers, not a forked in-memory copy of it: the query, its dataset
and the negotiated format go to the remote, and its body comes back as is (converted only when the remote answers in
another format). The time limit is on the HTTP call and the size cap on the bytes read, so neither depends on the
remote's own settings; the guard has already run in the web layer. A query stopped at the time limit may keep running
on the remote until the remote's own limit: the protocol has no way to cancel it.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Iterable
from typing import IO

import pyoxigraph as ox

from kgraph.sparql.errors import NotAcceptable, QueryFailed, QuerySyntaxError, QueryTimeout, ResultTooLarge
from kgraph.sparql.evaluate import QueryRequest
from kgraph.sparql.executor import QueryResponse
from kgraph.sparql.formats import GRAPH_FORMATS, SOLUTION_FORMATS, ResultFormat, negotiate
from kgraph.store.remote import (
    FORM_ACCEPT,
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

JSON_RESULTS = "application/sparql-results+json"

_log = logging.getLogger(__name__)

CHUNK = 1 << 16
"""Bytes read from the remote at a time, so the size cap and the time limit are checked as the body arrives."""

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
        wanted = {kind: _negotiated(kind, request) for kind in ("solutions", "graph")}
        form = query_form(request.sparql)
        kinds = [_FORM_KIND[form]] if form else list(wanted)  # one format when the form is known: see store.remote
        accept = ", ".join(_format_or_default(wanted[kind], kind).media_type for kind in kinds)
        if form and self._store.is_virtuoso:  # its CSV, TSV, JSON and ASK answers stray from the standards
            accept = FORM_ACCEPT[form]
        deadline = time.monotonic() + self.timeout
        with self._lock:
            graphs = list(self._graphs)
        sparql, params = thin_dataset(
            request.sparql, request.default_graph, request.named_graphs, graphs, self._store.is_virtuoso
        ) or (request.sparql, dataset_params(request.default_graph, request.named_graphs, lambda: graphs))
        response = self._send(sparql, params, accept)
        with response:
            media = media_type(response)
            kind = _KIND_OF_MEDIA.get(media)
            if kind is None:
                raise self._failed(f"the store answered in an unexpected format: {media or 'no Content-Type'}")
            fmt = wanted[kind]
            if isinstance(fmt, NotAcceptable):
                raise fmt
            body = self._read(response, deadline)
        if media == fmt.media_type == JSON_RESULTS and form == "SELECT" and self._store.is_virtuoso:
            body = standard_json(body)  # as it came, but for the few terms Virtuoso writes its own way
        elif media != fmt.media_type or form == "ASK" or self._store.is_virtuoso:  # standard answers only
            body = _convert(body, media, fmt)
        return QueryResponse(body=body, media_type=fmt.content_type)

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

    def _send(self, sparql: str, params: list[tuple[str, str]], accept: str) -> IO[bytes]:
        try:
            return self._store.open_query(sparql, params, accept)
        except SyntaxError as error:
            raise QuerySyntaxError.from_pyoxigraph(error, sparql) from None
        except RemoteStoreTimeout:
            raise QueryTimeout.after(self.timeout) from None
        except RemoteStoreError as error:
            raise self._failed(str(error)) from None

    def _read(self, response: IO[bytes], deadline: float) -> bytes:
        """The body, up to the size cap and within the time limit."""
        body = bytearray()
        try:
            while chunk := response.read(CHUNK):
                body += chunk
                if len(body) > self.max_result_bytes:
                    raise ResultTooLarge.over(self.max_result_bytes)
                if time.monotonic() > deadline:
                    raise QueryTimeout.after(self.timeout)
        except TimeoutError:
            raise QueryTimeout.after(self.timeout) from None
        except OSError as error:
            raise self._failed(f"reading its answer failed: {error}") from None
        return bytes(body)

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
    if isinstance(result, ox.QuerySolutions | ox.QueryBoolean):
        return result.serialize(format=fmt.serializer)
    return ox.serialize(result, format=fmt.serializer)
