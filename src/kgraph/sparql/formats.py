"""Which serialisations a query result can be sent in, and how the client's wishes pick one.

Content negotiation is data (the tables below) plus one Accept parser, so adding a format is one
table row. The decision for an ASK query: the W3C CSV/TSV results spec defines no boolean form, but
pyoxigraph writes a bare ``true``/``false`` and spreadsheet users ask for it, so CSV and TSV are
offered for ASK too (liberal in what we send when asked explicitly; JSON stays the default).
"""

from __future__ import annotations

from dataclasses import dataclass

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
    ResultFormat("tsv", "text/tab-separated-values", ox.QueryResultsFormat.TSV, charset=True),
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
)
"""Formats for CONSTRUCT and DESCRIBE results, the default first."""

FORMATS_BY_KIND: dict[str, tuple[ResultFormat, ...]] = {
    "solutions": SOLUTION_FORMATS,
    "boolean": SOLUTION_FORMATS,
    "graph": GRAPH_FORMATS,
}

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


def negotiate(kind: str, accept: str | None, format_param: str | None) -> ResultFormat:
    """The format to send a result of ``kind`` in.

    An explicit ``format`` parameter (a short name or a media type) wins over Accept. A missing
    Accept, ``*/*`` or a browser's Accept (one listing ``text/html``) gets the default, so a link
    opened in a browser shows JSON or Turtle rather than a download of XML.
    """
    available = FORMATS_BY_KIND[kind]
    if format_param and format_param.strip():
        return _by_parameter(kind, available, format_param.strip().lower())
    ranges = parse_accept(accept)
    if not ranges or any(media_range == "text/html" for media_range, _ in ranges):
        return available[0]
    return _by_accept(kind, available, ranges)


def _by_parameter(kind: str, available: tuple[ResultFormat, ...], wanted: str) -> ResultFormat:
    """The format a ``format`` request parameter names, by short name or media type."""
    wanted = wanted.split(";")[0].strip()
    for fmt in available:
        if wanted == fmt.name or wanted in fmt.media_types:
            return fmt
    raise NotAcceptable(f"Unknown format '{wanted}' for {_KIND_WORDS[kind]}; choose one of: {_choices(available)}.")


def _by_accept(kind: str, available: tuple[ResultFormat, ...], ranges: list[tuple[str, float]]) -> ResultFormat:
    """The format the Accept ranges rate highest (RFC 9110: the most specific range decides q)."""
    rated = []
    for table_order, fmt in enumerate(available):
        match = _best_match(fmt, ranges)
        if match is not None and match[0] > 0:
            q, specificity, position = match
            rated.append(((-q, -specificity, position, table_order), fmt))
    if not rated:
        raise NotAcceptable(
            f"None of the accepted media types is available for {_KIND_WORDS[kind]}; "
            f"choose one of: {_choices(available)}."
        )
    return min(rated, key=lambda item: item[0])[1]


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
