"""Counts over a basic graph pattern, grouped, computed on columns of term numbers instead of by pyoxigraph's join.

A summary table ("how many events each agency's reports describe, by event type") joins every instance of a
class with several properties and counts the rows: pyoxigraph walks its in-memory index node by node for each of
the hundreds of thousands of rows, 150-250 ms at 1M triples, three to six times Virtuoso's time. Here each predicate
the query names becomes two arrays (subjects and objects, as numbers, sorted), read from the store once per query
worker, after it answered the first query needing them as pyoxigraph does, and kept until the data changes; the
join is a sorted search and a repeat per pattern, the grouping one sort (numpy): 20-23 ms for the same query through
the server (``bench/compare.py``, ``group-by``).

Only a query of this shape is answered so, everything else being left to pyoxigraph: ``SELECT`` of grouping
variables and ``COUNT(*)``, ``COUNT(?v)`` or ``COUNT(DISTINCT ?v)`` aliases, a ``WHERE`` clause of triple patterns
whose predicates are IRIs and whose subjects and objects are variables or IRIs, connected through their variables,
an optional ``GROUP BY`` of variables, and ``ORDER BY`` of variables, ``LIMIT`` and ``OFFSET``. The counts are
handed back to pyoxigraph as a ``VALUES`` table under the query's own projection and modifiers, so the answer is
serialised (every format), ordered and sliced by the same engine as any other. A group keyed by a blank node (which
``VALUES`` cannot write), a join larger than :data:`MAX_CELLS` or columns costlier to read than
:data:`MAX_BUILD_TRIPLES` or the query's time limit allow fall back to pyoxigraph too, so the path changes how fast a
query is answered, not what (a triple held by two of the default graph's graphs counts twice in both, as pyoxigraph
0.5 reads such a default graph: oxigraph/oxigraph#1919).
"""

from __future__ import annotations

import io
import itertools
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

# numpy's OpenBLAS starts a thread at import, and the server forks its query zygote while single-threaded
# (kgraph.sparql.processes); the columns need no linear algebra, so BLAS gets none.
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # after the setting above, which numpy reads at import
import pyoxigraph as ox

from kgraph.sparql.planner import RDF_TYPE, Pattern, Tok, Unplannable, is_word, tokenize
from kgraph.sparql.stats import Statistics
from kgraph.store import Store

MAX_CELLS = 20_000_000
"""Numbers a join may hold at once (rows times variables, 8 bytes each): past it, pyoxigraph, which streams."""
MAX_GROUPS = 200_000
"""Groups written back as a ``VALUES`` table at most; more are left to pyoxigraph."""
BUILD_SECONDS_PER_TRIPLE = 2e-6
"""Cost of reading one triple into columns, rounded up (1.7 us measured at 1M generated triples, this project's
2-core machine)."""
MAX_BUILD_TRIPLES = 2_000_000
"""Triples one query may read into columns at most: about 130 bytes each while they are read (the worker's memory
limit is 384 MiB by default); a query needing more is left to pyoxigraph."""
BUILD_SHARE_OF_TIME_LIMIT = 0.25
"""The part of a query's time limit that building its missing columns may take; otherwise pyoxigraph answers."""
EXPLAINED = (
    "The counts are computed over columns of term numbers (kgraph.sparql.columnar), each predicate's pairs read from"
    " the store once per query worker (after answering the first query that needs them as written), then written as"
    " a VALUES table under the query's projection and modifiers;"
    " pyoxigraph evaluates the query above instead should the join pass MAX_CELLS, a group be keyed by a blank node"
    " or the columns take more than MAX_BUILD_TRIPLES or a quarter of the time limit to read."
)
_XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
_COUNT = "COUNT"


@dataclass(frozen=True)
class Count:
    """One ``(COUNT(...) AS ?alias)`` of the projection: ``variable`` None for ``COUNT(*)``."""

    alias: str
    variable: str | None
    distinct: bool


@dataclass(frozen=True)
class GroupedCount:
    """A query this module can answer, as read from its text."""

    patterns: tuple[tuple[str | None, str, str | None, str | None, str | None], ...]
    """Each triple pattern as (subject IRI, predicate IRI, object IRI, subject variable, object variable)."""
    group_by: tuple[str, ...]
    projection: tuple[str, ...]
    """Variables and aliases in the order the query projects them."""
    counts: tuple[Count, ...]
    distinct: str
    """``DISTINCT``, ``REDUCED`` or an empty string, as the query projects."""
    prologue: str
    modifiers: str
    """The query's ``ORDER BY``, ``LIMIT`` and ``OFFSET`` text, kept as written."""


def recognise(sparql: str) -> GroupedCount | None:
    """The query as a grouped count over a basic graph pattern, or None when it has any other shape (told without
    reading its tokens when it says neither COUNT nor GROUP: 90 us saved on every other query)."""
    words = sparql.upper()
    if "COUNT" not in words and "GROUP" not in words:
        return None
    try:
        return _read(sparql, [*tokenize(sparql), Tok("end", "", len(sparql), len(sparql))])
    except (Unplannable, _NotThisShape, IndexError):
        return None


class _NotThisShape(Exception):
    """The query is not a grouped count over a basic graph pattern."""


def _read(sparql: str, tokens: list[Tok]) -> GroupedCount:
    index = 0
    while is_word(tokens[index], "PREFIX"):
        index += 3
    prologue = sparql[: tokens[index].start]
    if not is_word(tokens[index], "SELECT"):
        raise _NotThisShape
    index += 1
    distinct = ""
    if is_word(tokens[index], "DISTINCT") or is_word(tokens[index], "REDUCED"):
        distinct = tokens[index].raw.upper()
        index += 1
    projection: list[str] = []
    counts: list[Count] = []
    while tokens[index].kind == "var" or tokens[index].raw == "(":
        if tokens[index].kind == "var":
            projection.append(tokens[index].raw[1:])
            index += 1
            continue
        count, index = _count(tokens, index)
        counts.append(count)
        projection.append(count.alias)
    if is_word(tokens[index], "WHERE"):
        index += 1
    if tokens[index].raw != "{" or not projection:
        raise _NotThisShape
    patterns, index = _triples(tokens, index + 1)
    group_by: list[str] = []
    if is_word(tokens[index], "GROUP"):
        if not is_word(tokens[index + 1], "BY"):
            raise _NotThisShape
        index += 2
        while tokens[index].kind == "var":
            group_by.append(tokens[index].raw[1:])
            index += 1
        if not group_by:
            raise _NotThisShape
    modifiers = sparql[tokens[index].start :]
    query = GroupedCount(
        tuple(patterns), tuple(group_by), tuple(projection), tuple(counts), distinct, prologue, modifiers
    )
    _check(query, tokens[index:-1])
    return query


def _count(tokens: list[Tok], index: int) -> tuple[Count, int]:
    """``( COUNT ( [DISTINCT] * | ?v ) AS ?alias )`` from the ``(`` at ``index``."""
    if not is_word(tokens[index + 1], _COUNT) or tokens[index + 2].raw != "(":
        raise _NotThisShape
    index += 3
    distinct = is_word(tokens[index], "DISTINCT")
    index += distinct
    argument = tokens[index]
    if argument.raw == "*" and not distinct:
        variable = None
    elif argument.kind == "var":
        variable = argument.raw[1:]
    else:
        raise _NotThisShape
    if tokens[index + 1].raw != ")" or not is_word(tokens[index + 2], "AS") or tokens[index + 3].kind != "var":
        raise _NotThisShape
    if tokens[index + 4].raw != ")":
        raise _NotThisShape
    return Count(tokens[index + 3].raw[1:], variable, distinct), index + 5


def _triples(tokens: list[Tok], index: int) -> tuple[list[tuple], int]:
    """The triple patterns of a group holding nothing else, and the index after its ``}``."""
    patterns = []
    while tokens[index].raw != "}":
        subject = _node(tokens[index])
        index += 1
        while True:
            predicate = RDF_TYPE if tokens[index].kind == "word" and tokens[index].raw == "a" else _iri(tokens[index])
            index += 1
            while True:
                obj = _node(tokens[index])
                patterns.append((subject[0], predicate, obj[0], subject[1], obj[1]))
                index += 1
                if tokens[index].raw != ",":
                    break
                index += 1
            if tokens[index].raw != ";":
                break
            while tokens[index].raw == ";":
                index += 1
            if tokens[index].raw in (".", "}"):
                break
        if tokens[index].raw == ".":
            index += 1
        elif tokens[index].raw != "}":
            raise _NotThisShape
    return patterns, index + 1


def _node(token: Tok) -> tuple[str | None, str | None]:
    """(IRI, variable) of a subject or object: one of them set."""
    if token.kind == "var":
        return None, token.raw[1:]
    return _iri(token), None


def _iri(token: Tok) -> str:
    if token.kind not in ("iri", "pname") or not token.text:
        raise _NotThisShape
    return token.text


def _check(query: GroupedCount, rest: list[Tok]) -> None:
    """What the arrays cannot answer as SPARQL would: left to pyoxigraph (which also reports the errors)."""
    bound = {v for pattern in query.patterns for v in pattern[3:] if v}
    aliases = [count.alias for count in query.counts]
    if not query.patterns or not set(query.group_by) <= bound or len(set(query.projection)) != len(query.projection):
        raise _NotThisShape
    if set(aliases) & (bound | set(query.group_by)):
        raise _NotThisShape
    if any(count.variable is not None and count.variable not in bound for count in query.counts):
        raise _NotThisShape
    if any(name not in query.group_by for name in query.projection if name not in aliases):
        raise _NotThisShape
    if not _connected(query.patterns):
        raise _NotThisShape
    _check_modifiers(rest, set(query.group_by) | set(aliases))


def _check_modifiers(rest: list[Tok], known: set[str]) -> None:
    """``ORDER BY`` of known variables (plain, ``ASC`` or ``DESC``), ``LIMIT`` and ``OFFSET`` only."""
    index = 0
    while index < len(rest):
        token = rest[index]
        if is_word(token, "ORDER") and index + 1 < len(rest) and is_word(rest[index + 1], "BY"):
            index += 2
            while index < len(rest) and not (is_word(rest[index], "LIMIT") or is_word(rest[index], "OFFSET")):
                term = rest[index]
                if term.kind == "var" and term.raw[1:] not in known:
                    raise _NotThisShape
                if term.kind != "var" and term.raw not in "()" and not (is_word(term, "ASC") or is_word(term, "DESC")):
                    raise _NotThisShape
                index += 1
        elif (is_word(token, "LIMIT") or is_word(token, "OFFSET")) and index + 1 < len(rest):
            if not rest[index + 1].raw.isdigit():
                raise _NotThisShape
            index += 2
        else:
            raise _NotThisShape


def _connected(patterns: Sequence[tuple]) -> bool:
    """Whether every pattern has a variable and they all join, so no step is a cross product."""
    variables = [{v for v in pattern[3:] if v} for pattern in patterns]
    if not all(variables):
        return False
    reached, waiting = set(variables[0]), variables[1:]
    while waiting:
        joined = [names for names in waiting if names & reached]
        if not joined:
            return False
        for names in joined:
            reached |= names
            waiting.remove(names)
    return True


# --- columns ---


class _Columns:
    """Term numbers and, per (predicate, graphs), the distinct (subject, object) pairs of one store, sorted.

    Terms are kept as pyoxigraph writes them in tab-separated results (Turtle syntax, tabs and line breaks escaped):
    reading a predicate's pairs is then one query serialised by pyoxigraph and a split, twice as fast as a Python
    object per term, and each term is already written as a ``VALUES`` table needs it."""

    def __init__(self) -> None:
        self.numbers: dict[bytes, int] = {}
        self.terms: list[bytes] = []
        self.pairs: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self.reversed: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self.noted: set[tuple[str, tuple[str, ...] | None]] = set()
        """(predicate, graphs) a query needed and did not find: read once the query is answered."""

    def number_of(self, iri: str) -> int:
        """The number of an IRI read so far; -1 (matching nothing) if no column read holds it."""
        return self.numbers.get(f"<{iri}>".encode(), -1)

    def by_subject(self, store: Store, predicate: str, graphs: tuple[str, ...] | None) -> tuple[np.ndarray, np.ndarray]:
        """(subjects, objects) of the predicate in the graphs, sorted by subject, then object: a triple once per graph
        holding it, as pyoxigraph reads a default graph of several graphs (oxigraph/oxigraph#1919), so that a query's
        answer does not depend on which of the two answers it."""
        key = (predicate, graphs)
        if key not in self.pairs:
            result = store.query(
                f"SELECT ?s ?o WHERE {{ ?s <{predicate}> ?o }}", default_graph=list(graphs) if graphs else graphs
            )
            written = io.BytesIO()
            cast(ox.QuerySolutions, result).serialize(written, ox.QueryResultsFormat.TSV)
            lines = written.getvalue().split(b"\n")[1:-1]
            numbers = self.numbers
            numbered = (
                [numbers.setdefault(term, len(numbers)) for term in b"\t".join(lines).split(b"\t")] if lines else []
            )
            self.terms.extend(itertools.islice(numbers, len(self.terms), None))
            if len(self.terms) >= 1 << 31:
                raise _TooBig
            pairs = np.array(numbered, dtype=np.int64).reshape(-1, 2)
            packed = np.sort((pairs[:, 0] << 32) | pairs[:, 1])  # a triple once per graph, as pyoxigraph reads it
            self.pairs[key] = (packed >> 32, packed & 0xFFFFFFFF)
        return self.pairs[key]

    def by_object(self, store: Store, predicate: str, graphs: tuple[str, ...] | None) -> tuple[np.ndarray, np.ndarray]:
        """(objects, subjects) of the predicate, sorted by object."""
        key = (predicate, graphs)
        if key not in self.reversed:
            subjects, objects = self.by_subject(store, predicate, graphs)
            order = np.argsort(objects, kind="stable")
            self.reversed[key] = (objects[order], subjects[order])
        return self.reversed[key]


_lock = threading.Lock()
_by_store: weakref.WeakKeyDictionary[Store, _Columns] = weakref.WeakKeyDictionary()


def forget(store: Store) -> None:
    """Drop the columns of ``store``: its data changed (query workers are forked afresh after a write anyway)."""
    with _lock:
        _by_store.pop(store, None)


class _TooBig(Exception):
    """The arrays would cost more than pyoxigraph's own evaluation: it answers instead."""


def answer(
    store: Store,
    sparql: str,
    default_graph: Sequence[str] | None,
    time_limit: float | None = None,
) -> str | None:
    """The query rewritten as its answer (a ``VALUES`` table of the counts under the query's projection and
    modifiers), or None when pyoxigraph should evaluate it as it is: also when its columns are not read yet, which
    they are then noted to be, by :func:`read_noted` (a query worker calls it once its reply is sent)."""
    query = recognise(sparql)
    if query is None or store.sparql_server() is not None or default_graph == []:
        return None
    graphs = tuple(default_graph) if default_graph is not None else None
    with _lock:
        columns = _by_store.setdefault(store, _Columns())
    try:
        missing = {(pattern[1], graphs) for pattern in query.patterns} - columns.pairs.keys()
        if missing:
            _afford(store, missing, time_limit)
            columns.noted |= missing
            return None
        return _as_values(query, _grouped(_join(store, columns, query, graphs), query), columns)
    except Exception:  # too big, or any fault of this path: pyoxigraph answers, as the planner's fallback does
        return None


def read_noted(store: Store) -> None:
    """Read the columns queries asked for and did not find (see :func:`answer`).

    A query worker calls this after sending its reply: the query that needed them was answered by pyoxigraph in its
    usual time (200 ms for ``group-by`` at 1M triples) instead of waiting for them (1.1 s more), and a next one
    waits at most for what is left of the reading. ``kgraph query``, one query per process, never reads any."""
    with _lock:
        columns = _by_store.get(store)
    if columns is None:
        return
    noted, columns.noted = columns.noted, set()
    for predicate, graphs in noted:
        columns.by_subject(store, predicate, graphs)


def _afford(store: Store, missing: set[tuple[str, tuple[str, ...] | None]], limit: float | None) -> None:
    """Refuse columns that would take more than their share of the time limit, or too much memory, to read."""
    triples = 0
    for predicate, graphs in missing:
        count = Statistics(store, list(graphs) if graphs is not None else None)
        triples += count(Pattern(None, predicate, None))
    if triples > MAX_BUILD_TRIPLES:
        raise _TooBig
    if limit is not None and triples * BUILD_SECONDS_PER_TRIPLE > limit * BUILD_SHARE_OF_TIME_LIMIT:
        raise _TooBig


def _join(store: Store, columns: _Columns, query: GroupedCount, graphs: tuple[str, ...] | None) -> dict:
    """The solutions of the basic graph pattern as one array per variable: smallest pattern first, then the
    smallest of those sharing a variable with what is joined so far."""
    waiting = [_matches(store, columns, pattern, graphs) for pattern in query.patterns]
    table: dict = {}
    while waiting:
        joinable = [i for i, matches in enumerate(waiting) if not table or set(matches.columns) & set(table)]
        matches = waiting.pop(min(joinable, key=lambda i: len(waiting[i].subjects)))
        table = _join_one(table, matches) if table else matches.columns
    return table


@dataclass
class _Matches:
    """One pattern's matching pairs, sorted by subject, and the variables standing at each end."""

    subjects: np.ndarray
    objects: np.ndarray
    subject_var: str | None
    object_var: str | None
    by_object: Callable[[], tuple[np.ndarray, np.ndarray]]
    """(objects, subjects) sorted by object: the pairs kept per store when no constant narrowed them."""

    @property
    def columns(self) -> dict[str, np.ndarray]:
        """The matches as one array per variable."""
        found = {}
        if self.subject_var:
            found[self.subject_var] = self.subjects
        if self.object_var:
            found[self.object_var] = self.objects
        return found


def _matches(store: Store, columns: _Columns, pattern: tuple, graphs: tuple[str, ...] | None) -> _Matches:
    """One pattern's matches, its constants (and a variable written twice) applied."""
    subject_iri, predicate, object_iri, subject_var, object_var = pattern
    subjects, objects = columns.by_subject(store, predicate, graphs)
    narrowed = subject_iri is not None or object_iri is not None or (subject_var and subject_var == object_var)
    if subject_iri is not None:
        subjects, objects = _slice(subjects, objects, columns.number_of(subject_iri))
    if object_iri is not None:
        keep = objects == columns.number_of(object_iri)
        subjects, objects = subjects[keep], objects[keep]
    if subject_var and subject_var == object_var:
        keep = subjects == objects
        subjects, objects = subjects[keep], objects[keep]
    if narrowed:
        order = np.argsort(objects, kind="stable")
        by_object = lambda: (objects[order], subjects[order])  # noqa: E731 - a small deferred value
    else:
        by_object = lambda: columns.by_object(store, predicate, graphs)  # noqa: E731
    return _Matches(subjects, objects, subject_var, object_var, by_object)


def _slice(sorted_keys: np.ndarray, values: np.ndarray, key: int) -> tuple[np.ndarray, np.ndarray]:
    low, high = np.searchsorted(sorted_keys, key, "left"), np.searchsorted(sorted_keys, key, "right")
    return sorted_keys[low:high], values[low:high]


def _join_one(table: dict, matches: _Matches) -> dict:
    """The table joined with one pattern's matches on their shared variables."""
    relation = matches.columns
    shared = [name for name in relation if name in table]
    if len(shared) == 2 or len(relation) == 1:
        return _semi_join(table, relation)
    (key,) = shared
    if key == matches.subject_var:
        keys, values, other = matches.subjects, matches.objects, matches.object_var
    else:
        (keys, values), other = matches.by_object(), matches.subject_var
    low = np.searchsorted(keys, table[key], "left")
    high = np.searchsorted(keys, table[key], "right")
    found = high - low
    total = int(found.sum())
    if total * (len(table) + 1) > MAX_CELLS:
        raise _TooBig
    joined = {name: np.repeat(column, found) for name, column in table.items()}
    starts = np.repeat(low - (np.cumsum(found) - found), found)
    joined[other] = values[starts + np.arange(total)]
    return joined


def _semi_join(table: dict, relation: dict) -> dict:
    """The table's rows whose values of the pattern's variables appear together in its matches, each repeated as
    often as they appear there (a triple of two of the default graph's graphs matches twice, as in pyoxigraph)."""
    names = list(relation)
    keys = np.sort(_packed([relation[name] for name in names]))
    wanted = _packed([table[name] for name in names])
    found = np.searchsorted(keys, wanted, "right") - np.searchsorted(keys, wanted, "left")
    if int(found.sum()) * len(table) > MAX_CELLS:
        raise _TooBig
    return {name: np.repeat(column, found) for name, column in table.items()}


def _packed(columns: list[np.ndarray]) -> np.ndarray:
    return (columns[0] << 32) | columns[1] if len(columns) == 2 else columns[0]


def _grouped(table: dict, query: GroupedCount) -> list[tuple[list[int], list[int]]]:
    """Per group: the grouping variables' term numbers and each count, in projection order."""
    rows = len(next(iter(table.values())))
    if not query.group_by:
        return [([], [int(_count_all(table, count, np.zeros(rows, dtype=np.int64), 1)[0]) for count in query.counts])]
    key = np.zeros(rows, dtype=np.int64)
    distinct_values = []
    for name in query.group_by:
        values, position = np.unique(table[name], return_inverse=True)
        if len(values) and key.max(initial=0) >= (1 << 62) // len(values):
            raise _TooBig
        key = key * len(values) + position.reshape(-1)
        distinct_values.append(values)
    groups, group = np.unique(key, return_inverse=True)
    if len(groups) > MAX_GROUPS:
        raise _TooBig
    counted = [_count_all(table, count, group.reshape(-1), len(groups)) for count in query.counts]
    return [(_terms_of(int(g), distinct_values), [int(c[i]) for c in counted]) for i, g in enumerate(groups)]


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (numpy 2's ``unique`` hashes integers, ten times slower than a sort here)."""
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def _terms_of(key: int, distinct_values: list[np.ndarray]) -> list[int]:
    """The grouping variables' term numbers a group key was made of (one digit per variable)."""
    numbers = []
    for values in reversed(distinct_values):
        key, digit = divmod(key, len(values))
        numbers.append(int(values[digit]))
    return numbers[::-1]


def _count_all(table: dict, count: Count, group: np.ndarray, groups: int) -> np.ndarray:
    """One count per group: rows, or distinct values of a variable (every variable of the pattern is bound)."""
    if not count.distinct:
        return np.bincount(group, minlength=groups)
    assert count.variable is not None  # COUNT(DISTINCT *) is not read as this shape
    pairs = _distinct((group.astype(np.int64) << 32) | table[count.variable])
    return np.bincount(pairs >> 32, minlength=groups)


def _as_values(query: GroupedCount, rows: list[tuple[list[int], list[int]]], columns: _Columns) -> str | None:
    """The answer as a query pyoxigraph evaluates in no time; None when a group's key cannot be written there."""
    names = list(query.group_by) + [count.alias for count in query.counts]
    lines = []
    for keys, counts in rows:
        terms = [columns.terms[number].decode() for number in keys]
        if any(term.startswith(("_:", "<<")) for term in terms):  # a blank node or a triple term
            return None
        cells = terms + [f'"{n}"^^<{_XSD_INTEGER}>' for n in counts]
        lines.append(f"  ({' '.join(cells)})")
    variables = " ".join(f"?{name}" for name in names)
    head = f"SELECT {query.distinct} {' '.join('?' + name for name in query.projection)}"
    body = "\n".join(lines)
    return f"{query.prologue}{head}\nWHERE {{ VALUES ({variables}) {{\n{body}\n}} }}\n{query.modifiers}"
