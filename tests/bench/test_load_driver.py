"""The load test's driver, run for a few seconds: what bench/load.py measures must hold, whatever the figures.

Under load, with a runaway query in the middle: no normal query fails (no 5xx, no dropped connection), the runaway
query gets the time-limit status, and normal queries keep being answered while it runs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

LOAD = Path(__file__).parents[2] / "bench" / "load.py"
SECONDS = 6.0
"""Each level's length: the runaway query is sent at 3 s and stopped at 5 s, while the clients run until 6 s."""
TIME_LIMIT = 2.0


def load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("load", LOAD)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["load"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_load_with_a_runaway_query_keeps_answering() -> None:
    bench = load_module()
    server, url = bench.start_server(TIME_LIMIT)
    try:
        rows = [bench.run_level(url, clients, SECONDS) for clients in (1, 4)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    for row in rows:
        assert row["errors"] == {}, row
        assert row["runaway"]["status"] == 503, row
        assert row["during_runaway"] > 0, row


@pytest.mark.slow
def test_attacks_leave_the_probe_answered() -> None:
    """bench/load.py --attacks, briefly: during slow sockets, 1 MB queries and the SIGKILL of the workers' parent, the
    probe gets no error (no 5xx, no dropped connection) and the attackers get their documented statuses."""
    load_module()  # puts bench/load.py where bench/attacks.py imports it from
    spec = importlib.util.spec_from_file_location("attacks", LOAD.with_name("attacks.py"))
    assert spec and spec.loader
    attacks = importlib.util.module_from_spec(spec)
    sys.modules["attacks"] = attacks  # its dataclass looks itself up there
    spec.loader.exec_module(attacks)
    server, url = attacks.start_server(TIME_LIMIT)
    try:
        sockets = attacks._measure("sockets", url, server.pid, 4.0, attacks._sockets)
        big = attacks._measure("big", url, server.pid, 4.0, attacks._big_queries)
        killed = attacks._measure("kill", url, server.pid, 6.0, attacks._kill_zygote)
    finally:
        server.terminate()
        server.wait(timeout=30)
    for outcome in (sockets, big, killed):
        assert outcome.probe_errors == {}, outcome
        assert outcome.latencies, outcome
    assert set(big.attack_results) == {"413"}, big
    assert killed.attack_results["SIGKILL"] == 1, killed
