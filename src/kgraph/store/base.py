"""The interface every back end implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pyoxigraph as ox

if TYPE_CHECKING:
    from kgraph.store.embedded import EmbeddedStore
    from kgraph.store.remote import RemoteStore

QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples
"""What a query returns: solutions (SELECT), a boolean (ASK) or triples (CONSTRUCT, DESCRIBE)."""

Term = ox.NamedNode | ox.BlankNode | ox.Literal


class Store(ABC):
    """An RDF dataset that can be queried, updated and enumerated.

    Graph names are plain IRI strings at this interface; ``None`` as a graph means the default graph.

    What differs between back ends is asked of the store, never read off its class (as :class:`io.IOBase` answers
    ``seekable()``): :attr:`path`, :attr:`in_memory`, :attr:`loads_natively` and :meth:`sparql_server` say what it
    can do, and an operation a back end cannot do raises ``NotImplementedError``.
    """

    path: Path | None = None
    """The folder an on-disk store keeps its quads in, where a build manifest and snapshots go too; None for a store
    in memory or on a server. Only an on-disk store can :meth:`snapshot` and :meth:`clear`."""

    @property
    def in_memory(self) -> bool:
        """Whether the quads live in this process's memory: a forked process sees them as they are, without a copy,
        and they are gone when the process ends."""
        return False

    @property
    def loads_natively(self) -> bool:
        """Whether :meth:`load_file` parses files inside the store (no Python object per triple, three times faster
        than adding parsed quads, blank nodes renamed); when False, callers parse and :meth:`add` quads."""
        return False

    def sparql_server(self) -> RemoteStore | None:
        """The store as a SPARQL server that evaluates queries, updates and inference itself, or None when this
        process does (queries in forked workers, inference in memory)."""
        return None

    @abstractmethod
    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        """Evaluate a SPARQL query.

        ``default_graph`` lists the named graphs whose union is the query's default graph; ``None`` means the union
        of every graph in the store. ``named_graphs`` restricts what ``GRAPH`` may see; ``None`` means all of them.
        Raises ``SyntaxError`` (with ``line:column`` in its message) for a malformed query.
        """

    @abstractmethod
    def update(self, sparql: str) -> None:
        """Apply a SPARQL Update as one transaction; raises ``SyntaxError`` for a malformed one."""

    @abstractmethod
    def add(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads as one transaction."""

    @abstractmethod
    def remove(self, quads: Iterable[ox.Quad]) -> None:
        """Remove quads as one transaction."""

    @abstractmethod
    def quads(
        self,
        subject: Term | ox.Triple | None = None,
        predicate: ox.NamedNode | None = None,
        obj: Term | ox.Triple | None = None,
        graph: str | None = None,
    ) -> Iterator[ox.Quad]:
        """The quads matching a pattern (``None`` is a wildcard; ``graph=None`` means every graph)."""

    @abstractmethod
    def graph_names(self) -> list[str]:
        """IRIs of the named graphs that hold at least one quad, sorted."""

    @abstractmethod
    def clear_graph(self, graph: str) -> None:
        """Remove every quad of one named graph."""

    @abstractmethod
    def count(self, graph: str | None = None) -> int:
        """Number of quads in one graph, or in the whole store."""

    def replace_graph(self, graph: str, quads: Iterable[ox.Quad]) -> None:
        """Make a named graph hold exactly the given quads (which must name that graph)."""
        self.clear_graph(graph)
        self.add(quads)

    def load_file(
        self, source: IO[bytes], rdf_format: ox.RdfFormat, *, base_iri: str | None, graph: str, large: bool = False
    ) -> None:
        """Parse and add one file inside the store, its default graph going to ``graph``: all of it or, on a
        ``SyntaxError``, nothing (only where :attr:`loads_natively`; ``large`` may pick a bulk loader)."""
        raise NotImplementedError(f"{type(self).__name__} does not parse files itself")

    def copy_from(self, source: EmbeddedStore, graph: str | None = None) -> None:
        """Add every quad of a store built in this process, or of one of its graphs, blank nodes kept."""
        self.add(source.quads(graph=graph))

    def snapshot(self, target: Path) -> None:
        """A consistent copy of an on-disk store in a new folder ``target`` (only where :attr:`path` is set)."""
        raise NotImplementedError(f"{type(self).__name__} makes no snapshots")

    def clear(self) -> None:
        """Remove every quad: the start of a rebuild from scratch (only where :attr:`path` is set: a server's
        store may hold graphs that are not kgraph's)."""
        raise NotImplementedError(f"{type(self).__name__} is not cleared as a whole")

    def flush(self) -> None:  # noqa: B027 - a no-op is right for stores that buffer nothing
        """Write everything buffered to durable storage, before a build manifest says the store is complete."""

    writes_in_place = False
    """Whether a write may be applied to this store in place and taken back before a reader sees it (see
    :meth:`writing`); a writer works on a copy of any other store and sends it the write's delta once accepted."""

    def writing(self) -> AbstractContextManager[None]:
        """Hold this process's readers off while a write is applied in place, checked, and kept or taken back; a
        no-op for a store that does not take writes in place."""
        return nullcontext()

    def reading(self) -> AbstractContextManager[None]:
        """Wait for a write under way in this process to be kept or taken back, and hold the next one off until the
        block ends: for a copy of the whole store (a fork of the query workers' parent); a no-op by default."""
        return nullcontext()

    def being_written(self) -> bool:
        """Whether another thread is applying a write in place now, so that a read started now would wait for its
        end (a caller with somewhere else to read, such as a query worker, goes there); False by default."""
        return False

    def contains(self, quad: ox.Quad) -> bool:
        """Whether the store holds the quad (in its graph: the default graph for a triple)."""
        return any(q.graph_name == quad.graph_name for q in self.quads(quad.subject, quad.predicate, quad.object))

    def graph_quads(self, graph: str | None) -> Iterator[ox.Quad]:
        """The quads of one graph, ``None`` being the default graph (for :meth:`quads`, ``None`` is every graph)."""
        if graph:
            return self.quads(graph=graph)
        return (q for q in self.quads() if isinstance(q.graph_name, ox.DefaultGraph))

    def close(self) -> None:  # noqa: B027 - a no-op is right for stores that hold nothing open
        """Release files or connections; the store is unusable afterwards."""

    def __len__(self) -> int:
        return self.count()


def named_graph(quad: ox.Quad) -> str | None:
    """The IRI of the named graph a quad is in; None for the default graph (or a blank node as graph name, which
    kgraph never makes), which has no IRI."""
    return quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else None
