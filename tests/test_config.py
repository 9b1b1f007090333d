"""Settings come from CLI overrides, then KGRAPH_* variables, then the one default."""

from pathlib import Path

from kgraph.config import Settings, setting_help


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
