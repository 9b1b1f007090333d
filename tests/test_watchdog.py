"""The watchdog stops a stretch of pure Python code in its thread, and never fires once disarmed."""

from __future__ import annotations

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
