"""Shared fixtures: the application from its factory, and real ``kgraph serve`` processes over HTTP.

``live_server`` serves the real project (article data and example queries), for the page and the
tests about the article. The protocol tests use ``fixture_server``, a tiny fixture project
(``tests/fixtures/project``), so that their exact answers do not change when the article data does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from kgraph.config import Settings
from kgraph.store import RemoteStore

PROJECT = Path(__file__).parents[1]
"""The repository: the real ontology, article data, rules and example queries."""

FIXTURE_PROJECT = Path(__file__).parent / "fixtures" / "project"
"""Ontology, data and rules of the web tests: 117 asserted triples in two files, plus inference."""

LIVE_TIMEOUT = 3.0
"""The live servers' query time limit, short so the runaway-query test is quick."""

LIVE_MAX_BODY = 10_000
"""The live servers' body limit, small so the 413 test sends little."""

KGRAPH = Path(sys.executable).with_name("kgraph")
"""The installed console script, the very command users run."""


@dataclass
class LiveServer:
    """A running ``kgraph serve``: its base URL (no trailing slash), its process and its limits."""

    url: str
    process: subprocess.Popen
    log: Path
    timeout: float = LIVE_TIMEOUT
    max_body_bytes: int = LIVE_MAX_BODY

    @property
    def endpoint(self) -> str:
        """The SPARQL endpoint's URL."""
        return self.url + "/sparql"

    def output(self) -> str:
        """What the server printed so far (stdout and stderr together)."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """SIGTERM (a graceful stop), then SIGKILL if it lingers; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)
        return self.process.returncode


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


OXIGRAPH = Path(sys.executable).with_name("oxigraph")
"""Oxigraph's server (``pip install oxigraph``): a second, real SPARQL endpoint for the remote-store, federation,
link and fault tests."""

needs_oxigraph = pytest.mark.skipif(
    not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing"
)


def start_oxigraph(folder: Path, port: int | None = None, *, read_only: bool = False) -> tuple[subprocess.Popen, str]:
    """``oxigraph serve`` over ``folder`` (on ``port``, or a free one); the process and its base URL once it answers."""
    port = port or free_port()
    command = "serve-read-only" if read_only else "serve"
    process = subprocess.Popen(
        [str(OXIGRAPH), command, "--location", str(folder), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/query", params={"query": "ASK {}"}, timeout=1)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("oxigraph serve did not start")


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a server process, killing it if it does not stop within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_server(args: list[str], env: dict[str, str], *, ready_within: float = 90.0) -> LiveServer:
    """Start ``kgraph serve`` with ``args`` and wait until ``/sparql`` answers."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="kgraph-serve-", suffix=".log")[1])
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(KGRAPH), "serve", "--port", str(port), *args],
            env={**os.environ, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + ready_within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kgraph serve exited with {process.returncode}:\n{server.output()}")
        try:
            if requests.get(server.endpoint, timeout=1).status_code == 200:
                return server
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.05)
    printed = server.output()
    server.stop()
    raise RuntimeError(f"kgraph serve did not answer within {ready_within} s:\n{printed}")


def _fixture_env() -> dict[str, str]:
    return {
        "KGRAPH_PROJECT_DIR": str(FIXTURE_PROJECT),
        "KGRAPH_MAX_BODY_BYTES": str(LIVE_MAX_BODY),
        "KGRAPH_SERVICE_ALLOWLIST": "",
    }


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """``kgraph serve`` over the project's own ontology, article data and example queries."""
    server = start_server(["--timeout", str(LIVE_TIMEOUT)], {"KGRAPH_PROJECT_DIR": str(PROJECT)})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fixture_server() -> Iterator[LiveServer]:
    """``kgraph serve`` over the fixture project, with a 3 s time limit and a 10 kB body limit."""
    server = start_server(["--timeout", str(LIVE_TIMEOUT)], _fixture_env())
    yield server
    server.stop()


@pytest.fixture
def serve() -> Iterator[Callable[[list[str], dict[str, str]], LiveServer]]:
    """Start ``kgraph serve`` with given arguments and environment; stopped after the test."""
    started: list[LiveServer] = []

    def start(args: list[str], env: dict[str, str]) -> LiveServer:
        started.append(start_server(args, env))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test sees the developer's settings or data: every ``KGRAPH_*`` variable is removed, and the default data
    directory (``$XDG_DATA_HOME/kgraph``) and the validation cache (``$XDG_CACHE_HOME/kgraph``) are empty temporary
    folders, for this process and the servers it starts."""
    home = tmp_path_factory.mktemp("xdg-data-home")
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("KGRAPH_")]:
            patch.delenv(name)
        patch.setenv("XDG_DATA_HOME", str(home))
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache-home")))
        yield home


@contextlib.contextmanager
def fixture_application(**settings: object) -> Iterator[Flask]:
    """The application from its factory over the fixture project, with ``settings`` overriding the defaults (its data
    directory a new empty folder unless given); its query workers are stopped after."""
    from kgraph.web import create_app, service

    with tempfile.TemporaryDirectory(prefix="kgraph-data-") as data_dir:
        defaults = {"project_dir": FIXTURE_PROJECT, "timeout": LIVE_TIMEOUT, "data_dir": Path(data_dir)}
        application = create_app(Settings.from_env(environ={}, **{**defaults, **settings}))
        try:
            yield application
        finally:
            service(application).close()


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    """The application from its factory over the fixture project (one per session: it forks)."""
    with fixture_application(max_body_bytes=LIVE_MAX_BODY) as application:
        yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the session's application."""
    return app.test_client()


WHOLE_GRAPH = """INSERT { GRAPH <http://example.org/whole> {
  _:x <http://example.org/p> true ; <http://example.org/q> "1"^^<http://www.w3.org/2001/XMLSchema#boolean> ;
    <http://example.org/l> "h\\u00e9"@fr .
  <http://example.org/s> <http://example.org/r> _:x ;
    <http://example.org/w> "POINT(1 2)"^^<http://www.opengis.net/ont/geosparql#wktLiteral> ;
    <http://example.org/t> "tab\\tquote\\" end", 42, "2024-01-01"^^<http://www.w3.org/2001/XMLSchema#date> .
} } WHERE {}"""
"""A graph of every kind of term a whole-graph read must give back as a pattern read does."""


def whole_graph_is_read_as_a_pattern_reads_it(store: RemoteStore) -> None:
    """``quads(graph=g)`` (a CONSTRUCT) and ``quads(predicate=p, graph=g)`` for each predicate (a SELECT) give the
    same quads, blank nodes under the same labels."""
    store.update(WHOLE_GRAPH)
    graph = "http://example.org/whole"
    whole = set(store.quads(graph=graph))
    predicates = {quad.predicate for quad in whole}
    by_predicate = {quad for p in predicates for quad in store.quads(predicate=p, graph=graph)}
    assert len(whole) == 8
    assert whole == by_predicate
    assert len({quad.subject for quad in whole if isinstance(quad.subject, ox.BlankNode)}) == 1
