"""Readers held off while a write is applied in place: they see the state before it or after it, never between.

A write is applied to the served store itself (inserted, inferred, validated, then kept or taken back): copying a
large store for every write made writes cost as much as the store. While it is under way, a read that starts in
this process waits for its end; a read already started reads its own snapshot (pyoxigraph's queries and iterators
see the store as it was when they started), so it never sees half a write either. The writing thread itself reads
through, since it has to see its own change to infer and validate it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class WriteGate:
    """One writer at a time, readers kept out while it holds the gate (the writing thread excepted)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._writer: int | None = None
        self._readers = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Start a read (a query, an iterator, a count) when no other thread is writing."""
        if self._writer == threading.get_ident():
            yield
            return
        with self._changed:
            self._changed.wait_for(lambda: self._writer is None)
            self._readers += 1
        try:
            yield
        finally:
            with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    def held_by_another(self) -> bool:
        """Whether another thread holds the gate for a write: a read started now would wait for its end."""
        writer = self._writer
        return writer is not None and writer != threading.get_ident()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store for one write: new reads wait, and the write starts once the reads under way have
        taken their snapshots."""
        with self._changed:
            self._changed.wait_for(lambda: self._writer is None)
            self._writer = threading.get_ident()
            self._changed.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._changed:
                self._writer = None
                self._changed.notify_all()
