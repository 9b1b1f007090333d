"""A planning pass over a query's text before pyoxigraph evaluates it: only rewrites that give the same answers.

Analysts write in the order they think: an OPTIONAL written before a selective join makes the engine extend every
row of the first pattern before the join throws most of them away. pyoxigraph (0.5) re-derives the join order of a
group from how many constants each pattern has (nested ``{ }`` groups are flattened into it), and builds a hash table
of an OPTIONAL body of several patterns whole; what it keeps is ``LATERAL`` (SEP-0006): the pattern after it is looked
up once per row so far, that row's values substituted. pyoxigraph exposes no algebra, so the pass works on the query's
tokens (the guard's lexer): it finds each group's elements and reorders the source slices of those elements, so the
rewritten query is the user's own text with only the order changed and LATERAL between patterns.

The rewrites, each provably equivalent under SPARQL 1.1 semantics (answers as multisets):

- an OPTIONAL moves after a later join element of its group when every variable they share is certainly bound
  before the OPTIONAL (the well-designed condition: ``(A ⟕ O) ⋈ B = (A ⋈ B) ⟕ O`` when
  ``vars(O) ∩ vars(B) ⊆ certain(A)``); OPTIONALs keep their relative order;
- triple patterns and paths between two OPTIONALs are ordered by estimated cardinality from the store's
  statistics (:mod:`kgraph.sparql.stats`), joined patterns first (join is commutative and associative);
- the patterns that start a group are written ``p1 . LATERAL { p2 } LATERAL { p3 }`` in that order when the first
  matches at most :data:`LATERAL_BELOW` triples, and always in an OPTIONAL body (its left side's variables counted
  as bound): for a triple pattern, or a path that cannot match zero steps, ``Lateral(G, p) = Join(G, p)``;
- a FILTER scopes over its whole group, so it is placed after the pattern that binds its last variable (for the
  reader: the engine applies it where it can anyway); it never moves into or out of a nested group.

BIND, VALUES, MINUS, SERVICE and subqueries keep their positions and nothing crosses them (BIND and MINUS apply
to what precedes them). Anything the pass does not understand leaves the query unchanged: the planner never causes
an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kgraph.sparql.lexer import SPARQL_TOKEN as _LEXER

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_BARRIERS = frozenset({"BIND", "VALUES", "MINUS", "SERVICE"})
_FORMS = frozenset({"SELECT", "CONSTRUCT", "ASK", "DESCRIBE"})
_OPERATIONS = _FORMS | {"INSERT", "DELETE", "WITH", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD"}
_PAIRS = {"{": "}", "(": ")", "[": "]"}

Estimator = Callable[["Pattern"], int]
"""Gives the number of triples matching a pattern whose variables are left free (statistics)."""


class Unplannable(Exception):
    """The query has a shape the pass does not analyse; it then runs as written."""


@dataclass(frozen=True)
class Pattern:
    """One triple pattern, reduced to what the statistics need: its constant subject, predicate and object IRIs
    or literals (None where a variable, a blank node or a path stands), and whether the predicate is a path."""

    subject: str | None
    predicate: str | None
    object: str | None
    path: bool = False
    spans: tuple[tuple[int, int], ...] = field(default=(), compare=False)
    """Where its subject, verb and object are written in the query, to write the pattern on its own."""
    variables: frozenset[str] = field(default=frozenset(), compare=False)
    head: frozenset[str] = field(default=frozenset(), compare=False)
    """The variable in subject position, if any."""
    lateral: bool = field(default=False, compare=False)
    """Whether joining it as ``LATERAL { pattern }`` gives the same answers as the join: a triple pattern or a path
    that cannot match zero steps (``*`` and ``?`` match every term to itself once a variable is substituted)."""

    def describe(self) -> str:
        """The pattern as the explain output shows it: ``?`` for each free position."""
        parts = [f"<{term}>" if term and not term.startswith('"') else term or "?" for term in self.triple()]
        return " ".join(parts)

    def triple(self) -> tuple[str | None, str | None, str | None]:
        """Subject, predicate and object."""
        return self.subject, self.predicate, self.object


@dataclass(frozen=True)
class Tok:
    """A significant token: its kind (the guard lexer's group name), raw text and span in the query."""

    kind: str
    raw: str
    start: int
    end: int
    text: str = ""
    """An IRI or a prefixed name expanded (empty when unknown), else the raw text."""


@dataclass
class Element:
    """One element of a group: a triples block, OPTIONAL, FILTER, a nested group or UNION, GRAPH, or a barrier."""

    kind: str  # triples, optional, filter, join (group, union, graph), barrier
    start: int
    end: int
    variables: frozenset[str]
    certain: frozenset[str] = frozenset()
    """Variables certainly bound by this element (every variable of a triples block; none for the others)."""
    patterns: list[Pattern] = field(default_factory=list)
    groups: list[tuple[int, int]] = field(default_factory=list)
    """Token ranges of the nested groups to plan in turn (an OPTIONAL's body, a UNION's branches)."""
    chain: list[Pattern] | None = None
    """The patterns written instead of this element, as a LATERAL chain standing for its whole run."""
    dropped: bool = False
    """Written as part of another element's replacement."""


@dataclass
class Plan:
    """The outcome of the pass: the query to evaluate, what changed and the statistics consulted."""

    original: str
    rewritten: str
    changes: list[str] = field(default_factory=list)
    statistics: dict[str, int] = field(default_factory=dict)
    note: str = ""
    """Why the query was left as written, when it was not analysed."""

    @property
    def changed(self) -> bool:
        """Whether the rewritten query differs from the original."""
        return self.rewritten != self.original

    def explain(self) -> str:
        """A plain-text account: the rewritten query, the rewrites and the statistics used."""
        lines = ["# Query as evaluated" + ("" if self.changed else " (unchanged)"), self.rewritten.rstrip(), ""]
        lines.append("# Rewrites")
        lines += [f"- {change}" for change in self.changes] or [f"- none{': ' + self.note if self.note else ''}"]
        lines += ["", "# Statistics used (matching triples)"]
        lines += [f"- {key}: {value}" for key, value in self.statistics.items()] or ["- none"]
        return "\n".join(lines) + "\n"


def plan(sparql: str, estimate: Estimator | None = None) -> Plan:
    """Rewrite ``sparql`` for evaluation; the original text when it cannot be analysed or nothing pays.

    ``estimate`` counts the triples matching a pattern (see :class:`kgraph.sparql.stats.Statistics`); without it
    only the OPTIONAL moves are made.
    """
    result = Plan(sparql, sparql)
    try:
        tokens = tokenize(sparql)
        start = _where_group(tokens)
        if start is None:
            result.note = "no query pattern to plan"
            return result
        counted = _Counting(estimate, result.statistics) if estimate else None
        edit = _plan_group(sparql, tokens, start, counted, result.changes)
    except Unplannable as reason:
        return Plan(sparql, sparql, note=str(reason))
    except (IndexError, StopIteration):
        return Plan(sparql, sparql, note="the query is not well formed")
    if edit:
        result.rewritten = _splice(sparql, 0, len(sparql), [edit])
    return result


def normalize(sparql: str) -> str:
    """The query's significant tokens separated by single spaces: the same key for the same query, whatever its
    layout and comments (strings are kept as written)."""
    return " ".join(match.group() for match in _LEXER.finditer(sparql) if match.lastgroup not in ("ws", "comment"))


class _Counting:
    """An estimator that records what it was asked, for the explain output."""

    def __init__(self, estimate: Estimator, record: dict[str, int]) -> None:
        self.estimate = estimate
        self.record = record

    def __call__(self, pattern: Pattern) -> int:
        count = self.estimate(pattern)
        self.record[pattern.describe()] = count
        return count


# --- tokens and structure ---


def tokenize(sparql: str) -> list[Tok]:
    """Significant tokens with spans; prefixed names expanded by the query's PREFIX declarations."""
    prefixes: dict[str, str] = {}
    tokens: list[Tok] = []
    for match in _LEXER.finditer(sparql):
        kind = match.lastgroup or "other"
        if kind in ("ws", "comment"):
            continue
        raw = match.group()
        text = raw
        if kind == "iri":
            text = raw[1:-1]
        elif kind == "pname":
            namespace = prefixes.get(match.group("prefix"))
            text = namespace + re.sub(r"\\(.)", r"\1", match.group("local")) if namespace is not None else ""
        if len(tokens) >= 2 and is_word(tokens[-2], "PREFIX") and tokens[-1].kind == "pname" and kind == "iri":
            prefixes[tokens[-1].raw[:-1]] = text
        if is_word(tokens[-1] if tokens else None, "BASE"):
            raise Unplannable("BASE makes IRIs relative; the query is evaluated as written")
        tokens.append(Tok(kind, raw, match.start(), match.end(), text))
    return tokens


def is_word(token: Tok | None, keyword: str) -> bool:
    """Whether the token is the keyword (any case)."""
    return token is not None and token.kind == "word" and token.raw.upper() == keyword


def _where_group(tokens: list[Tok]) -> int | None:
    """Index of the ``{`` opening the query pattern (WHERE clause), None for an update or an unknown form."""
    first = next((i for i, t in enumerate(tokens) if t.kind == "word" and t.raw.upper() in _OPERATIONS), None)
    form = tokens[first].raw.upper() if first is not None else None
    if form not in _FORMS or first is None:
        return None
    if form == "CONSTRUCT" and is_word(tokens[first + 1] if first + 1 < len(tokens) else None, "WHERE"):
        raise Unplannable("CONSTRUCT WHERE: its pattern is also its template")
    depth = 0
    seen_where = False
    for index, token in enumerate(tokens):
        if is_word(token, "WHERE") and depth == 0:
            seen_where = True
        if token.raw == "{" and depth == 0 and (seen_where or form != "CONSTRUCT"):
            return index
        depth += _depth_step(token)
    return None


def _depth_step(token: Tok) -> int:
    if token.kind != "other":
        return 0
    return (token.raw in "{([") - (token.raw in "})]")


def _closing(tokens: list[Tok], index: int) -> int:
    """Index of the bracket closing the one at ``index``."""
    depth = 0
    for position in range(index, len(tokens)):
        depth += _depth_step(tokens[position])
        if depth == 0:
            return position
    raise Unplannable("unbalanced brackets")


def _variables(tokens: list[Tok], start: int, end: int) -> frozenset[str]:
    """Variables (``?x`` and ``$x`` alike) and blank node labels (which act as variables) in a token range."""
    names = set()
    for token in tokens[start:end]:
        if token.kind == "var":
            names.add(token.raw[1:])
        elif token.kind == "bnode":
            names.add(token.raw)
    return frozenset(names)


def _elements(tokens: list[Tok], open_index: int) -> tuple[list[Element], int]:
    """The elements of the group opened at ``open_index``, and the index of its closing ``}``."""
    close = _closing(tokens, open_index)
    elements: list[Element] = []
    index = open_index + 1
    while index < close:
        token = tokens[index]
        if token.raw == ".":
            index += 1
            continue
        element, index = _element(tokens, index, close)
        elements.append(element)
    return elements, close


def _element(tokens: list[Tok], index: int, close: int) -> tuple[Element, int]:
    """The element starting at ``index`` and the index after it."""
    token = tokens[index]
    upper = token.raw.upper() if token.kind == "word" else ""
    if upper == "OPTIONAL":
        end = _closing(tokens, _expect(tokens, index + 1, "{"))
        return _make(tokens, "optional", index, end, groups=[(index + 1, end)]), end + 1
    if upper == "FILTER":
        end = _filter_end(tokens, index + 1)
        return _make(tokens, "filter", index, end), end + 1
    if upper == "GRAPH":
        body = _expect(tokens, index + 2, "{")
        end = _closing(tokens, body)
        return _make(tokens, "join", index, end, groups=[(body, end)]), end + 1
    if upper in _BARRIERS:
        body = next(i for i in range(index, close + 1) if tokens[i].raw in "{(" and tokens[i].kind == "other")
        end = _closing(tokens, body)
        if upper == "BIND" or tokens[body].raw == "{":
            return _make(tokens, "barrier", index, end), end + 1
        end = _closing(tokens, _expect(tokens, end + 1, "{"))  # VALUES (?a ?b) { ... }
        return _make(tokens, "barrier", index, end), end + 1
    if token.raw == "{":
        return _union(tokens, index)
    if token.kind == "word" and upper not in ("A", "TRUE", "FALSE"):
        raise Unplannable(f"unexpected keyword {token.raw}")
    return _triples(tokens, index, close)


def _expect(tokens: list[Tok], index: int, raw: str) -> int:
    if index >= len(tokens) or tokens[index].raw != raw:
        raise Unplannable(f"expected {raw!r}")
    return index


def _filter_end(tokens: list[Tok], index: int) -> int:
    """Last token of a FILTER's constraint: a bracketed expression, a built-in call, EXISTS or a function call."""
    if index >= len(tokens):
        raise Unplannable("FILTER without a constraint")
    if tokens[index].raw == "(":
        return _closing(tokens, index)
    if is_word(tokens[index], "NOT"):
        index += 1
    if is_word(tokens[index], "EXISTS"):
        return _closing(tokens, _expect(tokens, index + 1, "{"))
    return _closing(tokens, _expect(tokens, index + 1, "("))


def _union(tokens: list[Tok], index: int) -> tuple[Element, int]:
    """A nested group, or groups joined by UNION; a subquery is a barrier."""
    if is_word(tokens[index + 1] if index + 1 < len(tokens) else None, "SELECT"):
        end = _closing(tokens, index)
        return _make(tokens, "barrier", index, end), end + 1
    groups = []
    start = index
    while True:
        end = _closing(tokens, index)
        groups.append((index, end))
        if end + 2 < len(tokens) and is_word(tokens[end + 1], "UNION") and tokens[end + 2].raw == "{":
            index = end + 2
            continue
        return _make(tokens, "join", start, end, groups=groups), end + 1


def _triples(tokens: list[Tok], index: int, close: int) -> tuple[Element, int]:
    """A triples block up to its ``.`` (kept in the element), the next keyword or group, or the group's end."""
    start = index
    depth = 0
    while index < close:
        token = tokens[index]
        if depth == 0 and (token.raw in ("{", "}") or (token.kind == "word" and token.raw.upper() in _KEYWORDS)):
            break
        depth += _depth_step(token)
        if depth < 0:
            raise Unplannable("unbalanced brackets")
        if depth == 0 and token.raw == ".":
            index += 1
            break
        index += 1
    end = index - 1
    element = _make(tokens, "triples", start, end)
    element.certain = element.variables
    element.patterns = _patterns(tokens[start : end + 1])
    return element, index


_KEYWORDS = frozenset({"OPTIONAL", "FILTER", "GRAPH", "UNION", *_BARRIERS})


def _make(tokens: list[Tok], kind: str, start: int, end: int, groups: list | None = None) -> Element:
    return Element(kind, start, end, _variables(tokens, start, end + 1), groups=groups or [])


def _patterns(block: list[Tok]) -> list[Pattern]:
    """The triple patterns of a simple triples block (``s p o ; p o , o .``), for the estimates; an empty list
    when the block has blank node property lists or collections (it then keeps its place in the order)."""
    if block and block[-1].raw == ".":
        block = block[:-1]
    if not block or any(t.kind == "other" and t.raw in "[]" for t in block) or block[0].raw == "(":
        return []
    patterns: list[Pattern] = []
    subject = _constant(block[0])
    for part in _split(block[1:], ";"):
        if not part:
            continue
        after = _path_end(part, 0)
        verb = part[:after]
        simple = len(verb) == 1 and verb[0].kind in ("iri", "pname", "var", "word")
        iris = {RDF_TYPE if t.raw == "a" else t.text for t in verb if t.kind in ("iri", "pname") or t.raw == "a"}
        predicate = (iris.pop() or None) if len(iris) == 1 and verb[0].kind != "var" else None
        lateral = not any(t.kind == "other" and t.raw in ("*", "?") for t in verb)
        for obj in _split(part[after:], ","):
            if not obj:
                raise Unplannable("a triple without an object")
            spans = tuple(
                (first.start, last.end)
                for first, last in ((block[0], block[0]), (verb[0], verb[-1]), (obj[0], obj[-1]))
            )
            patterns.append(
                Pattern(
                    subject,
                    predicate,
                    _constant(obj[0]) if len(obj) == 1 else None,
                    not simple,
                    spans=spans,
                    variables=_variables([block[0], *verb, *obj], 0, len(verb) + len(obj) + 1),
                    head=_variables(block, 0, 1),
                    lateral=lateral and len(obj) == 1,
                )
            )
    return patterns


def _path_end(tokens: list[Tok], index: int) -> int:
    """Index after the verb (a variable, an IRI or a property path) starting at ``index``."""
    if index < len(tokens) and tokens[index].kind == "var":
        return index + 1
    index = _path_sequence(tokens, index)
    while _raw(tokens, index) == "|":
        index = _path_sequence(tokens, index + 1)
    return index


def _path_sequence(tokens: list[Tok], index: int) -> int:
    index = _path_element(tokens, index)
    while _raw(tokens, index) == "/":
        index = _path_element(tokens, index + 1)
    return index


def _path_element(tokens: list[Tok], index: int) -> int:
    if _raw(tokens, index) == "^":
        index += 1
    token = tokens[index] if index < len(tokens) else None
    if token is None:
        raise Unplannable("a path the planner does not read")
    if token.kind in ("iri", "pname") or token.raw == "a":
        index += 1
    elif token.raw == "!":
        index = _closing(tokens, index + 1) + 1 if _raw(tokens, index + 1) == "(" else _path_element(tokens, index + 1)
    elif token.raw == "(":
        end = _path_end(tokens, index + 1)
        index = _expect(tokens, end, ")") + 1
    else:
        raise Unplannable("a path the planner does not read")
    if _raw(tokens, index) in ("*", "+", "?"):
        index += 1
    return index


def _raw(tokens: list[Tok], index: int) -> str:
    return tokens[index].raw if index < len(tokens) and tokens[index].kind == "other" else ""


def _split(tokens: list[Tok], separator: str) -> list[list[Tok]]:
    parts: list[list[Tok]] = [[]]
    depth = 0
    for token in tokens:
        depth += _depth_step(token)
        if depth == 0 and token.raw == separator and token.kind == "other":
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _constant(token: Tok) -> str | None:
    if token.kind in ("iri", "pname"):
        return token.text or None
    if token.kind == "string":
        return token.raw
    return None


# --- planning ---


def _plan_group(
    sparql: str,
    tokens: list[Tok],
    open_index: int,
    estimate: _Counting | None,
    changes: list[str],
    chain: _Chain | None = None,
) -> tuple[int, int, str] | None:
    """Plan one group and, inside it, its nested groups: the span of its content and the new text for it, or
    None when nothing in it changes. ``chain`` says when the group's leading patterns become a LATERAL chain."""
    elements, _ = _elements(tokens, open_index)
    if not elements:
        return None
    inner: dict[int, list[tuple[int, int, str]]] = {}
    around = frozenset().union(*(e.certain for e in elements))
    for number, element in enumerate(elements):
        for start, _end in element.groups:
            # an OPTIONAL whose body is a LATERAL chain is evaluated once per row of its left side, with that row's
            # values substituted (a for-loop); a body of several joined patterns is a hash table built whole
            body = _Chain(around, None) if element.kind == "optional" else _Chain(frozenset(), LATERAL_BELOW)
            edit = _plan_group(sparql, tokens, start, estimate, changes, body)
            if edit:
                inner.setdefault(number, []).append(edit)
    order = _order(elements, estimate, tokens, changes, chain or _Chain(frozenset(), LATERAL_BELOW))
    first, last = tokens[elements[0].start].start, tokens[elements[-1].end].end
    if order == list(range(len(elements))) and not any(element.chain for element in elements):
        if not inner:
            return None
        return first, last, _splice(sparql, first, last, [e for edits in inner.values() for e in edits])
    indent = _indent(sparql, first)
    pieces = [
        _comments(sparql, tokens, elements[i], indent) + _text(sparql, tokens, elements[i], inner.get(i, []), indent)
        for i in order
        if not elements[i].dropped
    ]
    return first, last, indent.join(pieces)


def _comments(sparql: str, tokens: list[Tok], element: Element, indent: str) -> str:
    """The comments written just before an element (after the one before it), which move with it."""
    gap = sparql[tokens[element.start - 1].end : tokens[element.start].start] if element.start else ""
    return "".join(comment + indent for comment in re.findall(r"#[^\n\r]*", gap))


def _splice(sparql: str, start: int, end: int, edits: list[tuple[int, int, str]]) -> str:
    """``sparql[start:end]`` with the (non-overlapping) edits inside it applied."""
    out, at = [], start
    for edit_start, edit_end, text in sorted(edits):
        out += [sparql[at:edit_start], text]
        at = edit_end
    return "".join(out) + sparql[at:end]


def _text(sparql: str, tokens: list[Tok], element: Element, edits: list[tuple[int, int, str]], indent: str) -> str:
    if element.chain:
        written = [" ".join(sparql[start:end] for start, end in pattern.spans) for pattern in element.chain]
        return indent.join([written[0] + " .", *(f"LATERAL {{ {text} }}" for text in written[1:])])
    text = _splice(sparql, tokens[element.start].start, tokens[element.end].end, edits)
    if element.kind == "triples" and tokens[element.end].raw != ".":
        text += " ."
    return text


def _indent(sparql: str, position: int) -> str:
    line_start = sparql.rfind("\n", 0, position) + 1
    prefix = sparql[line_start:position]
    return "\n" + prefix if prefix.strip() == "" and line_start > 0 else " "


def _order(
    elements: list[Element],
    estimate: _Counting | None,
    tokens: list[Tok],
    changes: list[str],
    chain: _Chain,
) -> list[int]:
    """The new order of a group's elements (indices), segment by segment between barriers; the patterns that
    start the group may become a LATERAL chain (see :class:`_Chain`)."""
    order: list[int] = []
    segment: list[int] = []
    certain: set[str] = set()
    for index, element in enumerate([*elements, Element("barrier", -1, -1, frozenset())]):
        if element.kind != "barrier":
            segment.append(index)
            continue
        leading = chain if not order else None
        order += _order_segment(elements, segment, frozenset(certain), estimate, tokens, changes, leading)
        for i in segment:
            certain |= elements[i].certain
        segment = []
        if index < len(elements):
            order.append(index)
    return order


def _order_segment(
    elements: list[Element],
    segment: list[int],
    bound: frozenset[str],
    estimate: _Counting | None,
    tokens: list[Tok],
    changes: list[str],
    chain: _Chain | None,
) -> list[int]:
    """Move OPTIONALs after the joins they allow, order each run of joins, place the filters. A segment using a
    blank node label is left as written: a move could split the basic graph pattern the label lives in."""
    if any(name.startswith("_:") for i in segment for name in elements[i].variables if elements[i].kind == "triples"):
        return segment
    filters = [i for i in segment if elements[i].kind == "filter"]
    sequence = [i for i in segment if elements[i].kind != "filter"]
    sequence = _move_optionals(elements, sequence, bound, tokens, changes)
    runs: list[list[int]] = [[]]
    for i in sequence:
        if elements[i].kind == "optional":
            runs.append([i])
            runs.append([])
        else:
            runs[-1].append(i)
    ordered: list[int] = []
    certain = set(bound)
    for number, run in enumerate(runs):
        if run and elements[run[0]].kind != "optional" and estimate is not None:
            chained = _lateral(elements, run, chain, estimate, changes) if number == 0 and chain else None
            run = chained or _by_selectivity(elements, run, frozenset(certain), estimate, tokens, changes)
        ordered += run
        for i in run:
            certain |= elements[i].certain
    return _place_filters(elements, ordered, filters, bound)


def _move_optionals(
    elements: list[Element], sequence: list[int], bound: frozenset[str], tokens: list[Tok], changes: list[str]
) -> list[int]:
    """Each OPTIONAL, last first, moves right past the join elements it may pass (well-designed condition)."""
    sequence = list(sequence)
    for position in range(len(sequence) - 1, -1, -1):
        index = sequence[position]
        optional = elements[index]
        if optional.kind != "optional":
            continue
        passed = []
        while position + 1 < len(sequence) and elements[sequence[position + 1]].kind != "optional":
            following = elements[sequence[position + 1]]
            before = set(bound).union(*(elements[i].certain for i in sequence[:position]))
            if not optional.variables & following.variables <= before:
                break
            sequence[position], sequence[position + 1] = sequence[position + 1], sequence[position]
            passed.append(following)
            position += 1
        if passed:
            what = _describe(tokens, optional)
            changes.append(f"{what} moved after {len(passed)} join element(s) that do not use its new variables")
    return sequence


def _describe(tokens: list[Tok], element: Element, limit: int = 60) -> str:
    text = " ".join(t.raw for t in tokens[element.start : element.end + 1])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _by_selectivity(
    elements: list[Element],
    run: list[int],
    bound: frozenset[str],
    estimate: _Counting,
    tokens: list[Tok],
    changes: list[str],
) -> list[int]:
    """Triples blocks of a run ordered greedily: the cheapest next, preferring ones joined to what is bound; other
    join elements (groups, UNION, GRAPH) and blocks without patterns keep their slots."""
    movable = [i for i in run if elements[i].kind == "triples" and elements[i].patterns]
    labels = any(name.startswith("_:") for i in run for name in elements[i].variables)
    if len(movable) < 2 or labels:  # blocks sharing a label must stay one basic graph pattern: left as written
        return run
    costs = {i: [estimate(p) for p in elements[i].patterns] for i in movable}
    chosen: list[int] = []
    certain = set(bound)
    remaining = list(movable)
    while remaining:
        known = frozenset(certain)
        best = _cheapest({i: _rank(elements[i], costs[i], known, i) for i in remaining})
        chosen.append(best)
        remaining.remove(best)
        certain |= elements[best].certain
    slots = iter(chosen)
    new_run = [next(slots) if i in movable else i for i in run]
    if chosen != movable:
        what = " ; ".join(_describe(tokens, elements[i], 40) for i in chosen)
        changes.append(f"triple patterns ordered by selectivity: {what}")
    return new_run


LATERAL_BELOW = 10_000
"""A group's patterns become a LATERAL chain when the one it starts from matches at most this many triples: a chain
looks each later pattern up once per row so far, which beats pyoxigraph's hash joins from a selective start and loses
to them over whole predicates (an aggregate over every event)."""


@dataclass(frozen=True)
class _Chain:
    """When a group's leading patterns are written as a LATERAL chain: ``outer`` are the variables the rows it runs
    for already bind (an OPTIONAL's left side), ``below`` the largest count the first pattern may have (None: any)."""

    outer: frozenset[str]
    below: int | None


def _lateral(
    elements: list[Element], run: list[int], chain: _Chain, estimate: _Counting, changes: list[str]
) -> list[int] | None:
    """The run written as ``p1 . LATERAL { p2 } LATERAL { p3 } ...``, its patterns in greedy order, or None.

    pyoxigraph re-derives the join order of a group from how many constants each pattern has, and evaluates
    ``LATERAL { p }`` once per row of what precedes it, that row's values substituted: for a triple pattern, or a
    path that cannot match zero steps, that is the join itself (SEP-0006), in the planner's order. Only runs of plain
    triple patterns qualify (no blank node labels, which may not span two groups)."""
    if any(elements[i].kind != "triples" or not elements[i].patterns for i in run):
        return None
    patterns = [pattern for i in run for pattern in elements[i].patterns]
    labels = any(name.startswith("_:") for i in run for name in elements[i].variables)
    if len(patterns) < 2 or labels or not all(pattern.lateral for pattern in patterns):
        return None
    counts = [estimate(pattern) for pattern in patterns]
    ordered: list[int] = []
    known = set(chain.outer)
    remaining = list(range(len(patterns)))
    while remaining:
        best = _cheapest({k: _pattern_rank(patterns[k], counts[k], frozenset(known), k) for k in remaining})
        if not ordered and chain.below is not None and counts[best] > chain.below:
            return None
        ordered.append(best)
        remaining.remove(best)
        known |= patterns[best].variables
    holder = run[0]
    elements[holder].chain = [patterns[k] for k in ordered]
    for i in run[1:]:
        elements[i].dropped = True
    changes.append(
        "triple patterns joined in this order, each after the first as LATERAL so that pyoxigraph looks it up for "
        "each row so far: " + " ; ".join(patterns[k].describe() for k in ordered)
    )
    return run


CLOSE = 2.0
"""Estimates within this factor of the cheapest count as even: the element written first among them goes first.
The counts are per pattern, not per join, so a small difference says nothing (at 1M triples, putting 35,231
attributions before 35,239 attackers made an aggregate over every event 1.6 times slower than as written)."""


def _cheapest(ranks: dict[int, tuple[bool, float, int]]) -> int:
    """The element (or pattern) to join next: among the lowest-ranked and those whose cost is within :data:`CLOSE`
    of it, the one written first."""
    far, cost, _ = min(ranks.values())
    even = [key for key, rank in ranks.items() if rank[0] == far and rank[1] <= cost * CLOSE]
    return min(even, key=lambda key: ranks[key][2])


def _pattern_rank(pattern: Pattern, count: int, bound: frozenset[str], index: int) -> tuple[bool, float, int]:
    """Patterns joined to what is bound first (no cartesian product), then the cheapest, then as written. A lookup
    from a bound subject is counted cheapest: properties fan out less from their subjects (an event has one place)
    than from their objects (a place has many events)."""
    joined = bool(pattern.variables & bound) or not bound
    cost: float = count * (10 if pattern.path and pattern.subject is None and pattern.object is None else 1)
    if pattern.head & bound:
        cost /= 1000
    elif pattern.variables & bound:
        cost /= 100
    return (not joined, cost, index)


def _rank(element: Element, counts: list[int], bound: frozenset[str], index: int) -> tuple[bool, float, int]:
    """Joined blocks before disconnected ones (no cartesian product), then the cheapest, then as written."""
    joined = bool(element.variables & bound) or not bound
    return (not joined, _block_cost(element, counts, bound), index)


def _block_cost(element: Element, counts: list[int], bound: frozenset[str]) -> float:
    """Estimated rows of a triples block given the bound variables: its cheapest pattern, cheaper still when the
    block shares a variable with what is bound (the join then looks rows up rather than scanning)."""
    cheapest = min(
        count * (10 if pattern.path and pattern.subject is None and pattern.object is None else 1)
        for pattern, count in zip(element.patterns, counts, strict=True)
    )
    return cheapest / 100 if element.variables & bound else cheapest


def _place_filters(elements: list[Element], ordered: list[int], filters: list[int], bound: frozenset[str]) -> list[int]:
    """Each FILTER right after the element binding the last of its variables (at the end when never all bound)."""
    if not filters:
        return ordered
    result = list(ordered)
    for index in filters:
        needed = elements[index].variables - bound
        anchor = _binder(elements, ordered, needed)
        at = result.index(anchor) + 1 if anchor is not None else 0
        while at < len(result) and elements[result[at]].kind == "filter":
            at += 1
        result.insert(at, index)
    return result


def _binder(elements: list[Element], ordered: list[int], needed: frozenset[str]) -> int | None:
    """The element after which every needed variable is bound (the last one when that never happens)."""
    certain: set[str] = set()
    for i in ordered:
        certain |= elements[i].certain
        if needed <= certain:
            return i
    return ordered[-1] if ordered else None
