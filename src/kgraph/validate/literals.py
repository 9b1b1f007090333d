"""Literals outside their datatype's lexical space (``"2024-13-45"^^xsd:date``), located in the contributor's file.

rdflib logs a traceback for each such literal when it builds the graph pySHACL checks, on stderr, past the report.
Here they are found first, each worded with the literal, its place and what the datatype expects; rdflib's log is
silenced while validating (:func:`quiet_rdflib`), since every literal it would complain about is reported here.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.namespace import XSD
from rdflib.term import XSDToPython

from kgraph.infer.terms import shorten
from kgraph.load import LoadedFile
from kgraph.store import Store
from kgraph.store.base import named_graph
from kgraph.store.results import solutions
from kgraph.validate.report import Problem

EXPECTED = {
    XSD.date: 'YYYY-MM-DD, e.g. "2024-08-06"',
    XSD.dateTime: 'YYYY-MM-DDThh:mm:ss, e.g. "2024-08-06T05:30:00"',
    XSD.time: 'hh:mm:ss, e.g. "05:30:00"',
    XSD.gYear: 'YYYY, e.g. "2024"',
    XSD.gYearMonth: 'YYYY-MM, e.g. "2024-08"',
    XSD.integer: 'a whole number, e.g. "1300"',
    XSD.nonNegativeInteger: 'a whole number from 0, e.g. "1300"',
    XSD.positiveInteger: 'a whole number from 1, e.g. "1300"',
    XSD.decimal: 'a decimal number, e.g. "1300.5"',
    XSD.double: 'a number, e.g. "1.3E3"',
    XSD.float: 'a number, e.g. "1.3E3"',
    XSD.boolean: '"true" or "false"',
    XSD.duration: 'an ISO 8601 duration, e.g. "P3M"',
}
"""What a datatype's lexical form looks like, for the message."""

_LITERALS = """SELECT DISTINCT ?value WHERE {
  ?s ?p ?value . FILTER (isLiteral(?value) && LANG(?value) = "" && DATATYPE(?value) != <http://www.w3.org/2001/XMLSchema#string>)
}"""


def ill_typed_literals(store: Store, files: list[LoadedFile], display: Callable[[Path], str]) -> list[Problem]:
    """One problem per literal of ``files`` whose lexical form its datatype does not accept."""
    problems = []
    for file in files:
        for row in solutions(store.query(_LITERALS, default_graph=[file.graph])):
            literal = row["value"]
            reason = _rejection(literal)
            if reason is not None:
                line, column = _find(file.path, literal.value)
                problems.append(
                    Problem("ill-typed-literal", _message(literal, reason), display(file.path), line, column)
                )
    return sorted(problems, key=lambda p: (p.file or "", p.line or 0, p.column or 0))


_TIMEZONE = r"(Z|[+-](0\d|1[0-4]):[0-5]\d)?"
_LEXICAL_FORMS = {
    XSD.boolean: (re.compile(r"true|false|1|0"), 'not one of "true", "false", "1", "0"'),
    XSD.nonNegativeInteger: (re.compile(r"\+?\d+|-0+"), "below 0"),
    XSD.positiveInteger: (re.compile(r"\+?0*[1-9]\d*"), "below 1"),
    XSD.nonPositiveInteger: (re.compile(r"-\d+|\+?0+"), "above 0"),
    XSD.negativeInteger: (re.compile(r"-0*[1-9]\d*"), "above -1"),
    XSD.gYearMonth: (re.compile(r"-?\d{4,}-(0[1-9]|1[0-2])" + _TIMEZONE), "no such month"),
    XSD.gYear: (re.compile(r"-?\d{4,}" + _TIMEZONE), "not a year"),
}
"""Lexical spaces (XSD 1.1 part 2) rdflib's converters let through: they read "maybe" as a boolean, "-5" as a
nonNegativeInteger and "2024-13" as a gYearMonth."""


def _rejection(literal: ox.Literal) -> str | None:
    """Why the datatype refuses the literal's text, or None when it accepts it (or is one nothing here knows)."""
    datatype = rdflib.URIRef(literal.datatype.value)
    form = _LEXICAL_FORMS.get(datatype)
    if form is not None and not form[0].fullmatch(literal.value.strip()):
        return form[1]
    convert = XSDToPython.get(datatype)
    if convert is None:
        return None
    try:
        convert(literal.value)
    except (ValueError, TypeError, ArithmeticError) as error:
        return str(error) or type(error).__name__
    return None


def _message(literal: ox.Literal, reason: str) -> str:
    datatype = shorten(literal.datatype)
    expected = EXPECTED.get(rdflib.URIRef(literal.datatype.value))
    message = f"{shorten(literal)} is not a valid {datatype}"
    if "invalid literal for" not in reason:  # Python's own words for int() and float() add nothing
        message += f" ({reason})"
    return f"{message}; {datatype} expects {expected}" if expected else message


def _find(path: Path, lexical: str) -> tuple[int | None, int | None]:
    """Line and column of ``lexical`` quoted and typed (``"..."^^``) in the file, else of its first quoted occurrence
    (a prefixed or JSON-LD datatype is written apart from the text), if it is written as it is."""
    try:
        lines = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError:
        return None, None
    for quote, typed in (('"', "^^"), ("'", "^^"), ('"', ""), ("'", "")):
        needle = f"{quote}{lexical}{quote}{typed}"
        for number, line in enumerate(lines, 1):
            column = line.find(needle)
            if column >= 0:
                return number, column + 1
    return None, None


@contextlib.contextmanager
def quiet_rdflib() -> Iterator[None]:
    """rdflib's "Failed to convert Literal lexical form" tracebacks and its warnings about such literals ("Parsing
    weird boolean") kept off stderr while validating: :func:`ill_typed_literals` reports each of them, located."""
    logger = logging.getLogger("rdflib.term")
    disabled = logger.disabled
    logger.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="rdflib.term")
            yield
    finally:
        logger.disabled = disabled


def without_reported(inconsistencies: list[Problem], reported: list[Problem]) -> list[Problem]:
    """The inference's unlocated "Lexical value of the literal ... does not match its datatype" messages, less those
    about a literal already reported, located, by :func:`ill_typed_literals`."""
    seen = {p.message.split(" is not a valid ", 1)[0] for p in reported}
    return [p for p in inconsistencies if not any(_same_literal(p.message, s) for s in seen)]


def _same_literal(inconsistency: str, literal: str) -> bool:
    lexical = literal.rsplit('"^^', 1)[0].lstrip('"')
    return f"literal '{lexical}' does not match its datatype" in inconsistency


def triple_terms(store: Store, files: list[LoadedFile], display: Callable[[Path], str]) -> list[Problem]:
    """One problem per checked file that uses RDF 1.2 triple terms (``<< s p o >>``), in its own graph or, for a
    dataset, in the graphs it names: the store keeps them, but the SHACL engine (rdflib) has no such terms."""
    by_graph = {file.graph: file for file in files}
    datasets = [file for file in files if file.path.suffix.lower() in (".nq", ".trig", ".jsonld")]
    found: dict[Path, None] = {}
    for quad in store.quads():
        if isinstance(quad.subject, ox.Triple) or isinstance(quad.object, ox.Triple):
            file = by_graph.get(named_graph(quad) or "") or (datasets[0] if datasets else None)
            if file is not None:
                found[file.path] = None
    message = "uses RDF 1.2 triple terms (<< ... >>), which kgraph validate cannot check (its SHACL engine has none)"
    return [Problem("syntax", message, display(path)) for path in found]
