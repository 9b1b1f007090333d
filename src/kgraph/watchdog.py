"""A time limit on a stretch of Python code in the current thread, enforced from another thread.

The engines look at the clock as they go (:class:`kgraph.infer.budget.Budget`), but a write also runs code that
does not: pySHACL validating twenty thousand new nodes, owlrl's rule loop. The watchdog raises :class:`TimeUp` in
the writing thread when its time is up (CPython's ``PyThreadState_SetAsyncExc``: the exception arrives at the thread's
next Python instruction, so a call into pyoxigraph finishes first). It is a ``BaseException`` so that a library's
``except Exception`` cannot swallow it. The writer disarms it before journaling, so the exception can only land while
the write is still a candidate that is thrown away.

Where the exception lands is up to the interpreter: in a garbage-collector callback or a ``__del__`` it is swallowed
("Exception ignored in ...") and the thread runs on. So the watchdog sends it again every ``RESEND_SECONDS`` until the
thread leaves the watched stretch, and while it is armed keeps those swallowed copies out of the unraisable log.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from types import TracebackType

RESEND_SECONDS = 0.1


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
        self._forward = sys.unraisablehook

    def __enter__(self) -> Watchdog:
        self.started = time.monotonic()
        self._thread = threading.get_ident()
        if self.seconds is not None:
            self._armed = True
            self._forward = sys.unraisablehook
            sys.unraisablehook = self._unraisable
            self._schedule(self.seconds)
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

    def _schedule(self, seconds: float) -> None:
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _stop(self) -> bool:
        """Stop watching, in the watched thread; whether the time ran out. A :class:`TimeUp` that lands while it
        stops (the timer sends one again every ``RESEND_SECONDS``) only says so: stopping then starts over, so that
        the watchdog is never left armed, sending to a thread that has left the stretch."""
        landed = False
        while True:
            try:
                return self._stop_once() or landed
            except TimeUp:
                landed = True

    def _stop_once(self) -> bool:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._armed = False
            fired, self._fired = self._fired, False
        if sys.unraisablehook == self._unraisable:
            sys.unraisablehook = self._forward
        if fired:
            _landing()  # an exception sent and not landed yet lands here, caught by _stop: the caller raises its own
        return fired

    def _fire(self) -> None:
        with self._lock:
            if self._armed:
                self._fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread), ctypes.py_object(TimeUp))
                self._schedule(RESEND_SECONDS)  # in case it lands where it is swallowed

    def _unraisable(self, unraisable: sys.UnraisableHookArgs) -> None:
        """Drop a :class:`TimeUp` swallowed where it landed (it is sent again); pass anything else on."""
        if unraisable.exc_type is not TimeUp:
            self._forward(unraisable)


def _landing() -> None:
    """A Python call, at the start of which an asynchronous exception sent to this thread and not landed yet lands.
    Letting it land is the only way to take it back: ``PyThreadState_SetAsyncExc(thread, NULL)`` clears the thread's
    exception but, in CPython 3.11, leaves the interpreter's flag saying one is pending set for good, and every
    thread then checks for it at every call and loop from then on (a test process after a write past its time limit
    was found running a traced Hypothesis test for 25 minutes instead of 18 seconds)."""
