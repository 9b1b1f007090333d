"""A ``+`` or ``*`` path from or to a constant answered on its own first, and written into the query as ``VALUES``.

Virtuoso 7.2 loses such a path when the query around it binds the path's variable first and graphs are excluded
from its default graph (it walks the path from the bound side with the constant as a target, and finds nothing:
``bench/queries/optional-first.rq`` over every graph but the inferred one, 0 rows instead of 463). The same path
asked alone is walked from its constant, and answered right. So the path is asked alone, over the same dataset, and
its answer replaces it: a triple pattern ``?x p+ <c>`` in a group and ``VALUES ?x { ... }`` holding its solutions
in its place are the same join (SPARQL 1.1, 18.2.2.6; the solutions of a ``+`` or ``*`` path are a set, so
``SELECT DISTINCT`` loses nothing, and ``*`` adds the constant itself, its zero-length match).

Only a path written as a statement of its own (after ``{``, ``}`` or ``.``, before ``.`` or ``}``), or after a
``;`` in a statement's list of predicates (its answer then follows the statement), one IRI with ``+`` or ``*``
between a variable and an IRI, in a query without ``EXISTS`` (which substitutes its outer row's
values into the pattern) or ``SERVICE`` (whose patterns another endpoint answers), is answered this way; an answer
holding a blank node (which ``VALUES`` cannot name) or more than :data:`MAX_VALUES` terms leaves the query as it was.
So is the closure ending a two-step sequence from a variable to an IRI, ``?x rdf:type/rdfs:subClassOf* kg:C``
(``queries/operations-in-russia.rq``: 0 rows over Virtuoso instead of 8), its first step joined in a subquery that
hides the variable between the steps (:func:`_sequence`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

import pyoxigraph as ox

from kgraph.sparql.lexer import SPARQL_TOKEN

MAX_VALUES = 10_000
"""Terms of a path's answer written into the query at most."""

Answer = Callable[[str], list[ox.NamedNode | ox.BlankNode | ox.Literal]]
"""Evaluates a one-variable SELECT over the query's dataset and gives its terms."""


def fresh_variable(sparql: str, stem: str, taken: Collection[str] = ()) -> str:
    """A variable ``?<stem><n>`` neither the query (as ``?`` or ``$``) nor ``taken`` uses: a rewrite's own
    variable must never capture one of the query's."""
    index = 0
    while (name := f"?{stem}{index}") in taken or name in sparql or f"${stem}{index}" in sparql:
        index += 1
    return name


def inline_paths(sparql: str, answer: Answer) -> str | None:
    """The query with each path of the shape above replaced by its answer as ``VALUES``; None when there is none
    or one could not be replaced."""
    tokens = [m for m in SPARQL_TOKEN.finditer(sparql) if m.lastgroup not in ("ws", "comment")]
    words = {m.group().upper() for m in tokens if m.lastgroup == "word"}
    if words & {"EXISTS", "SERVICE", "BASE"}:
        return None
    prefixes = {
        tokens[i + 1].group()[:-1]: tokens[i + 2].group()
        for i in range(len(tokens) - 2)
        if tokens[i].group().upper() == "PREFIX" and tokens[i + 1].lastgroup == "pname"
    }
    edits: list[tuple[int, int, str]] = []
    steps: list[str] = []
    for i in range(1, len(tokens) - 4):
        lead, verb, modifier, end, after = (m.group() for m in tokens[i : i + 5])
        if modifier not in ("+", "*") or tokens[i + 2].lastgroup != "other":
            continue
        if lead == "/":
            steps.append(fresh_variable(sparql, "_kgstep", steps))
            sequence = _sequence(tokens, i, prefixes, answer, steps[-1])
            if sequence is None:
                return None
            edits += sequence
            continue
        if lead == ";" and after in (".", "}", ";"):  # `?x a :T ; :p+ :c`: the subject is the statement's
            first, insert = statement_start(tokens, i), statement_end(tokens, i + 4)
            if first is None or insert is None:
                continue
            subject = tokens[first]
        elif tokens[i - 1].group() in ("{", "}", ".") and after in (".", "}"):
            subject, insert = tokens[i], None
        else:
            continue
        subject_kind, verb_kind, object_kind = subject.lastgroup, tokens[i + 1].lastgroup, tokens[i + 3].lastgroup
        ends = sorted((subject_kind or "", object_kind or ""))
        if verb_kind not in ("iri", "pname") or ends not in (["iri", "var"], ["pname", "var"]):
            continue
        forward = subject_kind == "var"
        variable = subject.group() if forward else end
        constant = _iri(end if forward else subject.group(), prefixes)
        predicate = _iri(verb, prefixes)
        if constant is None or predicate is None:
            return None
        path = f"{predicate}{modifier}"
        pattern = f"{variable} {path} {constant}" if forward else f"{constant} {path} {variable}"
        values = _values(variable, pattern, modifier, constant, answer)
        if values is None:
            return None
        if insert is None:
            edits.append((tokens[i].start(), tokens[i + 3].end(), values))
        else:  # the path leaves the statement's list; its answer follows the statement
            edits += [(tokens[i].start(), tokens[i + 3].end(), ""), (insert, insert, f" {values} ")]
    if not edits:
        return None
    for begin, finish, text in sorted(edits, key=lambda edit: edit[0], reverse=True):
        sparql = sparql[:begin] + text + sparql[finish:]
    return sparql


def _sequence(
    tokens: list[re.Match[str]], index: int, prefixes: dict[str, str], answer: Answer, hidden: str
) -> list[tuple[int, int, str]] | None:
    """The edits for a two-step sequence whose ``/`` is token ``index``, ``?x p/q+ <c>`` (such as
    ``rdf:type/rdfs:subClassOf* kg:MilitaryOperation``): ``{ SELECT ?x WHERE { ?x p ?h . VALUES ?h { ... } } }``,
    the closure's answer in ``VALUES`` and the variable between the steps hidden in a subquery that keeps the join's
    duplicates (SPARQL 1.1, 18.4: a sequence is the join of its steps over a variable of its own); [] for another
    shape, left as written; None when the answer cannot be written."""
    if index < 3:
        return []
    before, step, end, after = tokens[index - 2], tokens[index - 1], tokens[index + 3], tokens[index + 4].group()
    if before.group() == ";" and after in (".", "}", ";"):
        first, insert = statement_start(tokens, index - 2), statement_end(tokens, index + 4)
        if first is None or insert is None:
            return []
        subject, start = tokens[first], before.start()
    elif tokens[index - 3].group() in ("{", "}", ".") and after in (".", "}"):
        subject, start, insert = before, before.start(), None
    else:
        return []
    first_step = _TYPE if step.group() == "a" else _iri(step.group(), prefixes) if step.lastgroup in _NAMES else None
    predicate = _iri(tokens[index + 1].group(), prefixes) if tokens[index + 1].lastgroup in _NAMES else None
    constant = _iri(end.group(), prefixes) if end.lastgroup in _NAMES else None
    if subject.lastgroup != "var" or None in (first_step, predicate, constant):
        return []
    modifier = tokens[index + 2].group()
    values = _values(hidden, f"{hidden} {predicate}{modifier} {constant}", modifier, str(constant), answer)
    if values is None:
        return None
    variable = subject.group()
    joined = f"{{ SELECT {variable} WHERE {{ {variable} {first_step} {hidden} . {values} }} }}"
    if insert is None:
        return [(start, end.end(), joined)]
    return [(start, end.end(), ""), (insert, insert, f" {joined} ")]


def _values(variable: str, pattern: str, modifier: str, constant: str, answer: Answer) -> str | None:
    """The path's answer, asked alone, as a ``VALUES`` table of ``variable`` (``*`` adds the constant, its
    zero-length match); None when it holds a blank node or more than :data:`MAX_VALUES` terms."""
    terms = answer(f"SELECT DISTINCT {variable} WHERE {{ {pattern} }}")
    if modifier == "*":
        terms = [*terms, ox.NamedNode(constant[1:-1])]
    if len(terms) > MAX_VALUES or any(isinstance(term, ox.BlankNode) for term in terms):
        return None
    return f"VALUES {variable} {{ {' '.join(dict.fromkeys(str(term) for term in terms))} }}"


_NAMES = ("iri", "pname")
_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def statement_start(tokens: list[re.Match[str]], index: int) -> int | None:
    """The index of the subject of the statement holding token ``index``; None inside brackets (a blank node's
    property list, a collection) or after a keyword."""
    depth = 0
    for position in range(index - 1, -1, -1):
        token = tokens[position].group()
        if token in (")", "]"):
            depth += 1
        elif token in ("(", "["):
            if not depth:
                return None
            depth -= 1
        elif not depth and token in ("{", "}", "."):
            return position + 1 if tokens[position + 1].lastgroup in ("var", "iri", "pname") else None
        elif not depth and tokens[position].lastgroup == "word" and token.upper() not in ("A", "TRUE", "FALSE"):
            return None
    return None


def statement_end(tokens: list[re.Match[str]], index: int) -> int | None:
    """Where a statement's triples end, from token ``index`` on: after its ``.``, else before what follows it."""
    depth = 0
    for token in tokens[index:]:
        text = token.group()
        if text in ("(", "["):
            depth += 1
        elif text in (")", "]"):
            depth -= 1
        elif not depth and text == ".":
            return token.end()
        elif not depth and (text in ("{", "}") or (token.lastgroup == "word" and text.upper() not in _TERMS)):
            return token.start()
    return None


_TERMS = frozenset({"A", "TRUE", "FALSE"})


def _iri(token: str, prefixes: dict[str, str]) -> str | None:
    """An IRI or prefixed name written as a full IRI; None for an unknown prefix or an escaped local name."""
    if token.startswith("<"):
        return token
    prefix, _, local = token.partition(":")
    namespace = prefixes.get(prefix)
    if namespace is None or "\\" in local:
        return None
    return f"{namespace[:-1]}{local}>"
