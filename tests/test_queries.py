"""The example queries answer their competency questions with exactly the expected rows.

Each ``queries/NAME.rq`` is run over the ontology and the article data, and its answer is compared
with ``queries/NAME.expected.csv``. Queries marked ``# infer: true`` must need inference: without it
they must not give the expected answer; with it (the served graph, built by
``kgraph.graph.build``) they must.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.project import ProjectFiles

FILES = ProjectFiles.locate()
QUERIES = sorted(FILES.queries.glob("*.rq"))
INFER_AVAILABLE = importlib.util.find_spec("kgraph.infer") is not None


def header(query: Path, key: str) -> str | None:
    """The value of a ``# key: value`` comment line of the query, if any."""
    match = re.search(rf"^# {key}: *(.+)$", query.read_text(encoding="utf-8"), re.MULTILINE)
    return match.group(1).strip() if match else None


def needs_inference(query: Path) -> bool:
    return header(query, "infer") == "true"


def expected_answer(query: Path) -> bool | list[tuple[str, ...]]:
    """The answer in ``NAME.expected.csv``: a boolean for ASK, else its rows, header first."""
    text = query.with_suffix(".expected.csv").read_text(encoding="utf-8")
    if text.strip() in {"true", "false"}:
        return text.strip() == "true"
    return [tuple(row) for row in csv.reader(io.StringIO(text))]


def answer(result: ox.QueryBoolean | ox.QuerySolutions) -> bool | list[tuple[str, ...]]:
    """A query result as the W3C CSV results format writes it (header row first)."""
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    text = result.serialize(format=ox.QueryResultsFormat.CSV).decode("utf-8")
    return [tuple(row) for row in csv.reader(io.StringIO(text))]


def same(query: Path, actual: bool | list, expected: bool | list) -> bool:
    """Equal answers: booleans as such; rows in order under ORDER BY, else as sets, same header."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual == expected
    if re.search(r"\bORDER\s+BY\b", query.read_text(encoding="utf-8"), re.IGNORECASE):
        return actual == expected
    return actual[:1] == expected[:1] and set(actual[1:]) == set(expected[1:])


@pytest.fixture(scope="module")
def asserted() -> ox.Store:
    """The ontology and the article data without any inference, one named graph per file."""
    store = ox.Store()
    for path in sorted([*FILES.ontology.glob("*.ttl"), *FILES.data.glob("*.ttl")]):
        store.load(path=str(path), to_graph=ox.NamedNode(path.as_uri()))
    return store


@pytest.fixture(scope="module")
def served():
    """The graph as served: loaded by ``kgraph.load`` and inferred by ``kgraph.infer``."""
    from kgraph.config import Settings
    from kgraph.graph import build

    return build(Settings.from_env({}))


def test_there_are_enough_competency_questions() -> None:
    assert len(QUERIES) >= 15
    assert sum(needs_inference(q) for q in QUERIES) >= 5


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.stem)
def test_query_is_documented(query: Path) -> None:
    assert header(query, "title"), f"{query.name} needs a '# title:' line"
    assert query.with_suffix(".expected.csv").is_file(), f"{query.name} needs an expected answer"
    assert "PREFIX" in query.read_text(encoding="utf-8")


@pytest.mark.parametrize("query", [q for q in QUERIES if not needs_inference(q)], ids=lambda q: q.stem)
def test_query_answers_without_inference(query: Path, asserted: ox.Store) -> None:
    result = asserted.query(query.read_text(encoding="utf-8"), use_default_graph_as_union=True)
    assert same(query, answer(result), expected_answer(query))


@pytest.mark.parametrize("query", [q for q in QUERIES if needs_inference(q)], ids=lambda q: q.stem)
def test_inference_query_needs_inference(query: Path, asserted: ox.Store) -> None:
    result = asserted.query(query.read_text(encoding="utf-8"), use_default_graph_as_union=True)
    assert not same(query, answer(result), expected_answer(query))


@pytest.mark.skipif(not INFER_AVAILABLE, reason="kgraph.infer is not importable yet")
@pytest.mark.parametrize("query", [q for q in QUERIES if needs_inference(q)], ids=lambda q: q.stem)
def test_inference_query_answers_with_inference(query: Path, served) -> None:
    result = served.store.query(query.read_text(encoding="utf-8"), default_graph=served.default_graph(infer=True))
    assert same(query, answer(result), expected_answer(query))


@pytest.mark.skipif(not INFER_AVAILABLE, reason="kgraph.infer is not importable yet")
@pytest.mark.parametrize("query", [q for q in QUERIES if not needs_inference(q)], ids=lambda q: q.stem)
def test_plain_query_answers_the_same_on_the_served_graph(query: Path, served) -> None:
    result = served.store.query(query.read_text(encoding="utf-8"), default_graph=served.default_graph(infer=False))
    assert same(query, answer(result), expected_answer(query))
