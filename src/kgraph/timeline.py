"""When things happened: the graph's dated events and claims in order, each at exactly the precision the data gives.

The article gives some times to the day ("6 August 2024"), some to the month ("in March", 2025), and many only in
words ("fall 2024", "initially", "as winter approached": ``kg:VagueInterval``). A timeline must not invent a day for
a month or a month for a season, so each time is written from its OWL-Time value cut to its ``kg:precision``, and a
vague time keeps its own words. Only calendar times are placed on the calendar; vague times are listed apart, in
the order the data states (``time:before``, ``time:after``) and with that order written out ("after 6 August
2024"), never guessed into place: "nearly nine months after 6 August 2024" must not land before March 2025.
Vague times with a known bound (after or before a calendar time, or within a stated ``time:inXSDgYear``) are
ordered by their bounds; the others are listed as unordered, in their stated order among themselves, and said to
be unordered: "by early 2025" must not read as coming before "by fall 2024" only because of the alphabet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from kgraph.config import ONTOLOGY_NS
from kgraph.describe import Node, labels_of, to_node
from kgraph.store import Store
from kgraph.store.results import solutions

TIME = "http://www.w3.org/2006/time#"

RELATIONS: dict[str, str] = {
    ONTOLOGY_NS + "startTime": "began",
    ONTOLOGY_NS + "hasTime": "",
    TIME + "hasTime": "",
    ONTOLOGY_NS + "byTime": "by",
}
"""The properties that date a thing, and the word a timeline puts before the time (``by`` fall 2024)."""

_RANK = {"began": 0, "": 1, "by": 2}
"""At one time, what began then comes first and what was done "by" then last."""

MAX_ENTRIES = 1000
"""Most (thing, property, time) statements one timeline holds: a page view must not become a dump."""

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
"""English month names, fixed here so a page never depends on the server's locale."""

_CAPS = {TIME + "unitYear": 1, TIME + "unitMonth": 2, TIME + "unitDay": 3}
"""How many of (year, month, day) a stated ``kg:precision`` allows to be shown."""

Key = tuple[int, int, int]
"""A time's place on the calendar: (year, month or 0, day or 0); a month sorts before its days."""


@dataclass(frozen=True)
class When:
    """A time as the data gives it: the words shown, the HTML ``datetime`` value at that precision, its place on
    the calendar (None for a vague time) and its stated order ("after 6 August 2024")."""

    iri: str
    text: str
    datetime: str | None = None
    key: Key | None = None
    order: tuple[str, ...] = ()
    after: Key | None = None
    """For a vague time: the latest calendar time it is known to follow (or the start of its stated year)."""
    before: Key | None = None
    """For a vague time: the earliest calendar time it is known to precede (or the end of its stated year)."""

    @property
    def bounded(self) -> bool:
        """Whether a vague time has a known bound, so that it can be ordered among the others."""
        return self.after is not None or self.before is not None


@dataclass
class Moment:
    """One row of a timeline: a time, how the things relate to it (began, by, at), and the things."""

    when: When
    relation: str
    events: list[Node] = field(default_factory=list)
    current: bool = False


@dataclass
class Timeline:
    """The rows on the calendar in order, and the rows at vague times in their stated order."""

    placed: list[Moment]
    unplaced: list[Moment]

    def __bool__(self) -> bool:
        return bool(self.placed or self.unplaced)

    @property
    def current(self) -> bool:
        """Whether the resource the timeline was made for is on it."""
        return any(m.current for m in (*self.placed, *self.unplaced))


def timeline(store: Store, graphs: Sequence[str], focus: str | None = None) -> Timeline:
    """Every dated thing of the graph, in order; rows with ``focus`` (a thing or a time) are marked current."""
    entries = _entries(store, graphs, focus)
    times = {t for _, _, t in entries}
    order = _order_pairs(store, graphs, times)
    anchors = times | {t for pair in order for t in pair}
    labels = labels_of(store, [ox.NamedNode(i) for i in anchors | {e for e, _, _ in entries}], graphs)
    whens = _whens(store, graphs, anchors, labels, order)
    rows: dict[tuple[str, str], Moment] = {}
    for event, relation, time in sorted(entries):
        row = rows.setdefault((time, relation), Moment(whens[time], relation))
        row.events.append(to_node(ox.NamedNode(event), labels))
        row.current = row.current or focus in (event, time)
    for row in rows.values():
        row.events.sort(key=lambda n: (n.text.lower(), n.iri or ""))
    placed = [m for m in rows.values() if m.when.key is not None]
    placed.sort(key=lambda m: (m.when.key, _RANK[m.relation], m.when.text))
    levels = _levels(anchors, order)
    bounded = [m for m in rows.values() if m.when.key is None and m.when.bounded]
    bounded.sort(key=lambda m: (*_bounds(m.when), levels[m.when.iri], _RANK[m.relation], m.when.text))
    unordered = [m for m in rows.values() if m.when.key is None and not m.when.bounded]
    unordered.sort(key=lambda m: (levels[m.when.iri], _RANK[m.relation], m.when.text))
    return Timeline(placed, bounded + unordered)


def _bounds(when: When) -> tuple[Key, Key]:
    """A bounded vague time's sort key: its lower bound (else its upper one), then its upper bound."""
    lower = when.after or when.before
    upper = when.before or when.after
    assert lower is not None and upper is not None
    return lower, upper


def _entries(store: Store, graphs: Sequence[str], focus: str | None) -> set[tuple[str, str, str]]:
    """(thing, relation word, time) for the dated things, always including those of ``focus``."""
    values = " ".join(f"<{p}>" for p in RELATIONS)
    pattern = f"VALUES ?p {{ {values} }} ?e ?p ?t FILTER(isIRI(?e) && isIRI(?t))"
    queries = [f"SELECT DISTINCT ?e ?p ?t WHERE {{ {pattern} }} LIMIT {MAX_ENTRIES}"]
    if focus is not None:
        ref = ox.NamedNode(focus)
        queries.append(f"SELECT DISTINCT ?e ?p ?t WHERE {{ {pattern} FILTER(?e = {ref} || ?t = {ref}) }}")
    return {
        (row["e"].value, RELATIONS[row["p"].value], row["t"].value)
        for query in queries
        for row in solutions(store.query(query, default_graph=graphs))
    }


def _order_pairs(store: Store, graphs: Sequence[str], times: set[str]) -> set[tuple[str, str]]:
    """(earlier, later) for each ``time:before``/``time:after`` statement touching one of ``times``."""
    if not times:
        return set()
    values = " ".join(str(ox.NamedNode(t)) for t in sorted(times))
    query = f"""SELECT DISTINCT ?a ?b WHERE {{
        {{ ?a <{TIME}before> ?b }} UNION {{ ?b <{TIME}after> ?a }}
        FILTER(isIRI(?a) && isIRI(?b)) VALUES ?x {{ {values} }} FILTER(?a = ?x || ?b = ?x) }}"""
    return {(row["a"].value, row["b"].value) for row in solutions(store.query(query, default_graph=graphs))}


def _whens(
    store: Store,
    graphs: Sequence[str],
    times: set[str],
    labels: Mapping[str, str],
    order: set[tuple[str, str]],
) -> dict[str, When]:
    """Each time written at its precision, with its place on the calendar or, for a vague time, its stated order
    and its known bounds."""
    calendar = _calendar(store, graphs, times)
    years = {t: calendar.pop(t)[0] for t in _vague(store, graphs, times) if t in calendar}
    texts = {t: _text(calendar[t]) if t in calendar else labels.get(t, t.rsplit("/", 1)[-1]) for t in times}
    quoted = {t: texts[t] if t in calendar else f"“{texts[t]}”" for t in times}
    whens = {}
    for t in times:
        parts = calendar.get(t)
        if parts:
            whens[t] = When(t, texts[t], _datetime(parts), _key(parts))
            continue
        stated = [f"after {quoted[a]}" for a, b in sorted(order) if b == t]
        stated += [f"before {quoted[b]}" for a, b in sorted(order) if a == t]
        lower = [_key(calendar[a]) for a, b in order if b == t and a in calendar]
        upper = [_key(calendar[b]) for a, b in order if a == t and b in calendar]
        if t in years:
            lower.append((years[t], 0, 0))
            upper.append((years[t], 13, 0))
        whens[t] = When(
            t, texts[t], order=tuple(stated), after=max(lower, default=None), before=min(upper, default=None)
        )
    return whens


def _vague(store: Store, graphs: Sequence[str], times: set[str]) -> set[str]:
    """Those of ``times`` that are vague intervals: a year they state bounds them, it does not date them."""
    if not times:
        return set()
    values = " ".join(str(ox.NamedNode(t)) for t in sorted(times))
    query = f"SELECT ?t WHERE {{ VALUES ?t {{ {values} }} ?t a <{ONTOLOGY_NS}VagueInterval> }}"
    return {row["t"].value for row in solutions(store.query(query, default_graph=graphs))}


def _calendar(store: Store, graphs: Sequence[str], times: set[str]) -> dict[str, tuple[int, ...]]:
    """(year,), (year, month) or (year, month, day) of each time with a calendar value, cut to its precision."""
    if not times:
        return {}
    values = " ".join(str(ox.NamedNode(t)) for t in sorted(times))
    query = f"""SELECT ?t ?date ?ym ?y ?dy ?dm ?dd ?precision WHERE {{ VALUES ?t {{ {values} }}
        OPTIONAL {{ ?t <{TIME}inXSDDate> ?date }}
        OPTIONAL {{ ?t <{TIME}inXSDgYearMonth> ?ym }}
        OPTIONAL {{ ?t <{TIME}inXSDgYear> ?y }}
        OPTIONAL {{ ?t <{TIME}hasDateTimeDescription> ?d .
            OPTIONAL {{ ?d <{TIME}year> ?dy }} OPTIONAL {{ ?d <{TIME}month> ?dm }} OPTIONAL {{ ?d <{TIME}day> ?dd }} }}
        OPTIONAL {{ ?t <{ONTOLOGY_NS}precision> ?precision }} }}"""
    found: dict[str, tuple[int, ...]] = {}
    for row in solutions(store.query(query, default_graph=graphs)):
        parts = _parts(row)
        if parts:
            precision = row["precision"]
            cap = _CAPS.get(precision.value, 3) if precision is not None else 3
            parts = parts[:cap]
            if len(parts) > len(found.get(row["t"].value, ())):
                found[row["t"].value] = parts
    return found


def _parts(row: ox.QuerySolution) -> tuple[int, ...]:
    """The most precise calendar value a result row holds: ``2024-08-06``, ``2025-03``, ``2025`` or a description."""
    for name, size in (("date", 3), ("ym", 2), ("y", 1)):
        if row[name] is not None:
            return _ints(row[name].value.lstrip("-").split("-")[:size], row[name].value.startswith("-"))
    if row["dy"] is None:
        return ()
    year = [row["dy"].value]
    month = [row["dm"].value.lstrip("-")] if row["dm"] is not None else []
    day = [row["dd"].value.lstrip("-")] if row["dd"] is not None and month else []
    return _ints([*year, *month, *day], False)


def _ints(fields: Iterable[str], negative: bool) -> tuple[int, ...]:
    """Leading digits of each field (a timezone may follow); an unreadable value gives nothing."""
    numbers = []
    for text in fields:
        digits = text[: len(text) - len(text.lstrip("0123456789"))]
        if not digits:
            return ()
        numbers.append(int(digits))
    if negative:
        numbers[0] = -numbers[0]
    return tuple(numbers)


def _key(parts: tuple[int, ...]) -> Key:
    year, month, day = (*parts, 0, 0)[:3]
    return (year, month, day)


def _text(parts: tuple[int, ...]) -> str:
    """``6 August 2024``, ``March 2025`` or ``2025``: no more than the data says."""
    if len(parts) == 1:
        return str(parts[0])
    if len(parts) == 2:
        return f"{MONTHS[parts[1] - 1]} {parts[0]}" if 1 <= parts[1] <= 12 else str(parts[0])
    return f"{parts[2]} {MONTHS[parts[1] - 1]} {parts[0]}" if 1 <= parts[1] <= 12 else str(parts[0])


def _datetime(parts: tuple[int, ...]) -> str:
    """The HTML ``<time datetime>`` value at the same precision: ``2024-08-06``, ``2025-03`` or ``2025``."""
    return "-".join([f"{parts[0]:04d}", *(f"{p:02d}" for p in parts[1:])])


def _levels(times: set[str], order: set[tuple[str, str]]) -> dict[str, int]:
    """How many stated steps come before each time (the longest chain of ``time:before``): vague times' order."""
    levels = dict.fromkeys(times, 0)
    for _ in range(len(times)):
        for earlier, later in order:
            if earlier in levels and later in levels and levels[later] <= levels[earlier]:
                levels[later] = levels[earlier] + 1
    return levels
