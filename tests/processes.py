"""Processes of a server under test, found from /proc, and killed without any clean-up (the fault tests')."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from conftest import LiveServer


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the server's query zygote and workers), from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):  # a process may end while it is read
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def kill_9(server: LiveServer) -> None:
    """SIGKILL every process below the server (a query worker may die with its parent first), then the server
    itself: no clean-up of any kind."""
    for pid in descendants(server.process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.process.kill()
    server.process.wait()
