"""One store interface, so the embedded, on-disk and remote back ends are interchangeable.

Everything above this package (loading, inference, validation, the SPARQL layer) talks to a :class:`Store` and
never to pyoxigraph or to HTTP directly. RDF terms crossing the interface are pyoxigraph terms, whatever the back end.
"""

from kgraph.store.base import QueryResult, Store
from kgraph.store.embedded import EmbeddedStore, open_store

__all__ = ["EmbeddedStore", "QueryResult", "Store", "open_store"]
