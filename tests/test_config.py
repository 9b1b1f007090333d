"""Settings come from CLI overrides, then KGRAPH_* variables, then the one default."""

import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.config import GRAPH_NS, ONTOLOGY_NS, RESOURCE_NS, Settings, setting_help
from kgraph.journal import JOURNAL_NAME, Entry


def test_defaults_when_nothing_is_set() -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port, settings.timeout) == ("127.0.0.1", 8000, 30.0)
    assert settings.service_allowlist == ()
    assert settings.store is None


def test_environment_values_are_typed() -> None:
    settings = Settings.from_env(
        {
            "KGRAPH_PORT": "9001",
            "KGRAPH_TIMEOUT": "2.5",
            "KGRAPH_DATA": "/a.ttl:/b",
            "KGRAPH_SERVICE_ALLOWLIST": "http://one/sparql, http://two/sparql",
            "KGRAPH_DATA_DIR": "/var/kgraph",
        }
    )
    assert settings.port == 9001
    assert settings.timeout == 2.5
    assert settings.data == (Path("/a.ttl"), Path("/b"))
    assert settings.service_allowlist == ("http://one/sparql", "http://two/sparql")
    assert settings.data_dir == Path("/var/kgraph")


def test_cli_overrides_win_and_none_means_unset() -> None:
    settings = Settings.from_env({"KGRAPH_PORT": "9001", "KGRAPH_HOST": "0.0.0.0"}, port=7000, host=None)
    assert (settings.host, settings.port) == ("0.0.0.0", 7000)


def test_empty_environment_value_means_the_default() -> None:
    assert Settings.from_env({"KGRAPH_TIMEOUT": ""}).timeout == 30.0


def test_every_setting_documents_its_variable() -> None:
    for name, (env, text, _default) in setting_help().items():
        assert env == "KGRAPH_" + name.upper()
        assert text.endswith(".")


def test_the_default_data_dir_is_computed_from_the_environment_settings_are_built_from(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert Settings.from_env({"HOME": str(home)}).data_dir == home / ".local" / "share" / "kgraph"
    assert Settings.from_env({"HOME": str(home), "XDG_DATA_HOME": str(tmp_path / "x")}).data_dir == (
        tmp_path / "x" / "kgraph"
    )


@pytest.mark.slow
def test_a_journal_in_home_changes_nothing_in_the_tests(tmp_path: Path) -> None:
    """A developer who ran ``make serve`` and wrote to it has a journal in ~/.local/share/kgraph: the CLI tests must
    pass all the same (they used to replay it: 5 of tests/test_cli_query.py failed)."""
    journal = tmp_path / "home" / ".local" / "share" / "kgraph" / JOURNAL_NAME
    journal.parent.mkdir(parents=True)
    allied = ox.Quad(
        ox.NamedNode(RESOURCE_NS + "russia"),
        ox.NamedNode(ONTOLOGY_NS + "alliedWith"),
        ox.NamedNode(RESOURCE_NS + "atlantis"),
        ox.NamedNode(GRAPH_NS + "contrib/dev"),
    )
    journal.write_bytes(Entry("w1", "2026-12-01T00:00:00Z", "dev", removed=[], added=[allied]).to_line())
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KGRAPH_") and k != "XDG_DATA_HOME"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_cli_query.py"],
        env={**environ, "HOME": str(tmp_path / "home")},
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
