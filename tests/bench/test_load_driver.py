"""The load test's driver, run for a few seconds: what bench/load.py measures must hold, whatever the figures.

Under load, with a runaway query in the middle: no normal query fails (no 5xx, no dropped connection), the runaway
query gets the time-limit status, and normal queries keep being answered while it runs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

LOAD = Path(__file__).parents[2] / "bench" / "load.py"
SECONDS = 6.0
"""Each level's length: the runaway query is sent at 3 s and stopped at 5 s, while the clients run until 6 s."""
TIME_LIMIT = 2.0


def load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", LOAD)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
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
