"""The write journal: entries round-trip, a torn last line is skipped and cut, replay is idempotent."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kgraph.journal import JOURNAL_NAME, Entry, Journal
from kgraph.store import EmbeddedStore

G = ox.NamedNode("http://example.org/g")
A = ox.Quad(ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p"), ox.BlankNode("b1"), G)
B = ox.Quad(ox.BlankNode("b1"), ox.NamedNode("http://example.org/q"), ox.Literal("é", language="fr"), G)


def entry(id: str, added: list[ox.Quad], removed: list[ox.Quad] = ()) -> Entry:
    return Entry(id, "2026-11-24T12:00:00.000Z", "alice", list(removed), list(added))


def test_entries_round_trip_with_blank_node_labels(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "new-folder")
    journal.append(entry("one", [A, B]))
    journal.append(entry("two", [], [B]))
    entries = list(journal.entries())
    assert [e.id for e in entries] == ["one", "two"]
    assert set(entries[0].added) == {A, B}
    assert entries[1].removed == [B]
    assert entries[0].who == "alice"


def test_a_torn_last_line_is_skipped_then_cut(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append(entry("one", [A]))
    with (tmp_path / JOURNAL_NAME).open("ab") as file:
        file.write(entry("torn", [B]).to_line()[:25])  # a crash in the middle of an append
    assert [e.id for e in journal.entries()] == ["one"]
    journal.append(entry("two", [B]))
    assert [e.id for e in journal.entries()] == ["one", "two"]
    assert (tmp_path / JOURNAL_NAME).read_bytes().count(b"\n") == 2


def test_replay_applies_in_order_and_is_idempotent(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append(entry("one", [A, B]))
    journal.append(entry("two", [], [A]))
    store = EmbeddedStore()
    assert journal.replay(store) == 2
    assert set(store.quads()) == {B}
    journal.replay(store)
    assert set(store.quads()) == {B}


def test_no_journal_replays_nothing(tmp_path: Path) -> None:
    store = EmbeddedStore()
    assert Journal(tmp_path).replay(store) == 0
    assert len(store) == 0


def test_the_empty_graphs_are_those_the_last_entry_recording_them_names(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert journal.empty_graphs() == set()
    journal.append(entry("old-format", [A]))  # written before entries recorded them: nothing known
    assert journal.empty_graphs() == set()
    journal.append(Entry("made", "2026-12-02T00:00:00.000Z", "alice", [], [], empty=("http://example.org/e",)))
    journal.append(entry("later", [B]))  # a journal written by an older kgraph after a newer one: the last known
    assert journal.empty_graphs() == {"http://example.org/e"}
    with (tmp_path / JOURNAL_NAME).open("ab") as file:
        file.write(Entry("torn", "t", "bob", [], [], empty=()).to_line()[:30])
    assert journal.empty_graphs() == {"http://example.org/e"}
    journal.append(Entry("dropped", "2026-12-02T00:00:01.000Z", "alice", [], [], empty=()))
    assert journal.empty_graphs() == set()
    assert [e.empty for e in journal.entries()] == [None, ("http://example.org/e",), None, ()]
