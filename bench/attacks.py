"""The attacks of ``bench/load.py --attacks``: what a stranger can do to a public endpoint, measured by a probe.

Each attack runs for ``--seconds`` while a probe sends a small query every 0.25 s (a fresh connection each time, as
a new visitor would); the table gives the probe's p50/p95/max latency and errors during the attack, what the
attackers' own requests got, and the peak memory (PSS, so shared pages count once) of the server's process group.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from load import MemorySampler, process_parents, start_server

PROBE = "SELECT ?p ?o WHERE { <https://w3id.org/kgraph/id/sudzha> ?p ?o } LIMIT 5"
HUNGRY = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"
"""An ORDER BY over a 3-way cross product: it materialises every row, so memory grows until something stops it."""
BIG = "SELECT * WHERE { ?s ?p ?o FILTER(?o IN (" + "1," * 500_000 + "0)) }"
"""About 1 MB of query text, 1M tokens for a lexer (the guard took 4 s of CPU on one before it had a size limit)."""


@dataclass
class Outcome:
    """What one attack did to the probe, to the attackers and to memory."""

    name: str
    latencies: list[float] = field(default_factory=list)
    probe_errors: Counter = field(default_factory=Counter)
    attack_results: Counter = field(default_factory=Counter)
    peak_mb: float = 0.0
    note: str = ""


def run_attacks(args: argparse.Namespace) -> None:
    """Start the server, run each attack, print the table."""
    label = "this checkout" if not args.server_path else f"PYTHONPATH={args.server_path}"
    print(f"Attacks on kgraph serve ({label}), {args.seconds:g} s each, time limit {args.timeout:g} s\n")
    _print_header()
    server, url = start_server(args.timeout, python=args.server_python, path=args.server_path)
    try:
        for name, attack in ATTACKS:
            _print_row(_measure(name, url, server.pid, args.seconds, attack))
    finally:
        server.terminate()
        server.wait(timeout=30)
    if args.dump_data:
        extra = ("--data", str(args.dump_data))
        server, url = start_server(args.timeout, extra=extra, python=args.server_python, path=args.server_path)
        try:
            _print_row(_measure("dumps being built", url, server.pid, args.seconds, _idle))
            _await_dumps(url)
            _print_row(_measure("4 dump downloads", url, server.pid, args.seconds, _dumps))
        finally:
            server.terminate()
            server.wait(timeout=60)


def _measure(
    name: str, url: str, pid: int, seconds: float, attack: Callable[[str, int, float, Outcome], None]
) -> Outcome:
    outcome = Outcome(name)
    memory = MemorySampler(pid, every=0.2)
    memory.start()
    stop = time.monotonic() + seconds
    probe = threading.Thread(target=_probe, args=(url, stop, outcome))
    attacker = threading.Thread(target=attack, args=(url, pid, stop, outcome))
    probe.start()
    attacker.start()
    probe.join()
    attacker.join()
    memory.stop()
    outcome.peak_mb = max((mb for _, mb in memory.samples), default=0.0)
    time.sleep(2)  # let the server settle before the next attack
    return outcome


def _probe(url: str, stop: float, outcome: Outcome) -> None:
    """A small query every 0.25 s, each on a new connection."""
    while time.monotonic() < stop:
        started = time.perf_counter()
        try:
            response = requests.get(url, params={"query": PROBE}, headers={"Accept": "text/csv"}, timeout=30)
            if response.status_code == 200:
                outcome.latencies.append(time.perf_counter() - started)
            else:
                outcome.probe_errors[str(response.status_code)] += 1
        except requests.RequestException as error:
            outcome.probe_errors[type(error).__name__] += 1
        time.sleep(max(0.0, 0.25 - (time.perf_counter() - started)))


def _address(url: str) -> tuple[str, int]:
    host, port = url.split("//")[1].split("/")[0].split(":")
    return host, int(port)


def _sockets(url: str, pid: int, stop: float, outcome: Outcome) -> None:
    """64 half-open requests and 64 silent connections, each reopened as soon as the server closes it."""
    address = _address(url)
    held: list[tuple[socket.socket, bytes]] = []
    for index in range(128):
        held.append(_open(address, b"GET /sparql?query=ASK%20%7B%7D HTTP/1.1\r\nHost: x" if index < 64 else b""))
    while time.monotonic() < stop:
        for index, (sock, first) in enumerate(held):
            sock.setblocking(False)
            try:
                closed = sock.recv(4096) == b""
            except BlockingIOError:
                closed = False
            except OSError:
                closed = True
            if closed:
                outcome.attack_results["closed by the server"] += 1
                sock.close()
                held[index] = _open(address, first)
        time.sleep(0.2)
    for sock, _ in held:
        sock.close()


def _open(address: tuple[str, int], first: bytes) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(address, timeout=5)
    if first:
        sock.sendall(first)
    return sock, first


def _concurrently(count: int, stop: float, send: Callable[[], str]) -> Counter:
    results: Counter = Counter()
    lock = threading.Lock()

    def loop() -> None:
        while time.monotonic() < stop:
            try:
                result = send()
            except requests.RequestException as error:
                result = type(error).__name__
            with lock:
                results[result] += 1

    threads = [threading.Thread(target=loop) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _big_queries(url: str, pid: int, stop: float, outcome: Outcome) -> None:
    """4 clients sending 1 MB queries back to back."""
    body = BIG.encode()

    def send() -> str:
        response = requests.post(url, data=body, headers={"Content-Type": "application/sparql-query"}, timeout=60)
        return str(response.status_code)

    outcome.attack_results.update(_concurrently(4, stop, send))


def _hungry_queries(url: str, pid: int, stop: float, outcome: Outcome) -> None:
    """2 clients sending memory-hungry queries back to back."""

    def send() -> str:
        return str(requests.get(url, params={"query": HUNGRY}, timeout=120).status_code)

    outcome.attack_results.update(_concurrently(2, stop, send))


def _kill_zygote(url: str, pid: int, stop: float, outcome: Outcome) -> None:
    """SIGKILL the query workers' parent every 5 s; notes how long until a query is answered again."""
    gaps = []
    while time.monotonic() < stop - 4:
        zygote = _zygote(pid)
        if zygote is None:
            outcome.attack_results["no zygote found"] += 1
            break
        os.kill(zygote, signal.SIGKILL)
        killed = time.monotonic()
        outcome.attack_results["SIGKILL"] += 1
        _poll(url + "?query=ASK%7B%7D", within=30, every=0.05)
        gaps.append(time.monotonic() - killed)
        time.sleep(max(0.0, 5 - (time.monotonic() - killed)))
    outcome.note = "answered again after " + ", ".join(f"{gap:.2f} s" for gap in gaps)


def _zygote(server: int) -> int | None:
    """The server's descendant whose own children are the query workers: the deepest process with children."""
    parents = process_parents()
    candidates = [pid for pid, parent in parents.items() if parent == server]
    for pid in list(candidates):
        candidates += [child for child, parent in parents.items() if parent == pid]
    with_children = [pid for pid in candidates if any(parent == pid for parent in parents.values())]
    return with_children[-1] if with_children else None


def _idle(url: str, pid: int, stop: float, outcome: Outcome) -> None:
    """No attack: the probe alone (while the server does something of its own, such as building the dumps)."""
    time.sleep(max(0.0, stop - time.monotonic()))


def _await_dumps(url: str) -> None:
    """Wait (up to 15 minutes) until the dumps are built, so the downloads measure serving rather than building."""
    _poll(url.removesuffix("/sparql") + "/dumps/", within=900, every=1.0)


def _poll(url: str, *, within: float, every: float) -> None:
    """GET ``url`` until it answers 200, for at most ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if requests.get(url, headers={"Accept": "application/json"}, timeout=30).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(every)


def _dumps(url: str, pid: int, stop: float, outcome: Outcome) -> None:
    """4 clients downloading dumps of the large graph back to back, each read whole."""
    base = url.removesuffix("/sparql")
    names = ["asserted.nt", "asserted.jsonld", "asserted.ttl", "inferred.nt"]
    counter = iter(range(10**9))
    lock = threading.Lock()

    def send() -> str:
        with lock:
            name = names[next(counter) % len(names)]
        with requests.get(f"{base}/dumps/{name}", timeout=600, stream=True) as response:
            for _ in response.iter_content(1 << 20):
                pass
            return str(response.status_code)

    outcome.attack_results.update(_concurrently(4, stop, send))


ATTACKS: list[tuple[str, Callable[[str, int, float, Outcome], None]]] = [
    ("none (baseline)", _idle),
    ("64 half-open + 64 silent sockets", _sockets),
    ("4 concurrent 1 MB queries", _big_queries),
    ("2 memory-hungry queries", _hungry_queries),
    ("SIGKILL of the workers' parent", _kill_zygote),
]


def _print_header() -> None:
    print(
        "| attack | probe p50 ms | probe p95 ms | probe max ms | probe answered | probe errors | peak MB "
        "| attackers got |"
    )
    print("|---|--:|--:|--:|--:|---|--:|---|", flush=True)


def _print_row(outcome: Outcome) -> None:
    """One attack's row, printed as soon as it is measured (a long run cut short keeps what it measured)."""
    ordered = sorted(outcome.latencies)
    p50 = statistics.median(ordered) * 1000 if ordered else float("nan")
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000 if ordered else float("nan")
    worst = ordered[-1] * 1000 if ordered else float("nan")
    errors = ", ".join(f"{k}: {v}" for k, v in outcome.probe_errors.items()) or "0"
    got = ", ".join(f"{k}: {v}" for k, v in outcome.attack_results.most_common()) or "-"
    if outcome.note:
        got += f" ({outcome.note})"
    print(
        f"| {outcome.name} | {p50:.0f} | {p95:.0f} | {worst:.0f} | {len(ordered)} | {errors} | "
        f"{outcome.peak_mb:.0f} | {got} |",
        flush=True,
    )
