"""Hostile nesting and crashing parsers: refused before parsing, or contained, in every place RDF comes in.

The documents are the ones that crashed or stalled kgraph before: JSON-LD nested 4,000 deep (a segfault in
pyoxigraph's parser) and RDF/XML nested 20,000 deep (time quadratic in the depth).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from conftest import FIXTURE_PROJECT, KGRAPH
from kgraph import bounds
from kgraph.load import RdfSyntaxError, load_paths
from kgraph.store import EmbeddedStore

TOKEN = "bounds-test-token"
EX = "http://example.org/"
VALIDATE_PROJECT = Path(__file__).parent / "fixtures" / "validate" / "project"
"""A project with shapes, for ``kgraph validate``."""


def nested_jsonld(depth: int) -> str:
    """A node holding a node ... ``depth`` levels deep, one triple per level."""
    return '{"@type": "http://example.org/C", "http://example.org/p": ' * depth + '"x"' + "}" * depth


def nested_rdfxml(depth: int) -> str:
    """Descriptions inside property elements, ``depth`` of each (so ``2 * depth + 1`` elements deep)."""
    return (
        '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:e="http://example.org/">\n'
        + "<rdf:Description><e:p>" * depth
        + "x"
        + "</e:p></rdf:Description>" * depth
        + "</rdf:RDF>\n"
    )


def kgraph(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The installed command, as users run it, with the validation fixture project."""
    return subprocess.run(
        [str(KGRAPH), *args],
        env={**os.environ, "KGRAPH_PROJECT_DIR": str(VALIDATE_PROJECT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def validated(folder: Path, name: str, text: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``kgraph validate --no-project-data`` of one file written in ``folder``."""
    (folder / name).write_text(text, encoding="utf-8")
    return kgraph("validate", "--no-project-data", name, cwd=folder, env=env)


def test_jsonld_nested_past_the_limit_is_refused_by_validate_located(tmp_path: Path) -> None:
    result = validated(tmp_path, "f.jsonld", nested_jsonld(4000))
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "f.jsonld:1:58001: JSON-LD nested 4,000 levels deep; the limit is 1,000 (KGRAPH_MAX_NESTING)\n"
        "1 problem found\n",
        "",
    )


def test_a_control_character_a_parser_quotes_is_written_as_its_escape(tmp_path: Path) -> None:
    # Found by the nesting fuzz test: JSON-LD's parser quotes the vertical tab it stumbled on, which ended a line.
    (tmp_path / "doc.jsonld").write_bytes(b'\x0b"@type": "http://example.org/C", "http://example.org/p": ["x"]}')
    result = subprocess.run(
        [str(KGRAPH), "validate", "--no-project-data", "doc.jsonld"],
        env={**os.environ, "KGRAPH_PROJECT_DIR": str(VALIDATE_PROJECT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (2, "")
    assert result.stdout == "doc.jsonld:1:1: Unexpected char: '\\x0b'\n1 problem found\n"


@pytest.mark.parametrize(
    ("message", "written"),
    [
        ("a\n  quoted\r\n text", "a quoted text"),
        ("tab\tform\x0cfeed\x1cfile", "tab\\tform\\x0cfeed\\x1cfile"),
        ("C1\x85next line, DEL\x7f", "C1\\x85next line, DEL\\x7f"),
        ("line\u2028and paragraph\u2029separators", "line\\u2028and paragraph\\u2029separators"),
        ("naïve café: \u00a0 kept", "naïve café: \u00a0 kept"),
    ],
)
def test_a_message_is_one_line_of_printable_text(message: str, written: str) -> None:
    assert bounds.one_line(message) == written
    assert written.splitlines() == [written]


def test_a_parser_crash_past_a_raised_limit_is_one_line_not_a_dead_process(tmp_path: Path) -> None:
    result = validated(tmp_path, "f.jsonld", nested_jsonld(4000), {"KGRAPH_MAX_NESTING": "100000"})
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "f.jsonld: the JSON-LD parser crashed (SIGSEGV) at nesting depth 4,000; the limit is 100,000 "
        "(KGRAPH_MAX_NESTING)\n1 problem found\n",
        "",
    )


def test_rdfxml_nested_deep_is_refused_at_once_not_parsed_for_minutes(tmp_path: Path) -> None:
    path = tmp_path / "deep.rdf"
    path.write_text(nested_rdfxml(20_000), encoding="utf-8")
    with pytest.raises(RdfSyntaxError) as refused:
        load_paths(EmbeddedStore(), [path], root=tmp_path)
    assert str(refused.value) == (
        f"{path}:3:10996: RDF/XML nested 40,001 levels deep; the limit is 1,000 (KGRAPH_MAX_NESTING)"
    )


@pytest.mark.parametrize(("name", "text"), [("ok.jsonld", nested_jsonld(500)), ("ok.rdf", nested_rdfxml(499))])
def test_nesting_within_the_limit_loads_every_triple(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    [loaded] = load_paths(EmbeddedStore(), [path], root=tmp_path)
    assert loaded.quads == (1000 if name == "ok.jsonld" else 499)


def test_brackets_inside_json_strings_do_not_count() -> None:
    text = '{"@id": "http://example.org/a", "http://example.org/p": "' + "[{" * 5000 + '\\"' + '"}'
    assert bounds.nesting_depth(text.encode(), ox.RdfFormat.JSON_LD) == 1


def test_turtle_parses_deep_blank_nodes_in_the_caller(tmp_path: Path) -> None:
    """The Turtle parser does not recurse: 100,000 nested blank nodes are no threat and need no limit."""
    path = tmp_path / "deep.ttl"
    depth = 100_000
    path.write_text("@prefix : <http://example.org/> .\n:a :p " + "[ :p " * depth + '"x"' + " ]" * depth + " .\n")
    [loaded] = load_paths(EmbeddedStore(), [path], root=tmp_path)
    assert loaded.quads == depth + 1


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    for name, text in [
        ("bom.ttl", "@prefix : <http://example.org/> .\n:a :p :b .\n"),
        ("bom.jsonld", '{"@id": "http://example.org/a", "http://example.org/p": "x"}'),
    ]:
        (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + text.encode())
        [loaded] = load_paths(EmbeddedStore(), [tmp_path / name], root=tmp_path)
        assert loaded.quads == 1


def test_serve_refuses_a_nested_data_file_at_start_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonld"
    path.write_text(nested_jsonld(4000), encoding="utf-8")
    result = kgraph("serve", "--port", "1", "--data", str(path), env={"KGRAPH_DATA_DIR": str(tmp_path)})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"kgraph: cannot load the graph: {path}:1:58001: JSON-LD nested 4,000 levels deep; the limit is 1,000 "
        "(KGRAPH_MAX_NESTING)\n"
    )


def test_a_store_body_that_crashes_the_parser_is_a_400_and_the_server_lives_on(serve, tmp_path: Path) -> None:
    server = serve(
        [],
        {
            "KGRAPH_PROJECT_DIR": str(FIXTURE_PROJECT),
            "KGRAPH_DATA_DIR": str(tmp_path),
            "KGRAPH_TOKEN": TOKEN,
            "KGRAPH_TOKEN_FILE": "",
            "KGRAPH_MAX_NESTING": "100000",
        },
    )
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/ld+json"}
    url = server.url + "/store?graph=http://example.org/g"
    crashed = requests.post(url, data=nested_jsonld(4000), headers=headers, timeout=60)
    assert (crashed.status_code, crashed.text) == (
        400,
        "The application/ld+json body does not parse: the JSON-LD parser crashed (SIGSEGV) at nesting depth 4,000; "
        "the limit is 100,000 (KGRAPH_MAX_NESTING)\n",
    )
    fine = requests.post(url, data=nested_jsonld(3), headers=headers, timeout=60)
    assert fine.status_code == 201, fine.text  # the graph is new: Graph Store Protocol's 201 Created
    count = requests.get(
        server.endpoint,
        params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://example.org/g> { ?s ?p ?o } }"},
        headers={"Accept": "text/csv"},
        timeout=30,
    )
    assert count.text == "n\r\n6\r\n"


def nested_triple_terms(depth: int) -> str:
    """An N-Triples line whose object is a triple term holding a triple term ... ``depth`` levels deep."""
    s, p = "<http://example.org/s>", "<http://example.org/p>"
    return f"{s} {p} " + f"<<( {s} {p} " * depth + "<http://example.org/o>" + " )>>" * depth + " .\n"


def test_triple_terms_nested_past_the_limit_are_refused_located(tmp_path: Path) -> None:
    """The N-Triples parser recurses into triple terms: 20,000 levels were a segfault."""
    path = tmp_path / "deep.nt"
    path.write_text(nested_triple_terms(20_000), encoding="utf-8")
    with pytest.raises(RdfSyntaxError) as refused:
        load_paths(EmbeddedStore(), [path], root=tmp_path)
    assert str(refused.value) == (
        f"{path}:1:50047: N-Triples triple terms nested 20,000 levels deep; the limit is 1,000 (KGRAPH_MAX_NESTING)"
    )


def test_triple_terms_past_a_raised_limit_are_parsed_in_a_child_that_may_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.nt"
    path.write_text(nested_triple_terms(20_000), encoding="utf-8")
    with pytest.raises(RdfSyntaxError) as refused:
        load_paths(EmbeddedStore(), [path], root=tmp_path, max_nesting=100_000)
    assert str(refused.value) == (
        f"{path}: the N-Triples parser crashed (SIGSEGV) at nesting depth 20,000; the limit is 100,000 "
        "(KGRAPH_MAX_NESTING)"
    )


def test_a_validated_file_with_triple_terms_is_refused_in_one_line(tmp_path: Path) -> None:
    result = validated(tmp_path, "terms.nt", nested_triple_terms(3))
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "terms.nt: uses RDF 1.2 triple terms (<< ... >>), which kgraph validate cannot check (its SHACL engine has "
        "none)\n1 problem found\n",
        "",
    )


@pytest.mark.parametrize(
    ("rdf_format", "body"),
    [
        (ox.RdfFormat.TURTLE, b"<http://example.org/a> <http://example.org/p> <http://example.org/b> ."),
        (ox.RdfFormat.JSON_LD, b'{"@id": "http://example.org/a", "http://example.org/p": "x"}'),
    ],
)
def test_a_body_with_a_byte_order_mark_parses(rdf_format: ox.RdfFormat, body: bytes) -> None:
    assert len(bounds.parse(b"\xef\xbb\xbf" + body, rdf_format, max_nesting=1000)) == 1


def test_a_body_nested_past_the_limit_is_refused_located() -> None:
    with pytest.raises(bounds.InputRefused) as refused:
        bounds.parse(nested_rdfxml(600).encode(), ox.RdfFormat.RDF_XML, max_nesting=1000)
    assert (refused.value.line, refused.value.column, refused.value.message) == (
        3,
        10996,
        "RDF/XML nested 1,201 levels deep; the limit is 1,000 (KGRAPH_MAX_NESTING)",
    )


@pytest.mark.parametrize("name", ["long.nt", "long.jsonld"])
def test_a_literal_past_the_parsers_buffer_is_refused_located(tmp_path: Path, name: str) -> None:
    """pyoxigraph holds a token in at most 16 MiB and raised MemoryError past it: a traceback before."""
    literal = '"' + "a" * (17 * 1024 * 1024) + '"'
    if name.endswith(".nt"):
        text = f'<{EX}a> <{EX}p> "short" .\n<{EX}s> <{EX}p> {literal} .\n'
    else:
        text = f'{{"@id": "{EX}s", "{EX}p": {literal}}}'
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RdfSyntaxError) as refused:
        load_paths(EmbeddedStore(), [path], root=tmp_path)
    line = 2 if name.endswith(".nt") else 1
    assert str(refused.value) == (
        f"{path}:{line}:1: a literal, IRI or line longer than 16 MiB, the most the RDF parser reads as one token"
    )
