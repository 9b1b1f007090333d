"""Paths of arbitrary length (``+``, ``*``, ``?``) sent to Virtuoso with SPARQL 1.1's set semantics.

SPARQL 1.1 (18.5) evaluates ``S p+ ?o``, ``S p* ?o`` and ``S p? ?o`` as the set of nodes reached from ``S`` (its ALP
function: each node once, however many paths lead to it). Virtuoso 7.2 answers with one row per path instead: with
``a p b . b p c . a p c``, ``a p+ ?o`` gives ``b``, ``c`` and ``c`` again; over the generated data, whose inferred
graph holds the transitive ``kg:locatedIn`` closure beside its steps, ``bench/queries/property-path.rq`` gave 2,356
rows where the standard (and the embedded store) gives 1,178. The same happens with ``^p+``, ``(p|q)+``, ``(p|q)*``
and ``(p|q)?``, and with a path to a constant end (``?s p+ <c>``).

So before a query goes to Virtuoso, a triple pattern whose path is such a path at its top level (``p+``, ``^p*``,
``(p|q/r)+``, ``(p+)``), with a constant at one end and a variable at the other, is written as
``{ SELECT DISTINCT ?v WHERE { S path O } }``: exact under SPARQL 1.1, since the pattern's solutions are a set over
its one variable, so their distinct projection is the pattern itself. A pattern is
rewritten where it stands (or, from a statement's ``;`` list, after its statement: joins commute), so ``GRAPH``,
``OPTIONAL`` and ``UNION`` around it still apply to it. A ``?`` path of one IRI, which Virtuoso gets right, is
rewritten too: the rewrite is exact whatever the path.

Between two variables, Virtuoso 7.2 refuses a path in a subquery of its own ("transitive start not given": it walks
from a bound end), so the subquery also holds the plain triples of the pattern's group that share a variable with
it (the rest of its own statement included), and, in an ``OPTIONAL`` group, those before the ``OPTIONAL`` in the
group around it: ``?e kg:hasPlace ?m . ?m kg:locatedIn+ ?c`` becomes ``?e kg:hasPlace ?m . { SELECT DISTINCT ?m ?c
WHERE { ?e kg:hasPlace ?m . ?m kg:locatedIn+ ?c } }``. Exact too: every solution of the path that takes part in an
answer joins those triples (they are joined with it in its group, or make the left side of its left join), so
keeping only those changes no answer, and they are still a set. Those triples are matched twice.

A sequence (a join, whose duplicates SPARQL keeps) with such a path as its first or last step and plain other steps
is given set semantics for that step only: ``?s rdf:type/rdfs:subClassOf* kg:X`` becomes ``{ SELECT ?s WHERE { ?s
rdf:type ?_step0 . { SELECT DISTINCT ?_step0 WHERE { ?_step0 rdfs:subClassOf* kg:X } } } }``, the variable between
the steps hidden by the outer subquery, which keeps the join's duplicates (and with the other steps inside, as
above, when both ends of the closure are variables).

A query whose answer cannot show duplicates is sent as written (:func:`_counts_rows`): a ``SELECT DISTINCT``, an
ASK, a CONSTRUCT, without subqueries or aggregates.

Left as written:

- a path between two variables with no such triple to bind one (Virtuoso 7.2 refuses most of those anyway), or
  with the same variable at both ends;
- a path between two constants: ``FILTER EXISTS { S path O }`` would be exact, but Virtuoso 7.2 keeps the row of a
  group holding nothing else whatever the filter says, and a subquery with no variable gives its answer a column
  of its own (``_star_fake``);
- a pattern in a statement's ``;`` list whose other items hold a path too: taken out, it leaves Virtuoso 7.2 a
  statement it may not answer (``?b ^:p+ :n ; :p+ ?b``: "unknown table for a column");
- a sequence with a closure in its middle or more than one (``p/q+/r``, ``p+/q+``), and an alternative at the top
  level (``p|q*``: a union, whose duplicates SPARQL keeps);
- blank nodes at either end (a subquery would change their scope), objects in a ``,`` list, literals with a language
  tag or a datatype, patterns in a blank node's ``[...]`` list;
- patterns in ``EXISTS``, ``NOT EXISTS`` and ``MINUS`` (only whether a match exists counts there; Virtuoso 7.2
  gets some of those wrong in another way, which a subquery does not mend: ``:a :p+ ?o MINUS { :b :p+ ?o }`` keeps a
  node both reach), in ``SERVICE``, and in ``GRAPH ?g`` (Virtuoso 7.2 answers a path there with ``?g`` unbound in
  some rows, in all of them once the path is in a subquery).
"""

from __future__ import annotations

import re

from kgraph.sparql.lexer import SPARQL_TOKEN
from kgraph.store.path_first import fresh_variable, statement_end, statement_start

_MODIFIERS = frozenset("+*?")
_CONSTANTS = frozenset({"iri", "pname", "string", "number"})
_ENDS = _CONSTANTS | {"var"}
_LEFT_ALONE = frozenset({"EXISTS", "MINUS", "SERVICE"})
"""Keywords whose groups are only asked whether they match (or are another endpoint's business)."""

_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
_COUNTING = frozenset({"COUNT", "SUM", "AVG", "MIN", "MAX", "SAMPLE", "GROUP_CONCAT", "GROUP", "HAVING"})
"""Keywords of aggregates, which count (or sum, or pick from) rows, duplicates included."""

Tokens = list[re.Match[str]]
Edit = tuple[int, int, str]
"""Text from one offset to another and what replaces it."""


def set_paths(sparql: str) -> str:
    """The query with each pattern of the shape above given set semantics; the query itself when it has none."""
    tokens = [m for m in SPARQL_TOKEN.finditer(sparql) if m.lastgroup not in ("ws", "comment")]
    if not any(token.group() in _MODIFIERS and token.lastgroup == "other" for token in tokens):
        return sparql
    if not _counts_rows([token.group().upper() for token in tokens if token.lastgroup == "word"]):
        return sparql
    left_alone = _left_alone(tokens)
    edits: list[Edit] = []
    for verb in range(2, len(tokens) - 2):
        pattern = [] if left_alone[verb] else _pattern_edits(sparql, tokens, verb)
        if not any(_overlap(edit, done) for edit in pattern for done in edits):  # two patterns sharing a `;`
            edits += pattern
    for begin, finish, text in sorted(edits, key=lambda edit: edit[0], reverse=True):
        sparql = sparql[:begin] + text + sparql[finish:]
    return sparql


def _counts_rows(words: list[str]) -> bool:
    """Whether the answer may show how many times a pattern matched, from the query's keywords: not for a
    ``SELECT DISTINCT`` (or ``REDUCED``) without a subquery, nor an ASK, CONSTRUCT or DESCRIBE without a subquery,
    ``LIMIT`` or ``OFFSET`` (a graph is a set; whether there is a row is all ASK says), and with no aggregate
    anywhere. Their answers depend only on which rows there are, never on how many times each is there."""
    if set(words) & _COUNTING:
        return True
    form = next((word for word in words if word in _FORMS), "SELECT")
    selects = words.count("SELECT")
    if form == "SELECT":
        after = words.index("SELECT") + 1 if selects else len(words)
        return selects > 1 or after >= len(words) or words[after] not in ("DISTINCT", "REDUCED")
    return selects > 0 or bool(set(words) & {"LIMIT", "OFFSET"})


def _overlap(edit: Edit, other: Edit) -> bool:
    """Whether two edits touch the same text (an insertion overlaps a change around its place)."""
    return (edit[0] < other[1] and other[0] < edit[1]) or (edit[0] == edit[1] and other[0] < edit[0] < other[1])


def _pattern_edits(sparql: str, tokens: Tokens, verb: int) -> list[Edit]:
    """The edits giving the pattern whose path starts at token ``verb`` set semantics; none when there is no such
    pattern there, or it is left as written."""
    lead = tokens[verb - 1].group()
    subject = statement_start(tokens, verb - 1) if lead == ";" else verb - 1
    if subject is None or (lead != ";" and tokens[verb - 2].group() not in ("{", "}", ".")):
        return []
    end = _path_end(tokens, verb)
    if end is None or end + 1 >= len(tokens):
        return []
    obj, after = tokens[end], tokens[end + 1].group()
    kinds = (tokens[subject].lastgroup, obj.lastgroup)
    if not set(kinds) <= _ENDS or not (after in (".", "}", ";", "{") or after.upper() in _FOLLOWING):
        return []
    variables = list(dict.fromkeys(token.group() for token in (tokens[subject], obj) if token.lastgroup == "var"))
    if not variables or (";" in (lead, after) and _rest_has_path(tokens, subject, verb, end)):
        return []
    written = f"{tokens[subject].group()} {sparql[tokens[verb].start() : obj.end()]}"
    if not _is_closure(tokens[verb:end]):
        wrapped = _sequence(sparql, tokens, subject, verb, end)
    elif kinds == ("var", "var"):  # Virtuoso needs an end bound: the triples joining it in its group bind it
        binders = _binders(sparql, tokens, subject, set(variables)) + _own_statement(sparql, tokens, subject, verb, end)
        joined = " . ".join([*binders, written])
        wrapped = (
            f"{{ SELECT DISTINCT {' '.join(variables)} WHERE {{ {joined} }} }}"
            if binders and len(variables) == 2
            else None
        )
    else:
        wrapped = f"{{ SELECT DISTINCT {variables[0]} WHERE {{ {written} }} }}"
    if wrapped is None:
        return []
    if lead == ";":  # the pattern leaves the statement's list; it follows the statement
        insert = statement_end(tokens, end + 1)
        if insert is None:
            return []
        return [(tokens[verb - 1].start(), obj.end(), ""), (insert, insert, f" {wrapped} ")]
    if after != ";":
        return [(tokens[subject].start(), obj.end(), wrapped)]
    if end + 2 >= len(tokens) or tokens[end + 2].group() in (".", "}", ";"):
        return []
    return [(tokens[subject].start(), tokens[end + 1].end(), f"{wrapped} {tokens[subject].group()}")]


def _sequence(sparql: str, tokens: Tokens, subject: int, verb: int, end: int) -> str | None:
    """A sequence whose first or last step is a closure, its other steps plain (``?s p/q+ <c>``, ``<c> p+/q ?o``,
    ``<c> p/q+ ?o``): the closure as a set (with the other steps, which bind its far end, when both its ends are
    variables), joined with the other steps through a variable of its own, which a subquery projecting the pattern's
    variables hides (the join's duplicates are SPARQL's: kept); None for any other path."""
    steps = _split(tokens[verb:end], "/")
    if len(steps) < 2 or len(_split(tokens[verb:end], "|")) > 1:
        return None
    middle, first, last = fresh_variable(sparql, "_step"), tokens[subject].group(), tokens[end].group()
    projected = " ".join(dict.fromkeys(t.group() for t in (tokens[subject], tokens[end]) if t.lastgroup == "var"))
    if _is_closure(steps[-1]) and _plain(steps[:-1]):
        head = f"{first} {_text(sparql, steps[:-1])} {middle}"
        closure = f"{middle} {_text(sparql, steps[-1:])} {last}"
        inner = _distinct([middle, last], [head, closure]) if tokens[end].lastgroup == "var" else None
        return f"{{ SELECT {projected} WHERE {{ {head} . {inner or _distinct([middle], [closure])} }} }}"
    if _is_closure(steps[0]) and _plain(steps[1:]):
        tail = f"{middle} {_text(sparql, steps[1:])} {last}"
        closure = f"{first} {_text(sparql, steps[:1])} {middle}"
        inner = _distinct([first, middle], [tail, closure]) if tokens[subject].lastgroup == "var" else None
        return f"{{ SELECT {projected} WHERE {{ {inner or _distinct([middle], [closure])} {tail} }} }}"
    return None


def _distinct(variables: list[str], patterns: list[str]) -> str:
    """A subquery of the distinct values of some variables over some triple patterns."""
    return f"{{ SELECT DISTINCT {' '.join(variables)} WHERE {{ {' . '.join(patterns)} }} }}"


def _text(sparql: str, steps: list[Tokens]) -> str:
    """Steps of a sequence as written, joined again with ``/``."""
    return "/".join(sparql[step[0].start() : step[-1].end()] for step in steps)


def _plain(steps: list[Tokens]) -> bool:
    """Whether steps of a path have no ``+``, ``*`` or ``?``."""
    return all(token.group() not in _MODIFIERS for step in steps for token in step)


def _split(path: Tokens, operator: str) -> list[Tokens]:
    """A path's parts around ``operator`` at its top level."""
    parts: list[Tokens] = [[]]
    depth = 0
    for token in path:
        depth += (token.group() == "(") - (token.group() == ")")
        if depth == 0 and token.group() == operator:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _rest_has_path(tokens: Tokens, subject: int, verb: int, end: int) -> bool:
    """Whether the rest of the pattern's statement has a path modifier: Virtuoso 7.2 may then fail to answer it once
    the pattern is taken out (``?b ^:p+ :n ; :p+ ?b``: "unknown table for a column")."""
    last = _statement_last(tokens, subject)
    rest = tokens[subject:verb] + tokens[end + 1 : (len(tokens) if last is None else last + 1)]
    return last is None or any(t.group() in _MODIFIERS and t.lastgroup == "other" for t in rest)


def _binders(sparql: str, tokens: Tokens, subject: int, variables: set[str]) -> list[str]:
    """The statements of the group holding the statement that starts at token ``subject`` (not that one) that are
    plain triples (no path, blank node, collection) with one of ``variables``, and for a group of ``OPTIONAL``, those
    before it in the group around (its left side): each is joined with the path (or its left join's left side), so
    the path's solutions that join them are all those that can take part in an answer."""
    start = _group_start(tokens, subject)
    if start is None:
        return []
    found = _statements(sparql, tokens, start, len(tokens), subject, variables)
    if start and tokens[start - 1].group().upper() == "OPTIONAL":
        around = _group_start(tokens, start - 1)
        if around is not None:
            found += _statements(sparql, tokens, around, start - 1, subject, variables)
    return found


def _statements(sparql: str, tokens: Tokens, start: int, stop: int, own: int, variables: set[str]) -> list[str]:
    """The plain triple statements with one of ``variables`` in the group opened at token ``start``, up to token
    ``stop``, the one starting at ``own`` excepted."""
    found: list[str] = []
    depth, previous, index = 0, "{", start + 1
    while index < stop and not (depth == 0 and tokens[index].group() == "}"):
        token = tokens[index]
        if depth == 0 and previous in ("{", ".", "}", ")") and token.lastgroup in ("var", "iri", "pname"):
            last = _statement_last(tokens, index)
            if last is None:
                return []
            statement = tokens[index : last + 1]
            if index != own and all(_plain_token(t) for t in statement) and variables & {t.group() for t in statement}:
                found.append(sparql[token.start() : tokens[last].end()])
            previous, index = tokens[last].group(), last + 1
            continue
        depth += (token.group() in ("{", "(", "[")) - (token.group() in ("}", ")", "]"))
        previous = token.group() if depth == 0 else previous
        index += 1
    return found


def _own_statement(sparql: str, tokens: Tokens, subject: int, verb: int, end: int) -> list[str]:
    """The rest of the path's own statement (``?m :r ?z ; :p+ ?o``: ``?m :r ?z``) when it is plain triples."""
    last = _statement_last(tokens, subject)
    if last is None:
        return []
    if tokens[verb - 1].group() == ";":
        parts = [tokens[subject : verb - 1], tokens[end + 1 : last + 1]]
    else:
        parts = [tokens[subject : subject + 1], tokens[end + 2 : last + 1]]
    if len(parts[0]) + len(parts[1]) < 3 or not all(_plain_token(token) for part in parts for token in part):
        return []
    return [" ".join(sparql[part[0].start() : part[-1].end()] for part in parts if part)]


def _group_start(tokens: Tokens, index: int) -> int | None:
    """The index of the ``{`` opening the group that holds token ``index``."""
    depth = 0
    for position in range(index - 1, -1, -1):
        text = tokens[position].group()
        if text == "}":
            depth += 1
        elif text == "{":
            if not depth:
                return position
            depth -= 1
    return None


def _statement_last(tokens: Tokens, index: int) -> int | None:
    """The index of the last token of the statement starting at ``index`` (before its ``.``, if any)."""
    depth = 0
    for position in range(index, len(tokens)):
        token = tokens[position]
        text = token.group()
        if text in ("(", "["):
            depth += 1
        elif text in (")", "]"):
            depth -= 1
        elif not depth and (text in (".", "{", "}") or (token.lastgroup == "word" and text.upper() not in _TERMS)):
            return position - 1 if position > index else None
    return None


_TERMS = frozenset({"A", "TRUE", "FALSE"})
_FOLLOWING = frozenset({"FILTER", "OPTIONAL", "MINUS", "BIND", "VALUES", "GRAPH", "SERVICE"})
"""Keywords that may follow a triple pattern in its group, with no ``.`` between."""


def _plain_token(token: re.Match[str]) -> bool:
    """Whether a token can be part of a plain triple pattern (no path operator, blank node or collection)."""
    return token.lastgroup != "bnode" and token.group() not in (
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        "/",
        "|",
        "^",
        "!",
        "+",
        "*",
        "?",
    )


def _path_end(tokens: Tokens, start: int) -> int | None:
    """The index just after the path starting at ``start`` (SPARQL's Path production), None if there is none."""
    position = _sequence_end(tokens, start)
    while position is not None and position < len(tokens) and tokens[position].group() == "|":
        position = _sequence_end(tokens, position + 1)
    return position


def _sequence_end(tokens: Tokens, start: int) -> int | None:
    position = _element_end(tokens, start)
    while position is not None and position < len(tokens) and tokens[position].group() == "/":
        position = _element_end(tokens, position + 1)
    return position


def _element_end(tokens: Tokens, start: int) -> int | None:
    """After one step (``^``, a primary, a modifier): a primary is an IRI, ``a``, a parenthesised path or a negated
    property set."""
    position = start + 1 if start < len(tokens) and tokens[start].group() == "^" else start
    if position >= len(tokens):
        return None
    token = tokens[position]
    after: int | None = None
    if token.group() == "!":
        after = _negated_end(tokens, position + 1)
    elif token.group() == "(":
        inner = _path_end(tokens, position + 1)
        if inner is not None and inner < len(tokens) and tokens[inner].group() == ")":
            after = inner + 1
    elif token.lastgroup in ("iri", "pname") or token.group() == "a":
        after = position + 1
    if after is not None and after < len(tokens) and tokens[after].group() in _MODIFIERS:
        after += tokens[after].lastgroup == "other"
    return after


def _negated_end(tokens: Tokens, start: int) -> int | None:
    """After a negated property set's IRIs (one, or a parenthesised list)."""
    if start >= len(tokens):
        return None
    if tokens[start].group() != "(":
        return start + 2 if tokens[start].group() == "^" else start + 1
    for position in range(start + 1, len(tokens)):
        if tokens[position].group() == ")":
            return position + 1
    return None


def _is_closure(path: Tokens) -> bool:
    """Whether a path is, at its top level, one step with a ``+``, ``*`` or ``?`` modifier (or such a path
    parenthesised or inverted): SPARQL evaluates it with ALP, a set of nodes."""
    if not path:
        return False
    if path[0].group() == "^":
        return _is_closure(path[1:])
    depth = 0
    for token in path:
        depth += (token.group() == "(") - (token.group() == ")")
        if depth == 0 and token.group() in ("/", "|"):
            return False
    if path[-1].group() in _MODIFIERS and path[-1].lastgroup == "other":
        return True
    return path[0].group() == "(" and path[-1].group() == ")" and _is_closure(path[1:-1])


def _left_alone(tokens: Tokens) -> list[bool]:
    """For each token, whether it is in a group of ``EXISTS``, ``MINUS``, ``SERVICE`` (``SERVICE SILENT <x> {``:
    the keyword up to three tokens before the brace, no brace between) or ``GRAPH ?g``."""
    flags: list[bool] = []
    stack: list[bool] = []
    for index, token in enumerate(tokens):
        text = token.group()
        if text == "{":
            before = [t.group().upper() for t in tokens[max(0, index - 3) : index]]
            keyword = next((word for word in reversed(before) if word in _LEFT_ALONE or word in ("{", "}")), "")
            graph_variable = index >= 2 and before[-2:-1] == ["GRAPH"] and tokens[index - 1].lastgroup == "var"
            stack.append(bool(stack and stack[-1]) or keyword in _LEFT_ALONE or graph_variable)
        elif text == "}" and stack:
            stack.pop()
        flags.append(bool(stack and stack[-1]))
    return flags
