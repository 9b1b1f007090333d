"""gzip for every response worth compressing, when the client accepts it.

A SELECT over the article returns hundreds of kilobytes of JSON and the query page's script is a megabyte; both
shrink five- to tenfold. Responses from 1 kB up with a textual media type are compressed when ``Accept-Encoding``
allows gzip; files served as they are (static assets) are compressed once per version and kept, so a page load costs
no compression work. The ETag of a compressed body is made weak: the bytes differ, the meaning does not. A streamed
answer (a query result past 64 KiB, a remote store's answer passed through) is compressed piece by piece as it is
sent, each piece flushed so the client can read the rows so far.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Iterable, Iterator

from flask import Blueprint, Response, request

from kgraph.sparql.formats import parse_accept

bp = Blueprint("compress", __name__)

MIN_BYTES = 1024
"""Smaller bodies are sent as they are: gzip's header and a round of work would not pay."""

ANSWER_LEVEL = 1
"""zlib's level for a body made for one request (a query result, a page): level 6 took 0.5-4.5 ms for the benchmark's
90-580 kB answers against 0.2-1.6 ms here, for 10-35% more bytes (a 304 kB CONSTRUCT: 25 kB against 19 kB), which
a client on a 10 MB/s link reads in under a millisecond. nginx compresses at 1 by default for the same reason."""

STATIC_LEVEL = 9
"""zlib's level for a static asset, compressed once per version and kept (:func:`_keep`)."""

_TEXTUAL = ("text/", "application/json", "application/javascript", "application/xml", "image/svg+xml")
_TEXTUAL_SUFFIXES = ("+json", "+xml", "n-triples", "n-quads", "trig", "sparql-query", "sparql-update")
_CACHE_LIMIT = 64
_cache: dict[tuple[str, str], bytes] = {}
_cache_lock = threading.Lock()


@bp.after_app_request
def compress(response: Response) -> Response:
    """The response gzip-compressed when that is worth it and the client accepts it; otherwise as it was."""
    response.vary.add("Accept-Encoding")
    if not _worth_it(response) or not accepts_gzip(request.headers.get("Accept-Encoding")):
        return response
    if response.is_streamed and not response.direct_passthrough:
        response.response = _gzipped(response.response)
        response.headers["Content-Encoding"] = "gzip"
        response.headers.pop("Content-Length", None)
        return response
    etag, _ = response.get_etag()
    static = response.direct_passthrough and etag is not None
    packed = _cached(request.path, etag) if static and etag is not None else None
    original = response.response
    if packed is None:
        response.direct_passthrough = False
        body = response.get_data()  # reads a file into memory, which leaves it open
        _close(original)
        if len(body) < MIN_BYTES:
            return response
        packed = gzip.compress(body, compresslevel=STATIC_LEVEL if static else ANSWER_LEVEL, mtime=0)
        if static and etag is not None:
            _keep(request.path, etag, packed)
    _close(original)
    response.direct_passthrough = False
    response.set_data(packed)
    response.headers["Content-Encoding"] = "gzip"
    if etag:
        response.set_etag(etag, weak=True)
    return response


def _gzipped(pieces: Iterable[bytes] | Iterable[str]) -> Iterator[bytes]:
    """A streamed body as one gzip member, each piece compressed and flushed as it comes; what was being sent is
    closed however the stream ends (a client gone, a query stopped midway: then the gzip member is left unfinished,
    as the chunked body is)."""
    packer = zlib.compressobj(ANSWER_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    try:
        for piece in pieces:
            packed = packer.compress(piece.encode() if isinstance(piece, str) else piece)
            packed += packer.flush(zlib.Z_SYNC_FLUSH)
            if packed:
                yield packed
        yield packer.flush()
    finally:
        _close(pieces)


def _close(iterable: object) -> None:
    """Close what a response was sending (a static file) once its body is read or replaced."""
    close = getattr(iterable, "close", None)
    if close is not None:
        close()


def accepts_gzip(header: str | None) -> bool:
    """Whether ``Accept-Encoding`` allows gzip: named with a q-value above 0, or else ``*`` above 0 (a coding
    named explicitly wins over the wildcard, RFC 9110 12.5.3, so ``gzip;q=0, *`` refuses it)."""
    ranked = parse_accept(",".join(f"x/{part.strip()}" for part in (header or "").split(",") if part.strip()))
    weights = {coding: q for coding, q in reversed(ranked)}
    weight = weights.get("x/gzip", weights.get("x/*", 0.0))
    return weight > 0


def _worth_it(response: Response) -> bool:
    if request.method == "HEAD" or response.status_code < 200 or response.status_code in (204, 206, 304):
        return False
    if "Content-Encoding" in response.headers:
        return False
    media_type = (response.mimetype or "").lower()
    return media_type.startswith(_TEXTUAL) or media_type.endswith(_TEXTUAL_SUFFIXES)


def _cached(path: str, etag: str) -> bytes | None:
    with _cache_lock:
        return _cache.get((path, etag))


def _keep(path: str, etag: str, packed: bytes) -> None:
    with _cache_lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.pop(next(iter(_cache)))
        _cache[(path, etag)] = packed
