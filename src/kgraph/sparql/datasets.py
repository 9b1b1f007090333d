"""The dataset the query workers read: the in-memory store itself, or snapshots of an on-disk store.

The in-memory store is inherited by the fork, copy-on-write. An on-disk store is not copied at all: the server
takes a snapshot of it (a RocksDB checkpoint: hard links, milliseconds) and each worker opens that snapshot
read-only after it is forked. A write makes the next snapshot generation: the zygote copies the snapshot and a fresh
interpreter applies the delta (a process forked from one that ran RocksDB's threads deadlocks opening a store for
writing; opening one for reading starts no thread and works). A generation is deleted once no worker uses it.
Snapshots live in the store's folder, under ``kgraph-query/``; those of a server that died go at the next start.
Measured at 1M triples: a snapshot takes 1 ms and a worker opens it in 11 ms, where dumping the store to N-Quads
and loading the dump into the zygote took 9 s and the whole dataset in memory.
"""

from __future__ import annotations

import itertools
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from kgraph.store import EmbeddedStore, Store

SNAPSHOTS = "kgraph-query"
"""Folder, inside an on-disk store's, holding the query workers' snapshots: one folder per pool."""
_POOL_NUMBERS = itertools.count()


class Inherited:
    """A dataset the workers inherit by fork: the in-memory store itself (or a copy of another back end)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def opener(self) -> Callable[[], Store]:
        """What a new worker calls, once forked, for the store it queries: the inherited one."""
        return lambda: self.store

    def apply(self, added: bytes, removed: bytes) -> str | None:
        """Apply a write to the store the next workers inherit; the reason it failed, or None."""
        return apply_delta(self.store, added, removed)

    def adopt(self, pid: int) -> None:
        """Nothing to track: every worker shares the one store."""

    def forget(self, pid: int) -> None:
        """Nothing to release."""

    def close(self) -> None:
        """Nothing to delete."""


class Snapshots:
    """An on-disk dataset as the zygote serves it: read-only snapshot generations, one more per write."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.generation = 0
        self.users: dict[int, int] = {}
        """Worker pid -> the generation it opened."""

    @property
    def current(self) -> Path:
        """The newest generation: the one new workers open."""
        return self.folder / str(self.generation)

    def opener(self) -> Callable[[], Store]:
        """What a new worker calls, once forked, for the store it queries: the current snapshot, read-only."""
        current = self.current
        return lambda: EmbeddedStore.open_read_only(current)

    def apply(self, added: bytes, removed: bytes) -> str | None:
        """Make the next generation: a copy of this one, the delta applied by a new interpreter (never a fork)."""
        following = self.folder / str(self.generation + 1)
        _link_copy(self.current, following)
        code = f"from kgraph.sparql.datasets import apply_to_folder; apply_to_folder({str(following)!r})"
        done = subprocess.run(
            [sys.executable, "-c", code], input=pickle.dumps((added, removed)), capture_output=True, check=False
        )
        if done.returncode:
            shutil.rmtree(following, ignore_errors=True)
            problem = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["it exited"]
            return f"The write could not be applied to the query snapshot: {problem[0]}"
        self.generation += 1
        self._prune()
        return None

    def adopt(self, pid: int) -> None:
        """Note that a new worker reads the current generation."""
        self.users[pid] = self.generation

    def forget(self, pid: int) -> None:
        """A worker is gone: its generation may go too."""
        self.users.pop(pid, None)
        self._prune()

    def close(self) -> None:
        """Delete every generation: the zygote is stopping and its workers are dead."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def _prune(self) -> None:
        """Delete the generations no worker uses any more (never the current one)."""
        used = {*self.users.values(), self.generation}
        for child in self.folder.iterdir():
            if int(child.name) not in used:
                shutil.rmtree(child, ignore_errors=True)


Dataset = Inherited | Snapshots
"""The zygote's view of the dataset; the pool's commands are the same for both."""


def apply_to_folder(folder: str) -> None:
    """Apply the pickled ``(added, removed)`` N-Quads on stdin to the store in ``folder`` (a snapshot being made)."""
    added, removed = pickle.loads(sys.stdin.buffer.read())
    store = EmbeddedStore(Path(folder))
    problem = apply_delta(store, added, removed)
    store.close()
    if problem:
        raise SystemExit(problem)


def prepare(store: Store) -> Callable[[], Dataset]:
    """Prepare the dataset in the server (a snapshot of an on-disk store, a dump of another back end); the
    returned function makes the zygote's view of it, once forked."""
    if store.in_memory:
        return lambda: Inherited(store)
    if store.path is not None:
        folder = _snapshot_folder(store.path)
        store.snapshot(folder / "0")
        return lambda: Snapshots(folder)
    dump = ox.serialize(store.quads(), format=ox.RdfFormat.N_QUADS) or b""
    return lambda: Inherited(_loaded(dump))


def _snapshot_folder(store_path: Path) -> Path:
    """A new folder for one pool's snapshots; those left by servers that are gone are deleted first."""
    root = Path(store_path) / SNAPSHOTS
    root.mkdir(exist_ok=True)
    for old in root.iterdir():
        owner = old.name.partition("-")[0]
        if not owner.isdigit() or not _alive(int(owner)):
            shutil.rmtree(old, ignore_errors=True)
    folder = root / f"{os.getpid()}-{next(_POOL_NUMBERS)}"
    folder.mkdir()
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _link_copy(source: Path, target: Path) -> None:
    """Copy a RocksDB folder cheaply: its table files never change once written, so they are hard-linked."""
    target.mkdir()
    for item in source.iterdir():
        if item.name.startswith("LOG"):
            continue  # readers' information logs, renamed as they rotate
        if item.suffix == ".sst":
            os.link(item, target / item.name)
        else:
            shutil.copy2(item, target / item.name)


def _loaded(dump: bytes) -> Store:
    replica = EmbeddedStore()
    replica.add(ox.parse(dump, format=ox.RdfFormat.N_QUADS))
    return replica


def apply_delta(store: Store, added: bytes, removed: bytes) -> str | None:
    """Apply a delta to the zygote's replica; the reason it failed, or None."""
    try:
        if removed:
            store.remove(ox.parse(removed, format=ox.RdfFormat.N_QUADS))
        if added:
            store.add(ox.parse(added, format=ox.RdfFormat.N_QUADS))
    except (SyntaxError, ValueError, OSError) as error:
        return f"The write could not be applied to the query replica: {error}"
    return None
