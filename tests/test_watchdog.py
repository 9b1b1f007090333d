"""The watchdog stops a stretch of pure Python code in its thread, and never fires once disarmed."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from kgraph.watchdog import TimeUp, Watchdog


def test_a_busy_loop_is_stopped_when_its_time_is_up() -> None:
    with pytest.raises(TimeUp), Watchdog(0.1) as watchdog:
        while True:
            sum(range(1000))
    assert watchdog.elapsed() >= 0.1  # not before its time


def test_the_exception_is_not_swallowed_by_except_exception() -> None:
    swallowed = []
    with pytest.raises(TimeUp), Watchdog(0.1):
        while True:
            try:
                sum(range(1000))
            except Exception as error:  # what a library might do
                swallowed.append(error)
    assert swallowed == []


def test_disarmed_in_time_it_never_fires() -> None:
    with Watchdog(0.2) as watchdog:
        watchdog.disarm()
        deadline = time.monotonic() + 0.4
        while time.monotonic() < deadline:
            sum(range(1000))


def test_past_its_time_nothing_after_disarm_runs() -> None:
    reached = []
    with pytest.raises(TimeUp), Watchdog(0.05) as watchdog:
        time.sleep(0.2)  # a call that does not return to Python in time (as pyoxigraph's): TimeUp comes right after
        watchdog.disarm()
        reached.append("committed")
    assert reached == []


class _SlowToCollect:
    """An object whose ``__del__`` is still running when the time is up: the interpreter swallows what lands there."""

    def __del__(self) -> None:
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            sum(range(1000))


def test_an_exception_swallowed_in_a_finalizer_is_sent_again_and_not_logged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logged: list[type[BaseException] | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: logged.append(unraisable.exc_type))
    after_finalizer = []
    with pytest.raises(TimeUp), Watchdog(0.05):
        _SlowToCollect()  # collected at once; TimeUp lands in its __del__ and is swallowed there
        after_finalizer.append("ran on")
        give_up = time.monotonic() + 5  # without a second delivery the loop would never stop
        while time.monotonic() < give_up:
            sum(range(1000))
    assert after_finalizer == ["ran on"]
    assert logged == []
    assert sys.unraisablehook is not None and sys.unraisablehook.__name__ == "<lambda>"  # the hook is given back


def test_other_unraisable_exceptions_still_reach_the_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    logged: list[type[BaseException] | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: logged.append(unraisable.exc_type))

    class Broken:
        def __del__(self) -> None:
            raise ValueError("broken finalizer")

    with Watchdog(5) as watchdog:
        Broken()
        watchdog.disarm()
    assert logged == [ValueError]


def test_a_time_up_landing_while_it_stops_still_stops_it(monkeypatch: pytest.MonkeyPatch) -> None:
    cancel = threading.Timer.cancel
    stopping: list[threading.Timer] = []

    def interrupted(timer: threading.Timer) -> None:
        stopping.append(timer)
        if len(stopping) == 1:
            raise TimeUp  # as a resent exception landing right there would
        cancel(timer)

    monkeypatch.setattr(threading.Timer, "cancel", interrupted)
    with Watchdog(0.2):
        pass
    assert len(stopping) == 2  # stopped again after the landing
    deadline = time.monotonic() + 0.5  # past the time limit, and several resends
    while time.monotonic() < deadline:
        sum(range(1000))


def test_a_time_up_landing_while_it_is_disarmed_is_raised_by_disarm(monkeypatch: pytest.MonkeyPatch) -> None:
    cancel = threading.Timer.cancel
    landed = []

    def interrupted(timer: threading.Timer) -> None:
        if not landed:
            landed.append(timer)
            raise TimeUp
        cancel(timer)

    monkeypatch.setattr(threading.Timer, "cancel", interrupted)
    with pytest.raises(TimeUp), Watchdog(0.2) as watchdog:
        watchdog.disarm()
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        sum(range(1000))
