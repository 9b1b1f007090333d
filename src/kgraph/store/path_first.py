"""A ``+`` or ``*`` path from or to a constant answered on its own first, and written into the query as ``VALUES``.

Virtuoso 7.2 loses such a path when the query around it binds the path's variable first and graphs are excluded
from its default graph (it walks the path from the bound side with the constant as a target, and finds nothing:
``bench/queries/optional-first.rq`` over every graph but the inferred one, 0 rows instead of 463). The same path
asked alone is walked from its constant, and answered right. So the path is asked alone, over the same dataset, and
its answer replaces it: a triple pattern ``?x p+ <c>`` in a group and ``VALUES ?x { ... }`` holding its solutions
in its place are the same join (SPARQL 1.1, 18.2.2.6; the solutions of a ``+`` or ``*`` path are a set, so
``SELECT DISTINCT`` loses nothing, and ``*`` adds the constant itself, its zero-length match).

Only a path written as a statement of its own (after ``{``, ``}`` or ``.``, before ``.`` or ``}``), one IRI with
``+`` or ``*`` between a variable and an IRI, in a query without ``EXISTS`` (which substitutes its outer row's
values into the pattern) or ``SERVICE`` (whose patterns another endpoint answers), is answered this way; an answer
holding a blank node (which ``VALUES`` cannot name) or more than :data:`MAX_VALUES` terms leaves the query as it was.
"""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox

from kgraph.sparql.guard import SPARQL_TOKEN

MAX_VALUES = 10_000
"""Terms of a path's answer written into the query at most."""

Answer = Callable[[str], list[ox.NamedNode | ox.BlankNode | ox.Literal]]
"""Evaluates a one-variable SELECT over the query's dataset and gives its terms."""


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
    for i in range(1, len(tokens) - 4):
        start, verb, modifier, end, after = (m.group() for m in tokens[i : i + 5])
        if modifier not in ("+", "*") or tokens[i + 2].lastgroup != "other":
            continue
        if tokens[i - 1].group() not in ("{", "}", ".") or after not in (".", "}"):
            continue
        subject_kind, verb_kind, object_kind = (tokens[i + k].lastgroup for k in (0, 1, 3))
        ends = sorted((subject_kind or "", object_kind or ""))
        if verb_kind not in ("iri", "pname") or ends not in (["iri", "var"], ["pname", "var"]):
            continue
        forward = subject_kind == "var"
        variable = start if forward else end
        constant = _iri(end if forward else start, prefixes)
        predicate = _iri(verb, prefixes)
        if constant is None or predicate is None:
            return None
        path = f"{predicate}{modifier}"
        pattern = f"{variable} {path} {constant}" if forward else f"{constant} {path} {variable}"
        terms = answer(f"SELECT DISTINCT {variable} WHERE {{ {pattern} }}")
        if modifier == "*":
            terms = [*terms, ox.NamedNode(constant[1:-1])]
        if len(terms) > MAX_VALUES or any(isinstance(term, ox.BlankNode) for term in terms):
            return None
        values = " ".join(dict.fromkeys(str(term) for term in terms))
        edits.append((tokens[i].start(), tokens[i + 3].end(), f"VALUES {variable} {{ {values} }}"))
    if not edits:
        return None
    for begin, finish, text in reversed(edits):
        sparql = sparql[:begin] + text + sparql[finish:]
    return sparql


def _iri(token: str, prefixes: dict[str, str]) -> str | None:
    """An IRI or prefixed name written as a full IRI; None for an unknown prefix or an escaped local name."""
    if token.startswith("<"):
        return token
    prefix, _, local = token.partition(":")
    namespace = prefixes.get(prefix)
    if namespace is None or "\\" in local:
        return None
    return f"{namespace[:-1]}{local}>"
