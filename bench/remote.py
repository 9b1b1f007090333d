"""kgraph in front of Virtuoso against the same Virtuoso queried directly: the cost of the ``--store URL`` path.

Generates N triples (``bench/generate.py``), starts a private Virtuoso (``bench/virtuoso.py``) and ``kgraph serve
--store ENDPOINT --data FILE`` over it (the ontology, the article and the generated file, loaded, inferred and
uploaded by kgraph), then runs the query mix of ``bench/queries/*.rq`` on both endpoints, side by side, as
``bench/compare.py`` measures it (median of ``--rounds`` runs after a warm-up on one keep-alive client, then four
clients cycling through the mix for ``--seconds``). Both answer from the very same database, so the ratios are
kgraph's overhead: its protocol layer, the dataset restriction and the answer's way back. kgraph loads the generated
file through Virtuoso's own parser (``--store-load-dir``, a folder in its DirsAllowed) and infers in the store; its
start is set against Virtuoso's own bulk loader (``ld_dir``) loading the same file into a fresh instance. No
assertions: it prints a markdown table of the ratios.

    .venv/bin/python bench/remote.py --triples 100k --quick
    .venv/bin/python bench/remote.py                   # 1M triples, 20 rounds, 20 s throughput runs
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import compare
import generate
import virtuoso


def main() -> None:
    """Generate, start Virtuoso and kgraph over it, measure both, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=generate.count, default=generate.count("1M"), help="10000, 100k, 1M ...")
    parser.add_argument("--rounds", type=int, default=20, help="measured runs of each query on each endpoint")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each throughput run")
    parser.add_argument("--quick", action="store_true", help="5 rounds and a 5 s throughput run")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rounds, seconds = (5, 5.0) if args.quick else (args.rounds, args.seconds)
    os.environ["KGRAPH_CACHE_BYTES"] = "0"  # measure the path to the store: a result cache would answer every repeat
    workdir = Path(tempfile.mkdtemp(prefix="kgraph-remote-bench-"))
    try:
        data = workdir / "generated.nt"
        generate.write(data, args.triples, args.seed)
        own_load = bulk_load_seconds(data, workdir / "virtuoso-own")
        shared = workdir / "shared"
        with virtuoso.start(workdir / "virtuoso", dirs_allowed=(shared,)) as instance:
            direct = compare.Server("virtuoso", instance.endpoint, own_load, lambda: None)
            kgraph = start_kgraph(instance.endpoint, data, shared)
            try:
                queries = compare.load_queries()
                for server in (direct, kgraph):
                    compare.measure(server, queries, rounds, seconds)
            finally:
                kgraph.stop()
                _report_failures(workdir / "kgraph.log")
            print(table(direct, kgraph, queries, args.triples, rounds, seconds))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def bulk_load_seconds(data: Path, folder: Path) -> float:
    """How long Virtuoso's own bulk loader (``ld_dir`` + ``rdf_loader_run``) takes for the file, in an instance of
    its own (started first, not counted), stopped after."""
    with virtuoso.start(folder, dirs_allowed=(data.parent,)) as instance:
        started = time.monotonic()
        instance.bulk_load(data.parent, data.name, compare.BENCH_GRAPH)
        seconds = time.monotonic() - started
    print(f"Virtuoso's own bulk load: {seconds:.1f} s", file=sys.stderr)
    return seconds


def start_kgraph(store: str, data: Path, shared: Path) -> compare.Server:
    """``kgraph serve --store STORE --store-load-dir SHARED --data FILE``: ready once loaded (by Virtuoso's parser,
    from the shared folder), inferred in the store and answering."""
    port = virtuoso.free_port()
    log = (data.parent / "kgraph.log").open("wb")
    args = [str(compare.BIN / "kgraph"), "serve", "--port", str(port), "--store", store, "--data", str(data)]
    args += ["--store-load-dir", str(shared)]
    args += ["--timeout", str(compare.QUERY_TIMEOUT)]
    server = compare.launch("kgraph", args, f"http://127.0.0.1:{port}/sparql", time.monotonic(), log)
    print(f"kgraph over Virtuoso ready after {server.ready_seconds:.1f} s", file=sys.stderr)
    return server


def table(
    direct: compare.Server,
    kgraph: compare.Server,
    queries: list[compare.Query],
    triples: int,
    rounds: int,
    seconds: float,
) -> str:
    """Per-query medians on both endpoints and their ratio, the geometric mean of the ratios, the throughputs."""
    lines = [
        f"{compare.machine()}: {triples:,} generated triples, median of {rounds} runs, "
        f"{compare.CLIENTS} clients for {seconds:g} s",
        "",
        "| query | Virtuoso (ms) | kgraph over Virtuoso (ms) | ratio | rows (V / k) |",
        "|---|---:|---:|---:|---:|",
    ]
    ratios = []
    for query in queries:
        alone, through = direct.medians.get(query.name), kgraph.medians.get(query.name)
        ratio = through / alone if alone and through else None
        if ratio:
            ratios.append(ratio)
        sizes = f"{direct.sizes.get(query.name)} / {kgraph.sizes.get(query.name)}"
        lines.append(f"| {query.name} | {compare._ms(alone)} | {compare._ms(through)} | {_ratio(ratio)} | {sizes} |")
    lines.append(f"| geometric mean | | | {_ratio(compare.geometric_mean(ratios) if ratios else None)} | |")
    share = kgraph.throughput / direct.throughput if kgraph.throughput and direct.throughput else None
    lines.append(
        f"| throughput (queries/s) | {compare._number(direct.throughput)} | {compare._number(kgraph.throughput)} | "
        f"{_ratio(share)} | |"
    )
    load = kgraph.ready_seconds / direct.ready_seconds if direct.ready_seconds else None
    lines.append(
        f"| ready (s): Virtuoso's bulk load; kgraph's start (load, inference) | {direct.ready_seconds:.1f} | "
        f"{kgraph.ready_seconds:.1f} | {_ratio(load)} | |"
    )
    return "\n".join(lines)


def _report_failures(log: Path) -> None:
    """kgraph's warnings about the store (why a query failed with 502), on stderr."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    for line in [line for line in lines if "remote store" in line][-10:]:
        print(line, file=sys.stderr)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


if __name__ == "__main__":
    main()
