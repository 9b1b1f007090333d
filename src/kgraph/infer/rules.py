"""The project's domain rules: one SPARQL CONSTRUCT per file in ``rules/``, evaluated by pyoxigraph.

Rules are data, not code, so that an analyst can read what each one means (its ``# rule:`` and ``#
meaning:`` comments) and so that explanations can re-run a rule backwards: the template says what a
rule concludes, the WHERE clause what it needs. A rule must not create blank nodes (a fresh one per
run would never reach a fixpoint).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from kgraph.infer.terms import NTriple, split_ntriples
from kgraph.store import Store
from kgraph.store.results import serialized, triples


class RuleError(ValueError):
    """A rule file that is not a commented SPARQL CONSTRUCT."""


@dataclass(frozen=True)
class Rule:
    """One rule file: what it concludes, what it needs, and what it means in words."""

    name: str
    path: Path
    title: str
    meaning: str
    query: str

    @cached_property
    def _algebra(self) -> CompValue:
        """rdflib's parse of the rule, made once (it is slow): explanations and in-store inference read it."""
        return prepareQuery(self.query).algebra

    @property
    def algebra(self) -> CompValue:
        """rdflib's parse of the rule (what in-store inference reads to know which new triples concern it)."""
        return self._algebra

    @property
    def template(self) -> list[tuple]:
        """The triple patterns the rule concludes."""
        return list(self._algebra.template)

    @property
    def body(self) -> list[tuple]:
        """The triple patterns the rule's WHERE clause must match."""
        return _basic_patterns(self._algebra.p)

    def select_for(self, bindings: dict[str, ox.NamedNode | ox.Literal]) -> str:
        """The rule's WHERE clause as a SELECT, some variables bound (for explanations)."""
        prologue, rest = _split_construct(self.query)
        if not bindings:
            return f"{prologue}SELECT * {rest}"
        names = " ".join(f"?{name}" for name in bindings)
        values = " ".join(str(term) for term in bindings.values())
        return f"{prologue}SELECT * {rest}\nVALUES ({names}) {{ ({values}) }}"


def load_rules(rules_dir: Path) -> list[Rule]:
    """Every ``*.rq`` rule of a folder, sorted by file name; none if the folder does not exist."""
    if not rules_dir.is_dir():
        return []
    return [load_rule(path) for path in sorted(rules_dir.glob("*.rq"))]


def load_rule(path: Path) -> Rule:
    """Read and check one rule file."""
    text = path.read_text(encoding="utf-8")
    comments = header_comments(text)
    if "rule" not in comments or "meaning" not in comments:
        raise RuleError(f"{path}: a rule starts with '# rule:' and '# meaning:' comment lines")
    try:
        _split_construct(text)
    except RuleError as error:
        raise RuleError(f"{path}: {error}") from None
    return Rule(path.stem, path, comments["rule"], comments["meaning"], text)


def apply_rules(store: Store, rules: list[Rule], graphs: list[str] | None) -> set[NTriple]:
    """Every triple the rules construct over the union of the graphs (None: the store's) in one pass."""
    produced: set[NTriple] = set()
    for rule in rules:
        try:
            result = triples(store.query(rule.query, default_graph=graphs))
        except SyntaxError as error:
            raise RuleError(f"{rule.path}: not a valid SPARQL query: {error}") from None
        produced.update(split_ntriples(serialized(result.serialize(format=ox.RdfFormat.N_TRIPLES))))
    return produced


def header_comments(text: str) -> dict[str, str]:
    """The ``# key: value`` lines heading a file; a repeated key or a bare ``#`` line continues."""
    comments: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        match = re.match(r"([a-z]+):\s*(.*)", body)
        if match:
            key = match.group(1)
            comments[key] = f"{comments[key]} {match.group(2)}" if key in comments else match.group(2)
        elif key and body:
            comments[key] += " " + body
    return comments


def _basic_patterns(node: object) -> list[tuple]:
    """The triple patterns the WHERE clause must match (OPTIONAL too; never inside filters)."""
    if not isinstance(node, CompValue):
        return []
    if node.name == "BGP":
        return list(node.triples)
    patterns = []
    keys = ("p1",) if node.name == "Minus" else ("p", "p1", "p2")
    for key in keys:
        if key in node:
            patterns.extend(_basic_patterns(node[key]))
    return patterns


def _split_construct(query: str) -> tuple[str, str]:
    """The prologue (PREFIX/BASE) and what follows the CONSTRUCT template (WHERE, modifiers)."""
    code = "\n".join(line for line in query.splitlines() if not line.lstrip().startswith("#"))
    match = re.search(r"\bCONSTRUCT\b", code, re.IGNORECASE)
    if match is None:
        raise RuleError("a rule is a SPARQL CONSTRUCT query")
    prologue, after = code[: match.start()], code[match.end() :]
    if re.match(r"\s*WHERE\b", after, re.IGNORECASE):
        return prologue, after
    start = after.index("{")
    depth = 0
    for index in range(start, len(after)):
        depth += {"{": 1, "}": -1}.get(after[index], 0)
        if depth == 0:
            return prologue, after[index + 1 :]
    raise RuleError("unbalanced braces in the CONSTRUCT template")
