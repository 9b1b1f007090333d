"""Untrusted RDF bytes -> quads, without letting a parser crash or stall the process that asked.

pyoxigraph's JSON-LD and RDF/XML parsers recurse once per nesting level: a 112 KB JSON-LD document nested 4,000 deep
overflows the stack (a segfault: the CLI dies silently, the server loses a worker), and nested RDF/XML takes time
quadratic in its depth (4.6 MB, minutes). So every input, a ``--data`` file, a file to validate or a ``/store`` body,
is first measured here in linear time (nesting depth, entity expansion) and refused past the limits, located; then
the two recursive parsers run in a forked child process, so that a crash the limits did not foresee (a limit raised
too far) becomes a one-line error instead of the death of the caller. The child sends its quads back as N-Quads, which
the caller's store reads natively. Turtle, TriG, N-Triples and N-Quads parsers are iterative (a million nested blank
nodes parse in a second) and run in the caller.
"""

from __future__ import annotations

import array
import contextlib
import faulthandler
import itertools
import os
import re
import signal
import xml.parsers.expat
from typing import Any

import pyoxigraph as ox

BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte order mark some editors write first; RDF syntaxes do not allow it, so it is dropped before
parsing."""

RECURSIVE = frozenset({ox.RdfFormat.JSON_LD, ox.RdfFormat.RDF_XML})
"""The syntaxes whose parsers recurse per nesting level, and so run in a child process."""

SAFE_NESTING = 1000
"""Triple terms (``<< s p o >>``, RDF 1.2) nested deeper than this are parsed in a child process too: the Turtle
family's parsers recurse into them (20,000 levels overflow the stack), though not into blank nodes or lists."""

ENTITY_BOMB = "XML entities expand too much (an entity expansion bomb)"

TOKEN_LIMIT = 16 * 1024 * 1024
"""pyoxigraph's parsers hold one token (a literal, an IRI, a JSON string) in a buffer of at most 16 MiB; a longer
one ends the parse with a MemoryError, which :func:`too_long` turns into a located refusal."""

TOO_LONG = "a literal, IRI or line longer than 16 MiB, the most the RDF parser reads as one token"

_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_DEPTH_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_TURTLE_TOKEN = re.compile(
    rb'"""(?:[^"\\]|\\.|"(?!""))*"""'  # long strings
    rb"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    rb'|"(?:[^"\\\n]|\\.)*"'  # short strings
    rb"|'(?:[^'\\\n]|\\.)*'"
    rb'|<[^<>"{}|^`\\\x00-\x20]*>'  # IRIs
    rb"|#[^\n]*"  # comments
    rb"|<<|>>",
    re.DOTALL,
)
_TRIPLE_TERM_STEP = {b"<<": 1, b">>": -1}
_AMPLIFICATION = xml.parsers.expat.errors.codes[xml.parsers.expat.errors.XML_ERROR_AMPLIFICATION_LIMIT_BREACH]
_NAMES = {
    ox.RdfFormat.JSON_LD: "JSON-LD",
    ox.RdfFormat.RDF_XML: "RDF/XML",
    ox.RdfFormat.TURTLE: "Turtle",
    ox.RdfFormat.TRIG: "TriG",
    ox.RdfFormat.N_TRIPLES: "N-Triples",
    ox.RdfFormat.N_QUADS: "N-Quads",
    ox.RdfFormat.N3: "N3",
}


class InputRefused(ValueError):
    """Bytes that cannot become quads: refused by a bound, ill-formed, or crashing the parser.

    ``line`` and ``column`` are 1-based, ``None`` where unknown; ``message`` says what is wrong without the place.
    """

    def __init__(self, line: int | None, column: int | None, message: str) -> None:
        self.line = line
        self.column = column
        self.message = one_line(message)
        super().__init__(self.message)


def one_line(message: str) -> str:
    """A parser's message on one line (RDF/XML's quote the text they stumbled on, line breaks included): every error
    kgraph prints is one line. Any other control or line-separator character a parser quotes (JSON-LD's "Unexpected
    char: '\x0b'") is written as its escape: a raw vertical tab, form feed or U+2028 ends a line for many readers
    (Python's ``splitlines``) and a raw control character reaches the contributor's terminal."""
    return _CONTROL.sub(_escaped, re.sub(r"\s*\n\s*", " ", message).strip())


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""Control characters (C0, DEL, C1) and Unicode's line and paragraph separators."""


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def strip_bom(data: bytes) -> bytes:
    """``data`` without a leading UTF-8 byte order mark."""
    return data[len(BOM) :] if data.startswith(BOM) else data


def nesting_depth(data: bytes, rdf_format: ox.RdfFormat) -> int:
    """How deep ``data`` nests (JSON arrays and objects, XML elements); 0 for the syntaxes whose parsers do not
    recurse. Raises :class:`InputRefused` for an RDF/XML entity expansion bomb."""
    if rdf_format == ox.RdfFormat.JSON_LD:
        return _json_depth(data)
    if rdf_format == ox.RdfFormat.RDF_XML:
        return _xml_depth(data, limit=None)[0]
    return _triple_term_depth(data)


def check(data: bytes, rdf_format: ox.RdfFormat, *, max_nesting: int) -> int:
    """Refuse ``data`` past the bounds, located, before any parser sees it; returns its nesting depth."""
    if rdf_format == ox.RdfFormat.JSON_LD:
        depth = _json_depth(data)
        if depth > max_nesting:
            line, column = _json_too_deep(data, max_nesting)
            raise InputRefused(line, column, _too_deep("JSON-LD", depth, max_nesting))
        return depth
    if rdf_format == ox.RdfFormat.RDF_XML:
        depth, where = _xml_depth(data, limit=max_nesting)
        if where:
            raise InputRefused(*where, _too_deep("RDF/XML", depth, max_nesting))
        return depth
    depth = _triple_term_depth(data)
    if depth > max_nesting:
        line, column = _triple_terms_too_deep(data, max_nesting)
        raise InputRefused(line, column, _too_deep(f"{_NAMES[rdf_format]} triple terms", depth, max_nesting))
    return depth


def needs_containment(rdf_format: ox.RdfFormat, depth: int) -> bool:
    """Whether parsing must happen in a child process: a recursive parser, or triple terms nested past the safe
    depth (a limit raised above it)."""
    return rdf_format in RECURSIVE or depth > SAFE_NESTING


def parse(
    data: bytes,
    rdf_format: ox.RdfFormat,
    *,
    max_nesting: int,
    base_iri: str | None = None,
    rename_blank_nodes: bool = False,
) -> list[ox.Quad]:
    """Every quad of ``data`` (a leading byte order mark ignored), checked against the bounds first and parsed where
    a crash cannot take the caller down. Raises :class:`InputRefused`, located where the parser says."""
    data = strip_bom(data)
    depth = check(data, rdf_format, max_nesting=max_nesting)
    if needs_containment(rdf_format, depth):
        data = contained(data, rdf_format, depth=depth, max_nesting=max_nesting, base_iri=base_iri)
        rdf_format = ox.RdfFormat.N_QUADS
    try:
        return list(ox.parse(data, format=rdf_format, base_iri=base_iri, rename_blank_nodes=rename_blank_nodes))
    except SyntaxError as error:
        raise refused(error) from None
    except MemoryError:
        raise too_long(data) from None


def too_long(data: bytes) -> InputRefused:
    """The refusal of input holding a token past :data:`TOKEN_LIMIT`, at the first line that long if there is one."""
    found = re.search(rb"(?m)^[^\n]{%d}" % TOKEN_LIMIT, data)
    where: tuple[int | None, int | None] = _position(data, found.start()) if found else (None, None)
    return InputRefused(*where, TOO_LONG)


def refused(error: SyntaxError) -> InputRefused:
    """Our error from pyoxigraph's: its message without the position it repeats, and the position."""
    message = error.msg
    if message.startswith("Parser error") and ": " in message:
        message = message.split(": ", 1)[1]
    return InputRefused(error.lineno, error.offset, message)


def contained(data: bytes, rdf_format: ox.RdfFormat, *, depth: int, max_nesting: int, base_iri: str | None) -> bytes:
    """``data`` parsed in a forked child and returned as N-Quads (default graph kept as the default graph).

    A syntax error comes back located; a child killed by a signal (a stack overflow in the parser) becomes an
    :class:`InputRefused` naming the depth and the limit.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: parse, answer through the pipe, exit without running the parent's clean-ups
        os.close(read_end)
        _child(data, rdf_format, base_iri, write_end)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        raise InputRefused(
            None,
            None,
            f"the {_NAMES[rdf_format]} parser crashed ({name}) at nesting depth {depth:,}; the limit is "
            f"{max_nesting:,} (KGRAPH_MAX_NESTING)",
        )
    if os.WEXITSTATUS(status) == 3:
        line, column, message = answer.decode("utf-8", "replace").split("\n", 2)
        raise InputRefused(int(line) if line else None, int(column) if column else None, message)
    if os.WEXITSTATUS(status) != 0:
        raise InputRefused(None, None, f"the {_NAMES[rdf_format]} parser failed (exit {os.WEXITSTATUS(status)})")
    return answer


def _child(data: bytes, rdf_format: ox.RdfFormat, base_iri: str | None, out: int) -> None:
    """The child's side of :func:`contained`: N-Quads and exit 0, or ``line\\ncolumn\\nmessage`` and exit 3."""
    faulthandler.disable()  # a crash here is expected and reported by the parent in one line, not as a stack dump
    code = 0
    try:
        try:
            answer = ox.serialize(ox.parse(data, format=rdf_format, base_iri=base_iri), format=ox.RdfFormat.N_QUADS)
        except (SyntaxError, MemoryError) as error:
            problem = refused(error) if isinstance(error, SyntaxError) else too_long(data)
            where = f"{problem.line or ''}\n{problem.column or ''}\n"
            answer, code = (where + problem.message).encode("utf-8"), 3
        with os.fdopen(out, "wb") as pipe:
            pipe.write(answer or b"")
    except BaseException:
        code = 4
    finally:
        os._exit(code)


def _too_deep(syntax: str, depth: int, limit: int) -> str:
    return f"{syntax} nested {depth:,} levels deep; the limit is {limit:,} (KGRAPH_MAX_NESTING)"


def _json_depth(data: bytes) -> int:
    """The deepest nesting of JSON arrays and objects, brackets inside strings ignored, in linear time."""
    brackets = _JSON_STRING.sub(b"", data).translate(None, delete=_NOT_BRACKET).translate(_DEPTH_STEP)
    steps = array.array("b", brackets)
    return max(itertools.accumulate(steps), default=0)


def _triple_term_depth(data: bytes) -> int:
    """The deepest nesting of ``<< >>`` triple terms, outside strings, IRIs and comments; 0 at once when none."""
    if b"<<" not in data:
        return 0
    depth = deepest = 0
    for token in _TURTLE_TOKEN.finditer(data):
        depth += _TRIPLE_TERM_STEP.get(token.group(), 0)
        deepest = max(deepest, depth)
    return deepest


def _triple_terms_too_deep(data: bytes, limit: int) -> tuple[int, int]:
    """Line and column of the ``<<`` that goes one level past ``limit``."""
    depth = 0
    for token in _TURTLE_TOKEN.finditer(data):
        depth += _TRIPLE_TERM_STEP.get(token.group(), 0)
        if depth > limit:
            return _position(data, token.start())
    return 1, 1


def _json_too_deep(data: bytes, limit: int) -> tuple[int, int]:
    """Line and column of the bracket that goes one level past ``limit``."""
    depth = 0
    for token in _JSON_TOKEN.finditer(data):
        depth += {b"[": 1, b"{": 1, b"]": -1, b"}": -1}.get(token.group(), 0)
        if depth > limit:
            return _position(data, token.start())
    return 1, 1


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    return line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def _xml_depth(data: bytes, limit: int | None) -> tuple[int, tuple[int, int] | None]:
    """The deepest element nesting, and where it first passes ``limit`` (or None).

    expat is iterative and reads no external entity; it stops at its entity amplification limit, which is reported
    as a bomb, located. Other XML errors are left to the RDF/XML parser, which words them for RDF.
    """
    parser = xml.parsers.expat.ParserCreate()
    state: dict[str, Any] = {"depth": 0, "deepest": 0, "where": None}

    def start(_name: str, _attributes: dict[str, str]) -> None:
        state["depth"] += 1
        if state["depth"] > state["deepest"]:
            state["deepest"] = state["depth"]
            if limit is not None and state["depth"] > limit and state["where"] is None:
                state["where"] = (parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)
                raise _TooDeep

    def end(_name: str) -> None:
        state["depth"] -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    with contextlib.suppress(_TooDeep):
        try:
            parser.Parse(data, True)
        except xml.parsers.expat.ExpatError as error:
            if error.code == _AMPLIFICATION:
                raise InputRefused(error.lineno, error.offset + 1, ENTITY_BOMB) from None
    if state["where"] is not None:
        state["deepest"] = max(state["deepest"], _xml_depth(data, limit=None)[0])
    return state["deepest"], state["where"]


class _TooDeep(Exception):
    """Stops expat at the first element past the limit."""
