"""The W3C SPARQL 1.1 query-evaluation tests, with and without kgraph's planner: pass counts and any difference.

The test suite is not part of this repository (nor reachable from CI); give the folder of a local copy of the
``w3c/rdf-tests`` repository. Each ``mf:QueryEvaluationTest`` of ``sparql/sparql11/*/manifest.ttl`` loads its data
(default graph and named graphs), evaluates its query as written and as the planner rewrites it (with counts from the
test's own data), and compares both answers with the expected results, as multisets (blank nodes compared by
position only, order ignored: an approximation that is the same for both runs). It prints the counts and lists the
tests whose two answers differ, which must be none.

    .venv/bin/python bench/w3c.py /path/to/rdf-tests                  # sparql/sparql11
    .venv/bin/python bench/w3c.py /path/to/rdf-tests --part sparql10  # the SPARQL 1.0 (DAWG) tests
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox

from kgraph.sparql import columnar
from kgraph.sparql.planner import Pattern, plan
from kgraph.store import EmbeddedStore

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDF_FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".rdf": ox.RdfFormat.RDF_XML, ".nt": ox.RdfFormat.N_TRIPLES}
RESULT_FORMATS = {
    ".srx": ox.QueryResultsFormat.XML,
    ".srj": ox.QueryResultsFormat.JSON,
    ".tsv": ox.QueryResultsFormat.TSV,
    ".csv": ox.QueryResultsFormat.CSV,
}


def main() -> None:
    """Run every query-evaluation test of the suite twice and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite", type=Path, help="folder of a copy of w3c/rdf-tests")
    parser.add_argument("--part", default="sparql11", help="sparql11 (default) or sparql10, the DAWG tests")
    args = parser.parse_args()
    totals: Counter = Counter()
    differing: list[str] = []
    for manifest in sorted((args.suite / "sparql" / args.part).glob("*/manifest.ttl")):
        for test in tests(manifest):
            outcome = run(test)
            totals.update(outcome.keys() - {"name"})
            if "differ" in outcome:
                differing.append(outcome["name"])
    print(f"query-evaluation tests: {totals['tests']}")
    print(f"passed as written: {totals['pass-written']}; passed as planned: {totals['pass-planned']}")
    print(f"queries the planner rewrote: {totals['rewritten']}; answers that differ: {len(differing)}")
    print(f"counted over columns (kgraph.sparql.columnar): {totals['columnar']}, passed: {totals['pass-columnar']}")
    print(f"skipped (no comparable expected result, or unreadable): {totals['skipped']}")
    for name in differing:
        print(f"  differs: {name}")
    sys.exit(1 if differing else 0)


def tests(manifest: Path) -> list[dict]:
    """The query-evaluation tests of one manifest: name, query, data, named graphs and expected result files."""
    graph = ox.Store()
    graph.load(path=str(manifest), format=ox.RdfFormat.TURTLE, base_iri=manifest.resolve().as_uri())
    found = []
    kind = ox.NamedNode(MF + "QueryEvaluationTest")
    for quad in graph.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), kind):
        test = quad.subject
        action = _one(graph, test, MF + "action")
        result = _one(graph, test, MF + "result")
        query = _one(graph, action, QT + "query") if action else None
        if query is None or result is None:
            continue
        found.append(
            {
                "name": test.value,
                "query": _path(query),
                "data": _paths(graph, action, QT + "data"),
                "named": _paths(graph, action, QT + "graphData"),
                "result": _path(result),
            }
        )
    return found


def _one(graph: ox.Store, subject: object, predicate: str) -> object | None:
    return next((q.object for q in graph.quads_for_pattern(subject, ox.NamedNode(predicate), None)), None)


def _paths(graph: ox.Store, subject: object, predicate: str) -> list[Path]:
    return [_path(q.object) for q in graph.quads_for_pattern(subject, ox.NamedNode(predicate), None)]


def _path(node: object) -> Path:
    return Path(node.value.removeprefix("file://"))


def run(test: dict) -> dict:
    """Evaluate one test's query as written and as planned; which of them match the expected result."""
    outcome: dict = {"name": test["name"], "tests": 1}
    try:
        store = load(test)
        query = test["query"].read_text(encoding="utf-8")
        if "SERVICE" in query.upper():
            raise ValueError("SERVICE would call a remote endpoint")
        expected = read_expected(test["result"])
    except (OSError, SyntaxError, ValueError, KeyError):
        outcome["skipped"] = 1
        return outcome
    rewritten = plan(query, counter(store)).rewritten
    base = test["query"].resolve().as_uri()
    written, planned = answer(store, query, base), answer(store, rewritten, base)
    outcome.update({"rewritten": 1} if rewritten != query else {})
    outcome.update({"pass-written": 1} if written == expected else {})
    outcome.update({"pass-planned": 1} if planned == expected else {})
    outcome.update({"differ": 1} if written != planned else {})
    counted = over_columns(store, query)
    if counted is not None:
        outcome.update({"columnar": 1, **({"pass-columnar": 1} if counted == expected else {})})
        outcome.update({"differ": 1} if counted != written else {})
    return outcome


def over_columns(store: ox.Store, query: str) -> Counter | str | None:
    """The answer as kgraph's columns give it (the default graph copied into a named graph, as kgraph serves its
    data), or None when the query is not a grouped count the columns answer."""
    graph = "urn:x-kgraph:default-graph"
    embedded = EmbeddedStore()
    embedded.oxigraph.extend(
        ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(graph))
        for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())
    )
    columnar.answer(embedded, query, [graph], time_limit=30)  # notes the columns, as a worker's first such query
    columnar.read_noted(embedded)
    counted = columnar.answer(embedded, query, [graph], time_limit=30)
    return None if counted is None else answer(embedded.oxigraph, counted, "urn:x-kgraph:")


def load(test: dict) -> ox.Store:
    """A store with the test's data in its default graph and its named graphs under their file IRIs."""
    store = ox.Store()
    for path in test["data"]:
        store.load(path=str(path), format=RDF_FORMATS[path.suffix], base_iri=path.resolve().as_uri())
    for path in test["named"]:
        iri = path.resolve().as_uri()
        store.load(path=str(path), format=RDF_FORMATS[path.suffix], base_iri=iri, to_graph=ox.NamedNode(iri))
    return store


def counter(store: ox.Store):
    """The planner's estimator over the test's default graph."""

    def estimate(pattern: Pattern) -> int:
        terms = [
            None if value is None or value.startswith(('"', "'")) else ox.NamedNode(value) for value in pattern.triple()
        ]
        return sum(1 for _ in store.quads_for_pattern(*terms, ox.DefaultGraph()))

    return estimate


def answer(store: ox.Store, query: str, base: str) -> Counter | str:
    """The answer as a multiset of rows (blank nodes blanked), a boolean, a multiset of triples, or the error."""
    try:
        result = store.query(query, base_iri=base)
        if isinstance(result, ox.QueryBoolean):
            return Counter([bool(result)])
        if isinstance(result, ox.QuerySolutions):
            names = sorted(v.value for v in result.variables)
            return Counter(tuple(_term(row[name]) for name in names) for row in result)
        return Counter(tuple(_term(t) for t in (triple.subject, triple.predicate, triple.object)) for triple in result)
    except (SyntaxError, OSError, ValueError) as error:
        return f"error: {type(error).__name__}"


def read_expected(path: Path) -> Counter:
    """The expected result file, in the shape :func:`answer` gives."""
    if path.suffix in RDF_FORMATS:
        store = ox.Store()
        store.load(path=str(path), format=RDF_FORMATS[path.suffix], base_iri=path.resolve().as_uri())
        return Counter(tuple(_term(t) for t in (q.subject, q.predicate, q.object)) for q in store)
    result = ox.parse_query_results(path=str(path), format=RESULT_FORMATS[path.suffix])
    if isinstance(result, ox.QueryBoolean):
        return Counter([bool(result)])
    names = sorted(v.value for v in result.variables)
    return Counter(tuple(_term(row[name]) for name in names) for row in result)


def _term(term: object) -> str | None:
    if term is None:
        return None
    return "_" if isinstance(term, ox.BlankNode) else str(term)


if __name__ == "__main__":
    main()
