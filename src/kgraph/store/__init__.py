"""One store interface, so the embedded, on-disk and remote back ends are interchangeable.

Everything above this package (loading, inference, validation, the SPARQL layer) talks to a :class:`Store` and
never to pyoxigraph or to HTTP directly. RDF terms crossing the interface are pyoxigraph terms, whatever the back end.
"""

from pathlib import Path

from kgraph.config import Settings
from kgraph.store.base import QueryResult, Store
from kgraph.store.embedded import EmbeddedStore
from kgraph.store.remote import RemoteStore, RemoteStoreError

__all__ = ["EmbeddedStore", "QueryResult", "RemoteStore", "RemoteStoreError", "Store", "open_store"]


def open_store(location: str | None, *, timeout: float | None = None) -> Store:
    """The store named by the ``--store`` setting: empty for in-memory, a folder for on-disk, a URL for a remote
    SPARQL 1.1 store (``timeout`` bounds each of its HTTP requests; the ``--timeout`` default when None)."""
    if not location:
        return EmbeddedStore()
    if location.startswith(("http://", "https://")):
        return RemoteStore(location, timeout=timeout or Settings.timeout)
    return EmbeddedStore(Path(location))
