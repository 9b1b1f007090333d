"""A time limit on a stretch of Python code in the current thread, enforced from another thread.

The engines look at the clock as they go (:class:`kgraph.infer.budget.Budget`), but a write also runs code that
does not: pySHACL validating twenty thousand new nodes, owlrl's rule loop. The watchdog raises :class:`TimeUp` in
the writing thread when its time is up (CPython's ``PyThreadState_SetAsyncExc``: the exception arrives at the thread's
next Python instruction, so a call into pyoxigraph finishes first). It is a ``BaseException`` so that a library's
``except Exception`` cannot swallow it. The writer disarms it before journaling, so the exception can only land while
the write is still a candidate that is thrown away.
"""

from __future__ import annotations

import ctypes
import threading
import time
from types import TracebackType


class TimeUp(BaseException):
    """The watched code ran past its time limit."""


class Watchdog:
    """Raises :class:`TimeUp` in the thread that entered it once ``seconds`` have passed, unless disarmed first."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self._thread = threading.get_ident()
        self._lock = threading.Lock()
        self._armed = False
        self._fired = False
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Watchdog:
        self.started = time.monotonic()
        self._thread = threading.get_ident()
        if self.seconds is not None:
            self._armed = True
            self._timer = threading.Timer(self.seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def elapsed(self) -> float:
        """Seconds since the watchdog was entered."""
        return time.monotonic() - self.started

    def disarm(self) -> None:
        """Stop watching; raise :class:`TimeUp` here if the time ran out, whether or not it was delivered yet."""
        if self._stop():
            raise TimeUp

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop()

    def _stop(self) -> bool:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._armed = False
            fired, self._fired = self._fired, False
        if fired:  # take back an exception not delivered yet: the caller raises its own
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread), None)
        return fired

    def _fire(self) -> None:
        with self._lock:
            if self._armed:
                self._fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread), ctypes.py_object(TimeUp))
