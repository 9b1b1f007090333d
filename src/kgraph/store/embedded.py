"""The embedded pyoxigraph store: in memory by default, on disk when given a folder.

pyoxigraph was chosen as the engine by measurement (README, "Why these packages"): it parses about ten times and
evaluates joins 15-60 times faster than rdflib, and serialises results natively.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from kgraph.store.base import QueryResult, Store, Term
from kgraph.store.gate import WriteGate
from kgraph.store.results import solutions

BULK_COPY_QUADS = 50_000
"""Copies from this size up go through the bulk loader on disk; smaller ones are one transaction."""


class EmbeddedStore(Store):
    """A pyoxigraph ``Store`` behind the kgraph interface.

    Writes are applied in place (:attr:`writes_in_place`): every read of this interface starts at a moment when no
    write is under way (:class:`~kgraph.store.gate.WriteGate`) and pyoxigraph reads a snapshot from there on.
    """

    writes_in_place = True

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.read_only = False
        self._store = ox.Store(str(path)) if path else ox.Store()
        self._gate = WriteGate()

    @classmethod
    def open_read_only(cls, path: Path) -> EmbeddedStore:
        """An on-disk store no process writes to any more (a :meth:`snapshot`), opened for reading only.

        RocksDB allows any number of read-only openers, so query workers can each open one after they are forked,
        instead of copying the dataset into memory; opening is milliseconds whatever the size.
        """
        store = cls.__new__(cls)
        store.path = path
        store.read_only = True
        store._store = ox.Store.read_only(str(path))
        store._gate = WriteGate()
        return store

    def writing(self) -> AbstractContextManager[None]:
        return self._gate.writing()

    def reading(self) -> AbstractContextManager[None]:
        return self._gate.reading()

    def being_written(self) -> bool:
        return self._gate.held_by_another()

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store, for the bulk loader and the engine's own serialisers."""
        return self._store

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        kwargs: dict = {}
        if default_graph is None or self._is_every_graph(default_graph):
            kwargs["use_default_graph_as_union"] = True
        else:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graph] or [ox.DefaultGraph()]
        if named_graphs is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        with self._gate.reading():
            return self._store.query(sparql, **kwargs)

    def _is_every_graph(self, graphs: Sequence[str]) -> bool:
        """True if ``graphs`` names every graph of the store: pyoxigraph evaluates that dataset 4-8 times faster as
        its union default graph than as a list of graphs (bench/README.md), and the answer is the same."""
        if next(self._store.quads_for_pattern(None, None, None, ox.DefaultGraph()), None) is not None:
            return False
        others = {g for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)} - {
            ox.NamedNode(g) for g in graphs
        }
        return all(next(self._store.quads_for_pattern(None, None, None, g), None) is None for g in others)

    def update(self, sparql: str) -> None:
        self._store.update(sparql)

    def add(self, quads: Iterable[ox.Quad]) -> None:
        self._store.extend(quads)

    def load_file(
        self, source: IO[bytes], rdf_format: ox.RdfFormat, *, base_iri: str | None, graph: str, large: bool = False
    ) -> None:
        """Parse and add one file natively (no Python object per triple), its default graph going to ``graph``:
        all of the file or, on a SyntaxError, nothing.

        On disk, a ``large`` file in a triple format loaded into an empty graph goes through the bulk loader (three
        times faster than one transaction there, but not transactional: on an error the graph it filled is cleared,
        which restores it; and it writes files of its own, too many for small files). Everything else is one
        transaction.
        """
        target = ox.NamedNode(graph)
        if self.path is None or not large or rdf_format.supports_datasets or self._holds(target):
            self._store.load(source, rdf_format, base_iri=base_iri, to_graph=target)
            return
        try:
            self._store.bulk_load(source, rdf_format, base_iri=base_iri, to_graph=target)
        except BaseException:
            self.clear_graph(graph)
            raise

    def copy_from(self, source: EmbeddedStore, graph: str | None = None) -> None:
        """Add every quad of ``source``, or of one of its graphs, blank nodes kept (an N-Quads dump would rename
        them); large copies into an on-disk store go through the bulk loader."""
        quads = source.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(graph) if graph else None)
        if self.path and source.count(graph) >= BULK_COPY_QUADS:
            self._store.bulk_extend(quads)
        else:
            self._store.extend(quads)

    def clear(self) -> None:
        """Remove every quad: the start of a rebuild from scratch."""
        self._store.clear()

    def snapshot(self, target: Path) -> None:
        """A consistent copy of an on-disk store in a new folder ``target`` on the same file system.

        RocksDB makes it from hard links, so it takes milliseconds and almost no space; it never changes afterwards,
        so readers can open it while this store goes on taking writes (reading the live store's folder from another
        process while this one writes is undefined behaviour).
        """
        self._store.backup(str(target))

    def flush(self) -> None:
        """Write everything to disk files, before a build manifest says the store is complete."""
        if self.path and not self.read_only:
            self._store.flush()

    def _holds(self, graph: ox.NamedNode) -> bool:
        return next(self._store.quads_for_pattern(None, None, None, graph), None) is not None

    def remove(self, quads: Iterable[ox.Quad]) -> None:
        for quad in list(quads):
            self._store.remove(quad)

    def quads(
        self,
        subject: Term | ox.Triple | None = None,
        predicate: ox.NamedNode | None = None,
        obj: Term | ox.Triple | None = None,
        graph: str | None = None,
    ) -> Iterator[ox.Quad]:
        if isinstance(subject, ox.Literal):
            return iter(())  # a literal is never a subject
        graph_name = ox.NamedNode(graph) if graph else None
        with self._gate.reading():
            return self._store.quads_for_pattern(subject, predicate, obj, graph_name)

    def contains(self, quad: ox.Quad) -> bool:
        with self._gate.reading():
            return quad in self._store

    def graph_quads(self, graph: str | None) -> Iterator[ox.Quad]:
        with self._gate.reading():
            return self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph) if graph else ox.DefaultGraph())

    def declare_graph(self, graph: str) -> None:
        """Make a named graph exist while it holds no triple (a Graph Store PUT of nothing)."""
        self._store.add_graph(ox.NamedNode(graph))

    def empty_graphs(self) -> set[str]:
        """The named graphs the store knows of that hold no triple."""
        with self._gate.reading():
            graphs = [g for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)]
            return {g.value for g in graphs if not self._holds(g)}

    def graph_names(self) -> list[str]:
        with self._gate.reading():
            graphs = [g for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)]
            return sorted(g.value for g in graphs if self._holds(g))

    def clear_graph(self, graph: str) -> None:
        node = ox.NamedNode(graph)
        if self._store.contains_named_graph(node):
            self._store.remove_graph(node)

    def count(self, graph: str | None = None) -> int:
        with self._gate.reading():
            if graph is None:
                return len(self._store)
            query = f"SELECT (COUNT(*) AS ?n) {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}"
            [row] = solutions(self._store.query(query))
        return int(row[0].value)

    def close(self) -> None:
        self.flush()
        del self._store

    @property
    def in_memory(self) -> bool:
        """In memory unless given a folder."""
        return self.path is None

    @property
    def loads_natively(self) -> bool:
        """pyoxigraph parses files itself (:meth:`load_file`)."""
        return True
