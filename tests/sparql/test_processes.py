"""Tests of ``kgraph.sparql.processes``: the message framing over Unix sockets (descriptors included), the helpers
that watch and reap children, and a real zygote forking a worker that answers a query and a job."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from kgraph.sparql import processes
from kgraph.sparql.evaluate import QueryRequest
from kgraph.store import EmbeddedStore, Store


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    yield left, right
    left.close()
    right.close()


def test_a_message_arrives_whole_and_in_order(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    big = b"x" * (3 << 20)  # more than the socket buffer: the reader must gather it in pieces
    sender = threading.Thread(target=lambda: (processes.send(left, ("first", 1)), processes.send(left, {"body": big})))
    sender.start()
    assert processes.recv(right) == (("first", 1), [])
    message, fds = processes.recv(right, deadline=time.monotonic() + 10)
    sender.join()
    assert (message == {"body": big}, fds) == (True, [])


def test_descriptors_ride_along_with_a_message(pair: tuple[socket.socket, socket.socket], tmp_path) -> None:
    left, right = pair
    path = tmp_path / "shared.txt"
    path.write_text("sent over a socket")
    fd = os.open(path, os.O_RDONLY)
    try:
        processes.send(left, "here", [fd])
    finally:
        os.close(fd)
    message, [received] = processes.recv(right)
    with os.fdopen(received) as shared:
        assert (message, shared.read()) == ("here", "sent over a socket")


def test_a_closed_peer_is_eof(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    left.close()
    with pytest.raises(EOFError):
        processes.recv(right)


def test_a_peer_that_stops_mid_message_is_eof(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    left.sendall(processes._HEADER.pack(100) + b"only part")
    left.close()
    with pytest.raises(EOFError):
        processes.recv(right)


def test_a_deadline_bounds_the_wait(pair: tuple[socket.socket, socket.socket]) -> None:
    _, right = pair
    with pytest.raises(TimeoutError):
        processes.recv(right, deadline=time.monotonic() + 0.05)
    with pytest.raises(TimeoutError):
        processes.recv(right, deadline=time.monotonic() - 1)


def test_an_idle_peer_has_not_hung_up_until_it_closes(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    assert processes.has_hung_up(right) is False
    left.close()
    assert processes.has_hung_up(right) is True


def test_close_socket_forgets_the_descriptor(pair: tuple[socket.socket, socket.socket]) -> None:
    left, _ = pair
    processes.POOL_FDS.add(left.fileno())
    number = left.fileno()
    processes.close_socket(left)
    assert number not in processes.POOL_FDS
    assert left.fileno() == -1


def test_resident_bytes_grow_with_an_allocation_and_are_zero_for_no_process() -> None:
    before = processes.resident_bytes(os.getpid())
    block = bytearray(64 << 20)
    block[:: processes.PAGE_BYTES] = b"\x01" * len(block[:: processes.PAGE_BYTES])
    assert processes.resident_bytes(os.getpid()) - before >= 64 << 20
    assert processes.resident_bytes(2**22 + 1) == 0


def test_reap_waits_for_a_child_that_exits_and_kills_one_that_lingers() -> None:
    quick = os.fork()
    if quick == 0:
        os._exit(0)
    processes.reap(quick, grace=5)
    with pytest.raises(ChildProcessError):
        os.waitpid(quick, os.WNOHANG)
    slow = os.fork()
    if slow == 0:
        time.sleep(60)
        os._exit(0)
    started = time.monotonic()
    processes.reap(slow, grace=0.1)
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(slow, os.WNOHANG)


class CountJob:
    """A job a worker runs with its store instead of a query."""

    def run(self, store: Store) -> tuple[str, int]:
        return "counted", len(store)


def test_a_zygote_forks_workers_that_answer_queries_and_jobs() -> None:
    store = EmbeddedStore()
    store.add([ox.Quad(ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p"), ox.Literal("1"))])
    control, zygote = processes.start_zygote(store, max_result_bytes=1 << 20)
    try:
        processes.send(control, (b"", b"", [], 2))
        (pids, problem), fds = processes.recv(control, deadline=time.monotonic() + 30)
        assert (len(pids), len(fds), problem) == (2, 2, None)
        worker = socket.socket(fileno=fds[0])
        processes.send(worker, QueryRequest("SELECT ?o WHERE { ?s ?p ?o }", accept="text/csv"))
        reply, _ = processes.recv(worker, deadline=time.monotonic() + 30)
        assert reply[0] == "ok"
        assert reply[1] == b"o\r\n1\r\n"
        processes.send(worker, CountJob())
        assert processes.recv(worker, deadline=time.monotonic() + 30)[0] == ("counted", 1)
        processes.send(control, (b"", b"", [pids[0]], 0))
        assert processes.recv(control, deadline=time.monotonic() + 30)[0] == ([], None)
        assert processes.has_hung_up(worker) is True
        worker.close()
        os.close(fds[1])
    finally:
        control.close()
        processes.reap(zygote, grace=10)
    with pytest.raises(ChildProcessError):
        os.waitpid(zygote, os.WNOHANG)


def test_the_serving_modules_leave_the_process_single_threaded_for_the_zygote_fork() -> None:
    """numpy (the columns) starts an OpenBLAS thread at import unless told not to; the fork needs one thread."""
    code = (
        "import os, kgraph.web.server, kgraph.sparql.executor, kgraph.sparql.evaluate, numpy\n"
        "print(len(os.listdir('/proc/self/task')))"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}  # even when the environment asks for more
    threads = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert threads.stdout == "1\n"
