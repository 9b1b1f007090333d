"""The timeline's order and wording: every time exactly as precise as the data, vague times never placed by guess."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.store import EmbeddedStore
from kgraph.timeline import Moment, timeline

FIXTURE = Path(__file__).parent / "fixtures" / "timeline" / "times.ttl"
GRAPH = "https://w3id.org/kgraph/graph/test"
EX = "https://w3id.org/kgraph/id/test/"


@pytest.fixture(scope="module")
def store() -> Iterator[EmbeddedStore]:
    store = EmbeddedStore()
    with FIXTURE.open("rb") as source:
        store.load_file(source, ox.RdfFormat.TURTLE, base_iri=EX, graph=GRAPH)
    yield store
    store.close()


def rows(moments: list[Moment]) -> list[tuple[str, str | None, str, list[str]]]:
    return [(m.relation, m.when.datetime, m.when.text, [e.text for e in m.events]) for m in moments]


def test_calendar_times_in_order_at_their_precision(store: EmbeddedStore) -> None:
    t = timeline(store, [GRAPH])
    assert rows(t.placed) == [
        ("", "2023", "2023", ["Old"]),
        ("began", "2024-08-06", "6 August 2024", ["Start"]),
        ("", "2025-03", "March 2025", ["Another visit", "Visit"]),
        ("by", "2025-04", "April 2025", ["Claim"]),  # the date says the 17th, kg:precision says the month
    ]


def test_vague_times_keep_their_words_and_stated_order(store: EmbeddedStore) -> None:
    t = timeline(store, [GRAPH])
    assert rows(t.unplaced) == [
        ("", None, "late 2024", ["Winter"]),  # within 2024
        ("", None, "soon after", ["Response"]),  # after 6 August 2024
        ("by", None, "early 2025", ["Recapture"]),  # within 2025
        ("", None, "at first", ["Denial"]),  # unordered from here on: no known bound
        ("by", None, "fall 2024", ["Deployment"]),
        ("", None, "then", ["Admission"]),
    ]
    assert [m.when.bounded for m in t.unplaced] == [True, True, True, False, False, False]
    assert [m.when.order for m in t.unplaced] == [
        (),
        ("after 6 August 2024",),
        (),
        ("before “then”",),
        (),
        ("after “at first”",),
    ]
    assert [(m.when.after, m.when.before) for m in t.unplaced[:3]] == [
        ((2024, 0, 0), (2024, 13, 0)),
        ((2024, 8, 6), None),
        ((2025, 0, 0), (2025, 13, 0)),
    ]


@pytest.mark.parametrize(("focus", "text"), [(EX + "visit", "March 2025"), (EX + "then", "then")])
def test_the_focus_is_marked_whether_a_thing_or_a_time(store: EmbeddedStore, focus: str, text: str) -> None:
    t = timeline(store, [GRAPH], focus=focus)
    assert t.current
    assert [m.when.text for m in (*t.placed, *t.unplaced) if m.current] == [text]


def test_a_resource_without_a_time_is_not_on_it(store: EmbeddedStore) -> None:
    assert not timeline(store, [GRAPH], focus=EX + "nothing").current


def test_an_empty_graph_has_an_empty_timeline() -> None:
    store = EmbeddedStore()
    assert not timeline(store, [GRAPH])
    store.close()
