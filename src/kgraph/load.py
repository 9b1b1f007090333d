"""Files -> store: each RDF file becomes its own named graph, so every triple traces to its file.

A file is parsed completely before anything is added, so a file with a syntax error leaves the store
as it was, and the error names the file, line and column a contributor has to fix. Parsing reaches
nothing beyond the file itself: pyoxigraph fetches no remote JSON-LD ``@context`` and reads no
external XML entity.
"""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox

from kgraph.config import GRAPH_NS
from kgraph.store import Store

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
"""Triples between two progress lines while one large file is parsed."""


class RdfSyntaxError(ValueError):
    """A file that is not valid RDF, located so that the contributor can go straight to the mistake.

    ``line`` and ``column`` are 1-based; they are ``None`` when the parser gives no position (some
    JSON-LD and RDF/XML errors that are not about the text's syntax); ``str()`` then names the file.
    """

    def __init__(self, path: Path, line: int | None, column: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
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
    prefixes: dict[str, str] = field(default_factory=dict)


def rdf_files(paths: Sequence[Path]) -> list[Path]:
    """The RDF files named by ``paths``, folders expanded, each once, sorted for repeatable loads.

    A file named explicitly must have a known extension: skipping it would hide it from validation.
    Raises ``FileNotFoundError`` for a missing path and ``ValueError`` for an unknown extension.
    """
    found: dict[Path, Path] = {}
    for path in map(Path, paths):
        if path.is_dir():
            for child in path.rglob("*"):
                if child.is_file() and child.suffix.lower() in FORMATS:
                    found.setdefault(child.resolve(), child)
        elif path.is_file():
            if path.suffix.lower() not in FORMATS:
                known = " ".join(FORMATS)
                raise ValueError(f"{path}: not an RDF file (known extensions: {known})")
            found.setdefault(path.resolve(), path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return sorted(found.values())


def graph_iri(path: Path, root: Path) -> str:
    """A file's graph: its path in the project, so a graph says where its triples come from."""
    resolved = Path(path).resolve()
    try:
        relative = resolved.relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        relative = "external/" + resolved.name
    return GRAPH_NS + quote(relative, safe="/")


def load_paths(
    store: Store,
    paths: Sequence[Path],
    *,
    root: Path,
    progress: Callable[[str], None] | None = None,
) -> list[LoadedFile]:
    """Load every RDF file under ``paths`` into ``store``, each into its own named graph.

    Stops at the first file that does not parse, raising :class:`RdfSyntaxError`; the files before
    it stay loaded.
    """
    loaded = []
    for path in rdf_files(paths):
        graph = graph_iri(path, root)
        if progress:
            progress(f"loading {path}")
        quads, prefixes = parse_file(path, graph, progress)
        store.add(quads)
        loaded.append(LoadedFile(path=path, graph=graph, quads=len(quads), prefixes=prefixes))
        if progress:
            progress(f"loaded {path}: {len(quads)} triples into <{graph}>")
    return loaded


def parse_file(
    path: Path, graph: str, progress: Callable[[str], None] | None = None
) -> tuple[list[ox.Quad], dict[str, str]]:
    """Every quad of one file (default-graph ones moved to ``graph``) and its declared prefixes."""
    rdf_format = FORMATS[path.suffix.lower()]
    if rdf_format == ox.RdfFormat.RDF_XML:
        _refuse_entity_bomb(path)
    target = ox.NamedNode(graph)
    parser = ox.parse(path=str(path), format=rdf_format, base_iri=path.resolve().as_uri())
    quads = []
    try:
        for quad in parser:
            if isinstance(quad.graph_name, ox.DefaultGraph):
                quad = ox.Quad(quad.subject, quad.predicate, quad.object, target)
            quads.append(quad)
            if progress and len(quads) % PROGRESS_EVERY == 0:
                progress(f"{path}: {len(quads)} triples so far")
    except SyntaxError as error:
        raise _located(path, rdf_format, error) from None
    return quads, dict(parser.prefixes)


def _located(path: Path, rdf_format: ox.RdfFormat, error: SyntaxError) -> RdfSyntaxError:
    """Our error from pyoxigraph's, positioned by pyoxigraph or, for RDF/XML, by an XML parser."""
    message = error.msg
    if error.lineno is not None:
        message = message.split(": ", 1)[1] if message.startswith("Parser error") else message
        return RdfSyntaxError(path, error.lineno, error.offset, message)
    if rdf_format == ox.RdfFormat.RDF_XML:
        line, column = _xml_position(path)
        return RdfSyntaxError(path, line, column, message)
    return RdfSyntaxError(path, None, None, message)


def _refuse_entity_bomb(path: Path) -> None:
    """Refuse XML whose entities expand without bound ("billion laughs"): pyoxigraph expands them all,
    for minutes and gigabytes (found by tests/fuzz), while expat stops at an amplification limit."""
    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(path.read_bytes(), True)
    except xml.parsers.expat.ExpatError as error:
        if error.code == _AMPLIFICATION:
            raise RdfSyntaxError(
                path, error.lineno, error.offset + 1, "XML entities expand too much (an entity expansion bomb)"
            ) from None


_AMPLIFICATION = xml.parsers.expat.errors.codes[xml.parsers.expat.errors.XML_ERROR_AMPLIFICATION_LIMIT_BREACH]


def _xml_position(path: Path) -> tuple[int | None, int | None]:
    """Where expat finds the XML ill-formed (it resolves no external entity: nothing is read)."""
    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(path.read_bytes(), True)
    except xml.parsers.expat.ExpatError as error:
        return error.lineno, error.offset + 1
    return None, None
