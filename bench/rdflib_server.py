"""rdflib served naively: the baseline peer of ``bench/compare.py``, what "just put rdflib behind HTTP" gives.

One rdflib ``Graph`` parsed from the files given, and a standard-library HTTP server answering the SPARQL protocol's
``query`` parameter (GET or form POST) with ``Graph.query``: JSON results for SELECT and ASK, N-Triples for CONSTRUCT
and DESCRIBE. Queries take turns (rdflib's store is not meant for concurrent readers); no time limit, no guard.

    .venv/bin/python bench/rdflib_server.py --port 8001 data.nt
"""

from __future__ import annotations

import argparse
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from rdflib import Graph

GRAPH = Graph()
TURNS = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    """``/sparql?query=...`` over the one graph."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the other peers

    def do_GET(self) -> None:
        self.answer(urllib.parse.urlsplit(self.path).query)

    def do_POST(self) -> None:
        self.answer(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8"))

    def answer(self, form: str) -> None:
        query = urllib.parse.parse_qs(form).get("query", [""])[0]
        try:
            with TURNS:
                result = GRAPH.query(query)
                graph = result.type in ("CONSTRUCT", "DESCRIBE")
                body = result.serialize(format="nt" if graph else "json", encoding="utf-8")
        except Exception as error:  # a benchmark peer: any failure is the client's 400
            self.send(400, "text/plain", str(error).encode("utf-8"))
            return
        self.send(200, "application/n-triples" if graph else "application/sparql-results+json", body)

    def send(self, status: int, media_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet: the benchmark measures, it does not read logs."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("files", nargs="+", type=Path, help="N-Triples files to serve")
    args = parser.parse_args()
    for path in args.files:
        GRAPH.parse(path, format="nt")
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
