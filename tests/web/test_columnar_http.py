"""Grouped counts over columns, over real HTTP: the same answer as pyoxigraph's in every results format, with and
without inference, before and after a write, and explained."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from kgraph.sparql import columnar

if TYPE_CHECKING:
    from conftest import LiveServer

PROJECT = Path(__file__).parents[1] / "fixtures" / "writes"
TOKEN = "s3cret-token"
PREFIXES = "PREFIX kg: <https://w3id.org/kgraph/ontology#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
BGP = "?place a ?class ; kg:locatedIn ?region ; rdfs:label ?name ."
COUNTED = PREFIXES + (
    f"SELECT ?class (COUNT(DISTINCT ?place) AS ?places) WHERE {{ {BGP} }} GROUP BY ?class ORDER BY ?class"
)
# the same query with its pattern in a nested group: not the shape the columns answer, so pyoxigraph evaluates it
NESTED = COUNTED.replace(f"{{ {BGP} }}", f"{{ {{ {BGP} }} }}")
FORMATS = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values"]

Serve = Callable[[list[str], dict[str, str]], "LiveServer"]


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> LiveServer:
    return serve(
        [],
        {"KGRAPH_PROJECT_DIR": str(PROJECT), "KGRAPH_DATA_DIR": str(tmp_path), "KGRAPH_TOKEN": TOKEN},
    )


def ask(server: LiveServer, query: str, accept: str, infer: bool = True) -> requests.Response:
    params = {} if infer else {"infer": "false"}
    return requests.post(server.endpoint, params=params, data={"query": query}, headers={"Accept": accept}, timeout=30)


def test_the_columns_answer_as_pyoxigraph_does_in_every_format_before_and_after_a_write(server: LiveServer) -> None:
    assert columnar.recognise(COUNTED) is not None and columnar.recognise(NESTED) is None
    before = ask(server, COUNTED, "text/csv").text
    for infer in (True, False):
        for accept in FORMATS:
            counted, nested = ask(server, COUNTED, accept, infer), ask(server, NESTED, accept, infer)
            assert counted.status_code == nested.status_code == 200
            assert counted.headers["Content-Type"] == nested.headers["Content-Type"]
            assert counted.content == nested.content, (accept, infer)
    insert = PREFIXES + (
        "PREFIX kgr: <https://w3id.org/kgraph/id/>\n"
        'INSERT DATA { kgr:sudzha-2 a kg:Settlement ; rdfs:label "Sudzha 2" ; kg:locatedIn kgr:kursk-oblast }'
    )
    written = requests.post(
        server.endpoint, data={"update": insert}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    assert written.status_code == 200, written.text
    after = ask(server, COUNTED, "text/csv").text
    assert after == ask(server, NESTED, "text/csv").text
    counts = [dict(line.rsplit(",", 1) for line in text.splitlines()[1:]) for text in (before, after)]
    settlement = "https://w3id.org/kgraph/ontology#Settlement"
    assert int(counts[1][settlement]) == int(counts[0].get(settlement, 0)) + 1


def test_explain_says_the_counts_are_made_over_columns(server: LiveServer) -> None:
    response = requests.get(server.endpoint, params={"query": COUNTED, "explain": "true"}, timeout=30)
    assert response.status_code == 200
    assert response.text.endswith(f"# Evaluation\n{columnar.EXPLAINED}\n")
