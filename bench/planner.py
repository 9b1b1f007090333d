"""The query mix evaluated in process with and without the planner: what the planning pass itself gains.

Generates N triples (``generate.py``), loads them into an embedded store (one named graph, queried as the union
default graph, as ``kgraph serve`` does), and times each ``bench/queries/*.rq`` as written and as planned (median of
``--rounds`` runs after a warm-up that also fills the planner's counts), checking that both give the same bytes.
No HTTP, no worker: the difference is the plan's alone.

    .venv/bin/python bench/planner.py --triples 1M
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

import generate
from kgraph.sparql.evaluate import QueryRequest, evaluate
from kgraph.store import EmbeddedStore

BENCH = Path(__file__).parent
ACCEPT = {"construct": "application/n-triples"}


def main() -> None:
    """Generate, load, time every query both ways and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=generate.count, default=generate.count("1M"), help="10000, 100k, 1M ...")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    store = EmbeddedStore()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "generated.nt"
        generate.write(data, args.triples, args.seed)
        store.oxigraph.load(path=str(data), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(generate.GEN))
    print(f"| query ({args.triples:,} triples) | as written ms | planned ms | written / planned |")
    print("|---|---:|---:|---:|")
    for path in sorted((BENCH / "queries").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        accept = ACCEPT.get(path.stem, "application/sparql-results+json")
        written, body = timed(store, QueryRequest(text, accept=accept, plan=False), args.rounds)
        planned, planned_body = timed(store, QueryRequest(text, accept=accept, plan=True), args.rounds)
        same = "" if answer(planned_body) == answer(body) else " (answers differ!)"
        print(f"| {path.stem}{same} | {written:.1f} | {planned:.1f} | {written / planned:.2f} |")


def timed(store: EmbeddedStore, request: QueryRequest, rounds: int) -> tuple[float, bytes]:
    """Median milliseconds of ``rounds`` evaluations after a warm-up, and the answer's bytes."""
    reply = evaluate(store, request, 1 << 34)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        evaluate(store, request, 1 << 34)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, reply[1]


def answer(body: bytes) -> list[str]:
    """The rows (or triples) of an answer in a fixed order: without ORDER BY, a plan may return them in another."""
    if body.startswith(b"{"):
        return sorted(json.dumps(row, sort_keys=True) for row in json.loads(body)["results"]["bindings"])
    return sorted(body.decode("utf-8").splitlines())


if __name__ == "__main__":
    main()
