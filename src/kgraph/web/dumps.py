"""The dumps under ``/dumps/``, built once per data version into files and served from them.

Building a dump of a large graph takes seconds to minutes and, done per request, let a few downloads stop the
server (1M triples: 134 s and 4.2 GB for one JSON-LD dump). So every dump, with a gzip copy, is written once after
start-up and once after each write, by a process of its own forked from the query zygote (never in a thread that
answers requests; a remote store's are built in a background thread), into a cache folder; requests stream the file
(waitress sends it from its event loop) with an ETag of its content. A request for a dump of a version not built yet
waits a little for it (the previous version is served if there is one, else 503); requests share the one build.

Everything is written in a streaming way: the triples as sorted N-Triples lines (the same bytes at every build),
then Turtle, TriG and a compacted JSON-LD written subject by subject, so the builder's memory stays near that of the
sorted lines. The JSON-LD names its ``@context`` by this server's URL, which depends on the request; the file holds
everything after that line, and each response is the short head plus the file (for gzip, two gzip members).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import itertools
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import pyoxigraph as ox

from kgraph.store import Store
from kgraph.store.base import Term

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

FORMATS: dict[str, tuple[str, ox.RdfFormat]] = {
    "ttl": ("text/turtle; charset=utf-8", ox.RdfFormat.TURTLE),
    "nt": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    "trig": ("application/trig; charset=utf-8", ox.RdfFormat.TRIG),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD),
}
"""Suffix -> (Content-Type, format) of each dump. TriG keeps the named graphs (one per source file); the others hold
the union of the subset's triples."""

BUILD_SECONDS = 1800.0
"""The longest a build may take before its process is killed (and the next request tries again)."""

_log = logging.getLogger(__name__)
_CACHES = itertools.count()
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@dataclass(frozen=True)
class Built:
    """One dump file of one data version: where it is, its size, its gzip copy's size and its content's digest."""

    path: Path
    size: int
    gzip_size: int
    digest: str


@dataclass(frozen=True)
class DumpJob:
    """Build every dump of one data version into ``folder``: what a worker forked for the job runs."""

    folder: str
    subsets: dict[str, list[str]]
    """Dump name -> the named graphs it holds."""
    prefixes: dict[str, str]
    context: dict[str, str]

    def run(self, store: Store) -> tuple[str, dict[str, Built] | str]:
        """Write the files; the reply ``("ok", {file name: Built})`` or ``("error", message)``."""
        try:
            return ("ok", build_all(store, self))
        except (OSError, ValueError, SyntaxError) as error:
            return ("error", str(error))


def build_all(store: Store, job: DumpJob) -> dict[str, Built]:
    """Every dump of the job, each written to a temporary name and renamed once whole."""
    folder = Path(job.folder)
    folder.mkdir(parents=True, exist_ok=True)
    built: dict[str, Built] = {}
    for name, graphs in job.subsets.items():
        # The triples' lines, then the quads' lines, never both at once nor the quads as objects: memory.
        triples = _sorted_lines(
            ox.serialize((q.triple for g in graphs for q in store.quads(graph=g)), format=ox.RdfFormat.N_TRIPLES)
        )
        by_triples: dict[str, Callable[[BinaryIO], None]] = {
            "nt": functools.partial(_lines, triples),
            "ttl": functools.partial(_rdf, triples, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.TURTLE, job),
            "jsonld": functools.partial(_jsonld, triples, job),
        }
        for suffix, write in by_triples.items():
            built[f"kgraph-{name}.{suffix}"] = _write(folder / f"kgraph-{name}.{suffix}", write)
        del by_triples, triples
        quads = _sorted_lines(
            ox.serialize((q for g in graphs for q in store.quads(graph=g)), format=ox.RdfFormat.N_QUADS)
        )
        built[f"kgraph-{name}.trig"] = _write(
            folder / f"kgraph-{name}.trig", functools.partial(_rdf, quads, ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG, job)
        )
        del quads
    return built


def _sorted_lines(data: bytes | None) -> list[bytes]:
    """Distinct lines in byte order: the same dump at every build, whatever the store's order."""
    return sorted(set((data or b"").splitlines(keepends=True)))


def _parsed(lines: list[bytes], fmt: ox.RdfFormat) -> Iterator[ox.Quad]:
    return ox.parse(io.BufferedReader(_LinesReader(lines)), format=fmt)


def _lines(lines: list[bytes], out: BinaryIO) -> None:
    out.writelines(lines)


def _jsonld(lines: list[bytes], job: DumpJob, out: BinaryIO) -> None:
    write_jsonld_body((quad.triple for quad in _parsed(lines, ox.RdfFormat.N_TRIPLES)), job, out)


def _rdf(lines: list[bytes], source: ox.RdfFormat, target: ox.RdfFormat, job: DumpJob, out: BinaryIO) -> None:
    ox.serialize(_parsed(lines, source), out, target, prefixes=job.prefixes)


def _write(path: Path, write: Callable[[BinaryIO], None]) -> Built:
    """Write a file and its gzip copy (level 6: a third of the size, seconds for 100 MB) under temporary names."""
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as out:
        write(out)
    digest = hashlib.sha256()
    zipped = path.with_name(path.name + ".gz.part")
    with partial.open("rb") as source, gzip.GzipFile(zipped, "wb", compresslevel=6, mtime=0) as target:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            target.write(chunk)
    os.replace(partial, path)
    os.replace(zipped, path.with_name(path.name + ".gz"))
    return Built(path, path.stat().st_size, path.with_name(path.name + ".gz").stat().st_size, digest.hexdigest()[:32])


class _LinesReader(io.RawIOBase):
    """A list of byte lines read as one binary stream, so pyoxigraph parses it without one big copy."""

    def __init__(self, lines: list[bytes]) -> None:
        self._lines = iter(lines)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        while len(self._pending) < len(view):
            line = next(self._lines, None)
            if line is None:
                break
            self._pending += line
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


# --- JSON-LD, compacted with the project's prefixes, one subject at a time ---


def jsonld_head(context_url: str) -> bytes:
    """The first line of a JSON-LD dump: the context, named by this server's URL."""
    return b'{\n  "@context": ' + json.dumps(context_url).encode() + b",\n"


def write_jsonld_body(triples: Iterable[ox.Triple], job: DumpJob, out: BinaryIO) -> None:
    """The rest of a JSON-LD dump: ``@graph``, one node object per subject (the triples come grouped by subject)."""
    compact = _Compactor(job.context)
    out.write(b'  "@graph": [')
    first = True
    node: dict | None = None
    subject = None
    for triple in triples:
        if triple.subject != subject:
            if node is not None:
                out.write(_node_line(node, first))
                first = False
            subject = triple.subject
            node = {"@id": compact.node(subject)}
        assert node is not None
        key, value = compact.pair(triple.predicate.value, triple.object)
        existing = node.get(key)
        if existing is None:
            node[key] = value
        elif isinstance(existing, list):
            existing.append(value)
        else:
            node[key] = [existing, value]
    if node is not None:
        out.write(_node_line(node, first))
    out.write(b"\n  ]\n}\n")


def _node_line(node: dict, first: bool) -> bytes:
    return (b"\n    " if first else b",\n    ") + json.dumps(node, ensure_ascii=False).encode("utf-8")


class _Compactor:
    """IRIs as compact IRIs (``kgr:sudzha``) where a prefix of the context makes one, literals as value objects."""

    def __init__(self, context: dict[str, str]) -> None:
        self._prefixes = sorted(context.items(), key=lambda item: -len(item[1]))

    def iri(self, iri: str) -> str:
        for prefix, namespace in self._prefixes:
            local = iri[len(namespace) :]
            if iri.startswith(namespace) and local and not local.startswith("//"):
                return f"{prefix}:{local}"
        return iri

    def node(self, term: ox.NamedNode | ox.BlankNode | ox.Triple) -> str:
        """A subject or an object node's ``@id``; JSON-LD 1.1 has no RDF 1.2 triple terms (``ValueError``)."""
        if isinstance(term, ox.Triple):
            raise ValueError(f"JSON-LD cannot hold the RDF 1.2 triple term <<( {term} )>>")
        return f"_:{term.value}" if isinstance(term, ox.BlankNode) else self.iri(term.value)

    def pair(self, predicate: str, obj: Term | ox.Triple) -> tuple[str, object]:
        if predicate == _RDF_TYPE and isinstance(obj, ox.NamedNode | ox.BlankNode):
            return "@type", self.node(obj)
        if not isinstance(obj, ox.Literal):
            return self.iri(predicate), {"@id": self.node(obj)}
        datatype = obj.datatype.value
        if obj.language:
            value: object = {"@value": obj.value, "@language": obj.language}
        elif datatype == _XSD_STRING:
            value = obj.value
        else:
            value = {"@value": obj.value, "@type": self.iri(datatype)}
        return self.iri(predicate), value


# --- the cache: one build per data version, shared by every request ---


@dataclass
class _Version:
    number: int
    done: threading.Event = field(default_factory=threading.Event)
    files: dict[str, Built] = field(default_factory=dict)


class Dumps:
    """The dumps of a served graph: built in the background after start-up and after each write (:meth:`changed`)."""

    def __init__(self, folder: Path, job: Callable[[str], DumpJob], runner: Callable[[DumpJob], object]) -> None:
        self.folder = folder
        self._job = job
        self._runner = runner
        self._lock = threading.Condition()
        self._wanted = _Version(1)
        self._ready: _Version | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._build_loop, name="kgraph-dumps", daemon=True)
        self._thread.start()

    def changed(self) -> None:
        """The data changed: build the next version (the current files are served until it is ready)."""
        with self._lock:
            self._wanted = _Version(self._wanted.number + 1)
            self._lock.notify_all()

    def get(self, file_name: str, wait: float) -> Built | None:
        """The newest built file of that name, waiting up to ``wait`` seconds for the first build; None if none yet."""
        files = self.listing(wait)
        return files.get(file_name) if files is not None else None

    def listing(self, wait: float) -> dict[str, Built] | None:
        """Every built file of the newest version, waiting up to ``wait`` seconds for a build under way (after a
        write, so a client that wrote reads its write); the previous version if it is not ready by then."""
        with self._lock:
            wanted = self._wanted
        wanted.done.wait(wait)
        with self._lock:
            ready = self._ready
        return dict(ready.files) if ready is not None else None

    def close(self) -> None:
        """Stop building and delete the cache folder."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _build_loop(self) -> None:
        built = 0
        while True:
            with self._lock:
                while self._wanted.number == built and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                version = self._wanted
            built = version.number
            files = self._build(version.number)
            if files is None:
                version.done.set()  # nobody waits for a build that failed; the previous version is served
                continue
            version.files = files
            with self._lock:
                previous, self._ready = self._ready, version
            version.done.set()
            if previous is not None:
                shutil.rmtree(self.folder / str(previous.number), ignore_errors=True)

    def _build(self, number: int) -> dict[str, Built] | None:
        try:
            reply = self._runner(self._job(str(self.folder / str(number))))
        except Exception as error:  # a build that failed is retried at the next change; the server goes on
            # the text, not the exception: a handler keeping the record would keep its frames, and the query results
            # in them would be freed in another thread, which pyoxigraph refuses (they leak, with an error)
            _log.warning("kgraph: the dumps could not be built: %s", str(error))
            return None
        match reply:
            case ("ok", dict() as files):
                return files
            case (_, message):
                _log.warning("kgraph: the dumps could not be built: %s", message)
            case _:
                _log.warning("kgraph: the dumps' builder replied %r", reply)
        return None


def cache_folder(root: Path) -> Path:
    """A folder of this server's own for the dumps, under ``root`` (the dumps folder setting, else ``dumps/`` in the
    data folder) when it is writable, else a temporary one; those of servers that are gone are deleted first."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        for old in root.iterdir():
            owner = old.name.partition("-")[0]
            if not owner.isdigit() or not Path(f"/proc/{owner}").exists():
                shutil.rmtree(old, ignore_errors=True)
        folder = root / f"{os.getpid()}-{next(_CACHES)}"
        folder.mkdir()
        return folder
    except OSError:
        return Path(tempfile.mkdtemp(prefix="kgraph-dumps-"))


class Spliced(io.RawIOBase):
    """A short head followed by a file, read as one seekable stream: a JSON-LD dump with this server's context URL,
    still sent by waitress from its event loop like any file."""

    def __init__(self, head: bytes, path: Path) -> None:
        self._head = head
        self._file = path.open("rb")
        self._size = len(head) + os.fstat(self._file.fileno()).st_size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        written = 0
        if self._position < len(self._head):
            part = self._head[self._position : self._position + len(view)]
            view[: len(part)] = part
            written = len(part)
        if written < len(view):
            self._file.seek(self._position + written - len(self._head))
            written += self._file.readinto(view[written:]) or 0
        self._position += written
        return written

    def close(self) -> None:
        self._file.close()
        super().close()

    @property
    def size(self) -> int:
        """The whole stream's length."""
        return self._size
