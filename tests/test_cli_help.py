"""``--help`` works for every command and every script, and names every setting."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from kgraph.cli import main
from kgraph.config import Settings

ROOT = Path(__file__).parents[1]
SCRIPTS = sorted(
    str(path.relative_to(ROOT))
    for folder in ("bench", "fuzz")
    for path in (ROOT / folder).glob("*.py")
    if '__name__ == "__main__"' in path.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: main {command} [OPTIONS]")


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_has_help(script: str) -> None:
    result = subprocess.run(
        [sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage: ")
    assert "Traceback" not in result.stderr


def test_serve_help_names_every_setting() -> None:
    shown = CliRunner().invoke(main, ["serve", "--help"], terminal_width=200).stdout
    missing = [f.metadata["env"] for f in fields(Settings) if f.metadata["env"] not in shown]
    assert missing == []


def test_the_readme_settings_table_names_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Configuration", 1)[1].split("\n\n**", 1)[0]
    missing = [f.metadata["env"] for f in fields(Settings) if f"`{f.metadata['env']}`" not in table]
    assert missing == []


def test_the_readme_points_to_the_verified_identifiers_in_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme
    assert "`link/verified-identifiers.csv`" in readme
    header = (ROOT / "link" / "verified-identifiers.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "label,wikidata,checked_against"
