"""Files -> store: each RDF file becomes its own named graph, so every triple traces to its file.

A file is added all or nothing, so a file with a syntax error leaves the store as it was, and the error
names the file, line and column a contributor has to fix. The embedded store parses and adds a file
natively (its bulk loader on disk): a million triples take seconds, not the minute that building Python
objects for them would. Parsing reaches
nothing beyond the file itself: pyoxigraph fetches no remote JSON-LD ``@context`` and reads no
external XML entity.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import stat
import xml.parsers.expat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, cast
from urllib.parse import quote

import pyoxigraph as ox

from kgraph import bounds
from kgraph.bounds import InputRefused, one_line
from kgraph.config import GRAPH_NS, INFERRED_GRAPH, Settings
from kgraph.store import Store

MAX_NESTING: int = Settings.max_nesting
"""The default bound on nesting (``KGRAPH_MAX_NESTING``): callers pass the one their settings hold."""

FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
}
"""File extension -> parser; the only files a folder contributes are those with these extensions."""

PROGRESS_EVERY = 100_000
"""Triples between two progress lines while one large file is parsed into Python objects."""

BULK_LOAD_BYTES = 4 * 1024 * 1024
"""Files from this size up go through an on-disk store's bulk loader; smaller ones are one transaction."""

PROGRESS_EVERY_BYTES = 32 * 1024 * 1024
"""Bytes read between two progress lines while the store loads one large file natively."""


class RdfSyntaxError(ValueError):
    """A file that is not valid RDF, located so that the contributor can go straight to the mistake.

    ``line`` and ``column`` are 1-based; they are ``None`` when the parser gives no position (some
    JSON-LD and RDF/XML errors that are not about the text's syntax); ``str()`` then names the file.
    """

    def __init__(self, path: Path, line: int | None, column: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = one_line(message)
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class LoadedFile:
    """What one file contributed: its graph, its quad count and its prefixes (for output)."""

    path: Path
    graph: str
    quads: int

    @cached_property
    def prefixes(self) -> dict[str, str]:
        """The prefixes the file declares, read again when first asked for: only messages about the file need them,
        and the store's native loader does not report them."""
        return declared_prefixes(self.path)


def rdf_files(paths: Sequence[Path], *, empty_folders: bool = True) -> list[Path]:
    """The RDF files named by ``paths``, folders expanded, each once, sorted for repeatable loads.

    A file named explicitly must be a readable regular file with a known extension: skipping it would hide it from
    validation. Raises ``FileNotFoundError`` for a missing path and :class:`UnreadableInput` (a ``ValueError``) for
    anything else that is not RDF to read: an unknown extension, a named pipe, a device, a symbolic link to any of
    these, an unreadable file, and with ``empty_folders=False`` a folder without RDF files; each says which.
    """
    found: dict[Path, Path] = {}
    for path in map(Path, paths):
        kind = _kind(path)
        if kind == "folder":
            children = [c for c in path.rglob("*") if c.is_file() and c.suffix.lower() in FORMATS]
            if not children and not empty_folders:
                raise UnreadableInput(f"{path}: a folder without RDF files (known extensions: {' '.join(FORMATS)})")
            for child in children:
                found.setdefault(child.resolve(), child)
        elif kind == "file":
            found.setdefault(path.resolve(), path)
        elif kind == "missing":
            raise FileNotFoundError(f"{path}: no such file or folder")
        else:
            raise UnreadableInput(f"{path}: {kind}")
    return sorted(found.values())


class UnreadableInput(ValueError):
    """A path that names something other than RDF files to read; ``str()`` says what it is instead."""


def _kind(path: Path) -> str:
    """``file``, ``folder`` or ``missing``, else what the path is instead of an RDF file, worded for the user."""
    if path.is_symlink():
        target = Path(os.readlink(path))
        if not path.exists():
            return f"a symbolic link to {target}, which does not exist"
        kind = _kind(path.resolve())
        if kind in ("file", "folder"):
            return kind
        return f"a symbolic link to {target}, which {'' if kind.startswith('cannot') else 'is '}{kind}"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file: kgraph reads regular files only"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file: kgraph reads regular files only"
    if not stat.S_ISREG(mode):
        return "not a regular file: kgraph reads regular files only"
    if path.suffix.lower() not in FORMATS:
        return f"not an RDF file (known extensions: {' '.join(FORMATS)})"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return "file"


def graph_iri(path: Path, root: Path) -> str:
    """A file's graph: its path in the project, so a graph says where its triples come from."""
    resolved = Path(path).resolve()
    try:
        relative = resolved.relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        relative = "external/" + resolved.name
    return GRAPH_NS + quote(relative, safe="/")


def refuse_project_graphs(paths: Sequence[Path], *, root: Path, max_nesting: int = MAX_NESTING) -> None:
    """Refuse ``--data`` files whose quads name a graph of kgraph's own (under ``GRAPH_NS``: a project file's graph,
    the inferred graph, the graphs of writes) other than the file's own graph: loading them would mix them into those
    graphs, where a reload, a write or inference would silently drop or misattribute them.

    Only datasets (N-Quads, TriG, JSON-LD) name graphs; they are parsed once more here, before anything is loaded.
    Raises :class:`RdfSyntaxError` with the file, the line where the graph is named and the graph.
    """
    for path in rdf_files(paths):
        rdf_format = FORMATS[path.suffix.lower()]
        if not rdf_format.supports_datasets:
            continue
        own = graph_iri(path, root)
        quads, prefixes = parse_file(path, own, max_nesting=max_nesting)
        named = (q.graph_name for q in quads if not isinstance(q.graph_name, ox.DefaultGraph))  # parse_file moved those
        for graph in dict.fromkeys(g.value for g in named):
            if graph.startswith(GRAPH_NS) and graph != own:
                line, column = _where_named(path, graph, prefixes)
                raise RdfSyntaxError(path, line, column, _reserved(graph, own))


def _reserved(graph: str, own: str) -> str:
    if graph == INFERRED_GRAPH:
        what = "kgraph's inferred graph"
    elif graph.startswith(GRAPH_NS + "contrib/"):
        what = "a graph of writes made over HTTP"
    else:
        what = "a graph kgraph keeps for a project file"
    return (
        f"names the graph <{graph}>, {what}; a --data file may fill its own graph <{own}> and graphs outside "
        f"<{GRAPH_NS}> only"
    )


def _where_named(path: Path, graph: str, prefixes: dict[str, str]) -> tuple[int | None, int | None]:
    """Where the file first writes ``graph``, in full or as a prefixed name."""
    spellings = [f"<{graph}>", f'"{graph}"']
    spellings += [f"{name}:{graph[len(ns) :]}" for name, ns in prefixes.items() if graph.startswith(ns)]
    text = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    for number, line in enumerate(text, 1):
        for spelling in spellings:
            if spelling in line:
                return number, line.index(spelling) + 1
    return None, None


def load_paths(
    store: Store,
    paths: Sequence[Path],
    *,
    root: Path,
    progress: Callable[[str], None] | None = None,
    max_nesting: int = MAX_NESTING,
) -> list[LoadedFile]:
    """Load every RDF file under ``paths`` into ``store``, each into its own named graph.

    Stops at the first file that does not parse or passes a bound (``max_nesting``), raising
    :class:`RdfSyntaxError`; the files before it stay loaded.
    """
    loaded = []
    for path in rdf_files(paths):
        graph = graph_iri(path, root)
        if progress:
            progress(f"loading {path}")
        try:
            quads = load_file(store, path, graph, progress, max_nesting=max_nesting)
        except OSError as error:  # removed or made unreadable since it was listed
            raise RdfSyntaxError(path, None, None, f"cannot be read ({error.strerror or error})") from None
        loaded.append(LoadedFile(path=path, graph=graph, quads=quads))
        if progress:
            progress(f"loaded {path}: {quads} {_destination(path, graph)}")
    return loaded


def _destination(path: Path, graph: str) -> str:
    """Where a file's triples went, for the progress line: a dataset file (TriG, N-Quads, JSON-LD) keeps its own
    named graphs, and only its default graph goes to the file's graph."""
    if FORMATS[path.suffix.lower()].supports_datasets:
        return f"quads into their own named graphs, the default graph's into <{graph}>"
    return f"triples into <{graph}>"


def load_file(
    store: Store,
    path: Path,
    graph: str,
    progress: Callable[[str], None] | None = None,
    *,
    max_nesting: int = MAX_NESTING,
) -> int:
    """Add one file to ``store``, its default graph going to ``graph``: all of it, or nothing and an
    :class:`RdfSyntaxError`. Returns the number of quads the store gained."""
    if not store.loads_natively:
        quads, _ = parse_file(path, graph, progress, max_nesting=max_nesting)
        store.add(quads)
        return len(quads)
    rdf_format = FORMATS[path.suffix.lower()]
    before = store.count()
    large = path.stat().st_size >= BULK_LOAD_BYTES
    nquads = _contained(path, rdf_format, max_nesting)
    if nquads is not None:
        store.load_file(io.BytesIO(nquads), ox.RdfFormat.N_QUADS, base_iri=None, graph=graph, large=large)
        return store.count() - before
    with _open(path) as file:
        source = _ProgressReader(file, path, progress) if progress else file
        try:
            # pyoxigraph reads any binary file object; typeshed does not count a RawIOBase as an IO[bytes]
            readable = cast(IO[bytes], source)
            store.load_file(readable, rdf_format, base_iri=path.resolve().as_uri(), graph=graph, large=large)
        except SyntaxError as error:
            raise _located(path, error) from None
        except MemoryError:
            raise _too_long(path) from None
    return store.count() - before


def _open(path: Path) -> io.BufferedReader:
    """The file opened for reading, past a UTF-8 byte order mark if it starts with one."""
    file = path.open("rb")
    if file.peek(len(bounds.BOM))[: len(bounds.BOM)] == bounds.BOM:
        file.read(len(bounds.BOM))
    return file


def _contained(path: Path, rdf_format: ox.RdfFormat, max_nesting: int) -> bytes | None:
    """The file checked against the bounds and, when its syntax or nesting needs it, parsed in a child process, as
    N-Quads; None when the caller's own parser can read it safely (a Turtle-family file without deep triple terms,
    found out without reading it into memory when it has no ``<<`` at all)."""
    if rdf_format not in bounds.RECURSIVE and not _mentions_triple_terms(path):
        return None
    data = bounds.strip_bom(path.read_bytes())
    try:
        depth = bounds.check(data, rdf_format, max_nesting=max_nesting)
        if not bounds.needs_containment(rdf_format, depth):
            return None
        return bounds.contained(
            data, rdf_format, depth=depth, max_nesting=max_nesting, base_iri=path.resolve().as_uri()
        )
    except InputRefused as error:
        line, column = error.line, error.column
        if line is None and rdf_format == ox.RdfFormat.RDF_XML and not error.message.startswith("the "):
            line, column = _xml_position(data)  # pyoxigraph's RDF/XML errors often have no position
        raise RdfSyntaxError(path, line, column, error.message) from None


def _mentions_triple_terms(path: Path) -> bool:
    """Whether ``<<`` occurs in the file, searched through a memory map rather than a copy."""
    with path.open("rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            return False
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return mapped.find(b"<<") >= 0


class _ProgressReader(io.RawIOBase):
    """A file that says how far the store's loader has read, every ``PROGRESS_EVERY_BYTES``."""

    def __init__(self, file: io.BufferedReader, path: Path, progress: Callable[[str], None]) -> None:
        super().__init__()
        self._file = file
        self._path = path
        self._progress = progress
        self._size = max(path.stat().st_size, 1)
        self._read = 0
        self._next = PROGRESS_EVERY_BYTES

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = self._file.readinto(buffer) or 0
        self._read += count
        if self._read >= self._next and self._read < self._size:
            self._progress(f"{self._path}: {self._read * 100 // self._size}% read")
            self._next = self._read + PROGRESS_EVERY_BYTES
        return count


def declared_prefixes(path: Path) -> dict[str, str]:
    """The prefixes a file declares (Turtle, TriG; none for the other formats), for writing its terms as it does."""
    rdf_format = FORMATS[path.suffix.lower()]
    if rdf_format in bounds.RECURSIVE:
        return {}
    with _open(path) as file:
        parser = ox.parse(file, format=rdf_format, base_iri=path.resolve().as_uri())
        for _ in parser:
            pass
        return dict(parser.prefixes)


def parse_file(
    path: Path, graph: str, progress: Callable[[str], None] | None = None, *, max_nesting: int = MAX_NESTING
) -> tuple[list[ox.Quad], dict[str, str]]:
    """Every quad of one file (default-graph ones moved to ``graph``) and its declared prefixes."""
    rdf_format = FORMATS[path.suffix.lower()]
    target = ox.NamedNode(graph)
    with contextlib.ExitStack() as opened:
        source: bytes | io.BufferedReader | None = _contained(path, rdf_format, max_nesting)
        if source is not None:
            rdf_format = ox.RdfFormat.N_QUADS
        else:
            source = opened.enter_context(_open(path))
        parser = ox.parse(source, format=rdf_format, base_iri=path.resolve().as_uri())
        quads = []
        try:
            for quad in parser:
                if isinstance(quad.graph_name, ox.DefaultGraph):
                    quad = ox.Quad(quad.subject, quad.predicate, quad.object, target)
                quads.append(quad)
                if progress and len(quads) % PROGRESS_EVERY == 0:
                    progress(f"{path}: {len(quads)} triples so far")
        except SyntaxError as error:
            raise _located(path, error) from None
        except MemoryError:
            raise _too_long(path) from None
    return quads, dict(parser.prefixes)


def _located(path: Path, error: SyntaxError) -> RdfSyntaxError:
    """Our error from pyoxigraph's, positioned as pyoxigraph positions it."""
    problem = bounds.refused(error)
    return RdfSyntaxError(path, problem.line, problem.column, problem.message)


def _too_long(path: Path) -> RdfSyntaxError:
    """A file with a token past the parser's buffer, located at its first line that long."""
    problem = bounds.too_long(path.read_bytes())
    return RdfSyntaxError(path, problem.line, problem.column, problem.message)


def _xml_position(data: bytes) -> tuple[int | None, int | None]:
    """Where expat finds the XML ill-formed (it resolves no external entity: nothing is read)."""
    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as error:
        return error.lineno, error.offset + 1
    return None, None
