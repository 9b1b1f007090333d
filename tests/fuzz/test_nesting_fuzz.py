"""Deeply nested documents of every syntax, mutated, through the real ``kgraph validate`` in its own process.

What crashed or stalled kgraph before were nested documents: JSON-LD 4,000 deep (a segfault), RDF/XML 20,000 deep
(minutes), RDF 1.2 triple terms 20,000 deep in the Turtle family (a segfault). The invariant, for any depth and any
damage: the process ends within the time bound with 0, 1 or 2, prints nothing on stderr, and a refused file is one
located line (then the summary).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hostile import damage, fuzz_settings
from hypothesis import example, given
from hypothesis import strategies as st

from conftest import KGRAPH

PROJECT = Path(__file__).parents[1] / "fixtures" / "validate" / "project"
TIME_BOUND = 90
"""Seconds a run may take, a start included, on a loaded machine; a stalled parser takes minutes."""

EX = "http://example.org/"


def turtle(depth: int) -> str:
    return f"@prefix : <{EX}> .\n:a :p " + "[ :p ( " * depth + '"x"' + " ) ]" * depth + " .\n"


def trig(depth: int) -> str:
    return f"@prefix : <{EX}> .\n:g {{ :a :p " + "<< :s :p " * depth + ":o" + " >>" * depth + " }\n"


def ntriples(depth: int) -> str:
    return f"<{EX}s> <{EX}p> " + f"<<( <{EX}s> <{EX}p> " * depth + f"<{EX}o>" + " )>>" * depth + " .\n"


def nquads(depth: int) -> str:
    return ntriples(depth).replace(" .\n", f" <{EX}g> .\n")


def jsonld(depth: int) -> str:
    return f'{{"@type": "{EX}C", "{EX}p": [' * depth + '"x"' + "]}" * depth


def rdfxml(depth: int) -> str:
    return (
        f'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="{EX}">\n'
        + "<rdf:Description><e:p>" * depth
        + "x"
        + "</e:p></rdf:Description>" * depth
        + "</rdf:RDF>\n"
    )


SYNTAXES = {".ttl": turtle, ".trig": trig, ".nt": ntriples, ".nq": nquads, ".jsonld": jsonld, ".rdf": rdfxml}


@st.composite
def nested(draw: st.DrawFn) -> tuple[str, bytes]:
    """A nested document of some syntax and depth (around the limits and the old crash depths), then damaged."""
    suffix = draw(st.sampled_from(sorted(SYNTAXES)))
    depth = draw(st.sampled_from([1, 999, 1000, 1001, 4000, 20_000]) | st.integers(1, 25_000))
    inserts = st.sampled_from([b"[", b"{", b"<<", b"<e:p>", b'"', b"\xef\xbb\xbf"])
    return suffix, damage(draw, SYNTAXES[suffix](depth).encode(), times=3, inserts=inserts, longest=4000)


def validate(suffix: str, data: bytes, environ: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / f"doc{suffix}").write_bytes(data)
        return subprocess.run(
            [str(KGRAPH), "validate", "--no-project-data", f"doc{suffix}"],
            env={**os.environ, "KGRAPH_PROJECT_DIR": str(PROJECT), **(environ or {})},
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=TIME_BOUND,
            check=False,
        )


def check_ending(result: subprocess.CompletedProcess, suffix: str) -> None:
    assert result.returncode in (0, 1, 2), (result.returncode, result.stderr[-2000:])
    assert result.stderr == ""
    if result.returncode == 2:
        problem, summary = result.stdout.splitlines()
        assert problem.startswith(f"doc{suffix}")
        assert summary == "1 problem found"


@pytest.mark.slow
@fuzz_settings(12)
@given(document=nested())
@example(document=(".jsonld", jsonld(4000).encode()))
@example(document=(".nt", ntriples(20_000).encode()))
@example(document=(".jsonld", b'\x0b"@type": "http://example.org/C", "http://example.org/p": ["x"]}'))
def test_nested_documents_end_in_one_line_and_a_documented_code(document: tuple[str, bytes]) -> None:
    suffix, data = document
    check_ending(validate(suffix, data), suffix)


@pytest.mark.slow
@fuzz_settings(3)
@given(document=nested())
@example(document=(".jsonld", jsonld(4000).encode()))
def test_past_a_raised_limit_a_crashing_parser_still_ends_in_one_line(document: tuple[str, bytes]) -> None:
    suffix, data = document
    check_ending(validate(suffix, data, {"KGRAPH_MAX_NESTING": "1000000"}), suffix)
