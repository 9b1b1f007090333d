"""Truncated and garbled RDF files through :func:`kgraph.load.load_paths`.

A contributor's broken file must end in :class:`RdfSyntaxError` (a position to fix) or load; any
other exception is a crash of ``kgraph validate`` or of the server's start. XML files must never make
the parser read another file or expand entities without bound.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hostile import damage, fuzz_settings
from hypothesis import example, given
from hypothesis import strategies as st

from kgraph.load import RdfSyntaxError, load_paths
from kgraph.store import EmbeddedStore

FIXTURES = Path(__file__).parents[1] / "fixtures" / "load"
SAMPLES = {
    ".ttl": (FIXTURES / "good.ttl").read_bytes(),
    ".jsonld": (FIXTURES / "data.jsonld").read_bytes(),
    ".rdf": (FIXTURES / "data.rdf").read_bytes(),
    ".nq": (FIXTURES / "quads.nq").read_bytes(),
    ".trig": (FIXTURES / "quads.trig").read_bytes(),
}
"""Valid files of each syntax, to truncate and garble."""

SECRET = Path("/etc/passwd").read_text(encoding="utf-8").splitlines()[0]
"""A line no parsed file may ever contain: it would have been read from outside the project."""


def load_bytes(data: bytes, suffix: str) -> list[str]:
    """Load ``data`` as a file with ``suffix``; the loaded objects' text, or RdfSyntaxError."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzzed{suffix}"
        path.write_bytes(data)
        store = EmbeddedStore()
        load_paths(store, [path], root=Path(folder))
        return [quad.object.value for quad in store.quads()]


def load_or_refuse(data: bytes, suffix: str) -> None:
    """The invariant: the file loads (reading nothing else) or is refused with a located error."""
    try:
        objects = load_bytes(data, suffix)
    except RdfSyntaxError as error:
        assert str(error).startswith(str(error.path))
        assert error.message
    else:
        assert not any(SECRET in value for value in objects)


@st.composite
def garbled(draw: st.DrawFn) -> tuple[bytes, str]:
    """A sample file truncated, with bytes flipped, inserted or duplicated."""
    suffix = draw(st.sampled_from(sorted(SAMPLES)))
    inserts = st.binary(min_size=1, max_size=8) | st.sampled_from([b"<", b'"', b"{", b"&x;"])
    return damage(draw, SAMPLES[suffix], times=4, inserts=inserts, longest=40), suffix


@fuzz_settings(200)
@given(sample=garbled())
@example(sample=(b"", ".jsonld"))
@example(sample=(b"\xff\xfe", ".ttl"))
@example(sample=(b'{"@context": {"@vocab": 5}}', ".jsonld"))
def test_garbled_files_load_or_are_refused(sample: tuple[bytes, str]) -> None:
    load_or_refuse(*sample)


@pytest.mark.parametrize("suffix", sorted(SAMPLES))
def test_every_truncation_loads_or_is_refused(suffix: str) -> None:
    data = SAMPLES[suffix]
    for end in range(len(data)):
        load_or_refuse(data[:end], suffix)


RDF_XML = (
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">'
    '<rdf:Description rdf:about="http://example.org/a"><ex:p>{value}</ex:p></rdf:Description></rdf:RDF>'
)


def billion_laughs(levels: int) -> bytes:
    """The classic entity expansion bomb: each level references the previous one ten times."""
    entities = ['<!ENTITY e0 "lol">'] + [f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, levels)]
    return (
        f'<?xml version="1.0"?><!DOCTYPE rdf:RDF [{"".join(entities)}]>' + RDF_XML.format(value=f"&e{levels - 1};")
    ).encode()


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(RdfSyntaxError) as caught:
        load_bytes(billion_laughs(10), ".rdf")
    assert str(caught.value).endswith(":1:708: XML entities expand too much (an entity expansion bomb)")


@pytest.mark.parametrize(
    "declaration",
    [
        '<!ENTITY x SYSTEM "file:///etc/passwd">',
        "<!ENTITY x SYSTEM 'file:///etc/passwd'>",
        '<!ENTITY % x SYSTEM "file:///etc/passwd"> %x;',
        '<!ENTITY x PUBLIC "-//x" "file:///etc/passwd">',
        '<!ENTITY x SYSTEM "http://127.0.0.1:9/x">',
    ],
)
def test_external_entities_are_never_read(declaration: str) -> None:
    data = f'<?xml version="1.0"?><!DOCTYPE rdf:RDF [{declaration}]>' + RDF_XML.format(value="&x;")
    load_or_refuse(data.encode(), ".rdf")


def test_remote_jsonld_context_is_never_fetched() -> None:
    data = b'{"@context": "file:///etc/passwd", "@id": "http://example.org/a", "http://example.org/p": "v"}'
    load_or_refuse(data, ".jsonld")
