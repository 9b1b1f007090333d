"""The write journal: every validated change, on disk before the client is told it is done.

The graph is rebuilt from the project's files at each start, so a write made over HTTP would be lost at the next
restart unless it is kept somewhere: here, an append-only file in the data directory, one JSON line per write with
the quads it removed and added (N-Quads, blank node labels kept). A line is fsync'd before the write is
acknowledged, so an acknowledged write survives a crash; a crash in the middle of appending leaves at most one torn
last line, which was never acknowledged and is skipped (and cut off) when the journal is next opened.

Replaying is idempotent: each entry removes then adds a set of quads, so replaying the whole journal over a store
that already holds some of it (an on-disk ``--store``) ends in the same state.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kgraph.store import Store

JOURNAL_NAME = "journal.jsonl"
"""The journal's file name inside the data directory."""

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One acknowledged write: when, by whom, the asserted quads it removed and added, and the named graphs that
    exist without a triple once it is made (a Graph Store PUT of nothing creates one; None in entries written before
    the journal kept them)."""

    id: str
    time: str
    who: str
    removed: list[ox.Quad]
    added: list[ox.Quad]
    empty: tuple[str, ...] | None = None

    def to_line(self) -> bytes:
        """The entry as one JSON line (the quads as N-Quads text)."""
        document: dict[str, object] = {
            "id": self.id,
            "time": self.time,
            "who": self.who,
            "removed": _nquads(self.removed),
            "added": _nquads(self.added),
        }
        if self.empty is not None:
            document["empty"] = list(self.empty)
        return json.dumps(document, ensure_ascii=False).encode("utf-8") + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Entry:
        """The entry a line holds; ValueError when the line is not a complete entry."""
        document = json.loads(line)
        return cls(
            id=document["id"],
            time=document["time"],
            who=document["who"],
            removed=_parse(document["removed"]),
            added=_parse(document["added"]),
            empty=None if document.get("empty") is None else tuple(document["empty"]),
        )


class Journal:
    """The append-only journal file of one data directory; thread-safe appends."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / JOURNAL_NAME
        self._lock = threading.Lock()

    def entries(self) -> Iterator[Entry]:
        """Every complete entry, oldest first (a torn last line is skipped)."""
        if not self.path.exists():
            return
        with self.path.open("rb") as file:
            yield from complete_entries(file, str(self.path))

    def append(self, entry: Entry) -> int:
        """Write one entry and fsync it (and, for a new file, its folder): durable when this returns.

        Returns the entry's offset in the file, for :meth:`retract`. Raises OSError when the entry cannot be made
        durable (a full disk, a read-only data directory); the file is then cut back to what it held, so a refused
        write is never replayed.
        """
        with self._lock:
            created = not self.path.exists()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._cut_torn_tail()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if created:  # the new file's name made durable first: a failure here leaves no entry behind
                    fsync_dir(self.path.parent)
                return _write_durably(fd, entry.to_line())
            finally:
                os.close(fd)

    def retract(self, offset: int) -> None:
        """Cut the journal back to ``offset``: the entry written there could not be committed, so it must not be
        replayed at the next start."""
        with self._lock, self.path.open("rb+") as file:
            file.truncate(offset)
            file.flush()
            os.fsync(file.fileno())

    def ensure_writable(self) -> None:
        """Create the data directory and the journal if missing and open it for appending, so a server that takes
        writes learns at start-up, not at its first write, that it could not record them (OSError)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
        fsync_dir(self.path.parent)  # the first append will not: the file exists by then

    def replay(self, store: Store) -> int:
        """Apply every entry to ``store`` in order; returns how many there were."""
        return apply_entries(store, self.entries())

    def empty_graphs(self) -> set[str]:
        """The named graphs that exist without a triple after the last write that recorded them, read from the end
        of the journal (its quads are not parsed: an on-disk store's start replays nothing)."""
        if not self.path.exists():
            return set()
        for line in reversed(self.path.read_bytes().splitlines()):
            try:
                recorded = json.loads(line).get("empty")
            except ValueError:  # a torn last line
                continue
            if recorded is not None:
                return set(recorded)
        return set()

    def _cut_torn_tail(self) -> None:
        """Drop a last line without its newline (a crash mid-append), so the next entry starts on its own line."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with self.path.open("rb+") as file:
            file.seek(-1, os.SEEK_END)
            if file.read(1) == b"\n":  # the usual case, on every append: no need to read the whole journal
                return
            file.seek(0)
            file.truncate(file.read().rfind(b"\n") + 1)
            file.flush()
            os.fsync(file.fileno())


def replay_journal(store: Store, data_dir: Path) -> int:
    """The writes journaled in ``data_dir`` applied to ``store`` (after the files are loaded, before inference)."""
    return Journal(data_dir).replay(store)


def complete_entries(lines: Iterable[bytes], where: str) -> Iterator[Entry]:
    """The entries of journal lines, oldest first; a line that is not a complete entry (a torn last line) is skipped
    with a warning naming ``where`` it is."""
    for number, line in enumerate(lines, 1):
        try:
            yield Entry.from_line(line)
        except (ValueError, KeyError, SyntaxError):
            _log.warning("%s:%d: skipping an incomplete journal entry", where, number)


def apply_entries(store: Store, entries: Iterable[Entry]) -> int:
    """Apply journaled writes to ``store`` in order (each removes, then adds); returns how many."""
    count = 0
    for entry in entries:
        store.remove(entry.removed)
        store.add(entry.added)
        count += 1
    return count


def _nquads(quads: Iterable[ox.Quad]) -> str:
    return (ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"").decode("utf-8")


def _parse(text: str) -> list[ox.Quad]:
    return list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS))


def _write_durably(fd: int, line: bytes) -> int:
    """Append all of ``line`` and fsync, returning where it starts; or cut the file back and raise the OSError.

    ``os.write`` may write part of the line and return (a disk that fills up in the middle): the loop writes the rest
    or meets the error, so a short write is never acknowledged as a whole one.
    """
    size = os.fstat(fd).st_size
    try:
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        raise
    return size


def fsync_dir(folder: Path) -> None:
    """Make a file's creation, rename or removal in ``folder`` durable: fsync of the file alone does not."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
