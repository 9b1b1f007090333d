"""Hostile inputs and the invariant every answer to them must keep, shared by the fuzz tests.

The invariant is the issue's: a client never sees a 5xx or a traceback, every refusal carries a plain
message, and the server still answers a known query correctly afterwards. Queries are mutated from
the project's own example queries, so the fuzzer starts from text that parses and explores the
neighbourhood where parsers and the guard are most likely to disagree.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

QUERIES = Path(__file__).parents[2] / "queries"
SEEDS = [path.read_text(encoding="utf-8") for path in sorted(QUERIES.glob("*.rq"))]
"""The example queries: valid SPARQL to mutate."""

VOCABULARY = [
    "{", "}", "(", ")", "[", "]", ".", ";", ",", "*", "/", "|", "^", "+", "?", "!", "=", "<", ">", "&&", "||",
    '"', "'", "#", "_:b", "?x", "$y", "@en", "^^",
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "FILTER", "OPTIONAL", "UNION", "MINUS", "GRAPH",
    "SERVICE", "SILENT", "FROM", "NAMED", "BIND", "VALUES", "LIMIT", "OFFSET", "ORDER", "BY", "GROUP",
    "PREFIX", "BASE", "LOAD", "INSERT", "DELETE", "DATA", "EXISTS", "NOT", "AS", "a", "1", "-1.5e9",
    "<http://example.org/>", "<file:///etc/passwd>", "kg:", "kgr:sudzha", '"x"', '"""a"""', "\x00", "\ud7ff",
]  # fmt: skip
"""Tokens a mutation may insert: SPARQL keywords, punctuation, IRIs, and a few odd characters."""

LONG = os.environ.get("KGRAPH_FUZZ_LONG") == "1"
"""``KGRAPH_FUZZ_LONG=1`` runs every property with many more examples (minutes instead of seconds)."""


def fuzz_settings(examples: int) -> settings:
    """Hypothesis settings: ``examples`` by default, 50 times more in a long run; never a deadline."""
    return settings(
        max_examples=examples * 50 if LONG else examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@st.composite
def mutated_queries(draw: st.DrawFn) -> str:
    """An example query with a few tokens deleted, inserted or duplicated."""
    tokens = re.findall(r"\S+", draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        index = draw(st.integers(0, len(tokens)))
        action = draw(st.sampled_from(("delete", "insert", "duplicate")))
        if action == "insert" or not tokens[index:]:
            tokens.insert(index, draw(st.sampled_from(VOCABULARY) | st.text(max_size=5)))
        elif action == "delete":
            del tokens[index]
        else:
            tokens[index:index] = tokens[index : index + draw(st.integers(1, 8))]
    return " ".join(tokens)


header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=300)
"""What a header may carry on the wire (latin-1, no control characters)."""

accept_headers = header_text | st.lists(
    st.sampled_from(["*/*", "text/*", "application/json", "text/csv;q=0.5", "a/b;q=2", ";q=x", "text/html", ""]),
    max_size=20,
).map(",".join)
"""Absurd Accept headers: random text, or lists of ranges with broken q-values."""

KNOWN_QUERY = (
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    "SELECT ?label WHERE { <https://w3id.org/kgraph/id/sudzha> rdfs:label ?label }"
)
KNOWN_ANSWER = "label\r\nSudzha\r\n"
"""A query over the fixture project and its CSV answer: the server must still give it after abuse."""

NESTING = [
    ("braces", lambda depth: "SELECT * WHERE " + "{" * depth + "}" * depth),
    ("parens", lambda depth: "SELECT * WHERE { FILTER(" + "(" * depth + "1" + ")" * depth + ") }"),
    ("not exists", lambda depth: "ASK { " + "FILTER NOT EXISTS {" * depth + "}" * depth + " }"),
    ("unions", lambda depth: "SELECT * WHERE { {} " + "UNION {} " * depth + "}"),
    ("sums", lambda depth: "SELECT (" + "1+" * depth + "1 AS ?x) {}"),
    ("negations", lambda depth: "SELECT (" + "!" * depth + "true AS ?x) {}"),
    ("binds", lambda depth: "SELECT * WHERE { " + "".join(f"BIND(1 AS ?x{i}) " for i in range(depth)) + "}"),
]
"""Queries nested (or chained) ``depth`` deep: pyoxigraph recurses on each, so thousands overflowed a
worker's stack (a 503) until the guard limited nesting and chains."""


def assert_clean(status: int, body: bytes, *, method: str = "GET") -> None:
    """The invariant: 2xx or 4xx, a message when refused (any body but HEAD's), never a traceback."""
    assert 200 <= status < 500, (status, body[:300])
    assert b"Traceback" not in body, body[:300]
    assert b'File "' not in body, body[:300]
    if status >= 400 and method != "HEAD":
        assert body.strip(), status


content_types = header_text | st.sampled_from(
    [
        "application/sparql-query",
        "application/sparql-update",
        "application/x-www-form-urlencoded",
        "application/sparql-query; charset=latin-1",
        "multipart/form-data; boundary=x",
        "text/turtle",
        ";",
        "/",
    ]
)
"""Content-Type headers: the protocol's own types (with odd parameters), others, and noise."""


def damage(draw: st.DrawFn, data: bytes, *, times: int, inserts: st.SearchStrategy[bytes], longest: int) -> bytes:
    """``data`` truncated, with bytes flipped, ``inserts`` inserted or runs of up to ``longest`` bytes duplicated,
    up to ``times`` times."""
    damaged = bytearray(data)
    for _ in range(draw(st.integers(0, times))):
        index = draw(st.integers(0, len(damaged)))
        action = draw(st.sampled_from(("truncate", "flip", "insert", "duplicate")))
        if action == "truncate":
            del damaged[index:]
        elif action == "flip" and index < len(damaged):
            damaged[index] = draw(st.integers(0, 255))
        elif action == "insert":
            damaged[index:index] = draw(inserts)
        else:
            damaged[index:index] = damaged[index : index + draw(st.integers(1, longest))]
    return bytes(damaged)
