"""The interface every back end implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext

import pyoxigraph as ox

QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples
"""What a query returns: solutions (SELECT), a boolean (ASK) or triples (CONSTRUCT, DESCRIBE)."""

Term = ox.NamedNode | ox.BlankNode | ox.Literal


class Store(ABC):
    """An RDF dataset that can be queried, updated and enumerated.

    Graph names are plain IRI strings at this interface; ``None`` as a graph means the default graph.
    """

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

    writes_in_place = False
    """Whether a write may be applied to this store in place and taken back before a reader sees it (see
    :meth:`writing`); a writer works on a copy of any other store and sends it the write's delta once accepted."""

    def writing(self) -> AbstractContextManager[None]:
        """Hold this process's readers off while a write is applied in place, checked, and kept or taken back; a
        no-op for a store that does not take writes in place."""
        return nullcontext()

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
