"""Settings come from CLI overrides, then KGRAPH_* variables, then the one default."""

import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kgraph.cli import main
from kgraph.config import GRAPH_NS, ONTOLOGY_NS, RESOURCE_NS, SettingError, Settings, setting_help
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


BAD_SETTINGS = [
    ({"KGRAPH_PORT": "abc"}, [], "kgraph: KGRAPH_PORT=abc: must be a whole number"),
    ({"KGRAPH_PORT": "70000"}, [], "kgraph: KGRAPH_PORT=70000: must be a TCP port from 1 to 65535"),
    ({}, ["--port", "0"], "kgraph: --port 0: must be a TCP port from 1 to 65535"),
    ({"KGRAPH_TIMEOUT": "abc"}, [], "kgraph: KGRAPH_TIMEOUT=abc: must be a number of seconds"),
    ({"KGRAPH_TIMEOUT": "-1"}, [], "kgraph: KGRAPH_TIMEOUT=-1: must be a number of seconds greater than 0"),
    ({}, ["--timeout", "0"], "kgraph: --timeout 0.0: must be a number of seconds greater than 0"),
    ({"KGRAPH_HTTP_THREADS": "x"}, [], "kgraph: KGRAPH_HTTP_THREADS=x: must be a whole number"),
    ({"KGRAPH_QUERY_WORKERS": "0"}, [], "kgraph: KGRAPH_QUERY_WORKERS=0: must be at least 1"),
    ({"KGRAPH_MAX_BODY_BYTES": "10"}, [], "kgraph: KGRAPH_MAX_BODY_BYTES=10: must be at least 1024 bytes"),
    ({"KGRAPH_MAX_NESTING": "0"}, [], "kgraph: KGRAPH_MAX_NESTING=0: must be at least 1"),
    ({"KGRAPH_REASONER": "hermit"}, [], "kgraph: KGRAPH_REASONER=hermit: must be native or owlrl"),
    ({"KGRAPH_LOG_LEVEL": "chatty"}, [], "kgraph: KGRAPH_LOG_LEVEL=chatty: must be one of DEBUG, INFO, WARNING, ERROR"),
    ({"KGRAPH_TOKEN_FILE": "/nonexistent/tokens"}, [], "kgraph: KGRAPH_TOKEN_FILE=/nonexistent/tokens: no such file"),
    ({}, ["--token-file", "/nonexistent/tokens"], "kgraph: --token-file /nonexistent/tokens: no such file"),
    ({"KGRAPH_PROJECT_DIR": "/nonexistent"}, [], "kgraph: KGRAPH_PROJECT_DIR=/nonexistent: no such folder"),
]


@pytest.mark.parametrize(("environ", "options", "message"), BAD_SETTINGS, ids=[m for _, _, m in BAD_SETTINGS])
def test_a_bad_setting_stops_serve_with_one_line_and_exit_2(environ, options, message) -> None:
    result = CliRunner().invoke(main, ["serve", *options], env=environ)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message + "\n")


def test_a_bad_setting_stops_every_command_that_reads_settings() -> None:
    result = CliRunner().invoke(main, ["query", "ASK {}"], env={"KGRAPH_TIMEOUT": "abc"})
    assert (result.exit_code, result.stderr) == (2, "kgraph: KGRAPH_TIMEOUT=abc: must be a number of seconds\n")


def test_settings_built_in_code_are_range_checked_too() -> None:
    with pytest.raises(SettingError, match=r"^0: must be a number of seconds greater than 0$"):
        Settings(timeout=0)


def test_settings_built_from_an_empty_environment_use_the_sessions_isolated_data_home(isolated_environment) -> None:
    assert Settings.from_env({}).data_dir == isolated_environment / "kgraph"
    assert Settings().data_dir == isolated_environment / "kgraph"
