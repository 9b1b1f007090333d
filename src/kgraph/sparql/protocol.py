"""The W3C SPARQL 1.1 Protocol: what an HTTP request to the endpoint asks for, or why it is
malformed.

https://www.w3.org/TR/sparql11-protocol/ allows three ways to send a query (GET ``?query=``,
URL-encoded POST, direct POST of ``application/sparql-query``) and two to send an update. These are
plain functions over the parts of a request (method, raw query string, Content-Type, body bytes), so
they are tested without a server and the web layer stays a thin view. The raw bytes are decoded
here, strictly as UTF-8, because a framework decoding them leniently would turn a bad byte into a
replacement character and run a different query than the one sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import unquote_to_bytes

from kgraph.sparql.errors import SparqlError

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
_SINGLE = ("query", "update", "infer", "explain")
"""Parameters that may appear at most once; the graph parameters and the format hints are repeatable."""
FORMAT_HINTS = ("format", "output", "results")
"""Parameters clients send beside Accept to say the result format they want (SPARQLWrapper sends all three, at
times twice); hints to :func:`kgraph.sparql.formats.negotiate`, never an error."""


class ProtocolError(SparqlError):
    """The HTTP request is malformed (400), too large (413) or of an unsupported type (415)."""


@dataclass(frozen=True)
class ProtocolRequest:
    """What one request asks the endpoint for.

    ``operation`` is ``"query"``, ``"update"`` or ``"describe"`` (no operation: describe the
    service).
    """

    operation: str
    text: str = ""
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()
    infer: bool = True
    formats: tuple[str, ...] = ()
    """The format hints, in the order sent."""
    explain: bool = False
    """Show what the planner does with the query instead of answering it."""


def read_body(stream: IO[bytes], content_length: int | None, limit: int) -> bytes:
    """The request body, refused once past ``limit`` bytes without reading the rest."""
    if content_length is not None and content_length > limit:
        raise _too_large(limit)
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise _too_large(limit)
    return body


def _too_large(limit: int) -> ProtocolError:
    return ProtocolError(
        f"Request body larger than the server's limit of {limit} bytes (KGRAPH_MAX_BODY_BYTES).",
        status=413,
    )


def parse_request(method: str, query_string: bytes, content_type: str | None, body: bytes) -> ProtocolRequest:
    """What a request to the endpoint asks for; :class:`ProtocolError` when it is malformed."""
    params = decode_params(query_string, "query string")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if method in ("GET", "HEAD"):  # HEAD is a GET whose body the server drops
        if body:
            raise ProtocolError(
                "A GET request must not have a body: put the query in the URL (?query=...) or use POST."
            )
    elif method == "POST":
        _check_charset(content_type or "")
        params = _post_params(params, media_type, body)
    else:
        raise ProtocolError(f"Method {method} is not allowed: use GET or POST.", status=405)
    asked = _build(params, posted=method == "POST" and bool(body))
    if asked.operation == "update" and method != "POST":
        raise ProtocolError(
            f"An update is sent by POST only (SPARQL 1.1 Protocol); this {method} request changed nothing.", status=405
        )
    return asked


def _check_charset(content_type: str) -> None:
    """Refuse a body declared in another charset than UTF-8: SPARQL text is UTF-8 (SPARQL 1.1 Protocol, 2.1.3)."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise ProtocolError(
                f"Unsupported charset '{value.strip()}': the SPARQL 1.1 Protocol sends queries and updates as UTF-8.",
                status=415,
            )


def _post_params(params: list[tuple[str, str]], media_type: str, body: bytes) -> list[tuple[str, str]]:
    """The parameters of a POST: the URL's, plus the form body's or the directly posted text."""
    if media_type == FORM:
        return params + decode_params(body, "request body")
    if media_type in (QUERY, UPDATE):
        name = "query" if media_type == QUERY else "update"
        if any(key in ("query", "update") for key, _ in params):
            raise ProtocolError(
                f"A direct POST of {media_type} carries the {name} in its body; "
                "the URL must not have a 'query' or 'update' parameter too."
            )
        if not body.strip():
            raise ProtocolError(f"The request body is empty: a POST of {media_type} must carry the {name}.")
        return [*params, (name, _decode(body, "request body"))]
    if not body:
        return params
    shown = media_type or "none"
    raise ProtocolError(
        f"Unsupported Content-Type '{shown}' for a POST: use {QUERY}, {UPDATE} or {FORM}.",
        status=415,
    )


def decode_params(raw: bytes, where: str) -> list[tuple[str, str]]:
    """URL-encoded ``name=value`` pairs, percent-decoded to bytes, then strictly read as UTF-8."""
    pairs = []
    for field in raw.split(b"&"):
        if field:
            name, _, value = field.partition(b"=")
            pairs.append((_unquote(name, where), _unquote(value, where)))
    return pairs


def _unquote(raw: bytes, where: str) -> str:
    return _decode(unquote_to_bytes(raw.replace(b"+", b" ")), where)


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProtocolError(
            f"The {where} is not valid UTF-8 "
            f"(byte 0x{raw[error.start]:02x} at offset {error.start}); "
            "SPARQL text must be sent as UTF-8."
        ) from None


def _build(params: list[tuple[str, str]], *, posted: bool) -> ProtocolRequest:
    """Check parameter counts and combinations, then say what the request asks for."""
    values = {
        name: [v for k, v in params if k == name]
        for name in (*_SINGLE, *FORMAT_HINTS, "default-graph-uri", "named-graph-uri")
    }
    for name in _SINGLE:
        if len(values[name]) > 1:
            raise ProtocolError(f"The request has {len(values[name])} '{name}' parameters; send exactly one.")
    query, update = _one(values["query"]), _one(values["update"])
    if query is not None and update is not None:
        raise ProtocolError("The request has both 'query' and 'update'; send one operation per request.")
    common: dict[str, Any] = {
        "default_graph_uris": tuple(dict.fromkeys(values["default-graph-uri"])),
        "named_graph_uris": tuple(dict.fromkeys(values["named-graph-uri"])),
        "infer": _switch("infer", _one(values["infer"]), default=True),
        "explain": _switch("explain", _one(values["explain"]), default=False),
        "formats": tuple(value for name in FORMAT_HINTS for value in values[name] if value.strip()),
    }
    if update is not None:
        return ProtocolRequest("update", update, **common)
    if query is not None:
        if not query.strip():
            raise ProtocolError("The 'query' parameter is empty.")
        return ProtocolRequest("query", query, **common)
    if posted:
        raise ProtocolError("Missing 'query' (or 'update') parameter in the POST body.")
    return ProtocolRequest("describe", **common)


def _one(values: Sequence[str]) -> str | None:
    return values[0] if values else None


def _switch(name: str, value: str | None, *, default: bool) -> bool:
    """A ``true``/``false`` parameter (``infer``, ``explain``); ``default`` when absent."""
    if value is None:
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ProtocolError(f"The '{name}' parameter must be 'true' or 'false', not '{value}'.")
