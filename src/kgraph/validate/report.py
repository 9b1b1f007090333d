"""What validation found, and the three ways of printing it: for people, for programs, for GitHub.

Every problem carries a file and, when it can be found, a line, so that a contributor (or GitHub's
annotations on a pull request) goes straight to the triple to fix.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import pyoxigraph as ox

INPUT_KINDS = ("syntax", "missing")
"""Problems that mean the input could not be read at all: exit code 2, not 1."""


@dataclass(frozen=True)
class Problem:
    """An error that is not a SHACL result: unreadable input, undeclared term or inconsistency."""

    kind: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    triples: list[str] = field(default_factory=list)

    def location(self) -> str:
        """``file:line:column`` as far as it is known."""
        return _location(self.file, self.line, self.column)


@dataclass(frozen=True)
class Violation:
    """One SHACL validation result, in prefixed names, located in the contributor's file."""

    focus: str
    path: str | None
    message: str
    severity: str
    constraint: str
    shape: str
    value: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def sentence(self) -> str:
        """``<focus> <property>: <message>``, as a contributor reads it."""
        subject = f"{self.focus} {self.path}" if self.path else self.focus
        return f"{subject}: {self.message}"


@dataclass(frozen=True)
class ShaclResult:
    """One validation result, its terms in pyoxigraph (to locate them) and its words (to print)."""

    focus: ox.NamedNode | ox.BlankNode | ox.Literal
    """The node that fails (SHACL targets may be literals: ``sh:targetObjectsOf``, ``sh:targetNode``)."""
    path: ox.NamedNode | None
    message: str
    severity: str
    constraint: str
    shape: str
    value: str | None


@dataclass
class ValidationReport:
    """Everything one validation run found; ``exit_code`` is what the command returns."""

    errors: list[Problem] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        """True when nothing would stop the data from being merged (warnings do not)."""
        return not self.errors and not any(v.severity == "Violation" for v in self.violations)

    @property
    def exit_code(self) -> int:
        """0 conforms, 1 violations or other errors, 2 unreadable input."""
        if any(e.kind in INPUT_KINDS for e in self.errors):
            return 2
        return 0 if self.conforms else 1


def to_text(report: ValidationReport) -> str:
    """One line per problem (the triples of an inconsistency indented below it), then a summary."""
    lines = []
    for error in report.errors:
        lines.append(f"{error.location()}: {error.message}" if error.file else error.message)
        lines += [f"    {triple}" for triple in error.triples]
    for v in report.violations:
        where = _location(v.file, v.line, None)
        severity = "" if v.severity == "Violation" else f"{v.severity.lower()}: "
        lines.append(f"{where}: {severity}{v.sentence()}" if where else severity + v.sentence())
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def to_json(report: ValidationReport) -> str:
    """A stable document for programs: the keys and their order do not change between versions."""
    document = {
        "conforms": report.conforms,
        "errors": [asdict(e) for e in report.errors],
        "violations": [{key: asdict(v)[key] for key in _VIOLATION_KEYS} for v in report.violations],
    }
    return json.dumps(document, indent=2) + "\n"


_VIOLATION_KEYS = (
    "file",
    "line",
    "column",
    "focus",
    "path",
    "message",
    "severity",
    "constraint",
    "shape",
    "value",
)


def to_github(report: ValidationReport) -> str:
    """GitHub Actions workflow commands: each problem becomes an annotation on the pull request."""
    lines = []
    for error in report.errors:
        message = "\n".join([error.message, *error.triples])
        lines.append(_annotation("error", error.file, error.line, error.column, message))
    for v in report.violations:
        level = "error" if v.severity == "Violation" else "warning"
        lines.append(_annotation(level, v.file, v.line, v.column, v.sentence()))
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"Violation": "error", "Warning": "warning", "Info": "note"}
_ERROR_RULES = {
    "syntax": "The file is not valid RDF.",
    "missing": "The path does not exist or is not an RDF file.",
    "undeclared-term": "A kg: term that the ontology does not declare.",
    "inconsistency": "A contradiction found by inference.",
}


def to_sarif(report: ValidationReport) -> str:
    """SARIF 2.1.0, the format of GitHub code scanning: one result per problem, its rule the problem's kind (errors)
    or the shape that failed (SHACL results), located in the file."""
    import kgraph

    rules: dict[str, str] = {}
    results = []
    for error in report.errors:
        rules.setdefault(error.kind, _ERROR_RULES.get(error.kind, error.kind))
        text = "\n".join([error.message, *error.triples])
        results.append(_sarif_result(error.kind, "error", text, error.file, error.line, error.column))
    for v in report.violations:
        rules.setdefault(v.shape, f"SHACL shape {v.shape} ({v.constraint}).")
        results.append(_sarif_result(v.shape, _LEVELS.get(v.severity, "error"), v.sentence(), v.file, v.line, v.column))
    ids = list(rules)
    for result in results:
        result["ruleIndex"] = ids.index(str(result["ruleId"]))
    driver = {
        "name": "kgraph",
        "version": kgraph.__version__,
        "informationUri": "https://w3id.org/kgraph/",
        "rules": [{"id": rule, "shortDescription": {"text": text}} for rule, text in rules.items()],
    }
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}
    return json.dumps(document, indent=2) + "\n"


def _sarif_result(
    rule: str, level: str, text: str, file: str | None, line: int | None, column: int | None
) -> dict[str, object]:
    """One SARIF result; a problem with no file (a missing path's) has no location."""
    result: dict[str, object] = {"ruleId": rule, "level": level, "message": {"text": text}}
    if file is not None:
        region = {"startLine": line, "startColumn": column} if line else {}
        location: dict[str, object] = {"artifactLocation": _artifact(file)}
        if region:
            location["region"] = {key: value for key, value in region.items() if value is not None}
        result["locations"] = [{"physicalLocation": location}]
    return result


def _artifact(file: str) -> dict[str, str]:
    """A file relative to the checkout (``%SRCROOT%``, as GitHub resolves it), or an absolute file URI."""
    from pathlib import Path
    from urllib.parse import quote

    path = Path(file)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": quote(path.as_posix()), "uriBaseId": "%SRCROOT%"}


FORMATTERS = {"text": to_text, "json": to_json, "github": to_github, "sarif": to_sarif}


def _summary(report: ValidationReport) -> str:
    """The last line: ``conforms`` (with any warnings counted) or how many problems were found."""
    count = len(report.errors) + len(report.violations)
    plural = "s" if count != 1 else ""
    if report.conforms:
        return f"conforms ({count} warning{plural})" if count else "conforms"
    return f"{count} problem{plural} found"


def _location(file: str | None, line: int | None, column: int | None) -> str:
    parts = [str(p) for p in (file, line, column) if p is not None]
    return ":".join(parts)


def _annotation(level: str, file: str | None, line: int | None, column: int | None, message: str) -> str:
    """``::error file=F,line=L,col=C::message`` with GitHub's escaping of data and properties."""
    properties = [("file", file), ("line", line), ("col", column)]
    props = ",".join(f"{k}={_escape(str(v), True)}" for k, v in properties if v is not None)
    return f"::{level}{' ' + props if props else ''}::{_escape(message, False)}"


def _escape(text: str, is_property: bool) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if is_property else text
