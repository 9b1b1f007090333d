"""The W3C SPARQL 1.1 Update evaluation tests through kgraph's writer, beside pyoxigraph running each update itself.

kgraph does not hand an update to the store: it finds the quads the update changes (from ``INSERT DATA`` and
``DELETE DATA`` text, from the solutions of a ``WHERE`` clause, over a copy of the graphs a graph operation names,
operation after operation), then writes them as one validated change (``kgraph.writes``). Each
``mf:UpdateEvaluationTest`` of ``sparql/sparql11/*/manifest.ttl`` loads its data (default graph and named graphs)
into a server of one's own data (``--own-data``: every graph writable, the default graph the store's), runs its
request through :meth:`kgraph.writes.Writer.update`, and compares the asserted graphs afterwards with the expected
ones (blank nodes compared up to renaming); the same request run by pyoxigraph on the same data is the reference.
It prints the counts and the tests where kgraph's result differs from pyoxigraph's, which must be none.

The test suite is not part of this repository (nor reachable from CI); give the folder of a local copy of the
``w3c/rdf-tests`` repository.

    .venv/bin/python bench/w3c_update.py /path/to/rdf-tests
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kgraph.config import Settings
from kgraph.graph import build
from kgraph.infer import run_inference
from kgraph.journal import Journal
from kgraph.sparql.errors import QuerySyntaxError, SparqlError
from kgraph.sparql.guard import check_update
from kgraph.store import Store
from kgraph.write_policy import DERIVED_GRAPHS
from kgraph.writes import Edit, Writer

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
UT = "http://www.w3.org/2009/sparql/tests/test-update#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
FOLDERS = (
    "add",
    "basic-update",
    "clear",
    "copy",
    "delete",
    "delete-data",
    "delete-insert",
    "delete-where",
    "drop",
    "move",
    "update-silent",
)
TESTS = f"""
PREFIX mf: <{MF}>
PREFIX ut: <{UT}>
SELECT ?test ?name ?action ?result WHERE {{
    ?test a mf:UpdateEvaluationTest ; mf:name ?name ; mf:action ?action ; mf:result ?result .
}}
"""


@dataclass(frozen=True)
class Case:
    """One test: its request, the dataset before and the dataset expected after."""

    name: str
    request: Path
    before: list[ox.Quad]
    after: list[ox.Quad]
    graphs: set[str]
    """The named graphs that exist before (some without a triple)."""


class CountingWriter(Writer):
    """kgraph's writer, counting the updates it runs over a copy of the whole store (the others cost what they
    change)."""

    copies = 0

    def _run_on_copy(
        self, store: Store, sparql: str, own_graph: str | None, only: tuple[str | None, ...] | None = None
    ) -> Edit:
        CountingWriter.copies += only is None
        return super()._run_on_copy(store, sparql, own_graph, only)


def main() -> None:
    """Run every update evaluation test through kgraph's writer and through pyoxigraph, and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite", type=Path, help="folder of a copy of w3c/rdf-tests")
    args = parser.parse_args()
    totals: Counter[str] = Counter()
    differ = []
    for folder in FOLDERS:
        for case in cases(args.suite / "sparql" / "sparql11" / folder / "manifest.ttl"):
            expected = _canonical(case.after)
            reference = _canonical_or_error(lambda case=case: by_pyoxigraph(case))
            written = _canonical_or_error(lambda case=case: by_kgraph(case))
            totals.update(
                ["tests"]
                + (["pyoxigraph passes"] if reference == expected else [])
                + (["kgraph passes"] if written == expected else [])
            )
            if written != reference:
                differ.append(f"{folder}: {case.name}")
    print(", ".join(f"{key}: {value}" for key, value in totals.items()))
    print(f"updates kgraph ran over a copy of the whole store: {CountingWriter.copies}")
    print("kgraph and pyoxigraph differ on:" if differ else "kgraph and pyoxigraph agree on every test.")
    for line in differ:
        print("  " + line)
    syntax_tests(args.suite)


def syntax_tests(suite: Path) -> None:
    """The update syntax tests: kgraph must accept the positive ones (but those the endpoint's guard refuses by
    policy, ``LOAD`` and ``SERVICE``) and refuse the negative ones, as a write would over HTTP."""
    totals: Counter[str] = Counter()
    wrong = []
    for folder in ("syntax-update-1", "syntax-update-2"):
        manifest = suite / "sparql" / "sparql11" / folder / "manifest.ttl"
        store = ox.Store()
        store.load(path=str(manifest), format=ox.RdfFormat.TURTLE, base_iri=manifest.as_uri())
        for kind in ("PositiveUpdateSyntaxTest11", "NegativeUpdateSyntaxTest11"):
            for row in store.query(f"SELECT ?action WHERE {{ ?test a <{MF}{kind}> ; <{MF}action> ?action }}"):
                request = _path(row["action"])
                outcome = _accepted_by_kgraph(f"BASE <{request.as_uri()}>\n" + request.read_text(encoding="utf-8"))
                totals.update([f"{kind}: {outcome}"])
                if (outcome == "accepted") != kind.startswith("Positive") and outcome != "refused by policy":
                    wrong.append(f"{folder}/{request.name}: {kind}, {outcome}")
    print(", ".join(f"{key}: {value}" for key, value in sorted(totals.items())))
    print("kgraph gets these syntax tests wrong:" if wrong else "kgraph gets every syntax test right.")
    for line in wrong:
        print("  " + line)


def _accepted_by_kgraph(update: str) -> str:
    """'accepted', 'refused by policy' (the guard) or 'refused' (not SPARQL), for an update written by kgraph over an
    empty dataset of one's own (one that parses but fails when run, such as ``CLEAR GRAPH`` of a graph it lacks, is
    accepted)."""
    try:
        check_update(update, service_allowlist=())
    except SparqlError:
        return "refused by policy"
    with tempfile.TemporaryDirectory() as folder:
        graph = build(Settings.from_env(environ={}, own_data=True, data_dir=Path(folder)))
        try:
            Writer(graph, Journal(Path(folder)), own_data=True).update(update, who="w3c")
        except QuerySyntaxError:
            return "refused"
        except SparqlError:
            return "accepted"  # parsed, then failed when run (CLEAR GRAPH of a graph the empty dataset lacks)
    return "accepted"


def cases(manifest: Path) -> list[Case]:
    """The update evaluation tests of one manifest."""
    store = ox.Store()
    store.load(path=str(manifest), format=ox.RdfFormat.TURTLE, base_iri=manifest.as_uri())
    found = []
    for row in store.query(TESTS):
        action, result = row["action"], row["result"]
        [request] = [q.object for q in store.quads_for_pattern(action, ox.NamedNode(UT + "request"), None)]
        before = _dataset(store, action)
        found.append(Case(row["name"].value, _path(request), before, _dataset(store, result), _labels(store, action)))
    return found


def by_kgraph(case: Case) -> list[ox.Quad]:
    """The asserted quads after the request, written by kgraph's writer over a server of one's own data."""
    with tempfile.TemporaryDirectory() as folder:
        graph = build(Settings.from_env(environ={}, own_data=True, data_dir=Path(folder)))
        graph.store.add(case.before)
        graph.inference = run_inference(graph.store, rules_dir=graph.files.rules)
        empty = case.graphs - {q.graph_name.value for q in case.before if isinstance(q.graph_name, ox.NamedNode)}
        writer = CountingWriter(graph, Journal(Path(folder)), own_data=True, empty_graphs=empty)
        writer.update(_request(case), who="w3c")
        derived = {ox.NamedNode(name) for name in DERIVED_GRAPHS}
        return [q for q in graph.store.quads() if q.graph_name not in derived]


def by_pyoxigraph(case: Case) -> list[ox.Quad]:
    """The quads after the request, run by pyoxigraph itself."""
    store = ox.Store()
    store.extend(case.before)
    for name in case.graphs:
        store.add_graph(ox.NamedNode(name))
    store.update(_request(case))
    return list(store)


def _request(case: Case) -> str:
    return f"BASE <{case.request.as_uri()}>\n" + case.request.read_text(encoding="utf-8")


def _dataset(store: ox.Store, node: ox.NamedNode | ox.BlankNode) -> list[ox.Quad]:
    """The quads a test's action or result describes: its ``ut:data`` in the default graph, each ``ut:graphData``
    in the graph its label names."""
    quads = []
    for data in store.quads_for_pattern(node, ox.NamedNode(UT + "data"), None):
        quads += _read(_path(data.object), ox.DefaultGraph())
    for graph_data in store.quads_for_pattern(node, ox.NamedNode(UT + "graphData"), None):
        [file] = [q.object for q in store.quads_for_pattern(graph_data.object, ox.NamedNode(UT + "graph"), None)]
        [label] = [q.object for q in store.quads_for_pattern(graph_data.object, ox.NamedNode(RDFS_LABEL), None)]
        quads += _read(_path(file), ox.NamedNode(label.value))
    return quads


def _read(path: Path, graph: ox.NamedNode | ox.DefaultGraph) -> list[ox.Quad]:
    triples = ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri())
    return [ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples]


def _path(node: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Path:
    assert isinstance(node, ox.NamedNode)
    return Path(node.value.removeprefix("file://"))


def _labels(store: ox.Store, node: ox.NamedNode | ox.BlankNode) -> set[str]:
    """The names of the graphs a test's action gives (``ut:graphData``'s labels)."""
    label = ox.NamedNode(RDFS_LABEL)
    return {
        q.object.value
        for graph_data in store.quads_for_pattern(node, ox.NamedNode(UT + "graphData"), None)
        for q in store.quads_for_pattern(graph_data.object, label, None)
    }


def _canonical(quads: list[ox.Quad]) -> ox.Dataset:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return dataset


def _canonical_or_error(run: Callable[[], list[ox.Quad]]) -> ox.Dataset | str:
    """The canonical dataset ``run()`` leaves, or the error it ends in."""
    try:
        return _canonical(run())
    except (SparqlError, SyntaxError, OSError, ValueError, RuntimeError) as error:
        return f"{type(error).__name__}: {error}"


if __name__ == "__main__":
    main()
