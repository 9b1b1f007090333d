"""What the safety of the endpoint costs: ``kgraph serve`` against ``oxigraph serve-read-only``.

Both servers get the same quads: kgraph builds its graph (files, then inference), and the very same
dataset, inferred graph included, is dumped and loaded into an Oxigraph store served with its
default graph as the union of all graphs (what kgraph's default graph is with ``infer=true``).
The difference measured is therefore the HTTP layer, the guard and the hop to a query worker
process. A small query mix runs sequentially (median latency per query, and the ratio), then with
four concurrent clients (throughput). No assertions: it prints a table.

    .venv/bin/python bench/endpoint.py              # the article graph
    .venv/bin/python bench/endpoint.py --size 100000   # plus 100k generated triples
    .venv/bin/python bench/endpoint.py --quick      # fewer rounds, shorter throughput run
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import requests

from kgraph.config import RESOURCE_NS, Settings
from kgraph.graph import build

BIN = Path(sys.executable).parent
PREFIXES = """PREFIX kg: <https://w3id.org/kgraph/ontology#>
PREFIX kgr: <https://w3id.org/kgraph/id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
QUERIES = {
    "lookup": "SELECT ?p ?o WHERE { kgr:north-korean-deployment-kursk ?p ?o }",
    "group by": "SELECT ?type (COUNT(?s) AS ?n) WHERE { ?s a ?type } GROUP BY ?type",
    "property path": "SELECT ?c ?super WHERE { ?c rdfs:subClassOf+ ?super }",
    "join + OPTIONAL": (
        "SELECT ?claim ?who ?label WHERE { ?claim a kg:Claim ; kg:claimant ?who . OPTIONAL { ?who rdfs:label ?label } }"
    ),
    "CONSTRUCT": "CONSTRUCT { ?c ?p ?o } WHERE { ?c a kg:Claim ; ?p ?o }",
}
CLIENTS = 4


def main() -> None:
    """Start both servers on the same data, measure, print, stop them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 rounds and a 2 s throughput run")
    parser.add_argument("--size", type=int, default=0, help="generated triples to add")
    args = parser.parse_args()
    rounds, seconds = (10, 2.0) if args.quick else (50, 5.0)
    workdir = Path(tempfile.mkdtemp(prefix="kgraph-bench-"))
    servers: list[subprocess.Popen] = []
    try:
        extra = generate(workdir / "generated.nt", args.size) if args.size else None
        kgraph_url = start_kgraph(extra, servers)
        oxigraph_url = start_oxigraph(workdir, extra, servers)
        report(kgraph_url, oxigraph_url, rounds, seconds)
    finally:
        for process in servers:
            stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


def generate(path: Path, size: int) -> Path:
    """``size`` triples in a vocabulary of their own: items linked in a ring, grouped, labelled."""
    ns = RESOURCE_NS + "bench/"
    with path.open("w", encoding="utf-8") as out:
        for i in range(size // 3):
            item = f"<{ns}item-{i}>"
            out.write(f"{item} <{ns}linkedTo> <{ns}item-{(i * 7 + 1) % (size // 3)}> .\n")
            out.write(f"{item} <{ns}group> <{ns}group-{i % 100}> .\n")
            out.write(f'{item} <http://www.w3.org/2000/01/rdf-schema#label> "item {i}" .\n')
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_kgraph(extra: Path | None, servers: list[subprocess.Popen]) -> str:
    """``kgraph serve`` on the project data (plus ``extra``); returns its endpoint URL."""
    port = free_port()
    args = [str(BIN / "kgraph"), "serve", "--port", str(port)]
    if extra:
        args += ["--data", str(extra)]
    started = time.monotonic()
    servers.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    url = f"http://127.0.0.1:{port}/sparql"
    wait_ready(url, servers[-1])
    print(f"kgraph serve ready after {time.monotonic() - started:.2f} s")
    return url


def start_oxigraph(workdir: Path, extra: Path | None, servers: list[subprocess.Popen]) -> str:
    """``oxigraph serve-read-only`` on the same quads kgraph serves; returns its endpoint URL."""
    settings = Settings.from_env(data=(extra,) if extra else None)
    graph = build(settings)
    dump = workdir / "dataset.nq"
    ox.serialize(graph.store.quads(), str(dump), ox.RdfFormat.N_QUADS)
    print(f"dataset: {len(graph.store)} quads ({graph.inference.added} inferred)")
    location = workdir / "oxigraph"
    oxigraph = str(BIN / "oxigraph")
    load = [oxigraph, "load", "--location", str(location), "--file", str(dump)]
    subprocess.run(load, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    args = [oxigraph, "serve-read-only", "--location", str(location)]
    args += ["--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    servers.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    url = f"http://127.0.0.1:{port}/query"
    wait_ready(url, servers[-1])
    return url


def wait_ready(url: str, process: subprocess.Popen) -> None:
    """Poll until the server answers an ASK query, or fail if it died."""
    while True:
        if process.poll() is not None:
            raise SystemExit(f"server for {url} exited with {process.returncode}")
        try:
            if requests.get(url, params={"query": "ASK {}"}, timeout=1).ok:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def ask(session: requests.Session, url: str, name: str) -> requests.Response:
    """Run one query of the mix; Turtle for CONSTRUCT, JSON for the others."""
    accept = "text/turtle" if name == "CONSTRUCT" else "application/sparql-results+json"
    response = session.get(url, params={"query": PREFIXES + QUERIES[name]}, headers={"Accept": accept}, timeout=60)
    response.raise_for_status()
    return response


def median_ms(url: str, name: str, rounds: int) -> tuple[float, int]:
    """Median latency of a query over ``rounds`` runs on one keep-alive connection; body size."""
    with requests.Session() as session:
        size = len(ask(session, url, name).content)  # warm-up
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            ask(session, url, name)
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, size


def throughput(url: str, seconds: float) -> float:
    """Queries per second with ``CLIENTS`` clients cycling through the mix for ``seconds``."""
    done = [0] * CLIENTS
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        names = list(QUERIES)
        with requests.Session() as session:
            while time.monotonic() < deadline:
                ask(session, url, names[done[index] % len(names)])
                done[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / seconds


def report(kgraph_url: str, oxigraph_url: str, rounds: int, seconds: float) -> None:
    """Print the latency table and the throughput line."""
    print(f"\n{'query':<18}{'kgraph ms':>11}{'oxigraph ms':>13}{'k/o':>8}{'bytes k/o':>16}")
    for name in QUERIES:
        kg_ms, kg_size = median_ms(kgraph_url, name, rounds)
        ox_ms, ox_size = median_ms(oxigraph_url, name, rounds)
        sizes = f"{kg_size}/{ox_size}"
        print(f"{name:<18}{kg_ms:>11.2f}{ox_ms:>13.2f}{kg_ms / ox_ms:>8.1f}{sizes:>16}")
    kg_qps, ox_qps = throughput(kgraph_url, seconds), throughput(oxigraph_url, seconds)
    print(
        f"\nthroughput, {CLIENTS} clients, {seconds:g} s: kgraph {kg_qps:.0f} q/s, "
        f"oxigraph {ox_qps:.0f} q/s (ratio {ox_qps / kg_qps:.1f}x); {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
