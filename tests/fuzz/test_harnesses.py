"""Run each atheris harness of ``fuzz/`` briefly, so CI exercises them and keeps them working.

A harness that finds a crash exits non-zero and prints the input; the input then becomes a
regression test here or in the hypothesis suites.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import LONG

HARNESSES = Path(__file__).parents[2] / "fuzz"
RUNS = 200_000 if LONG else 2_000


@pytest.mark.parametrize("harness", ["protocol", "guard", "accept", "loader"])
def test_harness_runs_clean(harness: str, tmp_path: Path) -> None:
    """The harness's own files go under ``tmp_path`` (libFuzzer's exit skips Python's clean-up)."""
    result = subprocess.run(
        [sys.executable, str(HARNESSES / f"{harness}.py"), f"-runs={RUNS}", "-seed=1", f"-artifact_prefix={tmp_path}/"],
        capture_output=True,
        text=True,
        timeout=3_600 if LONG else 120,
        check=False,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Done {RUNS} runs" in result.stderr
