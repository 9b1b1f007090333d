"""Errors a SPARQL request can end in, each with its HTTP status and the sentence told the client.

The web layer turns any :class:`SparqlError` into a response without knowing which one it is, so the
status code belongs to the error, and the message must be safe to show: no traceback, no path on the
server.
"""

from __future__ import annotations

import re

from kgraph.sparql.lexer import CLOSER, SPARQL_TOKEN, as_written, bracket_fault, line_and_column, offset_of

_PYOXIGRAPH_POSITION = re.compile(r"^error at (\d+):(\d+):\s*(.*)$", re.DOTALL)
_CHAR_CLASS = re.compile(r",?\s*\[(?:'[^']*'|[^\]'])*\]")


class SparqlError(Exception):
    """A request the endpoint answers with an error status and a plain message."""

    status: int = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


class QuerySyntaxError(SparqlError):
    """The query or update does not parse; the message says where."""

    status = 400

    @classmethod
    def from_pyoxigraph(cls, error: SyntaxError, sparql: str | None = None) -> QuerySyntaxError:
        """Reword pyoxigraph's ``error at L:C: ...`` so people see line, column and the text there.

        pyoxigraph's column points at or just past the token it could not use, so the text shown is the text up to
        the column. Where a bracket does not pair by that point (or at all, when the parser ran to the end), the
        message says which bracket, and where the open one was opened: pyoxigraph's own list of the tokens it could
        have read next names no bracket, and reads "expected OPTIONAL" for a group never closed.
        """
        text = str(error)
        match = _PYOXIGRAPH_POSITION.match(text)
        if not match:
            return cls(f"Syntax error: {text}")
        line, column, detail = int(match.group(1)), int(match.group(2)), match.group(3)
        if sparql is None:
            return cls(f"Syntax error at line {line}, column {column}: {_readable(detail)}")
        sparql, added = as_written(sparql)  # located in the text as written, without a line kgraph added
        line = max(line - added, 1)
        reported = offset_of(sparql, line, column)
        fault = bracket_fault(sparql)
        if fault is not None and fault.closer is not None and fault.closer[1] <= reported:
            return cls(_unpaired(sparql, fault.closer, fault.opener))
        where = _position(line, column, _text_before(sparql, reported))
        if fault is not None and fault.opener is not None and _only_blanks_from(sparql, reported):
            return cls(f"{where}: the query ends before the {_opened(sparql, fault.opener)} is closed")
        return cls(f"{where}: {_readable(detail)}")


def _unpaired(sparql: str, closer: tuple[str, int], opener: tuple[str, int] | None) -> str:
    """A closing bracket of the wrong kind, or with nothing open, located just past it as pyoxigraph locates the
    token it could not use (the query page marks the character before the column)."""
    line, column = line_and_column(sparql, closer[1] + 1)
    where = _position(line, column, _text_before(sparql, closer[1] + 1))
    if opener is None:
        return f"{where}: {closer[0]!r} closes no bracket (every one before it is closed)"
    return f"{where}: {closer[0]!r} cannot close the {_opened(sparql, opener)}, which needs {CLOSER[opener[0]]!r}"


def _opened(sparql: str, bracket: tuple[str, int]) -> str:
    line, column = line_and_column(sparql, bracket[1])
    return f"{bracket[0]!r} opened at line {line}, column {column}"


def _position(line: int, column: int, near: str) -> str:
    return f"Syntax error at line {line}, column {column}" + (f" (after {near!r})" if near else "")


def _text_before(sparql: str, offset: int) -> str:
    """Up to 30 characters before the offset on its line, or on the last line before it with any, for locating
    the error by eye."""
    before = sparql[: max(offset, 0)].rstrip()
    return before[before.rfind("\n") + 1 :][-30:].strip()


def _only_blanks_from(sparql: str, offset: int) -> bool:
    """Whether nothing but blanks and comments follows ``offset``: the parser ran to the end of the query."""
    return all(match.lastgroup in ("ws", "comment") for match in SPARQL_TOKEN.finditer(sparql, max(offset, 0)))


def _readable(detail: str) -> str:
    """pyoxigraph's expectation list with its character-class ranges shortened to "...".

    The ranges (``['A' ..= 'Z' | ...]``) run to hundreds of characters and help nobody.
    """
    kept = _CHAR_CLASS.sub("", detail)
    kept = re.sub(r"(,\s*)+$", "", " ".join(kept.split()))
    if kept == detail:
        return kept
    if kept in ("expected", "expected one of"):
        return "unexpected text or end of query"
    return kept + ", ..."


class ForbiddenQuery(SparqlError):
    """The guard refused the request (SERVICE off the allow-list, FROM of unknown graphs, LOAD)."""

    status = 400


class NotAcceptable(SparqlError):
    """No result format the client accepts exists for this query form."""

    status = 406


class QueryTimeout(SparqlError):
    """The query ran past the server's time limit and its worker was stopped."""

    status = 503

    @classmethod
    def after(cls, seconds: float) -> QueryTimeout:
        """The message for a query stopped after ``seconds``."""
        return cls(f"Query stopped after {seconds:g} s: the server's time limit (--timeout).")


class ResultTooLarge(SparqlError):
    """The serialised result passed the server's size cap."""

    status = 422

    @classmethod
    def over(cls, limit: int) -> ResultTooLarge:
        """The message for a result that passed ``limit`` bytes."""
        return cls(
            f"Result larger than the server's limit of {limit} bytes (--max-result-bytes); "
            "add a LIMIT or select fewer variables."
        )


class QueryFailed(SparqlError):
    """Evaluation failed (400), or the worker evaluating it died (503)."""

    status = 400


class ServiceFailed(SparqlError):
    """A federated endpoint (``SERVICE``) could not be reached or failed (502): the fault is upstream, not in the
    query, so the client should not rewrite it."""

    status = 502


ERRORS: dict[str, type[SparqlError]] = {
    cls.__name__: cls
    for cls in (
        SparqlError,
        QuerySyntaxError,
        ForbiddenQuery,
        NotAcceptable,
        QueryTimeout,
        ResultTooLarge,
        QueryFailed,
        ServiceFailed,
    )
}
"""Error classes by name, so an error can cross a process pipe as ``(name, message, status)``."""


def rebuild(name: str, message: str, status: int) -> SparqlError:
    """The error a worker process reported, re-created in the parent."""
    return ERRORS.get(name, SparqlError)(message, status=status)
