"""The processes behind the query pool: a zygote holding the dataset, and the workers it forks.

The server process forks the zygote once, while it is still single-threaded; the zygote stays
single-threaded and forks every worker, so a fork never copies a lock held by another thread.
Workers and the zygote die with their parent (``PR_SET_PDEATHSIG``, and end-of-file on their
sockets). Messages are length-prefixed pickles over Unix sockets; the zygote hands each new worker's
socket to the server as a file descriptor (``SCM_RIGHTS``).

The dataset the workers query is prepared by :mod:`kgraph.sparql.datasets` (inherited in memory, a
snapshot opened read-only on disk).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import select
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Any

from kgraph.sparql import columnar
from kgraph.sparql.datasets import Dataset, prepare
from kgraph.sparql.evaluate import evaluate
from kgraph.store import Store

_HEADER = struct.Struct("!Q")
_PR_SET_PDEATHSIG = 1
MAX_WORKERS = 250
"""Linux passes at most 253 descriptors in one message; the zygote sends all new sockets in one."""
POOL_FDS: set[int] = set()
"""Parent-side sockets of live pools; a new zygote closes them, so EOF still means death."""


def has_hung_up(sock: socket.socket) -> bool:
    """Whether an idle worker's socket is readable: that only happens once the worker exited."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLHUP)
    return bool(poller.poll(0))


PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def resident_bytes(pid: int) -> int:
    """The memory a process has resident (RSS); 0 once it is gone.

    A worker's allocations are what it adds to this after it was forked. Its private memory would also count the
    pages of the inherited dataset it merely read: pyoxigraph's in-memory store updates reference counts as a query
    walks it, so each page read becomes the worker's own copy (copy-on-write) while the resident total stays the
    same. At 1M triples an aggregate over every event copied 500 MiB that way, and the limit stopped it."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return 0


def close_socket(sock: socket.socket) -> None:
    """Close a pool socket and forget it, so later zygotes do not try to close its number."""
    POOL_FDS.discard(sock.fileno())
    sock.close()


# --- framing: a length-prefixed pickle per message, file descriptors riding on the header ---


def send(sock: socket.socket, obj: object, fds: list[int] | None = None) -> None:
    """Send one message, with file descriptors attached to its header when given."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    header = _HEADER.pack(len(data))
    if fds:
        socket.send_fds(sock, [header], fds)
    else:
        sock.sendall(header)
    sock.sendall(data)


def recv(sock: socket.socket, deadline: float | None = None) -> tuple[Any, list[int]]:
    """One message and the descriptors sent with it; EOFError if the peer is gone."""
    _set_deadline(sock, deadline)
    header, fds, _, _ = socket.recv_fds(sock, _HEADER.size, MAX_WORKERS)
    if not header:
        raise EOFError
    header += _recv_exactly(sock, _HEADER.size - len(header), deadline)
    (length,) = _HEADER.unpack(header)
    return pickle.loads(_recv_exactly(sock, length, deadline)), fds


def _recv_exactly(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        _set_deadline(sock, deadline)
        chunk = sock.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            raise EOFError
        chunks += chunk
    return bytes(chunks)


def _set_deadline(sock: socket.socket, deadline: float | None) -> None:
    if deadline is None:
        sock.settimeout(None)
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    sock.settimeout(remaining)


# --- the zygote and the workers (code below runs in child processes) ---


def start_zygote(store: Store, max_result_bytes: int) -> tuple[socket.socket, int]:
    """Fork the zygote; returns the parent's end of its control socket and its pid."""
    dataset = prepare(store)
    parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    parent_pid = os.getpid()
    pid = _fork()
    if pid:
        child_end.close()
        return parent_end, pid
    parent_end.close()
    _run_child(
        parent_pid,
        keep=child_end.fileno(),
        main=lambda: _zygote(child_end, dataset(), max_result_bytes),
    )
    raise AssertionError("unreachable")  # pragma: no cover


def _fork() -> int:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    return os.fork()


def _run_child(parent_pid: int, *, keep: int, main: Callable[[], None]) -> None:
    """Set a forked child up to die with its parent, run ``main`` and exit, never returning.

    Objects inherited from the parent are frozen out of garbage collection: a finaliser of the
    parent's (a pool's socket, say) must never run in the child and close a descriptor it reuses.
    """
    code = 1
    gc.freeze()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:
            os._exit(1)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(signum, signal.SIG_IGN if signum == signal.SIGINT else signal.SIG_DFL)
        for fd in list(POOL_FDS):
            if fd != keep:
                with contextlib.suppress(OSError):
                    os.close(fd)
        POOL_FDS.clear()
        main()
        code = 0
    finally:
        os._exit(code)


def _zygote(control: socket.socket, dataset: Dataset, max_result_bytes: int) -> None:
    """Serve the pool's commands until its control socket closes, then stop every worker.

    A command is ``(added, removed, retire, spawn)``: apply a delta (N-Quads), kill the ``retire``
    pids and fork ``spawn`` workers. The reply is ``(pids, problem)``, the new workers' sockets
    riding along; workers are forked even when the delta fails, so the pool never shrinks.
    """
    workers: set[int] = set()
    zygote_pid = os.getpid()
    while True:
        try:
            (added, removed, retire, spawn), _ = recv(control)
        except (EOFError, OSError):
            break
        for pid in retire:
            _kill(pid)
            workers.discard(pid)
            dataset.forget(pid)
        problem = dataset.apply(added, removed) if added or removed else None
        pids, fds = [], []
        for _ in range(spawn):
            pid, fd = _spawn_worker(zygote_pid, control, dataset.opener(), max_result_bytes)
            workers.add(pid)
            dataset.adopt(pid)
            pids.append(pid)
            fds.append(fd)
        send(control, (pids, problem), fds)
        for fd in fds:
            os.close(fd)
    for pid in workers:
        _kill(pid)
    dataset.close()


def _spawn_worker(
    zygote_pid: int, control: socket.socket, open_store: Callable[[], Store], max_result_bytes: int
) -> tuple[int, int]:
    """Fork one worker; returns its pid and the socket descriptor the parent will talk to it on."""
    parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid:
        child_end.close()
        return pid, parent_end.detach()
    parent_end.close()
    control.close()
    _run_child(
        zygote_pid,
        keep=child_end.fileno(),
        main=lambda: _worker(child_end, open_store(), max_result_bytes),
    )
    raise AssertionError("unreachable")  # pragma: no cover


def _kill(pid: int) -> None:
    """SIGKILL one of the zygote's workers and reap it (only now, so its pid cannot be reused)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def reap(pid: int, *, grace: float) -> None:
    """Wait for a child to exit on its own for ``grace`` seconds, then kill it."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            return
        time.sleep(0.01)
    _kill(pid)


def _worker(sock: socket.socket, store: Store, max_result_bytes: int) -> None:
    """Answer requests one at a time until the parent closes the socket: queries, or jobs (``run(store)``)."""
    while True:
        try:
            request, _ = recv(sock)
        except (EOFError, OSError):
            return
        run = getattr(request, "run", None)
        send(sock, run(store) if run else evaluate(store, request, max_result_bytes, lambda part: send(sock, part)))
        with contextlib.suppress(Exception):  # columns left unread are noted again by the next query needing them
            columnar.read_noted(store)
