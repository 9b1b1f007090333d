"""kgraph against its peers on the same generated data: one command, one markdown table (issue 7).

Generates N triples (``bench/generate.py``), starts ``kgraph serve --data FILE`` and takes the dataset it serves
(asserted and inferred triples, from its dumps), then serves that very dataset from each peer: Oxigraph's server
(``oxigraph load`` + ``serve-read-only``), Virtuoso 7 (a private instance, bulk loader) and rdflib served naively
(``bench/rdflib_server.py``). Each server's load time is measured from its start until it answers, with no other
server running (kgraph's includes parsing, inference and forking its query workers; the peers load the finished
dataset, no inference): each is started alone for that and stopped, then all are started again for the query mix
(the servers already up slowed the last one started: kgraph over Virtuoso ready after 21.0-24.0 s beside the
embedded kgraph and Virtuoso, idle, against 18.7-19.1 s alone; Virtuoso's bulk load 13.3 s beside kgraph against
10.3 s alone). Then the query
mix of ``bench/queries/*.rq`` runs on every server, one keep-alive client at a time, the servers taking turns round
by round (median of ``--rounds`` runs after a warm-up, each query's row or triple count checked to be the same
everywhere), then four clients cycle through the mix for ``--seconds`` on each server (throughput). No assertions:
it prints a table.

    .venv/bin/python bench/compare.py                        # 1M triples, every peer installed
    .venv/bin/python bench/compare.py --triples 100k --quick
    .venv/bin/python bench/compare.py --peers kgraph,oxigraph,virtuoso   # rdflib takes minutes to parse 1M
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

import generate
import virtuoso

BENCH = Path(__file__).parent
BIN = Path(sys.executable).parent
PEERS = ("kgraph", "oxigraph", "virtuoso", "rdflib", "kgraph-virtuoso")
CLIENTS = 4
READY_WITHIN = 1800.0
"""Seconds a server may take to load before the run gives up on it."""
BENCH_GRAPH = "https://w3id.org/kgraph/graph/bench"
"""The one graph the peers that have graphs load the dataset into."""
JSON = {"Accept": "application/sparql-results+json"}
QUERY_TIMEOUT = 300.0
"""Seconds one query may take on one server before it counts as failed there."""
QUERY_BUDGET = 20.0
"""Seconds of measured runs per query and server: a slow peer gets fewer rounds (at least one), not an hour."""


@dataclass
class Query:
    """One query of the mix: its file's name, its first comment line, its text."""

    name: str
    title: str
    text: str

    @property
    def graph(self) -> bool:
        """Whether it returns triples (CONSTRUCT) rather than solutions."""
        return self.name == "construct"


@dataclass
class Server:
    """A running server under test: where it answers, how long it took to load, how to stop it."""

    name: str
    endpoint: str
    ready_seconds: float
    stop: Callable[[], None]
    medians: dict[str, float | None] = field(default_factory=dict)
    sizes: dict[str, int | None] = field(default_factory=dict)
    throughput: float | None = None


def main() -> None:
    """Generate, time each server's start alone, start them all, measure, print the table, stop them all."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=generate.count, default=generate.count("1M"), help="10000, 100k, 1M ...")
    parser.add_argument("--rounds", type=int, default=20, help="measured runs of each query on each server")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the throughput run on each server")
    parser.add_argument("--peers", default=",".join(p for p in PEERS if available(p)), help="comma-separated")
    parser.add_argument("--quick", action="store_true", help="3 rounds and a 5 s throughput run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-plan", action="store_true", help="kgraph evaluates queries as written (no planner)")
    args = parser.parse_args()
    os.environ["KGRAPH_CACHE_BYTES"] = "0"  # measure evaluation: a result cache would answer every repeat
    os.environ["KGRAPH_PLAN_QUERIES"] = "false" if args.no_plan else "true"
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    if unknown := set(peers) - set(PEERS):
        parser.error(f"unknown peers: {', '.join(sorted(unknown))} (choose from {', '.join(PEERS)})")
    rounds, seconds = (3, 5.0) if args.quick else (args.rounds, args.seconds)
    queries = load_queries()
    workdir = Path(tempfile.mkdtemp(prefix="kgraph-compare-"))
    servers: list[Server] = []
    try:
        data = workdir / "generated.nt"
        generate.write(data, args.triples, args.seed)
        alone = start_kgraph(data)
        ready = {"kgraph": alone.ready_seconds}
        try:
            dataset = fetch_dataset(alone.endpoint, workdir / "dataset")
        finally:
            alone.stop()
        starters = {"oxigraph": start_oxigraph, "virtuoso": start_virtuoso, "rdflib": start_rdflib}
        starters["kgraph-virtuoso"] = lambda _, folder: start_kgraph_over_virtuoso(data, folder)
        others = [name for name in peers if name != "kgraph"]
        for name in others:
            ready[name] = ready_alone(starters[name], dataset, workdir / f"{name}-alone")
        servers.append(start_kgraph(data))
        wait_for_dumps(servers[-1].endpoint)
        for name in others:
            servers.append(starters[name](dataset, workdir / name))
            if name == "kgraph-virtuoso":
                wait_for_dumps(servers[-1].endpoint)
        for server in servers:
            server.ready_seconds = ready[server.name]
        shown = servers if "kgraph" in peers else servers[1:]  # kgraph served the dataset; it is stopped below
        measure(shown, queries, rounds, seconds)
        print(table(shown, queries, args.triples, dataset_size(dataset), rounds, seconds))
        print(over_virtuoso(shown))
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def ready_alone(start: Callable[[Path, Path], Server], dataset: Path, folder: Path) -> float:
    """Seconds a peer takes from its start until it answers, nothing else running; it is stopped after."""
    server = start(dataset, folder)
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)
    print(f"{server.name} ready after {server.ready_seconds:.1f} s (alone)", file=sys.stderr)
    return server.ready_seconds


def available(peer: str) -> bool:
    """Whether a peer can run here (Virtuoso is an apt package, the others come with the test dependencies)."""
    return "virtuoso" not in peer or virtuoso.SERVER is not None


def load_queries() -> list[Query]:
    """The mix, in a fixed order (the one of issue 7)."""
    order = ("lookup", "time-window", "group-by", "text-filter", "property-path", "multi-join", "construct")
    order += ("optional-first", "filter-first")  # issue 16: written in an analyst's order, not an engine's
    queries = []
    for name in order:
        text = (BENCH / "queries" / f"{name}.rq").read_text(encoding="utf-8")
        queries.append(Query(name, text.splitlines()[0].lstrip("# "), text))
    return queries


# --- starting the servers ---


def start_kgraph(data: Path) -> Server:
    """``kgraph serve --data FILE`` (the ontology and the article too, then inference); ready when it answers."""
    port = virtuoso.free_port()
    log = (data.parent / "kgraph.log").open("wb")
    started = time.monotonic()
    args = [str(BIN / "kgraph"), "serve", "--port", str(port), "--data", str(data), "--timeout", str(QUERY_TIMEOUT)]
    server = launch("kgraph", args, f"http://127.0.0.1:{port}/sparql", started, log)
    print(f"kgraph ready after {server.ready_seconds:.1f} s", file=sys.stderr)
    return server


def fetch_dataset(endpoint: str, folder: Path) -> Path:
    """What kgraph serves as its default graph with inference on (asserted and inferred triples), as N-Triples."""
    folder.mkdir()
    path = folder / "dataset.nt"
    base = endpoint.removesuffix("/sparql")
    with path.open("wb") as out:
        for part in ("asserted", "inferred"):
            with dump_response(f"{base}/dumps/{part}.nt") as response:
                for chunk in response.iter_content(1 << 20):
                    out.write(chunk)
    return path


def wait_for_dumps(endpoint: str) -> None:
    """Wait until a kgraph server has built its dumps, which it does in the background once it is ready (over
    Virtuoso, about a minute at 1M triples of reading the store): measured meanwhile, every peer would share the
    machine with that build (not counted in its ready time)."""
    dump_response(f"{endpoint.removesuffix('/sparql')}/dumps/").close()


def dump_response(url: str) -> requests.Response:
    """The dump at ``url``, streamed; the server builds its dumps after it starts (503 meanwhile), so ask again."""
    deadline = time.monotonic() + READY_WITHIN
    while True:
        response = requests.get(url, stream=True, timeout=READY_WITHIN)
        if response.status_code != 503 or time.monotonic() > deadline:
            response.raise_for_status()
            return response
        response.close()
        time.sleep(2)


def dataset_size(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for line in lines if line.strip())


def start_oxigraph(dataset: Path, folder: Path) -> Server:
    """``oxigraph load`` into a folder, then ``oxigraph serve-read-only`` over it."""
    oxigraph = str(BIN / "oxigraph")
    started = time.monotonic()
    load = [oxigraph, "load", "--location", str(folder), "--file", str(dataset)]
    subprocess.run(load, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = virtuoso.free_port()
    args = [oxigraph, "serve-read-only", "--location", str(folder), "--bind", f"127.0.0.1:{port}"]
    return launch("oxigraph", args, f"http://127.0.0.1:{port}/query", started)


def start_virtuoso(dataset: Path, folder: Path) -> Server:
    """A private Virtuoso, the dataset bulk-loaded into one graph (its default graph is the union of all)."""
    started = time.monotonic()
    instance = virtuoso.start(folder, dirs_allowed=(dataset.parent,))
    try:
        instance.bulk_load(dataset.parent, dataset.name, BENCH_GRAPH)
    except BaseException:
        instance.stop()
        raise
    server = Server("virtuoso", instance.endpoint, time.monotonic() - started, instance.stop)
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{BENCH_GRAPH}> {{ ?s ?p ?o }} }}"
    loaded = int(
        requests.get(server.endpoint, params={"query": count}, headers=JSON, timeout=60).json()["results"]["bindings"][
            0
        ]["n"]["value"]
    )
    if loaded != dataset_size(dataset):
        print(f"virtuoso loaded {loaded:,} of {dataset_size(dataset):,} triples", file=sys.stderr)
    return server


def start_kgraph_over_virtuoso(data: Path, folder: Path) -> Server:
    """A private Virtuoso and ``kgraph serve --store ENDPOINT --store-load-dir SHARED --data FILE`` over it (issue 16's
    thin path): ready once Virtuoso has started and kgraph has loaded the generated file through Virtuoso's own
    parser, inferred in the store and answers; stopping it stops both."""
    started = time.monotonic()
    shared = folder / "shared"
    instance = virtuoso.start(folder / "virtuoso", dirs_allowed=(shared,))
    port = virtuoso.free_port()
    args = [str(BIN / "kgraph"), "serve", "--port", str(port), "--store", instance.endpoint, "--data", str(data)]
    args += ["--store-load-dir", str(shared), "--timeout", str(QUERY_TIMEOUT)]
    try:
        server = launch(
            "kgraph-virtuoso", args, f"http://127.0.0.1:{port}/sparql", started, (folder / "log").open("wb")
        )
    except BaseException:
        instance.stop()
        raise
    stop_kgraph = server.stop
    server.stop = lambda: (stop_kgraph(), instance.stop())
    return server


def start_rdflib(dataset: Path, folder: Path) -> Server:
    """``bench/rdflib_server.py`` over the dataset; ready once rdflib has parsed it."""
    port = virtuoso.free_port()
    started = time.monotonic()
    args = [sys.executable, str(BENCH / "rdflib_server.py"), "--port", str(port), str(dataset)]
    return launch("rdflib", args, f"http://127.0.0.1:{port}/sparql", started)


def launch(
    name: str, args: list[str], endpoint: str, started: float, log: IO[bytes] | int = subprocess.DEVNULL
) -> Server:
    """Start a server, its output to ``log``, and wait until it answers; its load time counts from ``started``."""
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    wait_ready(endpoint, process)
    return Server(name, endpoint, time.monotonic() - started, lambda: virtuoso.stop_process(process))


def wait_ready(endpoint: str, process: subprocess.Popen) -> None:
    """Poll until the server answers an ASK query, or fail if it died or took too long."""
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server for {endpoint} exited with {process.returncode}")
        try:
            if requests.get(endpoint, params={"query": "ASK {}"}, timeout=1).ok:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    virtuoso.stop_process(process)
    raise SystemExit(f"the server for {endpoint} did not answer within {READY_WITHIN:g} s")


# --- measuring ---


def ask(session: requests.Session, endpoint: str, query: Query) -> int:
    """Run one query (JSON results, or N-Triples for CONSTRUCT); the number of rows or triples it returned."""
    accept = "application/n-triples" if query.graph else "application/sparql-results+json"
    response = session.post(endpoint, data={"query": query.text}, headers={"Accept": accept}, timeout=QUERY_TIMEOUT)
    response.raise_for_status()
    if query.graph:
        return sum(1 for line in response.content.splitlines() if line.strip() and not line.startswith(b"#"))
    return len(json.loads(response.content)["results"]["bindings"])


def measure(servers: list[Server], queries: list[Query], rounds: int, seconds: float) -> None:
    """Each query's median latency and result size on each server, one keep-alive connection each, the servers taking
    turns round by round: this machine's speed drifts by a third within minutes, so a server measured after another
    would meet another machine; interleaved, every round meets them all on the same one. Then each throughput."""
    sessions = {server.name: requests.Session() for server in servers}
    try:
        for query in queries:
            timed = {server.name: [] for server in servers}
            answering = [server for server in servers if _warmed_up(server, sessions[server.name], query)]
            for _ in range(rounds):
                for server in list(answering):
                    times = timed[server.name]
                    if times and sum(times) > QUERY_BUDGET:
                        continue
                    started = time.perf_counter()
                    try:
                        ask(sessions[server.name], server.endpoint, query)
                    except requests.RequestException as error:
                        _failed(server, query, error)
                        answering.remove(server)
                        continue
                    times.append(time.perf_counter() - started)
            for server in answering:
                server.medians[query.name] = statistics.median(timed[server.name]) * 1000
    finally:
        for session in sessions.values():
            session.close()
    for server in servers:
        server.throughput = throughput(server, [q for q in queries if server.medians[q.name] is not None], seconds)
        print(f"{server.name} measured", file=sys.stderr)


def _warmed_up(server: Server, session: requests.Session, query: Query) -> bool:
    """Run the query once unmeasured, noting its result size; False (and noted as failed) if it fails."""
    try:
        server.sizes[query.name] = ask(session, server.endpoint, query)
    except requests.RequestException as error:
        _failed(server, query, error)
        return False
    return True


def _failed(server: Server, query: Query, error: requests.RequestException) -> None:
    print(f"{server.name}: {query.name} failed: {error}", file=sys.stderr)
    server.medians[query.name] = server.sizes[query.name] = None


def throughput(server: Server, queries: list[Query], seconds: float) -> float:
    """Queries answered per second by ``CLIENTS`` clients cycling through the mix, each from its own offset."""
    done = [0] * CLIENTS
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        with requests.Session() as session:
            while time.monotonic() < deadline:
                ask(session, server.endpoint, queries[(index + done[index]) % len(queries)])
                done[index] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


# --- the table ---


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def table(servers: list[Server], queries: list[Query], triples: int, quads: int, rounds: int, seconds: float) -> str:
    """The markdown table: per-query medians (ms), the ratio to the fastest, geometric means, throughput, load."""
    names = [s.name for s in servers]
    lines = [
        f"{dt.date.today().isoformat()}, {machine()}, Python {platform.python_version()}: {triples:,} generated "
        f"triples, {quads:,} served with the ontology, the article and the inferred triples; median of up to "
        f"{rounds} runs (ms), {CLIENTS} clients for {seconds:g} s.",
        "",
        "| query | rows | " + " | ".join(f"{n} ms" for n in names) + " | kgraph / fastest |",
        "|---|---:|" + "---:|" * len(names) + "---:|",
    ]
    for query in queries:
        cells = [_ms(s.medians.get(query.name)) for s in servers]
        sizes = {s.sizes.get(query.name) for s in servers}
        rows = (
            str(sizes.pop())
            if len(sizes) == 1
            else "differ: " + "/".join(str(s.sizes.get(query.name)) for s in servers)
        )
        lines.append(f"| {query.name} | {rows} | " + " | ".join(cells) + f" | {_to_fastest(servers, query.name)} |")
    lines.append(
        "| geometric mean, ratio to kgraph | | " + " | ".join(_geo_ratio(servers, s) for s in servers) + " | |"
    )
    lines.append("| throughput, queries/s | | " + " | ".join(_number(s.throughput) for s in servers) + " | |")
    lines.append("| ready after (s) | | " + " | ".join(f"{s.ready_seconds:.1f}" for s in servers) + " | |")
    return "\n".join(lines)


def over_virtuoso(servers: list[Server]) -> str:
    """kgraph over Virtuoso set against Virtuoso queried directly (issue 16: within 1.25x, 80% of its throughput,
    ready within 2x its bulk load), when both ran."""
    by_name = {s.name: s for s in servers}
    direct, through = by_name.get("virtuoso"), by_name.get("kgraph-virtuoso")
    if direct is None or through is None:
        return ""
    ratios = [
        mine / theirs
        for name, mine in through.medians.items()
        if mine is not None
        and (theirs := direct.medians.get(name)) is not None
        and through.sizes.get(name) == direct.sizes.get(name)  # a query answered differently is no comparison
    ]
    share = through.throughput / direct.throughput if through.throughput and direct.throughput else None
    return (
        f"\nkgraph over Virtuoso against Virtuoso directly: geometric mean {geometric_mean(ratios):.2f}x, "
        f"throughput {_number(share and share * 100)}%, ready {through.ready_seconds / direct.ready_seconds:.2f}x"
    )


def machine() -> str:
    """Cores, processor model and memory, as far as Linux tells."""
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    model = next(
        (line.split(":", 1)[1].strip() for line in _lines(cpuinfo) if line.startswith("model name")), platform.machine()
    )
    kib = next((int(line.split()[1]) for line in _lines(meminfo) if line.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} cores ({model}), {kib / 2**20:.0f} GiB, {platform.system()}"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _ms(value: float | None) -> str:
    if value is None:
        return "failed"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _to_fastest(servers: list[Server], name: str) -> str:
    kgraph = next((s.medians.get(name) for s in servers if s.name == "kgraph"), None)
    times = [t for s in servers if (t := s.medians.get(name)) is not None]
    return "-" if kgraph is None or not times else f"{kgraph / min(times):.2f}"


def _geo_ratio(servers: list[Server], server: Server) -> str:
    """The geometric mean over the queries both answered of this server's time divided by kgraph's."""
    kgraph = next((s for s in servers if s.name == "kgraph"), None)
    if kgraph is None:
        return "-"
    ratios = [
        mine / theirs
        for name, mine in server.medians.items()
        if mine is not None and (theirs := kgraph.medians.get(name)) is not None
    ]
    return f"{geometric_mean(ratios):.2f}" if ratios else "-"


if __name__ == "__main__":
    main()
