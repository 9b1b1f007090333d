"""Every setting kgraph has, with its default written once.

A setting is read, in order of precedence, from a CLI option, then from its ``KGRAPH_*`` environment variable, then
from the default below. Nothing else in the package hard-codes a limit, a path or a namespace.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

NAMESPACE = "https://w3id.org/kgraph/"
"""The project's IRI space: ontology terms, resources, graphs and the source document all live under it."""

ONTOLOGY_NS = NAMESPACE + "ontology#"
RESOURCE_NS = NAMESPACE + "id/"
GRAPH_NS = NAMESPACE + "graph/"
INFERRED_GRAPH = GRAPH_NS + "inferred"
"""Named graph that holds every inferred triple, apart from the asserted ones."""


def _default_data_dir() -> Path:
    """Where writes are journaled: XDG's data home, never inside the source tree's tracked files."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "kgraph"


def _setting(default: Any, env: str, help: str, **kwargs: Any) -> Any:
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
    query_workers: int = _setting(
        2,
        "KGRAPH_QUERY_WORKERS",
        "Processes that evaluate queries in parallel (one per core is right).",
    )
    http_threads: int = _setting(
        8,
        "KGRAPH_HTTP_THREADS",
        "Threads of the server process that receive requests (queries run in workers).",
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
        _default_data_dir(),
        "KGRAPH_DATA_DIR",
        "Folder for the write journal and the default on-disk state.",
    )
    project_dir: Path | None = _setting(
        None, "KGRAPH_PROJECT_DIR", "Folder holding ontology/, data/, shapes/, queries/ and rules/."
    )
    base: str | None = _setting(
        None,
        "KGRAPH_BASE",
        "Base IRI that relative IRIs in queries and updates resolve against (default: the endpoint's URL).",
    )
    own_data: bool = _setting(
        False,
        "KGRAPH_OWN_DATA",
        "Serve only --data files, without the project's ontology, article, rules and shapes: a general SPARQL server "
        "whose every graph, the default graph included, is writable with the token.",
    )
    reasoner: str = _setting(
        "native",
        "KGRAPH_REASONER",
        "OWL 2 RL engine: native (compiled from the ontology, fast) or owlrl (the slow reference it is tested on).",
    )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from the environment, then apply explicit overrides (CLI options) that are not None."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw not in (None, ""):
                values[f.name] = _coerce(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given non-None values replaced."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _coerce(name: str, raw: str) -> Any:
    """Turn an environment string into the type of the named setting."""
    if name in {"port", "max_result_bytes", "max_body_bytes", "query_workers", "http_threads"}:
        return int(raw)
    if name == "timeout":
        return float(raw)
    if name == "own_data":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if name == "data":
        return tuple(Path(p) for p in raw.split(os.pathsep) if p)
    if name == "service_allowlist":
        return tuple(raw.replace(",", " ").split())
    if name in {"token_file", "data_dir", "project_dir", "store_load_dir"}:
        return Path(raw)
    return raw


def setting_help() -> dict[str, tuple[str, str, Any]]:
    """Name -> (environment variable, help, default), for the CLI's option help and the README's table."""
    return {f.name: (f.metadata["env"], f.metadata["help"], f.default) for f in fields(Settings)}
