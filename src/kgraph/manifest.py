"""The build manifest of an on-disk store: what the store was built from, so a later start can trust it.

A ``--store PATH`` keeps the graph between starts; it is worth reusing only if it holds exactly what a fresh build
would make. The manifest, a small JSON file inside the store's folder (it travels with the store), records the
inputs of the last complete build: every source file (size, modification time and SHA-256; a file whose size and
time are unchanged is not hashed again), the rules and the reasoner inference ran with, the kgraph and pyoxigraph
versions, how far the write journal had been applied, and the inference report. Comparing it with the inputs of
this start gives a :class:`Plan`: nothing to do, reload some files' graphs and re-infer, or rebuild from scratch.

A remote store (``--store URL``) has its manifest in the data directory instead, next to the journal whose mark it
keeps (:func:`remote_path`, named after the store's query endpoint), with the remote's software in ``engine`` and its
triple count per graph, read again at each start: a store changed behind kgraph's back, or another store now at the
same address, then shows as a count that differs.

Crash safety: the manifest is removed (durably) before the store is changed and written last, atomically (a
temporary file, fsync, rename, fsync of the folder), so a build killed half-way leaves no manifest and the next
start rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pyoxigraph as ox

import kgraph
from kgraph.config import ReasonerName
from kgraph.infer import Inconsistency, InferenceReport
from kgraph.journal import fsync_dir

MANIFEST_NAME = "kgraph-manifest.json"
"""The manifest's file name inside the store's folder (RocksDB leaves files it did not write alone)."""

FORMAT = 1
"""Bumped when the manifest's layout changes: an older manifest then means a rebuild."""

_INFER_PACKAGE = Path(kgraph.__file__).parent / "infer"


class ManifestError(ValueError):
    """A manifest that cannot be read or makes no sense: the store is rebuilt from scratch."""


@dataclass(frozen=True)
class Source:
    """One source file as it was loaded: where, how big, when changed, and its content's hash."""

    path: str
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class JournalMark:
    """How much of the write journal the store holds: its first ``size`` bytes, whose hash is ``sha256``."""

    path: str
    size: int = 0
    sha256: str = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class Manifest:
    """The inputs of one complete build, and what its inference found."""

    engine: dict[str, str]
    inference_inputs: dict[str, str]
    sources: dict[str, Source]
    """Graph IRI -> the file loaded into it."""
    journal: JournalMark
    quads: int
    """Quads in the store when the manifest was written: a cheap check that nothing else changed it."""
    inference: dict = field(default_factory=dict)
    graphs: dict[str, int] = field(default_factory=dict)
    """Graph IRI ("" for the default graph) -> its triples, for a remote store (whose quads alone are a weak check)."""

    def report(self) -> InferenceReport:
        """The inference report of the build, as if inference had just run."""
        return InferenceReport(
            added=self.inference["added"],
            inconsistencies=[
                Inconsistency(item["message"], list(_triples(item["triples"])))
                for item in self.inference["inconsistencies"]
            ],
            reasoned_graphs=self.inference["reasoned_graphs"],
            engine=ReasonerName(self.inference["engine"]),
            fallback=self.inference["fallback"],
            in_store=self.inference.get("in_store", False),
        )

    def with_report(self, report: InferenceReport) -> Manifest:
        """A copy recording ``report`` (triples as N-Triples)."""
        inference = {
            "added": report.added,
            "inconsistencies": [
                {"message": found.message, "triples": _ntriples(found.triples)} for found in report.inconsistencies
            ],
            "reasoned_graphs": list(report.reasoned_graphs),
            "engine": report.engine.value,
            "fallback": report.fallback,
            "in_store": report.in_store,
        }
        return replace(self, inference=inference)


@dataclass(frozen=True)
class Plan:
    """What a start has to do to make the store match its inputs."""

    rebuild: str | None = None
    """Why the store must be rebuilt from scratch, or None."""
    reload: list[str] = field(default_factory=list)
    """Graphs whose file is new or changed: cleared and loaded again."""
    drop: list[str] = field(default_factory=list)
    """Graphs whose file is no longer a source: cleared."""
    journal_from: int = 0
    """Offset in the journal from which its entries are not in the store yet."""
    reinfer: bool = False

    @property
    def up_to_date(self) -> bool:
        """Whether the store can be served as it is: no load, no inference."""
        return self.rebuild is None and not (self.reload or self.drop or self.reinfer)


def engine(remote: str | None = None) -> dict[str, str]:
    """The software a store was built with: another version may load or store differently, so it means a rebuild;
    for a remote store, the name of the server's software too (``Server`` header: Virtuoso, Oxigraph...)."""
    versions = {"format": str(FORMAT), "kgraph": kgraph.__version__, "pyoxigraph": ox.__version__}
    return versions if remote is None else {**versions, "store": remote}


def remote_path(data_dir: Path, query_url: str) -> Path:
    """Where the manifest of the remote store at ``query_url`` lives: in the data directory, with the journal."""
    return Path(data_dir) / f"store-manifest-{hashlib.sha256(query_url.encode()).hexdigest()[:16]}.json"


def in_folder(folder: Path) -> Path:
    """Where the manifest of an on-disk store lives: inside its folder (it travels with the store)."""
    return Path(folder) / MANIFEST_NAME


def inference_inputs(rules_dir: Path, reasoner: str) -> dict[str, str]:
    """What inference depends on besides the data: the rules, and the reasoner (its choice and its code)."""
    rules = sorted(Path(rules_dir).glob("*.rq")) if Path(rules_dir).is_dir() else []
    code = sorted(p for p in _INFER_PACKAGE.rglob("*") if p.suffix in (".py", ".rq"))  # the OWL RL rules too
    return {
        "rules": _hash_files(rules, Path(rules_dir)),
        "reasoner": str(reasoner),
        "reasoner_code": _hash_files(code, _INFER_PACKAGE),
    }


def stamp(path: Path, known: Source | None = None) -> Source:
    """A source's stamp; its hash is taken from ``known`` when the size and modification time are unchanged."""
    stat = path.stat()
    resolved = str(path.resolve())
    if known and (known.path, known.size, known.mtime_ns) == (resolved, stat.st_size, stat.st_mtime_ns):
        return known
    return Source(resolved, stat.st_size, stat.st_mtime_ns, _hash_file(path))


def journal_lines(path: Path) -> bytes:
    """The journal's complete lines (a torn last line, never acknowledged, is left out); empty when there is none."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return b""
    return data[: data.rfind(b"\n") + 1]


def journal_mark(path: Path, lines: bytes) -> JournalMark:
    """The mark saying the store holds every one of ``lines``."""
    return JournalMark(str(Path(path).resolve()), len(lines), hashlib.sha256(lines).hexdigest())


_running: dict[str, tuple[int, hashlib._Hash]] = {}
"""Journal path -> the size and running SHA-256 of the last mark :func:`advance_mark` made for it."""


def advance_mark(mark: JournalMark, path: Path) -> JournalMark:
    """The mark of the journal's complete lines now, for a store marked ``mark`` after a write: a checkpoint follows
    every write, so only the lines appended since the last mark made here are read and hashed (all of them when
    ``mark`` is not that one, or the journal no longer reaches it)."""
    resolved = str(Path(path).resolve())
    size, digest = _running.get(resolved, (-1, None))
    try:
        grown = path.stat().st_size >= mark.size
    except FileNotFoundError:
        grown = False
    if digest is None or (resolved, size, digest.hexdigest()) != (mark.path, mark.size, mark.sha256) or not grown:
        lines = journal_lines(path)
        size, digest = len(lines), hashlib.sha256(lines)
    else:
        with path.open("rb") as file:
            file.seek(size)
            tail = file.read()
        tail = tail[: tail.rfind(b"\n") + 1]
        size, digest = size + len(tail), digest.copy()
        digest.update(tail)
    _running[resolved] = (size, digest)
    return JournalMark(resolved, size, digest.hexdigest())


def plan(old: Manifest | None, new: Manifest, journal: bytes) -> Plan:
    """What to do to a store built as ``old`` says (None: unknown) for the inputs ``new`` (whose ``quads`` and
    ``graphs`` are what the store holds now), the journal now holding ``journal``."""
    reason = _rebuild_reason(old, new, journal)
    if reason or old is None:
        return Plan(rebuild=reason or "the store has no build manifest")
    reload = sorted(g for g, source in new.sources.items() if g not in old.sources or _changed(old.sources[g], source))
    drop = sorted(set(old.sources) - set(new.sources))
    written = len(journal) > old.journal.size
    reinfer = bool(reload or drop or written or old.inference_inputs != new.inference_inputs)
    return Plan(reload=reload, drop=drop, journal_from=old.journal.size, reinfer=reinfer)


def _rebuild_reason(old: Manifest | None, new: Manifest, journal: bytes) -> str | None:
    quads = new.quads
    if old is None:
        return None if quads == 0 else f"the store holds {quads} quads but no build manifest (an interrupted build?)"
    if old.engine != new.engine:
        return f"it was built by {_versions(old.engine)}, this is {_versions(new.engine)}"
    if old.journal.path != new.journal.path:
        return f"its writes came from the journal {old.journal.path}, not {new.journal.path}"
    if hashlib.sha256(journal[: old.journal.size]).hexdigest() != old.journal.sha256:
        return f"the journal {old.journal.path} no longer begins with the writes the store holds"
    if len(journal) == old.journal.size and quads != old.quads:
        return f"it holds {quads} quads where its build left {old.quads}: something else changed it"
    if len(journal) == old.journal.size and new.graphs != old.graphs:
        graph = min(g for g in {*old.graphs, *new.graphs} if old.graphs.get(g) != new.graphs.get(g))
        name = f"<{graph}>" if graph else "the default graph"
        return (
            f"{name} holds {new.graphs.get(graph, 0)} triples where its build left {old.graphs.get(graph, 0)}: "
            "something else changed it"
        )
    return None


def read(path: Path) -> Manifest | None:
    """The manifest at ``path``; None when there is none; ManifestError when it is unreadable."""
    try:
        document = json.loads(path.read_bytes())
        return Manifest(
            engine=document["engine"],
            inference_inputs=document["inference_inputs"],
            sources={g: Source(**s) for g, s in document["sources"].items()},
            journal=JournalMark(**document["journal"]),
            quads=int(document["quads"]),
            inference=document["inference"],
            graphs={g: int(n) for g, n in document.get("graphs", {}).items()},
        )
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ManifestError(f"its build manifest {path} is unreadable ({error})") from None


def write(path: Path, manifest: Manifest) -> None:
    """Write the manifest atomically and durably: last, once the store is complete and flushed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    data = json.dumps(asdict(manifest), indent=1, sort_keys=True).encode("utf-8")
    with temporary.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    fsync_dir(path.parent)


def invalidate(path: Path) -> None:
    """Remove the manifest, durably, before the store is changed: a crash from here on means a rebuild."""
    if path.exists():
        path.unlink()
        fsync_dir(path.parent)


def _changed(old: Source, new: Source) -> bool:
    return (old.path, old.sha256) != (new.path, new.sha256)


def _versions(versions: dict[str, str]) -> str:
    store = f" over {versions['store']}" if "store" in versions else ""
    return f"kgraph {versions.get('kgraph')} (pyoxigraph {versions.get('pyoxigraph')}){store}"


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_files(paths: Sequence[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _ntriples(triples: Sequence[ox.Triple]) -> str:
    return (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")


def _triples(text: str) -> list[ox.Triple]:
    return [quad.triple for quad in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)]
