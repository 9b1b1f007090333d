"""The W3C SPARQL 1.1 query-evaluation tests of one folder (``property-path`` by default) over kgraph on a remote
store: pass counts with kgraph's query rewrites for the store, and with each query sent as written.

Each test's data goes into a store emptied first (its default graph as one graph of the store, its named graphs
under their file IRIs), and its query is answered the way ``kgraph serve --store URL`` answers one
(:class:`kgraph.sparql.remote_runner.RemoteQueryRunner`, the test's dataset given as the protocol's graphs), then
compared with the expected result as ``bench/w3c.py`` compares (multisets, blank nodes by position only). The suite
is not part of this repository; give the folder of a local copy of ``w3c/rdf-tests`` and a store that may be emptied
(every graph of it is dropped), e.g. a private Virtuoso from ``bench/virtuoso.py``:

    .venv/bin/python bench/w3c_remote.py /path/to/rdf-tests http://127.0.0.1:PORT/sparql
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from kgraph.config import GRAPH_NS
from kgraph.sparql.errors import SparqlError
from kgraph.sparql.evaluate import QueryRequest
from kgraph.sparql.remote_runner import RemoteQueryRunner
from kgraph.store import RemoteStore, open_store

_spec = importlib.util.spec_from_file_location("bench_w3c", Path(__file__).with_name("w3c.py"))
assert _spec and _spec.loader
w3c = sys.modules["bench_w3c"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(w3c)

DEFAULT = GRAPH_NS + "w3c-default"
"""The graph of the store holding a test's default graph."""


ACCEPT = "application/sparql-results+json, application/n-triples"


def main() -> None:
    """Run the folder's tests over the store, with and without kgraph's rewrites, and print the pass counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite", type=Path, help="folder of a copy of w3c/rdf-tests")
    parser.add_argument("store", help="URL of a SPARQL store that may be emptied")
    parser.add_argument("--folder", default="sparql/sparql11/property-path", help="the manifest's folder in the suite")
    args = parser.parse_args()
    store = open_store(args.store, timeout=30)
    assert isinstance(store, RemoteStore)
    passed: Counter = Counter()
    lines = []
    for test in w3c.tests(args.suite / args.folder / "manifest.ttl"):
        outcome = run(store, test)
        passed.update(outcome)
        name = test["name"].rsplit("#", 1)[-1]
        lines.append(f"  {name}: " + ", ".join(f"{way} {'pass' if ok else 'FAIL'}" for way, ok in outcome.items()))
    print("\n".join(sorted(lines)))
    print(f"{args.folder}: {len(lines)} tests; passed as kgraph sends them: {passed['rewritten']}")
    print(f"passed as written (sent unchanged): {passed['written']}")


def run(store: RemoteStore, test: dict) -> dict[str, bool]:
    """Whether the test passes with kgraph's rewrites and with its query as written (nothing when unreadable)."""
    try:
        query = test["query"].read_text(encoding="utf-8")
        expected = w3c.read_expected(test["result"])
        _load(store, test)
    except (OSError, SyntaxError, ValueError, KeyError):
        return {}
    default = [DEFAULT] if test["data"] else []
    named = [path.resolve().as_uri() for path in test["named"]]
    if "BASE" not in query.upper():  # the query's relative IRIs resolve against its file, as in the suite
        query = f"BASE <{test['query'].resolve().as_uri()}>\n{query}"
    request = QueryRequest(query, default_graph=default, named_graphs=named, accept=ACCEPT)
    rewritten = _answer(store, request, store.as_sent)
    written = _answer(store, request, lambda sparql: sparql)
    return {"rewritten": rewritten == expected, "written": written == expected}


def _load(store: RemoteStore, test: dict) -> None:
    """The test's data alone in the store."""
    for graph in store.graph_names():
        store.clear_graph(graph)
    quads = []
    for path, graph in [(p, DEFAULT) for p in test["data"]] + [(p, p.resolve().as_uri()) for p in test["named"]]:
        triples = ox.parse(path=str(path), format=w3c.RDF_FORMATS[path.suffix], base_iri=path.resolve().as_uri())
        quads += [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph)) for t in triples]
    store.add(quads)


def _answer(store: RemoteStore, request: QueryRequest, as_sent: Callable[[str], str]) -> Counter | str:
    """The answer as ``bench/w3c.py`` reads one, each query sent as ``as_sent`` writes it."""
    sent = RemoteStore(store.url, timeout=store.timeout)
    sent.as_sent = as_sent  # type: ignore[method-assign]
    runner = RemoteQueryRunner(sent, timeout=30, max_result_bytes=10_000_000)
    try:
        answer = runner.run(request)
    except SparqlError as error:
        return f"error: {error}"
    if answer.media_type.startswith("application/n-triples"):
        triples = ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)
        return Counter(tuple(w3c._term(t) for t in (q.subject, q.predicate, q.object)) for q in triples)
    result = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
    if isinstance(result, ox.QueryBoolean):
        return Counter([bool(result)])
    names = sorted(v.value for v in result.variables)
    return Counter(tuple(w3c._term(row[name]) for name in names) for row in result)


if __name__ == "__main__":
    main()
