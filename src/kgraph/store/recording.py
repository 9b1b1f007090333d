"""A store that remembers what was really added to and removed from another, so a write can be taken back exactly.

A write is applied in place (inserted, then inferred), and its delta is what the query workers and a remote store
are sent: recording it as it is made costs what the write changes, where comparing the store before and after cost
what the store holds. Only real changes are kept: adding a quad already there, or removing one that is not, records
nothing, and a quad added then removed again records nothing either.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence

import pyoxigraph as ox

from kgraph.store.base import QueryResult, Store, Term

_log = logging.getLogger(__name__)


class RecordingStore(Store):
    """Reads and writes go to ``inner``; :attr:`added` and :attr:`removed` say what changed in it since.

    Each quad's state before its first change is noted before the change is made, so :meth:`undo` is right even
    when a change was stopped half-way (the writer's time limit arrives between two Python instructions).
    """

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self._before: dict[ox.Quad, bool] = {}  # quad -> held before its first change (insertion-ordered)
        self._now: dict[ox.Quad, bool] = {}

    @property
    def added(self) -> list[ox.Quad]:
        """The quads the inner store holds now and did not before."""
        return [q for q, held in self._before.items() if not held and self._now.get(q, held)]

    @property
    def removed(self) -> list[ox.Quad]:
        """The quads the inner store held before and does not now."""
        return [q for q, held in self._before.items() if held and not self._now.get(q, held)]

    def undo(self) -> None:
        """Put the inner store back as it was; what it refuses (a failed disk) is logged, the rest is still done."""
        with contextlib.suppress(OSError):
            self.inner.remove([q for q, held in self._before.items() if not held])
            self.inner.add([q for q, held in self._before.items() if held])
            self._before.clear()
            self._now.clear()
            return
        _log.error("a write could not be taken back whole from the store; a restart rebuilds it from the journal")

    def add(self, quads: Iterable[ox.Quad]) -> None:
        new = [q for q in dict.fromkeys(quads) if not self.inner.contains(q)]
        self._note(new, held=False)
        self.inner.add(new)
        self._now.update(dict.fromkeys(new, True))

    def remove(self, quads: Iterable[ox.Quad]) -> None:
        old = [q for q in dict.fromkeys(quads) if self.inner.contains(q)]
        self._note(old, held=True)
        self.inner.remove(old)
        self._now.update(dict.fromkeys(old, False))

    def _note(self, quads: list[ox.Quad], *, held: bool) -> None:
        for quad in quads:
            self._before.setdefault(quad, held)

    def clear_graph(self, graph: str) -> None:
        self.remove(list(self.inner.quads(graph=graph)))

    def update(self, sparql: str) -> None:
        raise TypeError("a recorded write takes quads, not SPARQL updates: their changes cannot be recorded")

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        return self.inner.query(sparql, default_graph=default_graph, named_graphs=named_graphs)

    def quads(
        self,
        subject: Term | ox.Triple | None = None,
        predicate: ox.NamedNode | None = None,
        obj: Term | ox.Triple | None = None,
        graph: str | None = None,
    ) -> Iterator[ox.Quad]:
        return self.inner.quads(subject, predicate, obj, graph)

    def contains(self, quad: ox.Quad) -> bool:
        return self.inner.contains(quad)

    def graph_quads(self, graph: str | None) -> Iterator[ox.Quad]:
        return self.inner.graph_quads(graph)

    def graph_names(self) -> list[str]:
        return self.inner.graph_names()

    def count(self, graph: str | None = None) -> int:
        return self.inner.count(graph)
