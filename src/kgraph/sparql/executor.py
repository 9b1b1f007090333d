"""Time-limited query execution in worker processes that can be killed.

pyoxigraph has no query timeout and a thread cannot stop it, so a runaway query (a cartesian product
over the whole graph) would hold a server thread and a core for ever. Queries therefore run in
worker processes (:mod:`kgraph.sparql.processes`): the pool kills a worker that passes the time
limit and answers with :class:`QueryTimeout`, while the other workers keep answering.

A lookup of one triple pattern cannot run long and is answered in the caller's process instead
(:mod:`kgraph.sparql.inline`): the hop to a worker costs more than it does.

Writes reach the workers through :meth:`QueryPool.apply`: the zygote applies the delta to its
replica and idle workers are replaced by fresh forks; a query already running finishes on its old
snapshot.

A supervisor thread watches the processes every :data:`WATCH_SECONDS`: a worker that allocated more memory than
the pool's limit since it was forked (:func:`~kgraph.sparql.processes.resident_bytes`) is killed and its query
answered 503 (pyoxigraph has no memory limit of its own, and RLIMIT_AS cannot tell a query's allocations from the
address space the interpreter and RocksDB reserve); a dead idle worker is replaced; a dead zygote is reaped and
forked anew from the server's store (which holds every write), so the queries in flight get 503 and the later ones
are answered within about a second.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from kgraph.sparql import inline
from kgraph.sparql.errors import QueryFailed, QueryTimeout, SparqlError, rebuild
from kgraph.sparql.evaluate import QueryRequest
from kgraph.sparql.processes import (
    MAX_WORKERS,
    POOL_FDS,
    close_socket,
    has_hung_up,
    reap,
    recv,
    resident_bytes,
    send,
    start_zygote,
)
from kgraph.store import Store

_log = logging.getLogger(__name__)

__all__ = ["PoolStatus", "QueryPool", "QueryRequest", "QueryResponse", "default_memory_limit"]

WATCH_SECONDS = 0.1
"""How often the supervisor looks at the processes: a query growing by 1 GB/s passes its limit by 100 MB at most."""
MEMORY_CEILING = 384
"""The default per-worker memory limit, in MiB, is at most this."""
JOB_NICENESS = 10
"""How much lower a job's CPU priority is than the queries': building the dumps of 1M triples takes a core for about a
minute after start-up and after each write. Measured with two clients asking the group-by of ``bench/compare.py`` on
2 cores: during the build 327 ms against 201 after it at equal priority, 203 against 180 ms at this one; the build,
starved by the queries, then took 247 s instead of 57."""


def default_memory_limit(workers: int) -> int:
    """MiB a worker may use when no limit is set: a sixteenth of the machine's memory shared by the workers, at
    most :data:`MEMORY_CEILING` (384 MiB on a machine of 18 GiB or more with 3 workers)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return max(64, min(MEMORY_CEILING, total // 16 // max(1, workers)))


@dataclass(frozen=True)
class QueryResponse:
    """A serialised result, ready to send: the body and its full Content-Type (charset included)."""

    body: bytes
    media_type: str
    rest: Iterator[bytes] | None = None
    """The rest of a streamed answer (``body`` is then its start), read from the worker as the caller iterates:
    the worker stays busy, under the time and memory limits, until the last piece; None when ``body`` is all."""


@dataclass(frozen=True)
class PoolStatus:
    """A snapshot of the pool: the worker pids (idle or busy) and how many are idle."""

    pids: tuple[int, ...]
    idle: int


@dataclass(eq=False)
class _Worker:
    """The parent's handle on a worker: pid, socket and the dataset version it was forked at."""

    pid: int
    sock: socket.socket
    generation: int
    epoch: int = 0
    """Which zygote forked it: a worker of a dead zygote is never handed out again."""
    over_memory: bool = False
    """Set by the supervisor when it killed the worker for its memory."""
    resident_at_start: int = 0
    """Its resident bytes when it was forked: what it allocates since is held against the memory limit."""


class QueryPool:
    """Worker processes that evaluate queries with a time limit; thread-safe.

    Create it while the process is still single-threaded, from the thread that lives as long as the
    server (the main thread): the zygote is killed when that thread ends (``PR_SET_PDEATHSIG``).
    ``run()`` waits up to ``timeout`` for an idle worker, then up to ``timeout`` for the answer.
    """

    def __init__(
        self,
        store: Store,
        *,
        workers: int,
        timeout: float,
        max_result_bytes: int,
        memory_limit: int | None = None,
        source: Callable[[], Store] | None = None,
    ) -> None:
        if not 1 <= workers <= MAX_WORKERS:
            raise ValueError(f"workers must be between 1 and {MAX_WORKERS}, not {workers}")
        self.timeout = timeout
        self.max_result_bytes = max_result_bytes
        self.workers = workers
        self.memory_limit = memory_limit or default_memory_limit(workers)
        """MiB a worker may allocate since it was forked, while it answers a query."""
        self._source = source or (lambda: store)
        """The store a new zygote is forked over: the server's current one, which a write may have replaced."""
        self._cond = threading.Condition()
        self._zygote_lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._pids: set[int] = set()
        self._generation = 0
        self._epoch = 0
        self._closed = False
        self._stopped = threading.Event()
        self.restarts = 0
        """Workers replaced after a timeout or a crash, for /metrics."""
        self._control, self._zygote_pid = start_zygote(store, max_result_bytes)
        POOL_FDS.add(self._control.fileno())
        # Runs on close(), on garbage collection or at exit, whichever comes first: no orphans.
        self._shutdown = weakref.finalize(self, _shutdown, self._box())
        self._idle.extend(self._ask_zygote(spawn=workers))
        self._supervisor = threading.Thread(
            target=_supervise, args=(weakref.ref(self), self._stopped), name="kgraph-pool-supervisor", daemon=True
        )
        self._supervisor.start()

    def _box(self) -> list:
        """The state the finaliser needs, in a list the pool updates when it replaces its zygote."""
        self._state = [self._control, self._zygote_pid, self._idle]
        return self._state

    def run(self, request: QueryRequest) -> QueryResponse:
        """Evaluate one query in a worker, within the time limit; raises a SparqlError subclass.

        A lookup small enough to need no time limit is answered in this process (:mod:`kgraph.sparql.inline`). A
        query whose worker died with the zygote (killed from outside) is run once more on the new zygote's workers:
        the query was not at fault, and queries change nothing."""
        store = self._source()
        if inline.is_lookup(request.sparql) and not store.being_written():
            reply = inline.answer(store, request, self.max_result_bytes)
            if reply is not None:
                return QueryResponse(body=reply[1], media_type=reply[2])
        return self._run(request, retried=False)

    def _run(self, request: QueryRequest, *, retried: bool) -> QueryResponse:
        worker = self._checkout_alive()
        deadline = time.monotonic() + self.timeout
        try:
            reply = _exchange(worker.sock, request, self.timeout)
        except TimeoutError:
            self.restarts += 1
            self._replace(worker)
            raise QueryTimeout.after(self.timeout) from None
        except (EOFError, OSError):
            self.restarts += 1
            orphaned = worker.epoch != self._epoch or has_hung_up(self._control)
            self._replace(worker)
            if orphaned and not worker.over_memory and not retried:
                return self._run(request, retried=True)
            if worker.over_memory:
                raise QueryFailed(
                    f"Query stopped: it needed more than {self.memory_limit} MiB; add LIMIT or narrow it.",
                    status=503,
                ) from None
            raise QueryFailed(
                "The query worker stopped unexpectedly; the query was not answered. Try again.",
                status=503,
            ) from None
        if reply[0] == "head":
            return QueryResponse(body=reply[2], media_type=reply[1], rest=_Stream(self, worker, deadline))
        self._checkin(worker)
        if reply[0] == "error":
            raise rebuild(*reply[1:])
        return QueryResponse(body=reply[1], media_type=reply[2])

    def run_job(self, job: object, timeout: float) -> object:
        """Run a long job (an object with ``run(store)``, such as building the dumps) in a worker of its own, forked
        for it and killed after, at a lower CPU priority (:data:`JOB_NICENESS`), so the query workers stay free and
        come first for the cores; its reply, or QueryFailed if the worker died."""
        with self._zygote_lock:
            [worker] = self._ask_zygote_locked(spawn=1)
        try:
            os.setpriority(os.PRIO_PROCESS, worker.pid, os.getpriority(os.PRIO_PROCESS, 0) + JOB_NICENESS)
            reply = _exchange(worker.sock, job, timeout)
        except (TimeoutError, EOFError, OSError):
            raise QueryFailed("The job's worker stopped before it finished.", status=503) from None
        finally:
            close_socket(worker.sock)
            with self._zygote_lock:
                retire = [worker] if worker.epoch == self._epoch else []
                self._ask_zygote_locked(retire=retire, spawn=0)
        return reply

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
        self._stopped.set()
        if self._supervisor.is_alive() and self._supervisor is not threading.current_thread():
            self._supervisor.join(timeout=5)
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
        """An idle worker that has not died while idle (one that has is replaced first, and the other idle ones
        looked at: what killed one, the kernel's OOM killer say, may have killed more)."""
        while True:
            worker = self._checkout()
            if worker.epoch == self._epoch and not has_hung_up(worker.sock):
                return worker
            self._replace(worker)
            self._replace_dead_idle()

    # --- the supervisor: memory, dead workers, a dead zygote ---

    def _watch(self) -> None:
        """One round of the supervisor's watch."""
        self._watch_memory()
        self._restart_zygote_if_dead()
        self._replace_dead_idle()

    def _watch_memory(self) -> None:
        """Kill a busy worker that allocated more than the limit since it was forked; its query is answered 503."""
        with self._cond:
            busy = list(self._busy)
        for worker in busy:
            if resident_bytes(worker.pid) - worker.resident_at_start > self.memory_limit * 2**20:
                worker.over_memory = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, 9)

    def _restart_zygote_if_dead(self) -> None:
        """Reap a dead zygote (no zombie) and fork a new one from the server's store, with a full set of workers."""
        try:
            done, _ = os.waitpid(self._zygote_pid, os.WNOHANG)
        except ChildProcessError:
            done = self._zygote_pid
        if not done or self._closed:
            return
        _log.warning("kgraph: the query workers' parent (pid %d) died; starting a new one", self._zygote_pid)
        self.restarts += 1
        with self._zygote_lock:
            with self._cond:
                orphans = list(self._idle)
                self._idle.clear()
                busy = len(self._busy)
                self._pids.clear()
                self._epoch += 1
            for worker in orphans:
                close_socket(worker.sock)
            close_socket(self._control)
            source = self._source()
            with source.reading():  # never a fork of a store a write is half-way through
                self._control, self._zygote_pid = start_zygote(source, self.max_result_bytes)
            POOL_FDS.add(self._control.fileno())
            self._state[:2] = [self._control, self._zygote_pid]
            self._add_idle(self._ask_zygote_locked(spawn=max(1, self.workers - busy)))

    def _replace_dead_idle(self) -> None:
        """Replace the idle workers that died (killed from outside, out of memory) before a query finds them."""
        with self._cond:
            dead = [worker for worker in self._idle if has_hung_up(worker.sock)]
            for worker in dead:
                self._idle.remove(worker)
        self.restarts += len(dead)
        for worker in dead:
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
            # The worker used last: it has already copied (copy-on-write) the pages of the inherited store
            # that queries read and memoised the planner's counts, which a worker pays for once, the first
            # time (1-2 s for an aggregate over 1M triples); the others' pages stay shared.
            worker = self._idle.pop()
            self._busy.add(worker)
            return worker

    def _checkin(self, worker: _Worker) -> None:
        """Return a worker after a query; one forked before the last write is replaced instead."""
        with self._cond:
            self._busy.discard(worker)
            if worker.generation == self._generation and worker.epoch == self._epoch and not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
        self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker (timed out, dead or stale) and put a fresh fork in its place."""
        with self._cond:
            self._busy.discard(worker)
        close_socket(worker.sock)
        with self._zygote_lock:
            retire = [worker] if worker.epoch == self._epoch else []
            if not retire:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, 9)  # a worker of the dead zygote: already gone, or going
            elif has_hung_up(self._control):
                return  # the zygote is dead: the supervisor forks a new one with a full set of workers
            self._add_idle(self._ask_zygote_locked(retire=retire, spawn=1))

    def _add_idle(self, workers: list[_Worker]) -> None:
        with self._cond:
            self._idle.extend(workers)
            self._cond.notify_all()

    def _ask_zygote(self, **command: Any) -> list[_Worker]:
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
            sock = socket.socket(fileno=fd)
            workers.append(_Worker(pid, sock, self._generation, self._epoch, resident_at_start=resident_bytes(pid)))
        with self._cond:
            self._pids.update(pids)
        if problem:
            self._add_idle(workers)
            raise SparqlError(problem, status=500)
        return workers


class _Stream(Iterator[bytes]):
    """The pieces of a streamed answer as the worker sends them, within the query's time limit. The worker goes back
    to the pool after the last piece, and is replaced when the stream stops early (timeout, error, or ``close()``
    before the end: the client went away, WSGI closes every response)."""

    def __init__(self, pool: QueryPool, worker: _Worker, deadline: float) -> None:
        self.pool = pool
        self.worker = worker
        self.deadline = deadline
        self.done = False

    def __next__(self) -> bytes:
        if self.done:
            raise StopIteration
        try:
            message, _ = recv(self.worker.sock, deadline=self.deadline)
        except TimeoutError:
            self._abandon()
            raise QueryTimeout.after(self.pool.timeout) from None
        except (EOFError, OSError):
            self._abandon()
            raise QueryFailed("The query worker stopped while it sent the answer.", status=503) from None
        if message[0] == "chunk":
            return message[1]
        self.done = True
        self.pool._checkin(self.worker)
        if message[0] == "error":
            raise rebuild(*message[1:])
        raise StopIteration

    def close(self) -> None:
        """Stop early: the worker, still sending, is replaced."""
        if not self.done:
            self._abandon()

    def _abandon(self) -> None:
        self.done = True
        self.pool.restarts += 1
        self.pool._replace(self.worker)


def _supervise(pool_ref: weakref.ref[QueryPool], stopped: threading.Event) -> None:
    """Watch a pool's processes until it closes or is collected (the thread holds it only weakly)."""
    while not stopped.wait(WATCH_SECONDS):
        pool = pool_ref()
        if pool is None:
            return
        try:
            pool._watch()
        except Exception:  # the watch must go on; the next round retries
            _log.exception("query pool supervisor")
        del pool


def _shutdown(state: list) -> None:
    """Close the idle workers' sockets and the zygote's; the zygote then kills every worker."""
    control, zygote_pid, idle = state
    for worker in idle:
        close_socket(worker.sock)
    idle.clear()
    close_socket(control)
    reap(zygote_pid, grace=5.0)


def _exchange(sock: socket.socket, request: object, timeout: float) -> tuple:
    """Send a request to a worker and await its reply; TimeoutError once ``timeout`` has passed."""
    sock.settimeout(timeout)
    send(sock, request)
    deadline = time.monotonic() + timeout
    reply, _ = recv(sock, deadline=deadline)
    return reply
