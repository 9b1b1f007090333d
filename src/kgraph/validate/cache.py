"""The validation cache: the project's checked state, kept between runs of ``kgraph validate``.

A contributor changes one file and validates it; most of the graph, its inference and its SHACL results are as they
were last time. The cache keeps them: the project's quads (asserted graphs and the inferred graph), the sources they
were loaded from (graph -> file and SHA-256, as the on-disk store's manifest does), every SHACL result and the reach
of the shapes. One file per key, in the user's cache folder (``cache_dir`` setting); the key hashes everything that
would make the whole state different: the ontology, the shapes, the rules, the reasoner, and kgraph (its version and
the code of inference and validation). The data files are compared one by one: a changed one is reloaded and only
its consequences are checked again.

A cache file that is missing, unreadable, truncated or from another layout is ignored and rebuilt: a cache can cost
time, never a wrong answer. Files are written whole (temporary file, then rename), so a reader never sees half.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox

import kgraph
from kgraph.validate.reach import Reach
from kgraph.validate.report import ShaclResult

FORMAT = 1
"""Bumped when the cache file's layout changes: older files are then rebuilt."""

_CODE = [Path(kgraph.__file__).parent / name for name in ("infer", "validate")]


@dataclass(frozen=True)
class Source:
    """A data file as it was loaded into its graph."""

    path: str
    sha256: str


@dataclass
class CachedState:
    """A checked state of the project: its quads, their sources, the SHACL results and the shapes' reach."""

    sources: dict[str, Source]
    quads: list[ox.Quad]
    results: list[ShaclResult]
    reach: Reach


def key(inputs: Sequence[Path], reasoner: str, with_data: bool = True) -> str:
    """The cache key: a hash of the whole-state inputs (ontology, shapes and rules files, the reasoner, whether the
    project's data is in) and of kgraph itself."""
    header = f"{FORMAT}\0{kgraph.__version__}\0{ox.__version__}\0{reasoner}\0{with_data}\0"
    digest = hashlib.sha256(header.encode())
    for path in sorted(inputs):
        digest.update(str(path).encode() + b"\0" + file_hash(path).encode() + b"\0")
    for folder in _CODE:
        for path in sorted(p for p in folder.rglob("*") if p.suffix in (".py", ".rq")):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def file_hash(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load(folder: Path, cache_key: str) -> CachedState | None:
    """The state cached under ``cache_key``; None when there is none or it cannot be trusted."""
    path = Path(folder) / f"{cache_key}.json"
    try:
        document = json.loads(path.read_bytes())
        nquads = document["nquads"].encode("utf-8")
        if document["format"] != FORMAT or hashlib.sha256(nquads).hexdigest() != document["nquads_sha256"]:
            return None
        return CachedState(
            sources={graph: Source(**source) for graph, source in document["sources"].items()},
            quads=list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS)),
            results=[_result(item) for item in document["results"]],
            reach=Reach.from_dict(document["reach"]),
        )
    except (OSError, ValueError, KeyError, TypeError, SyntaxError):
        return None


def save(folder: Path, cache_key: str, state: CachedState) -> None:
    """Write the state under ``cache_key``, whole or not at all; a folder that cannot be written is left alone."""
    nquads = (ox.serialize(state.quads, format=ox.RdfFormat.N_QUADS) or b"").decode("utf-8")
    document = {
        "format": FORMAT,
        "sources": {graph: asdict(source) for graph, source in state.sources.items()},
        "nquads": nquads,
        "nquads_sha256": hashlib.sha256(nquads.encode("utf-8")).hexdigest(),
        "results": [_result_dict(result) for result in state.results],
        "reach": state.reach.to_dict(),
    }
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False, encoding="utf-8") as file:
            json.dump(document, file)
        os.replace(file.name, Path(folder) / f"{cache_key}.json")
        _prune(Path(folder))
    except OSError:
        return


KEEP = 8
"""Cache files kept: one per state of the ontology, shapes, rules and kgraph (branches, versions); older ones go."""


def _prune(folder: Path) -> None:
    """Remove all but the ``KEEP`` most recently written cache files, and temporary files left by a killed run."""
    files = sorted(folder.glob("*.json"), key=lambda path: path.stat().st_mtime_ns, reverse=True)
    stale = [path for path in folder.glob("*.tmp") if time.time() - path.stat().st_mtime > 600]
    for path in [*files[KEEP:], *stale]:
        path.unlink(missing_ok=True)


def _result_dict(result: ShaclResult) -> dict:
    return {
        "focus": str(result.focus),
        "path": str(result.path) if result.path is not None else None,
        "message": result.message,
        "severity": result.severity,
        "constraint": result.constraint,
        "shape": result.shape,
        "value": result.value,
    }


def _result(item: dict) -> ShaclResult:
    """A result as :func:`_result_dict` wrote it; ``ValueError`` (an untrusted cache) for a path that is no IRI."""
    path = _term(item["path"]) if item["path"] is not None else None
    if not isinstance(path, ox.NamedNode | None):
        raise ValueError(f"a cached result has {path} as its path: not an IRI")
    return ShaclResult(
        focus=_term(item["focus"]),
        path=path,
        message=item["message"],
        severity=item["severity"],
        constraint=item["constraint"],
        shape=item["shape"],
        value=item["value"],
    )


def _term(text: str) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """A term written as N-Triples writes it."""
    [quad] = ox.parse(input=f"<urn:s> <urn:p> {text} .\n".encode(), format=ox.RdfFormat.N_TRIPLES)
    return quad.object
