"""Where a term or a triple is written in its source file, since parsers keep no line numbers.

A term is searched for as it can be spelled in the file: ``<full IRI>``, a prefixed name with one of
the file's own prefixes, or the bare IRI (JSON-LD, RDF/XML). A triple is the subject's block (the
subject at the start of a line, down to the next statement) and the property's line within it.
Good enough for hand-written data; when nothing is found the caller names the file only.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pyoxigraph as ox

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
TURTLE_LIKE = (".ttl", ".trig", ".nt", ".nq")
"""Formats written statement by statement, where a subject starts a line."""
Position = tuple[int, int]
"""1-based line and column."""


class SourceFile:
    """One file's text and prefixes, searched for the spellings of terms."""

    def __init__(self, path: Path, prefixes: dict[str, str]) -> None:
        self.path = path
        self.prefixes = prefixes
        self.lines = path.read_text(encoding="utf-8", errors="replace").splitlines()

    def find_term(self, term: ox.NamedNode) -> Position | None:
        """The first place the term is written, outside comments."""
        pattern = self._pattern(term.value)
        for number, line in enumerate(self.lines, start=1):
            match = pattern.search(_code(line))
            if match:
                return number, match.start() + 1
        return None

    def find_triple(self, subject: ox.NamedNode, predicate: ox.NamedNode | None) -> Position | None:
        """The predicate's place in a block about the subject, else the subject's first place."""
        if self.path.suffix.lower() not in TURTLE_LIKE:
            return self.find_term(subject)
        subject_at_start = re.compile(r"^\s*(?:" + self._pattern(subject.value).pattern + ")")
        blocks = []
        for number, line in enumerate(self.lines):
            match = subject_at_start.search(_code(line))
            if match:
                blocks.append((number, match.end()))
        if predicate is not None:
            found = self._predicate_in_blocks(blocks, predicate)
            if found:
                return found
        if blocks:
            line = self.lines[blocks[0][0]]
            return blocks[0][0] + 1, len(line) - len(line.lstrip()) + 1
        return None

    def _predicate_in_blocks(self, blocks: list[tuple[int, int]], predicate: ox.NamedNode) -> Position | None:
        """The predicate written first on a line of a block, or after the subject or a ``;``."""
        spelling = self._pattern(predicate.value).pattern
        if predicate.value == RDF_TYPE:
            spelling += r"|a(?=\s)"
        wanted = re.compile(rf"(?:^|;)\s*({spelling})")
        for start, subject_end in blocks:
            for number in range(start, self._block_end(start)):
                offset = subject_end if number == start else 0
                match = wanted.search(_code(self.lines[number])[offset:])
                if match:
                    return number + 1, offset + match.start(1) + 1
        return None

    def _block_end(self, start: int) -> int:
        """The line after the statement begun at ``start``: the next line written at column 1."""
        for number in range(start + 1, len(self.lines)):
            line = self.lines[number]
            if line and not line[0].isspace() and not line.startswith("#"):
                return number
        return len(self.lines)

    def _pattern(self, iri: str) -> re.Pattern[str]:
        return _spellings(iri, tuple(sorted(self.prefixes.items())))


@cache
def _spellings(iri: str, prefixes: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    """A regex matching every way the file can write the IRI, as a whole token."""
    names = [
        re.escape(f"{prefix}:{iri[len(namespace) :]}")
        for prefix, namespace in prefixes
        if iri.startswith(namespace) and len(iri) > len(namespace)
    ]
    names.append(re.escape(iri))
    ending = r"(?![\w\-]|\.[\w\-])"
    return re.compile(rf"<{re.escape(iri)}>|(?<![\w:<\-/#])(?:{'|'.join(names)}){ending}")


def _code(line: str) -> str:
    """The line without a trailing Turtle comment, kept the same length so columns stay right."""
    hash_at = line.find(" #")
    if line.lstrip().startswith("#"):
        return " " * len(line)
    return line if hash_at < 0 or '"' in line[hash_at:] else line[:hash_at]
