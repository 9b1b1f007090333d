"""Every setting kgraph has, with its default written once.

A setting is read, in order of precedence, from a CLI option, then from its ``KGRAPH_*`` environment variable, then
from the default below. Nothing else in the package hard-codes a limit, a path or a namespace.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

NAMESPACE = "https://w3id.org/kgraph/"
"""The project's IRI space: ontology terms, resources, graphs and the source document all live under it."""

ONTOLOGY_NS = NAMESPACE + "ontology#"
RESOURCE_NS = NAMESPACE + "id/"
GRAPH_NS = NAMESPACE + "graph/"
INFERRED_GRAPH = GRAPH_NS + "inferred"
"""Named graph that holds every inferred triple, apart from the asserted ones."""

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
"""The levels ``log_level`` takes (Python's logging names)."""


class ReasonerName(StrEnum):
    """The OWL 2 RL engines, as a typed value passed from the settings to inference: never parsed back from text."""

    NATIVE = "native"
    """Ours: the rules compiled from the ontology (fast)."""
    OWLRL = "owlrl"
    """owlrl: the slow reference the native engine is tested against; it also runs what native does not implement."""


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where writes are journaled: XDG's data home, never inside the source tree's tracked files.

    Computed each time settings are built, never at import, from ``environ`` when it names XDG_DATA_HOME or HOME, else
    from the process environment: settings built for a test then follow the test session's (isolated) environment.
    """
    if environ is None or not {"XDG_DATA_HOME", "HOME"} & environ.keys():
        environ = os.environ
    if environ.get("XDG_DATA_HOME"):
        return Path(environ["XDG_DATA_HOME"]) / "kgraph"
    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    return home / ".local" / "share" / "kgraph"


DEFAULT_DATA_DIR_TEXT = "$XDG_DATA_HOME/kgraph, else ~/.local/share/kgraph"
"""How the data directory's default is shown in help: it depends on the environment."""


def default_cache_dir() -> Path:
    """Where ``kgraph validate`` keeps the project's checked state: XDG's cache home (or ~/.cache), under kgraph."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kgraph"


def _setting(default: Any, env: str, help: str, **kwargs: Any) -> Any:
    if "default_factory" in kwargs:
        return field(metadata={"env": env, "help": help}, **kwargs)
    return field(default=default, metadata={"env": env, "help": help}, **kwargs)


@dataclass(frozen=True)
class Settings:
    """The configuration of one kgraph process (server, validator or CLI command)."""

    host: str = _setting("127.0.0.1", "KGRAPH_HOST", "Interface the server listens on.")
    port: int = _setting(8000, "KGRAPH_PORT", "TCP port the server listens on.")
    data: tuple[Path, ...] = _setting(
        (),
        "KGRAPH_DATA",
        "Extra RDF files or folders to load (os.pathsep-separated in the environment).",
    )
    store: str | None = _setting(
        None,
        "KGRAPH_STORE",
        "Back end: empty for the embedded in-memory store, a folder for the on-disk store, or the URL of a SPARQL 1.1 "
        "store (e.g. http://127.0.0.1:7878 for Oxigraph's server).",
    )
    store_load_dir: Path | None = _setting(
        None,
        "KGRAPH_STORE_LOAD_DIR",
        "A folder a remote store reads files from (Virtuoso: one of its DirsAllowed): N-Triples files are copied there "
        "and loaded by the store's own parser (SPARQL LOAD) instead of uploaded in batches. Off when empty.",
    )
    timeout: float = _setting(30.0, "KGRAPH_TIMEOUT", "Seconds a query may run before it is stopped.")
    max_result_bytes: int = _setting(
        64 * 1024 * 1024,
        "KGRAPH_MAX_RESULT_BYTES",
        "Largest serialised query result the server sends.",
    )
    max_body_bytes: int = _setting(
        16 * 1024 * 1024, "KGRAPH_MAX_BODY_BYTES", "Largest request body the server accepts."
    )
    max_nesting: int = _setting(
        1000,
        "KGRAPH_MAX_NESTING",
        "Deepest nesting of a JSON-LD or RDF/XML file or body (their parsers recurse per level); deeper ones are "
        "refused.",
    )
    query_workers: int = _setting(
        3,
        "KGRAPH_QUERY_WORKERS",
        "Processes that evaluate queries in parallel (one more than the cores: a short query finds one free while "
        "long ones run).",
    )
    http_threads: int = _setting(
        8,
        "KGRAPH_HTTP_THREADS",
        "Threads of the server process that receive requests (queries run in workers).",
    )
    max_query_bytes: int = _setting(
        256 * 1024,
        "KGRAPH_MAX_QUERY_BYTES",
        "Largest query or update text the server accepts (413 beyond it, before any parsing).",
    )
    max_header_bytes: int = _setting(
        64 * 1024,
        "KGRAPH_MAX_HEADER_BYTES",
        "Largest request line plus headers (a GET query travels in the request line; 414 beyond it).",
    )
    query_memory: int | None = _setting(
        None,
        "KGRAPH_QUERY_MEMORY",
        "MiB of memory one query worker may allocate before its query is stopped (503); "
        "default: a sixteenth of the machine's memory shared by the workers, at least 64, at most 384.",
    )
    header_timeout: float = _setting(10.0, "KGRAPH_HEADER_TIMEOUT", "Seconds a client has to send a request's headers.")
    body_timeout: float = _setting(30.0, "KGRAPH_BODY_TIMEOUT", "Seconds a client has to send a request's body.")
    idle_timeout: float = _setting(15.0, "KGRAPH_IDLE_TIMEOUT", "Seconds an idle connection is kept open.")
    max_connections: int = _setting(
        500, "KGRAPH_MAX_CONNECTIONS", "Open connections the server keeps; more are answered 503."
    )
    service_allowlist: tuple[str, ...] = _setting(
        (),
        "KGRAPH_SERVICE_ALLOWLIST",
        "SPARQL endpoints that SERVICE may call (space-separated); none by default.",
    )
    token: str | None = _setting(None, "KGRAPH_TOKEN", "Bearer token that enables writes; writes are off without it.")
    token_file: Path | None = _setting(
        None, "KGRAPH_TOKEN_FILE", "File of write tokens, one `name token` line per contributor."
    )
    data_dir: Path = _setting(
        None,
        "KGRAPH_DATA_DIR",
        "Folder for the write journal and the default on-disk state.",
        default_factory=default_data_dir,
    )
    dumps_dir: Path | None = _setting(
        None,
        "KGRAPH_DUMPS_DIR",
        "Folder the /dumps/ files are built in (default: dumps/ in the data folder); another disk keeps a dumps build "
        "from taking the space the write journal needs.",
    )
    project_dir: Path | None = _setting(
        None, "KGRAPH_PROJECT_DIR", "Folder holding ontology/, data/, shapes/, queries/ and rules/."
    )
    base: str | None = _setting(
        None,
        "KGRAPH_BASE",
        "Base IRI that relative IRIs in queries and updates resolve against (default: the endpoint's URL).",
    )
    log_level: str = _setting(
        "WARNING",
        "KGRAPH_LOG_LEVEL",
        "Least severe of kgraph's log messages written to stderr: DEBUG (the time of each loading and in-store "
        "inference step), INFO, WARNING (loading progress and problems), ERROR.",
    )
    own_data: bool = _setting(
        False,
        "KGRAPH_OWN_DATA",
        "Serve only --data files, without the project's ontology, article, rules and shapes: a general SPARQL server "
        "whose every graph, the default graph included, is writable with the token.",
    )
    cache_dir: Path = field(
        default_factory=default_cache_dir,
        metadata={
            "env": "KGRAPH_CACHE_DIR",
            "help": "Folder where kgraph validate caches the project's checked state (default: "
            "$XDG_CACHE_HOME/kgraph or ~/.cache/kgraph).",
        },
    )
    reasoner: ReasonerName = _setting(
        ReasonerName.NATIVE,
        "KGRAPH_REASONER",
        "OWL 2 RL engine: native (compiled from the ontology, fast) or owlrl (the slow reference it is tested on).",
    )
    plan_queries: bool = _setting(
        True,
        "KGRAPH_PLAN_QUERIES",
        "Reorder each query's patterns before evaluation (same answers, often much faster); false to run as written.",
    )
    cache_bytes: int = _setting(
        64 * 1024 * 1024,
        "KGRAPH_CACHE_BYTES",
        "Memory for cached query results (cleared by every write); 0 turns the result cache off.",
    )

    write_timeout: float | None = _setting(
        None,
        "KGRAPH_WRITE_TIMEOUT",
        "Seconds one write may take, inference and validation included (default: the query timeout).",
    )
    max_write_inferred: int = _setting(
        10_000, "KGRAPH_MAX_WRITE_INFERRED", "Most inferred triples one write may add; a write past it is refused."
    )

    def __post_init__(self) -> None:
        """Every value in its range, so a bad one stops the start rather than every query later."""
        for name, (check, expected) in _RANGES.items():
            if not check(getattr(self, name)):
                raise SettingError(name, f"must be {expected}", repr(getattr(self, name)))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from the environment, then apply explicit overrides (CLI options) that are not None.

        Raises :class:`SettingError` naming the setting, its source and what it must be.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for f in fields(cls):
            env = f.metadata["env"]
            raw = environ.get(env)
            if raw not in (None, ""):
                sources[f.name] = f"{env}={raw}"
                values[f.name] = _coerce(f.name, raw, sources[f.name])
        for name, value in overrides.items():
            if value is not None:
                values[name] = value
                sources[name] = f"--{name.replace('_', '-')} {_shown(value)}"
        values.setdefault("data_dir", default_data_dir(environ))
        try:
            settings = cls(**values)
            settings.check_files()
        except SettingError as error:
            raise SettingError(error.name, error.problem, sources.get(error.name, error.source)) from None
        return settings

    def check_files(self) -> None:
        """The token file can be read and the project folder is one, so neither fails later, mid-start."""
        if self.token_file is not None:
            try:
                Path(self.token_file).read_text(encoding="utf-8")
            except FileNotFoundError:
                raise SettingError("token_file", "no such file", str(self.token_file)) from None
            except (OSError, UnicodeDecodeError) as error:
                reason = getattr(error, "strerror", None) or "not UTF-8 text"
                raise SettingError("token_file", f"cannot be read ({reason})", str(self.token_file)) from None
        if self.project_dir is not None and not Path(self.project_dir).is_dir():
            raise SettingError("project_dir", "no such folder", str(self.project_dir))

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given non-None values replaced."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


class SettingError(ValueError):
    """A setting whose value cannot be used: ``str()`` is one line naming the setting, where its value came from
    (``KGRAPH_PORT=abc``, ``--timeout 0``) and what it must be."""

    def __init__(self, name: str, problem: str, source: str) -> None:
        self.name = name
        self.problem = problem
        self.source = source
        super().__init__(f"{source}: {problem}")


_INTEGERS = frozenset(
    {
        "port",
        "max_result_bytes",
        "max_body_bytes",
        "max_nesting",
        "query_workers",
        "http_threads",
        "max_query_bytes",
        "max_header_bytes",
        "query_memory",
        "max_connections",
        "cache_bytes",
        "max_write_inferred",
    }
)
_SECONDS = frozenset({"timeout", "header_timeout", "body_timeout", "idle_timeout", "write_timeout"})

_SECONDS_RANGE: tuple[Callable[[Any], bool], str] = (
    lambda v: 0 < v < float("inf"),
    "a number of seconds greater than 0",
)
"""What every time limit must be."""

_RANGES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "port": (lambda v: 1 <= v <= 65535, "a TCP port from 1 to 65535"),
    "timeout": _SECONDS_RANGE,
    "max_result_bytes": (lambda v: v >= 1024, "at least 1024 bytes"),
    "max_body_bytes": (lambda v: v >= 1024, "at least 1024 bytes"),
    "max_nesting": (lambda v: v >= 1, "at least 1"),
    "query_workers": (lambda v: v >= 1, "at least 1"),
    "http_threads": (lambda v: v >= 1, "at least 1"),
    "max_query_bytes": (lambda v: v >= 1, "at least 1 byte"),
    "max_header_bytes": (lambda v: v >= 1024, "at least 1024 bytes"),
    "query_memory": (lambda v: v is None or v >= 16, "at least 16 MiB"),
    "max_connections": (lambda v: v >= 1, "at least 1"),
    "header_timeout": _SECONDS_RANGE,
    "body_timeout": _SECONDS_RANGE,
    "idle_timeout": _SECONDS_RANGE,
    "write_timeout": (lambda v: v is None or _SECONDS_RANGE[0](v), _SECONDS_RANGE[1]),
    "max_write_inferred": (lambda v: v >= 0, "at least 0"),
    "reasoner": (lambda v: v in ("native", "owlrl"), "native or owlrl"),
    "log_level": (lambda v: v in LOG_LEVELS, "one of " + ", ".join(LOG_LEVELS)),
    "host": (lambda v: bool(v.strip()), "a host name or address"),
}
"""Setting -> (its test, what it must be): checked whenever settings are built."""


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return " ".join(map(str, value))
    return str(value)


def _coerce(name: str, raw: str, source: str) -> Any:
    """Turn an environment string into the type of the named setting (SettingError when it is not one)."""
    if name in _INTEGERS:
        try:
            return int(raw)
        except ValueError:
            raise SettingError(name, "must be a whole number", source) from None
    if name in _SECONDS:
        try:
            return float(raw)
        except ValueError:
            raise SettingError(name, "must be a number of seconds", source) from None
    if name == "own_data":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if name == "plan_queries":
        return raw.strip().lower() not in {"0", "false", "no", "off"}
    if name == "reasoner":
        try:
            return ReasonerName(raw)
        except ValueError:
            raise SettingError(name, "must be native or owlrl", source) from None
    if name == "log_level":
        return raw.strip().upper()
    if name == "data":
        return tuple(Path(p) for p in raw.split(os.pathsep) if p)
    if name == "service_allowlist":
        return tuple(raw.replace(",", " ").split())
    if name in {"token_file", "data_dir", "dumps_dir", "project_dir", "cache_dir", "store_load_dir"}:
        return Path(raw)
    return raw


def setting_help() -> dict[str, tuple[str, str, Any]]:
    """Name -> (environment variable, help, default), for the CLI's option help and the README's table."""
    return {f.name: (f.metadata["env"], f.metadata["help"], _default(f)) for f in fields(Settings)}


def _default(setting: Any) -> Any:
    """A setting's default as help shows it: the data folder's in words; one computed when settings are built (the
    cache folder) as None."""
    if setting.name == "data_dir":
        return DEFAULT_DATA_DIR_TEXT
    return None if setting.default is MISSING else setting.default
