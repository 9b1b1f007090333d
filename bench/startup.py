"""Seconds from launching ``kgraph serve`` to its first answer, for the load and start-up figures of bench/README.md.

Starts ``kgraph serve`` on a free port with the given options, asks ``SELECT (COUNT(*) AS ?n)`` until it is answered,
prints the time and the server's last log lines, and stops the server. No assertions.

    .venv/bin/python bench/startup.py --store /tmp/x --data /tmp/gen-1m.nt   # run twice: first and later start
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

KGRAPH = Path(sys.executable).with_name("kgraph")
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def main() -> None:
    """Time one start of ``kgraph serve`` with the options given on the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [-h] [KGRAPH SERVE OPTIONS...]",
    )
    _, serve_options = parser.parse_known_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/sparql?query={urllib.parse.quote(COUNT)}&format=csv"
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        server = subprocess.Popen(
            [str(KGRAPH), "serve", "--port", str(port), *serve_options], stdout=log, stderr=log, start_new_session=True
        )
        try:
            answer = _first_answer(url, server)
            print(f"answered after {time.perf_counter() - started:.2f} s: {answer.split()[-1]} quads")
        finally:
            with contextlib.suppress(ProcessLookupError):  # it may have exited on its own
                os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        log.seek(0)
        print("".join(line for line in log.readlines()[-6:] if not line.startswith("loaded ")), end="")


def _first_answer(url: str, server: subprocess.Popen) -> str:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                return response.read().decode()
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None:
                raise SystemExit(f"kgraph serve exited with {server.returncode}") from None
            time.sleep(0.05)


if __name__ == "__main__":
    main()
