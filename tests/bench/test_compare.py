"""The comparison bench runs end to end at a small size, and every peer returns the same number of rows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).parents[2]
QUERIES = ("lookup", "time-window", "group-by", "text-filter", "property-path", "multi-join", "construct")
QUERIES += ("optional-first", "filter-first")


@pytest.mark.slow
def test_compare_prints_one_table_with_agreeing_peers() -> None:
    options = ["--triples", "5000", "--rounds", "1", "--seconds", "1", "--peers", "kgraph,oxigraph,rdflib"]
    result = subprocess.run(
        [sys.executable, str(PROJECT / "bench" / "compare.py"), *options],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split(" | ") for line in result.stdout.splitlines() if line.startswith("| ")]
    assert rows[0] == ["| query", "rows", "kgraph ms", "oxigraph ms", "rdflib ms", "kgraph / fastest |"]
    assert [row[0].removeprefix("| ") for row in rows[1:]] == [
        *QUERIES,
        "geometric mean, ratio to kgraph",
        "throughput, queries/s",
        "ready after (s)",
    ]
    counts = {row[0].removeprefix("| "): row[1] for row in rows[1 : 1 + len(QUERIES)]}
    assert all(count.isdigit() and int(count) > 0 for count in counts.values()), counts
