"""Time-limited query execution in worker processes that can be killed.

pyoxigraph has no query timeout and a thread cannot stop it, so a runaway query (a cartesian product
over the whole graph) would hold a server thread and a core for ever. Queries therefore run in
worker processes (:mod:`kgraph.sparql.processes`): the pool kills a worker that passes the time
limit and answers with :class:`QueryTimeout`, while the other workers keep answering.

Writes reach the workers through :meth:`QueryPool.apply`: the zygote applies the delta to its
replica and idle workers are replaced by fresh forks; a query already running finishes on its old
snapshot. A zygote that dies (out of memory) leaves the pool answering 503 until restart.
"""

from __future__ import annotations

import socket
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from kgraph.sparql.errors import QueryFailed, QueryTimeout, SparqlError, rebuild
from kgraph.sparql.evaluate import QueryRequest
from kgraph.sparql.processes import (
    MAX_WORKERS,
    POOL_FDS,
    close_socket,
    has_hung_up,
    reap,
    recv,
    send,
    start_zygote,
)
from kgraph.store import Store

__all__ = ["PoolStatus", "QueryPool", "QueryRequest", "QueryResponse"]


@dataclass(frozen=True)
class QueryResponse:
    """A serialised result, ready to send: the body and its full Content-Type (charset included)."""

    body: bytes
    media_type: str


@dataclass(frozen=True)
class PoolStatus:
    """A snapshot of the pool: the worker pids (idle or busy) and how many are idle."""

    pids: tuple[int, ...]
    idle: int


@dataclass
class _Worker:
    """The parent's handle on a worker: pid, socket and the dataset version it was forked at."""

    pid: int
    sock: socket.socket
    generation: int


class QueryPool:
    """Worker processes that evaluate queries with a time limit; thread-safe.

    Create it while the process is still single-threaded, from the thread that lives as long as the
    server (the main thread): the zygote is killed when that thread ends (``PR_SET_PDEATHSIG``).
    ``run()`` waits up to ``timeout`` for an idle worker, then up to ``timeout`` for the answer.
    """

    def __init__(self, store: Store, *, workers: int, timeout: float, max_result_bytes: int) -> None:
        if not 1 <= workers <= MAX_WORKERS:
            raise ValueError(f"workers must be between 1 and {MAX_WORKERS}, not {workers}")
        self.timeout = timeout
        self.max_result_bytes = max_result_bytes
        self._cond = threading.Condition()
        self._zygote_lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._pids: set[int] = set()
        self._generation = 0
        self._closed = False
        self.restarts = 0
        """Workers replaced after a timeout or a crash, for /metrics."""
        self._control, self._zygote_pid = start_zygote(store, max_result_bytes)
        POOL_FDS.add(self._control.fileno())
        # Runs on close(), on garbage collection or at exit, whichever comes first: no orphans.
        self._shutdown = weakref.finalize(self, _shutdown, self._control, self._zygote_pid, self._idle)
        self._idle.extend(self._ask_zygote(spawn=workers))

    def run(self, request: QueryRequest) -> QueryResponse:
        """Evaluate one query in a worker, within the time limit; raises a SparqlError subclass."""
        worker = self._checkout_alive()
        try:
            reply = _exchange(worker.sock, request, self.timeout)
        except TimeoutError:
            self.restarts += 1
            self._replace(worker)
            raise QueryTimeout.after(self.timeout) from None
        except (EOFError, OSError):
            self.restarts += 1
            self._replace(worker)
            raise QueryFailed(
                "The query worker stopped unexpectedly (it may have run out of memory); the query was not answered.",
                status=503,
            ) from None
        self._checkin(worker)
        if reply[0] == "error":
            raise rebuild(*reply[1:])
        return QueryResponse(body=reply[1], media_type=reply[2])

    def apply(self, added: Iterable[ox.Quad], removed: Iterable[ox.Quad]) -> None:
        """Make a write visible to later queries: update the replica, refresh the idle workers."""
        added_nq = ox.serialize(added, format=ox.RdfFormat.N_QUADS) or b""
        removed_nq = ox.serialize(removed, format=ox.RdfFormat.N_QUADS) or b""
        with self._zygote_lock:
            with self._cond:
                stale = list(self._idle)
                self._idle.clear()
                self._generation += 1
            for worker in stale:
                close_socket(worker.sock)
            fresh = self._ask_zygote_locked(added=added_nq, removed=removed_nq, retire=stale, spawn=len(stale))
            self._add_idle(fresh)

    def close(self) -> None:
        """Stop the zygote and every worker; the pool answers nothing afterwards."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        with self._zygote_lock:
            self._shutdown()

    def __enter__(self) -> QueryPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def status(self) -> PoolStatus:
        """The worker processes and how many are idle, for monitoring (and for tests)."""
        with self._cond:
            return PoolStatus(pids=tuple(sorted(self._pids)), idle=len(self._idle))

    def _checkout_alive(self) -> _Worker:
        """An idle worker that has not died while idle (one that has is replaced first)."""
        while True:
            worker = self._checkout()
            if not has_hung_up(worker.sock):
                return worker
            self._replace(worker)

    def _checkout(self) -> _Worker:
        """An idle worker, waiting (up to the time limit) while all are busy."""
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while not self._idle:
                remaining = deadline - time.monotonic()
                if self._closed:
                    raise SparqlError("The query service is shutting down.", status=503)
                if remaining <= 0:
                    raise QueryTimeout(
                        f"No query worker became free within {self.timeout:g} s: the server is busy; try again later."
                    )
                self._cond.wait(remaining)
            return self._idle.pop(0)  # oldest first: spreads the load, finds dead idle ones

    def _checkin(self, worker: _Worker) -> None:
        """Return a worker after a query; one forked before the last write is replaced instead."""
        with self._cond:
            if worker.generation == self._generation and not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
        self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker (timed out, dead or stale) and put a fresh fork in its place."""
        close_socket(worker.sock)
        with self._zygote_lock:
            self._add_idle(self._ask_zygote_locked(retire=[worker], spawn=1))

    def _add_idle(self, workers: list[_Worker]) -> None:
        with self._cond:
            self._idle.extend(workers)
            self._cond.notify_all()

    def _ask_zygote(self, **command: object) -> list[_Worker]:
        with self._zygote_lock:
            return self._ask_zygote_locked(**command)

    def _ask_zygote_locked(
        self,
        *,
        added: bytes = b"",
        removed: bytes = b"",
        retire: Iterable[_Worker] = (),
        spawn: int = 0,
    ) -> list[_Worker]:
        """Send the zygote a command (apply a delta, kill, fork); adopt the new workers."""
        if self._closed:
            return []
        retire_pids = [worker.pid for worker in retire]
        with self._cond:
            self._pids.difference_update(retire_pids)
        try:
            send(self._control, (added, removed, retire_pids, spawn))
            reply, fds = recv(self._control)
        except (EOFError, OSError):
            raise QueryFailed("The query service is down; restart the server.", status=503) from None
        pids, problem = reply
        workers = []
        for pid, fd in zip(pids, fds, strict=True):
            POOL_FDS.add(fd)
            workers.append(_Worker(pid, socket.socket(fileno=fd), self._generation))
        with self._cond:
            self._pids.update(pids)
        if problem:
            self._add_idle(workers)
            raise SparqlError(problem, status=500)
        return workers


def _shutdown(control: socket.socket, zygote_pid: int, idle: list[_Worker]) -> None:
    """Close the idle workers' sockets and the zygote's; the zygote then kills every worker."""
    for worker in idle:
        close_socket(worker.sock)
    idle.clear()
    close_socket(control)
    reap(zygote_pid, grace=5.0)


def _exchange(sock: socket.socket, request: QueryRequest, timeout: float) -> tuple:
    """Send a request to a worker and await its reply; TimeoutError once ``timeout`` has passed."""
    sock.settimeout(timeout)
    send(sock, request)
    deadline = time.monotonic() + timeout
    reply, _ = recv(sock, deadline=deadline)
    return reply
