"""SPARQL Update text, read and rewritten before it reaches a store: protocol ``USING`` clauses, the exact quads of
an update made only of ``INSERT DATA`` / ``DELETE DATA``, and the clauses of one ``DELETE``/``INSERT ... WHERE``.

Both work on the tokens of the shared lexer (:data:`kgraph.sparql.lexer.SPARQL_TOKEN`), so strings, IRIs and
comments never match a keyword.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from kgraph.sparql.errors import SparqlError
from kgraph.sparql.guard import significant_tokens
from kgraph.sparql.lexer import SPARQL_TOKEN


def with_using(sparql: str, using: Sequence[str], using_named: Sequence[str]) -> str:
    """The update with the protocol's ``using-graph-uri`` / ``using-named-graph-uri`` written in as USING clauses.

    SPARQL 1.1 Protocol (2.2.3) makes them equivalent to USING / USING NAMED on every DELETE/INSERT ... WHERE
    operation, and an error beside the update's own USING or WITH. They go before each top-level WHERE that is
    not the short form ``DELETE WHERE``.
    """
    if not using and not using_named:
        return sparql
    for iri in (*using, *using_named):
        try:
            ox.NamedNode(iri)
        except ValueError:
            raise SparqlError(f"using-graph-uri <{iri}> is not an absolute IRI.") from None
    clauses = "".join(f" USING <{g}>" for g in using) + "".join(f" USING NAMED <{g}>" for g in using_named)
    depth, previous, cuts = 0, "", []
    for match in SPARQL_TOKEN.finditer(sparql):
        kind, text = match.lastgroup, match.group()
        if kind in ("ws", "comment", "string"):
            continue
        depth += {"{": 1, "}": -1}.get(text, 0) if kind == "other" else 0
        word = text.upper() if kind == "word" else ""
        if depth == 0 and word in ("USING", "WITH"):
            raise SparqlError(f"The update has its own {word}: it cannot be combined with using-graph-uri.")
        if depth == 0 and word == "WHERE" and previous != "DELETE":
            cuts.append(match.start())
        previous = word
    for cut in reversed(cuts):
        sparql = sparql[:cut] + clauses.lstrip() + " " + sparql[cut:]
    return sparql


_Tokens = list[tuple[str, str, int, int]]
"""(kind, text, start, end) of the significant tokens."""


def data_changes(sparql: str, default_graph: str | None) -> tuple[list[ox.Quad], list[ox.Quad]] | None:
    """(quads to add, quads to remove) of an update made only of ``INSERT DATA`` and ``DELETE DATA`` operations,
    applied in order (a later operation on the same quad wins), the default graph's triples put in
    ``default_graph`` (None: left there); None for any other update, or one with blank nodes (fresh in each
    operation) or a syntax error: those are run by the store itself, which words the error.

    A write then costs what it changes: the quads are known without running the update over a copy of the store.
    """
    tokens = _significant(sparql)
    operations = _data_operations(sparql, tokens)
    if operations is None:
        return None
    target = ox.NamedNode(default_graph) if default_graph else ox.DefaultGraph()
    changes: dict[ox.Quad, bool] = {}  # quad -> added (True) or removed (False), the last operation's word
    for insert, trig in operations:
        try:
            quads = ox.parse(trig, format=ox.RdfFormat.TRIG)
            for quad in quads:
                graph = target if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name
                changes[ox.Quad(quad.subject, quad.predicate, quad.object, graph)] = insert
        except SyntaxError:
            return None
    return [q for q, added in changes.items() if added], [q for q, added in changes.items() if not added]


def _data_operations(sparql: str, tokens: _Tokens) -> list[tuple[bool, str]] | None:
    """(insert?, the operation's quads as TriG) for each operation, or None when one is not INSERT/DELETE DATA."""
    operations: list[tuple[bool, str]] = []
    prologue, at = "", 0
    while at < len(tokens):
        word = tokens[at][1].upper() if tokens[at][0] == "word" else ""
        if word in ("PREFIX", "BASE"):
            size = 3 if word == "PREFIX" else 2
            prologue += " ".join(t[1] for t in tokens[at : at + size]) + "\n"
            at += size
            continue
        if word not in ("INSERT", "DELETE") or [t[1].upper() for t in tokens[at + 1 : at + 3]] != ["DATA", "{"]:
            return None
        end = _closing(tokens, at + 2)
        body = tokens[at + 3 : end]
        if end is None or any(kind in ("var", "bnode") or text == "[" for kind, text, _, _ in body):
            return None
        operations.append((word == "INSERT", prologue + _trig(sparql, body)))
        at = end + 1
        if at < len(tokens) and tokens[at][1] == ";":
            at += 1
    return operations


def _closing(tokens: _Tokens, opening: int) -> int | None:
    """The index of the brace that closes the one at ``opening``."""
    depth = 0
    for index in range(opening, len(tokens)):
        kind, text = tokens[index][:2]
        if kind == "other" and text in "{}":
            depth += 1 if text == "{" else -1
            if depth == 0:
                return index
    return None


def _trig(sparql: str, body: _Tokens) -> str:
    """SPARQL QuadData as TriG: the default graph's triples in ``{ }`` blocks, ``GRAPH`` blocks as they are."""
    parts: list[str] = []
    at, start = 0, 0
    while at < len(body):
        if body[at][0] == "word" and body[at][1].upper() == "GRAPH" and at + 2 < len(body):
            end = _closing(body, at + 2)
            if end is None:
                return sparql  # unbalanced: not TriG, so the parser refuses it
            parts.append(_default_block(sparql, body[start:at]))
            parts.append(sparql[body[at][2] : body[end][3]])
            at = start = end + 1
            continue
        at += 1
    parts.append(_default_block(sparql, body[start:]))
    return "\n".join(p for p in parts if p)


def _default_block(sparql: str, tokens: _Tokens) -> str:
    """Triples of the default graph, between GRAPH blocks, without the dots that separate them from those."""
    while tokens and tokens[0][1] == ".":
        tokens = tokens[1:]
    if not tokens:
        return ""
    return "{ " + sparql[tokens[0][2] : tokens[-1][3]] + " }"


@dataclass(frozen=True)
class Modify:
    """One ``DELETE``/``INSERT ... WHERE`` operation cut into its clauses, as written (braces included): the engine
    resolves their terms against ``prologue``. The graphs of ``WITH`` and ``USING`` are resolved here."""

    prologue: str
    where: str
    delete: str | None = None
    insert: str | None = None
    with_graph: str | None = None
    using: tuple[str, ...] = ()
    using_named: tuple[str, ...] = ()


def modify_operation(sparql: str) -> Modify | None:
    """The clauses of an update made of one ``DELETE``/``INSERT ... WHERE`` or ``DELETE WHERE`` operation; None for
    any other update (several operations, ``INSERT DATA``, ``CLEAR``, ``ADD``...), or one this reading is unsure of
    (an undeclared prefix in ``WITH``): the store runs those, and words their errors.

    A write then costs what its ``WHERE`` clause matches: its solutions are read from the store and the templates
    instantiated with them, instead of the update run over a copy of the store.
    """
    tokens, at = _after_prologue(sparql)
    if at >= len(tokens):
        return None
    prologue = sparql[: tokens[at][2]]
    clauses: dict = {"prologue": prologue}
    if _word(tokens, at) == "WITH":
        clauses["with_graph"] = _graph(prologue, tokens, at + 1)
        at += 2
    if _word(tokens, at) == "DELETE" and _word(tokens, at + 1) == "WHERE" and "with_graph" not in clauses:
        pattern = _group(sparql, tokens, at + 2)
        if pattern is None:
            return None
        clauses["delete"] = clauses["where"] = pattern[0]
        at = pattern[1]
    else:
        for keyword in ("DELETE", "INSERT"):
            template = _group(sparql, tokens, at + 1) if _word(tokens, at) == keyword else None
            if template is not None:
                clauses[keyword.lower()], at = template
        using: dict[str, list[str | None]] = {"using": [], "using_named": []}
        while _word(tokens, at) == "USING":
            named = _word(tokens, at + 1) == "NAMED"
            using["using_named" if named else "using"].append(_graph(prologue, tokens, at + 1 + named))
            at += 2 + named
        where = _group(sparql, tokens, at + 1) if _word(tokens, at) == "WHERE" else None
        if where is None or not ("delete" in clauses or "insert" in clauses):
            return None
        clauses["where"], at = where
        clauses.update((key, tuple(graphs)) for key, graphs in using.items())
    at += at < len(tokens) and tokens[at][1] == ";"
    graphs = [clauses.get("with_graph", ""), *clauses.get("using", ()), *clauses.get("using_named", ())]
    if at != len(tokens) or None in graphs:
        return None
    return Modify(**clauses)


def _significant(sparql: str) -> _Tokens:
    """The update's tokens but whitespace and comments, as (kind, text, start, end)."""
    return [
        (m.lastgroup or "", m.group(), m.start(), m.end())
        for m in SPARQL_TOKEN.finditer(sparql)
        if m.lastgroup not in ("ws", "comment")
    ]


def _after_prologue(sparql: str) -> tuple[_Tokens, int]:
    """The update's significant tokens and the index of the first one after its ``PREFIX`` and ``BASE``."""
    tokens = _significant(sparql)
    at = 0
    while at < len(tokens) and _word(tokens, at) in ("PREFIX", "BASE"):
        at += 3 if _word(tokens, at) == "PREFIX" else 2
    return tokens, at


def _word(tokens: _Tokens, at: int) -> str:
    """The keyword at ``at``, upper-cased ('' for any other token, or past the end)."""
    return tokens[at][1].upper() if at < len(tokens) and tokens[at][0] == "word" else ""


def _group(sparql: str, tokens: _Tokens, at: int) -> tuple[str, int] | None:
    """The text of the braced group opening at ``at`` and the index after it; None if there is none."""
    if at >= len(tokens) or tokens[at][1] != "{":
        return None
    end = _closing(tokens, at)
    return None if end is None else (sparql[tokens[at][2] : tokens[end][3]], end + 1)


def _graph(prologue: str, tokens: _Tokens, at: int) -> str | None:
    """The absolute IRI of the graph named at ``at`` (after the prologue's PREFIX and BASE), None if it is none."""
    if at >= len(tokens) or tokens[at][0] not in ("iri", "pname"):
        return None
    *_, token = significant_tokens(prologue + " " + tokens[at][1])
    return token.text or None


_GRAPH_OPERATIONS = frozenset({"CLEAR", "DROP", "CREATE", "ADD", "COPY", "MOVE"})


def graph_operation(sparql: str) -> tuple[str | None, ...] | None:
    """The graphs an update made of one ``CLEAR``, ``DROP``, ``CREATE``, ``ADD``, ``COPY`` or ``MOVE`` names (None for
    ``DEFAULT``); None for any other update, one naming ``NAMED`` or ``ALL`` (every graph), or one this reading is
    unsure of: the store runs those, and words their errors.

    Such an operation reads and changes only the graphs it names, so a write can run it over those alone.
    """
    tokens, at = _after_prologue(sparql)
    operation = _word(tokens, at)
    if operation not in _GRAPH_OPERATIONS:
        return None
    prologue = sparql[: tokens[at][2]]
    at += 1 + (_word(tokens, at + 1) == "SILENT")
    graphs: list[str | None] = []
    for position in ("source", "target") if operation in ("ADD", "COPY", "MOVE") else ("target",):
        if position == "target" and graphs:
            if _word(tokens, at) != "TO":
                return None
            at += 1
        if _word(tokens, at) == "DEFAULT" and operation != "CREATE":
            graphs.append(None)
            at += 1
            continue
        if _word(tokens, at) == "GRAPH":
            at += 1
        elif operation in ("CLEAR", "DROP", "CREATE"):
            return None  # NAMED, ALL, or not SPARQL
        named = _graph(prologue, tokens, at)
        if named is None or not _absolute(named):
            return None
        graphs.append(named)
        at += 1
    at += at < len(tokens) and tokens[at][1] == ";"
    return tuple(graphs) if at == len(tokens) else None


def _absolute(iri: str) -> bool:
    """Whether ``iri`` is an absolute IRI a store can name a graph with."""
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return True


def operations(sparql: str) -> list[str] | None:
    """The operations of an update of two or more, each as an update of its own: the ``PREFIX`` and ``BASE``
    declarations written before it, then its text. None for a single operation, or text this reading is unsure of
    (an unclosed brace): the store runs those, and words their errors.

    A request of several operations can then be written as their changes one after the other, each seeing the ones
    before it, instead of over a copy of the store.
    """
    tokens, at = _after_prologue(sparql)
    declared = sparql[: tokens[at][2]] if at < len(tokens) else sparql
    parts: list[str] = []
    start = at
    while at < len(tokens):
        text = tokens[at][1]
        if text == "{":
            closing = _closing(tokens, at)
            if closing is None:
                return None
            at = closing + 1
        elif text == ";":
            parts.append(declared + sparql[tokens[start][2] : tokens[at][2]])
            at += 1
            while _word(tokens, at) in ("PREFIX", "BASE"):
                size = 3 if _word(tokens, at) == "PREFIX" else 2
                declared += " ".join(token[1] for token in tokens[at : at + size]) + " "
                at += size
            start = at
        else:
            at += 1
    if start < len(tokens):
        parts.append(declared + sparql[tokens[start][2] :])
    return parts if len(parts) > 1 else None
