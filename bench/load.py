"""A bounded load test of ``kgraph serve`` on loopback, with a runaway query in the middle.

The issue asks whether the server keeps answering under load and while a query runs away: at each
concurrency level, N Python clients (keep-alive sessions) cycle through a mix of normal queries for a
fixed time; half-way through, one more client sends a cartesian product that only the time limit
stops. It prints the p50/p95 latency of the normal queries, their errors, what the runaway query got,
how many normal queries were answered while it ran, and the memory (PSS) of the whole server (gunicorn
and its query processes, from /proc) over time, so a leak shows as growth across levels and along a long
run. No assertions: it prints tables (tests/bench/test_load.py runs it briefly and asserts).

``--attacks`` instead runs the attacks of a stranger on a public endpoint, one after the other, while a probe
client sends a small query every 0.25 s: 64 half-open plus 64 silent sockets (reopened as the server closes them),
4 concurrent 1 MB queries, 2 memory-hungry queries, SIGKILL of the query workers' parent, and (with ``--dump-data``,
a large N-Triples file from bench/generate.py, served by a second server) 4 concurrent dump downloads. For each it
prints the probe's p50/p95/max latency, its errors, what the attackers got, and the peak memory (the sum of RSS)
of the server's whole process group. ``--server-python`` and ``--server-path`` run another kgraph (an older
checkout) for comparison.

    .venv/bin/python bench/load.py                      # 1, 4, 16 clients, 20 s each
    .venv/bin/python bench/load.py --seconds 5          # a quick look
    .venv/bin/python bench/load.py --clients 4 --seconds 600   # a long run, for leaks
    .venv/bin/python bench/generate.py --triples 1M --seed 7 -o /tmp/gen-1m.nt
    .venv/bin/python bench/load.py --attacks --dump-data /tmp/gen-1m.nt
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

PROJECT = Path(__file__).parents[1]
PREFIXES = """PREFIX kg: <https://w3id.org/kgraph/ontology#>
PREFIX kgr: <https://w3id.org/kgraph/id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
QUERIES = [
    PREFIXES + "SELECT ?p ?o WHERE { kgr:north-korean-deployment-kursk ?p ?o }",
    PREFIXES + "SELECT ?type (COUNT(?s) AS ?n) WHERE { ?s a ?type } GROUP BY ?type",
    PREFIXES + "SELECT ?c ?super WHERE { ?c rdfs:subClassOf+ ?super }",
    PREFIXES
    + "SELECT ?claim ?who ?label WHERE { ?claim a kg:Claim ; kg:claimant ?who . OPTIONAL { ?who rdfs:label ?label } }",
    PREFIXES + "CONSTRUCT { ?c ?p ?o } WHERE { ?c a kg:Claim ; ?p ?o }",
]
"""Normal queries: the mix of bench/endpoint.py."""
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
"""A cartesian product of the whole graph with itself four times: it only ends by the time limit."""


def main() -> None:
    """Start the server, run each concurrency level, print the figures, stop the server."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16], help="concurrency levels")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each level")
    parser.add_argument("--timeout", type=float, default=5.0, help="the server's query time limit")
    parser.add_argument("--attacks", action="store_true", help="run the attacks with a probe instead")
    parser.add_argument("--dump-data", type=Path, help="N-Triples file for the dump-download attack")
    parser.add_argument("--server-python", default=sys.executable, help="the Python running the server")
    parser.add_argument("--server-path", help="PYTHONPATH for the server (another checkout's src/)")
    args = parser.parse_args()
    if args.attacks:
        from attacks import run_attacks  # bench/attacks.py: kept apart, it is long

        run_attacks(args)
        return
    server, url = start_server(args.timeout)
    memory = MemorySampler(server.pid)
    memory.start()
    try:
        rows = [run_level(url, clients, args.seconds) for clients in args.clients]
    finally:
        memory.stop()
        server.terminate()
        server.wait(timeout=30)
    print_results(rows, memory, args)


def start_server(
    timeout: float, *, extra: tuple[str, ...] = (), python: str = sys.executable, path: str | None = None
) -> tuple[subprocess.Popen, str]:
    """``kgraph serve`` on a free loopback port, over the project, once it answers; ``path`` runs another checkout.
    Its data directory is removed when this process exits."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data_dir = tempfile.mkdtemp(prefix="kgraph-load-")
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    command = [python, "-m", "kgraph", "serve", "--port", str(port), "--timeout", str(timeout), "--data-dir", data_dir]
    env = {**os.environ, "KGRAPH_PROJECT_DIR": str(PROJECT)}
    if path:
        env["PYTHONPATH"] = path
    server = subprocess.Popen([*command, *extra], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/sparql"
    for _ in range(12000 if extra else 600):
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return server, url
        except requests.RequestException:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("kgraph serve did not start")


def run_level(url: str, clients: int, seconds: float) -> dict:
    """N clients for ``seconds``, the runaway query sent half-way; latencies, errors, runaway outcome."""
    latencies: list[float] = []
    answered_at: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        session = requests.Session()
        index = offset
        while time.monotonic() < stop:
            query = QUERIES[index % len(QUERIES)]
            index += 1
            started = time.perf_counter()
            try:
                response = session.get(url, params={"query": query}, timeout=60)
                outcome = None if response.status_code == 200 else str(response.status_code)
            except requests.RequestException as error:
                outcome = type(error).__name__
            elapsed = time.perf_counter() - started
            with lock:
                if outcome is None:
                    latencies.append(elapsed)
                    answered_at.append(time.monotonic())
                else:
                    errors[outcome] = errors.get(outcome, 0) + 1

    runaway: dict = {}

    def runaway_client() -> None:
        time.sleep(seconds / 2)
        started = time.monotonic()
        try:
            status: int | str = requests.get(url, params={"query": RUNAWAY}, timeout=120).status_code
        except requests.RequestException as error:
            status = type(error).__name__
        runaway.update(status=status, seconds=time.monotonic() - started, started=started)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    threads.append(threading.Thread(target=runaway_client))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)
    return {
        "clients": clients,
        "queries": len(ordered),
        "rate": len(ordered) / seconds,
        "p50": statistics.median(ordered) * 1000 if ordered else float("nan"),
        "p95": ordered[int(len(ordered) * 0.95)] * 1000 if ordered else float("nan"),
        "errors": errors,
        "runaway": runaway,
        "during_runaway": sum(runaway["started"] <= t <= runaway["started"] + runaway["seconds"] for t in answered_at),
        "ended": time.monotonic(),
    }


class MemorySampler(threading.Thread):
    """The memory of a process and all its descendants, sampled every half second (or ``every`` seconds)."""

    def __init__(self, root: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.every = every
        self.samples: list[tuple[float, float]] = []
        self.started = time.monotonic()
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self._stop_event.wait(self.every):
            self.samples.append((time.monotonic(), tree_pss_mb(self.root)))

    def stop(self) -> None:
        """Stop sampling."""
        self._stop_event.set()
        self.join()


def tree_pss_mb(root: int) -> float:
    """Memory in MB of ``root`` and its descendants: the sum of their PSS (/proc/PID/smaps_rollup).

    PSS rather than RSS: the query processes are forks sharing the dataset's pages, so summing
    their RSS would count those pages once per process.
    """
    parents = process_parents()
    tree = {root}
    grew = True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(_pss_kb(pid) for pid in tree) / 1024


def process_parents() -> dict[int, int]:
    """Every process's parent, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def print_results(rows: list[dict], memory: MemorySampler, args: argparse.Namespace) -> None:
    """A table per level, then the memory timeline."""
    print(f"{args.seconds:g} s per level, server time limit {args.timeout:g} s, {os.cpu_count()} cores\n")
    print(
        "| clients | queries | queries/s | p50 ms | p95 ms | errors | runaway query       "
        "| answered meanwhile | PSS MB at end |"
    )
    print(
        "|--------:|--------:|----------:|-------:|-------:|-------:|---------------------"
        "|-------------------:|--------------:|"
    )
    for row in rows:
        pss = [mb for when, mb in memory.samples if when <= row["ended"]]
        runaway = row["runaway"]
        told = f"{runaway.get('status')} after {runaway.get('seconds', 0):.1f} s"
        errors = ", ".join(f"{k}: {v}" for k, v in row["errors"].items()) or "0"
        print(
            f"| {row['clients']:>7} | {row['queries']:>7} | {row['rate']:>9.0f} | {row['p50']:>6.1f} | "
            f"{row['p95']:>6.1f} | {errors:>6} | {told:<19} | {row['during_runaway']:>18} | "
            f"{pss[-1] if pss else 0:>13.0f} |"
        )
    print("\nServer PSS (MB, gunicorn + query processes) over time:")
    step = max(1, len(memory.samples) // 20)
    for when, mb in memory.samples[::step]:
        print(f"  {when - memory.started:6.1f} s  {mb:7.1f}")


if __name__ == "__main__":
    main()
