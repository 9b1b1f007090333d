"""The SPARQL lexer every module that reads a query's text shares, and what it can tell on its own.

Strings, IRIs and comments are single tokens, so a keyword or a bracket inside one is never taken for the real
thing. The guard, the planner and the rewriters for remote stores read tokens from here; so does the wording of
syntax errors, which tells a bracket left open or closed twice from where the parser gave up
(:func:`bracket_fault`): pyoxigraph reports the end of the query with a list of tokens it could have read next,
which does not say that a ``{`` opened ten lines up was never closed. The base IRI the server gives a query's relative
IRIs goes on a line of its own that the wording of errors knows to leave out (:func:`with_base`, :func:`as_written`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_IRI_RUN = r"""[^<>"{}|^`\\\x00-\x20]++|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"""
_LOCAL_ESC = r"""\\[_~.\-!$&'()*+,;=/?#@%]"""
_LOCAL_CHAR = rf"[\w:\-\u00B7]|%[0-9A-Fa-f]{{2}}|{_LOCAL_ESC}"
TERMS = rf"""
    (?P<comment>\#[^\n\r]*)
  | (?P<iri><(?:{_IRI_RUN})*+>)
  | (?P<string>'''(?:[^'\\]++|\\.|'(?!''))*+'''|\"\"\"(?:[^"\\]++|\\.|"(?!""))*+\"\"\"
              |'(?:[^'\\\n\r]++|\\.)*+'|"(?:[^"\\\n\r]++|\\.)*+")
  | (?P<var>[?$]\w+)
  | (?P<bnode>_:[\w\-.]*)
  | (?P<pname>(?P<prefix>(?:[^\W\d_](?:[\w\-.\u00B7]*[\w\-\u00B7])?)?):
               (?P<local>(?:(?:{_LOCAL_CHAR})(?:(?:{_LOCAL_CHAR}|\.)*(?:{_LOCAL_CHAR}))?)?))
  | (?P<word>[^\W\d]\w*)
"""
"""The SPARQL terms, as verbose regular-expression alternatives: the guard's lexer and :data:`SPARQL_TOKEN` read
them the same way."""
_NUMBER = r"(?P<number>\d+\.\d*[eE][+-]?\d+|\d*\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)"
SPARQL_TOKEN = re.compile(rf"(?P<ws>\s+) | {TERMS} | {_NUMBER} | (?P<other>.)", re.VERBOSE | re.DOTALL)
"""The lexer for code that rewrites a query (the planner, ``USING`` and ``BASE`` insertion): numbers as one
token (a decimal's dot ends no triple), punctuation as ``other`` tokens."""

CLOSER = {"{": "}", "(": ")", "[": "]"}
"""The bracket that closes each opening one."""
_OPENER = {closing: opening for opening, closing in CLOSER.items()}


@dataclass(frozen=True)
class BracketFault:
    """The first bracket of a query that does not pair: an opening one never closed (``closer`` is None: the query
    ends first), a closing one of another kind than the bracket open there (``opener`` is that one), or a closing
    one with nothing open (``opener`` is None). Offsets count characters from the start of the text."""

    opener: tuple[str, int] | None
    closer: tuple[str, int] | None


def bracket_fault(sparql: str) -> BracketFault | None:
    """The first bracket that does not pair, reading brackets outside strings, IRIs and comments; None when each
    pairs (the query may still be wrong elsewhere)."""
    open_brackets: list[tuple[str, int]] = []
    for match in SPARQL_TOKEN.finditer(sparql):
        if match.lastgroup != "other":
            continue
        char = match.group()
        if char in CLOSER:
            open_brackets.append((char, match.start()))
        elif char in _OPENER:
            opener = open_brackets.pop() if open_brackets else None
            if opener is None or opener[0] != _OPENER[char]:
                return BracketFault(opener, (char, match.start()))
    return BracketFault(open_brackets[-1], None) if open_brackets else None


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column (in characters, as pyoxigraph counts them) of an offset into ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def offset_of(text: str, line: int, column: int) -> int:
    """The offset into ``text`` of a 1-based line and column; past the end of the text when they are."""
    start = 0
    for _ in range(line - 1):
        newline = text.find("\n", start)
        if newline < 0:
            return len(text) + 1
        start = newline + 1
    return start + column - 1


ADDED_BASE = "# the base IRI kgraph gives relative IRIs: a line of kgraph's, not of the query as written"
"""The comment ending the line :func:`with_base` adds before a query, by which :func:`as_written` knows it."""

_ABSOLUTE = re.compile(r"^<[A-Za-z][A-Za-z0-9+.-]*:")


def with_base(sparql: str, base: Callable[[], str]) -> str:
    """The query or update with ``BASE <base()>`` on a line of its own before it when it has a relative IRI; its own
    BASE, coming later, still wins. The line is marked (:data:`ADDED_BASE`), so that an error is located in the
    text as written (:func:`as_written`): on the query's first line, a BASE before it would shift every column. The
    base is only worked out when needed (from the request's URL, a few hundredths of a millisecond per request
    otherwise)."""
    for match in SPARQL_TOKEN.finditer(sparql):
        if match.lastgroup == "iri" and not _ABSOLUTE.match(match.group()):
            return f"BASE <{base()}> {ADDED_BASE}\n{sparql}"
    return sparql


def as_written(sparql: str) -> tuple[str, int]:
    """The text as its author wrote it, without the line :func:`with_base` added, and the lines taken off (0 or 1)."""
    first, newline, rest = sparql.partition("\n")
    if newline and first.startswith("BASE <") and first.endswith(ADDED_BASE):
        return rest, 1
    return sparql, 0
