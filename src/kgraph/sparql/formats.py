"""Which serialisations a query result can be sent in, and how the client's wishes pick one.

Content negotiation is data (the tables below) plus one Accept parser, so adding a format is one
table row. It is as lenient as the mature servers, because clients at their defaults differ: Accept
decides, and the ``format``, ``output`` and ``results`` parameters are hints that may repeat, may be
a short name (``json``, ``xml``, ``csv``, ``tsv``, ``n3``, ``turtle``, ``rdf``, ``jsonld``...) or a
media type, and mean the natural thing for the query form (``xml`` on a CONSTRUCT is RDF/XML). A hint
that does not fit the form is ignored, never an error. ``text/plain`` gets TSV for SELECT and ASK,
N-Triples for a graph. The decision for an ASK query: the W3C CSV/TSV results spec defines no boolean form, but
pyoxigraph writes a bare ``true``/``false`` and spreadsheet users ask for it, so CSV and TSV are
offered for ASK too (liberal in what we send when asked explicitly; JSON stays the default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import pyoxigraph as ox

from kgraph.sparql.errors import NotAcceptable

KINDS = ("solutions", "boolean", "graph")
"""Result kinds: SELECT gives solutions, ASK a boolean, CONSTRUCT and DESCRIBE a graph."""


@dataclass(frozen=True)
class ResultFormat:
    """One serialisation: short name (the ``format`` parameter), media types, pyoxigraph writer."""

    name: str
    media_type: str
    serializer: ox.QueryResultsFormat | ox.RdfFormat
    aliases: tuple[str, ...] = ()
    charset: bool = False

    @property
    def content_type(self) -> str:
        """The Content-Type header; textual types name their charset so browsers do not guess."""
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type

    @property
    def rdf_format(self) -> ox.RdfFormat:
        """The writer of a graph format: ``negotiate("graph", ...)`` only answers formats whose writer is one."""
        return cast(ox.RdfFormat, self.serializer)

    @property
    def media_types(self) -> tuple[str, ...]:
        """Every media type that selects this format, its own first."""
        return (self.media_type, *self.aliases)


SOLUTION_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("json", "application/sparql-results+json", ox.QueryResultsFormat.JSON, ("application/json",)),
    ResultFormat(
        "xml",
        "application/sparql-results+xml",
        ox.QueryResultsFormat.XML,
        ("application/xml", "text/xml"),
        charset=True,
    ),
    ResultFormat("csv", "text/csv", ox.QueryResultsFormat.CSV, charset=True),
    ResultFormat("tsv", "text/tab-separated-values", ox.QueryResultsFormat.TSV, ("text/plain",), charset=True),
)
"""Formats for SELECT and ASK results, the default first."""

GRAPH_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("turtle", "text/turtle", ox.RdfFormat.TURTLE, ("application/x-turtle",), charset=True),
    ResultFormat("ntriples", "application/n-triples", ox.RdfFormat.N_TRIPLES, ("text/plain",), charset=False),
    ResultFormat("jsonld", "application/ld+json", ox.RdfFormat.JSON_LD, ("application/json",)),
    ResultFormat(
        "rdfxml",
        "application/rdf+xml",
        ox.RdfFormat.RDF_XML,
        ("application/xml", "text/xml"),
        charset=True,
    ),
    ResultFormat("nquads", "application/n-quads", ox.RdfFormat.N_QUADS),
    ResultFormat("trig", "application/trig", ox.RdfFormat.TRIG, charset=True),
)
"""Formats for CONSTRUCT and DESCRIBE results, the default first (N-Quads and TriG hold the triples in the
default graph, for clients that read only datasets)."""

FORMATS_BY_KIND: dict[str, tuple[ResultFormat, ...]] = {
    "solutions": SOLUTION_FORMATS,
    "boolean": SOLUTION_FORMATS,
    "graph": GRAPH_FORMATS,
}

HINTS: dict[str, dict[str, str]] = {
    "solutions": {"json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv", "srj": "json", "srx": "xml"},
    "graph": {
        "turtle": "turtle",
        "ttl": "turtle",
        "n3": "turtle",
        "text/n3": "turtle",
        "ntriples": "ntriples",
        "nt": "ntriples",
        "n-triples": "ntriples",
        "rdf": "rdfxml",
        "xml": "rdfxml",
        "rdfxml": "rdfxml",
        "rdf+xml": "rdfxml",
        "rdf/xml": "rdfxml",
        "json": "jsonld",
        "jsonld": "jsonld",
        "json-ld": "jsonld",
        "nquads": "nquads",
        "nq": "nquads",
        "trig": "trig",
    },
}
"""Short names a ``format``/``output``/``results`` hint may use, per result kind, and the format each means there.
N3 gets Turtle, which every N3 reader reads."""
HINTS["boolean"] = HINTS["solutions"]

_KIND_WORDS = {
    "solutions": "SELECT results",
    "boolean": "ASK results",
    "graph": "CONSTRUCT/DESCRIBE results",
}


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their q-values, most wanted first.

    Parameters other than ``q`` are dropped; malformed entries and q-values are skipped rather than
    failing the request, since a broken header from a client is no reason to refuse an answer. Equal
    q-values keep the order the client wrote them in.
    """
    ranges: list[tuple[str, float]] = []
    for entry in (header or "").split(","):
        media_range, *params = (part.strip() for part in entry.split(";"))
        media_range = media_range.lower()
        if media_range.count("/") != 1 or not all(media_range.split("/")):
            continue
        q = _q_value(params)
        if q is not None:
            ranges.append((media_range, q))
    return sorted(ranges, key=lambda item: -item[1])


def _q_value(params: list[str]) -> float | None:
    """The q parameter of one Accept entry (1.0 when absent), or None when it is not a number in [0,
    1].
    """
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return None
            return q if 0.0 <= q <= 1.0 else None
    return 1.0


def negotiate(kind: str, accept: str | None, hints: str | Sequence[str] | None) -> ResultFormat:
    """The format to send a result of ``kind`` in.

    A media type the Accept header names decides. Otherwise the first hint (``format``/``output``/``results``
    parameters, short names or media types) that fits the result kind, so a link opened in a browser with
    ``&format=csv`` downloads CSV; then Accept's wildcards; then the default. A missing Accept, ``*/*`` or a
    browser's Accept (one listing ``text/html``) prefers nothing, so a browser gets JSON or Turtle rather than a
    download of XML. Only an Accept header that rules out every format, with no fitting hint, is refused (406).
    """
    available = FORMATS_BY_KIND[kind]
    hinted = _by_hints(kind, available, [hints] if isinstance(hints, str) else list(hints or ()))
    ranges = parse_accept(accept)
    if not ranges or any(media_range == "text/html" for media_range, _ in ranges):
        return hinted or available[0]
    chosen, specific = _by_accept(available, ranges)
    if chosen is not None and (specific or hinted is None):
        return chosen
    if hinted is not None:
        return hinted
    raise NotAcceptable(
        f"None of the accepted media types is available for {_KIND_WORDS[kind]}; choose one of: {_choices(available)}."
    )


def _by_hints(kind: str, available: tuple[ResultFormat, ...], hints: list[str]) -> ResultFormat | None:
    """The first format a hint names that the result kind has, by short name or media type; None if none fits."""
    by_name = {fmt.name: fmt for fmt in available}
    for hint in hints:
        wanted = hint.split(";")[0].strip().lower()
        name = HINTS[kind].get(wanted)
        if name in by_name:
            return by_name[name]
        for fmt in available:
            if wanted in fmt.media_types:
                return fmt
    return None


def _by_accept(
    available: tuple[ResultFormat, ...], ranges: list[tuple[str, float]]
) -> tuple[ResultFormat | None, bool]:
    """The format the Accept ranges rate highest (RFC 9110: the most specific range decides q), and whether a media
    type named it (not a wildcard); ``(None, False)`` when Accept rules out every format."""
    rated = []
    for table_order, fmt in enumerate(available):
        match = _best_match(fmt, ranges)
        if match is not None and match[0] > 0:
            q, specificity, position = match
            rated.append(((-q, -specificity, position, table_order), fmt))
    if not rated:
        return None, False
    best = min(rated, key=lambda item: item[0])
    return best[1], best[0][1] == -2


def _best_match(fmt: ResultFormat, ranges: list[tuple[str, float]]) -> tuple[float, int, int] | None:
    """(q, specificity, position) of the most specific range matching the format, else None."""
    best: tuple[float, int, int] | None = None
    for position, (media_range, q) in enumerate(ranges):
        specificity = 2 if media_range in fmt.media_types else _wildcard(media_range, fmt)
        if specificity < 0:
            continue
        if best is None or specificity > best[1]:
            best = (q, specificity, position)
    return best


def _wildcard(media_range: str, fmt: ResultFormat) -> int:
    """1 if ``type/*`` covers the format, 0 for ``*/*``, else -1.

    Wildcards match a format's own media type only, not its aliases: ``text/*`` means CSV, not the
    XML results that ``text/xml`` also selects.
    """
    if media_range == "*/*":
        return 0
    major, _, minor = media_range.partition("/")
    return 1 if minor == "*" and fmt.media_type.startswith(major + "/") else -1


def _choices(available: tuple[ResultFormat, ...]) -> str:
    """The formats on offer, as a client would type them: ``json (application/sparql-results+json),
    ...``.
    """
    return ", ".join(f"{fmt.name} ({fmt.media_type})" for fmt in available)
