"""Faults (issue 8): a full disk (under the journal, under an on-disk store), a read-only data directory, ``kill -9``
during a load, a remote store that is down, failing or slow. Each test drives a real ``kgraph serve`` and checks the
error the client gets (never a 500, never a hang), that nothing half-done is left, and what a restart brings back:
exactly the acknowledged writes.

Covered elsewhere, not repeated here: ``kill -9`` among concurrent small writes (tests/web/test_writes_http.py), a
remote store down at start-up and queries over a remote killed while serving (tests/store/test_remote.py).

A full disk and a read-only data directory are real here: a small tmpfs and a read-only bind mount, which need root
(the tests say so when they skip). ``/dev/full`` stands in for a full disk where mounting is not allowed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from conftest import KGRAPH, LiveServer, free_port, needs_oxigraph, start_oxigraph
from kgraph.journal import JOURNAL_NAME, Journal
from kgraph.sparql.remote_runner import UNAVAILABLE
from kgraph.writes import STORE_FAILED, STORE_UNAVAILABLE
from processes import kill_9

PROJECT = Path(__file__).parent / "fixtures" / "writes"
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KGR = "https://w3id.org/kgraph/id/"
PREFIXES = (
    "PREFIX kg: <https://w3id.org/kgraph/ontology#>\n"
    f"PREFIX kgr: <{KGR}>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)
SETTLEMENTS = "SELECT ?s WHERE { ?s a kg:Settlement }"
NO_SPACE = "The server cannot record writes: No space left on device. Nothing was changed; try again later.\n"
READ_ONLY = "The server cannot record writes: Read-only file system. Nothing was changed; try again later.\n"

Serve = Callable[[list[str], dict[str, str]], LiveServer]


def place(name: str, label: str | None = None) -> str:
    """An update adding a valid settlement; a long ``label`` makes its journal entry as big as wanted."""
    return PREFIXES + (
        f'INSERT DATA {{ kgr:{name} a kg:Settlement ; rdfs:label "{label or name}" ; kg:locatedIn kgr:kursk-oblast }}'
    )


def env(data_dir: Path, token: str | None = TOKEN, store: str = "") -> dict[str, str]:
    return {
        "KGRAPH_PROJECT_DIR": str(PROJECT),
        "KGRAPH_DATA_DIR": str(data_dir),
        "KGRAPH_TOKEN": token or "",
        "KGRAPH_TOKEN_FILE": "",
        "KGRAPH_STORE": store,
    }


def update(server: LiveServer, text: str) -> requests.Response:
    return requests.post(server.endpoint, data={"update": text}, headers=AUTH, timeout=60)


def select(server: LiveServer, query: str) -> list[str]:
    """The rows of a SELECT as sorted CSV lines without the header."""
    response = requests.post(
        server.endpoint, data={"query": PREFIXES + query}, headers={"Accept": "text/csv"}, timeout=60
    )
    assert response.status_code == 200, response.text
    return sorted(response.text.splitlines()[1:])


def settlements(*names: str) -> list[str]:
    return sorted(KGR + name for name in names)


def dump(server: LiveServer) -> list[str]:
    """Every quad the server holds, asserted and inferred, as sorted CSV rows."""
    return select(server, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }")


def journal_entries(data_dir: Path) -> int:
    """How many complete entries the journal holds."""
    return len(list(Journal(data_dir).entries()))


# --- mounts: a disk that fills up, a data directory that is read-only ---


def mount(*args: str) -> None:
    """Run ``mount``; skip the test, saying why, where mounting is not allowed. A remount read-only is refused as
    "busy" while a file there is open for writing (the dumps the server builds after each write): asked again until
    that build is over."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs or a read-only bind mount needs root")
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return
        if "busy" not in result.stderr or time.monotonic() > deadline:
            pytest.skip(f"mount {' '.join(args)} is not permitted here: {result.stderr.strip()}")
        time.sleep(0.2)


BUSY_SECONDS = 60
"""How long a remount may be refused as busy before the test gives up on it."""


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a tmpfs of a given size (``1m``): a disk that really fills up."""
    points: list[Path] = []

    def make(size: str) -> Path:
        points.append(tmp_path / f"tmpfs{len(points)}")
        points[-1].mkdir()
        mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(points[-1]))
        return points[-1]

    yield make
    for point in points:
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.fixture
def bind(tmp_path: Path) -> Iterator[tuple[Path, Callable[[bool], None]]]:
    """A data directory that is a bind mount of another folder, and a function making it read-only (or not)."""
    source, point = tmp_path / "source", tmp_path / "data"
    source.mkdir()
    point.mkdir()
    mount("--bind", str(source), str(point))

    def read_only(on: bool) -> None:
        mount("-o", f"remount,bind,{'ro' if on else 'rw'}", str(point))

    yield point, read_only
    subprocess.run(["umount", "-l", str(point)], check=False)


def fill(folder: Path) -> Path:
    """A file that takes every free block of ``folder``'s file system, and half a second later what the server freed
    meanwhile (a dumps build in the data directory deletes the version it replaces once the new one is ready)."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as file:
        for _ in range(2):
            with contextlib.suppress(OSError):
                while True:
                    file.write(b"\0" * 4096)
            time.sleep(0.5)
    return filler


# --- a full disk ---


def test_a_full_disk_refuses_writes_until_space_returns(tmpfs: Callable[[str], Path], serve: Serve) -> None:
    data_dir = tmpfs("1m")
    server = serve([], env(data_dir))
    assert update(server, place("lgov")).status_code == 200
    before, journal = dump(server), (data_dir / JOURNAL_NAME).read_bytes()
    requests.get(server.url + "/dumps/", timeout=60)  # waits for the dumps of the write, built under data_dir too
    filler = fill(data_dir)
    # Bigger than what is left of the journal's last page: the disk fills up in the middle of the entry.
    refused = update(server, place("big", "x" * 20_000))
    assert (refused.status_code, refused.text) == (503, NO_SPACE)
    assert dump(server) == before
    assert (data_dir / JOURNAL_NAME).read_bytes() == journal
    filler.unlink()
    assert update(server, place("oboyan")).status_code == 200
    server.stop()
    restarted = serve([], env(data_dir))
    assert select(restarted, SETTLEMENTS) == settlements("lgov", "oboyan", "sudzha")
    assert journal_entries(data_dir) == 2


@pytest.mark.slow
def test_an_on_disk_store_on_a_full_disk_refuses_writes_and_restarts_whole(
    tmpfs: Callable[[str], Path], serve: Serve, tmp_path: Path
) -> None:
    """The journal is on another disk: the store cannot take the write (RocksDB then refuses every write until it is
    reopened), so it is taken back before it is journaled; the client is told nothing changed, and the restart
    serves the store as it was."""
    disk = tmpfs("64m")
    data_dir = tmp_path / "data"
    server = serve([], env(data_dir, store=str(disk / "store")))
    assert update(server, place("lgov")).status_code == 200
    before = dump(server)
    filler = fill(disk)
    refused = update(server, place("big", "x" * 100_000))
    assert (refused.status_code, refused.text) == (503, STORE_FAILED + "\n")
    assert dump(server) == before
    filler.unlink()
    server.stop()
    restarted = serve([], env(data_dir, store=str(disk / "store")))
    assert select(restarted, SETTLEMENTS) == settlements("lgov", "sudzha")
    assert update(restarted, place("oboyan")).status_code == 200
    assert journal_entries(data_dir) == 2


def test_a_journal_that_cannot_be_written_refuses_writes_without_root(tmp_path: Path, serve: Serve) -> None:
    """/dev/full answers every write with ENOSPC: the same refusal where a tmpfs cannot be mounted."""
    server = serve([], env(tmp_path))
    assert update(server, place("lgov")).status_code == 200
    before = dump(server)
    journal = tmp_path / JOURNAL_NAME
    journal.rename(tmp_path / "kept")
    journal.symlink_to("/dev/full")
    refused = update(server, place("oboyan"))
    assert (refused.status_code, refused.text) == (503, NO_SPACE)
    assert dump(server) == before
    assert select(server, SETTLEMENTS) == settlements("lgov", "sudzha")
    journal.unlink()
    (tmp_path / "kept").rename(journal)
    assert update(server, place("rylsk")).status_code == 200
    server.stop()
    restarted = serve([], env(tmp_path))
    assert select(restarted, SETTLEMENTS) == settlements("lgov", "rylsk", "sudzha")


# --- a read-only data directory ---


def test_writes_on_and_a_read_only_data_dir_stop_the_start_with_one_line(
    bind: tuple[Path, Callable[[bool], None]],
) -> None:
    data_dir, read_only = bind
    read_only(True)
    result = subprocess.run(
        [str(KGRAPH), "serve", "--port", str(free_port())],
        env={**os.environ, **env(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"kgraph: writes are on but cannot be recorded in {data_dir}: Read-only file system "
        "(make it writable, or serve read-only without a token)\n"
    )


def test_a_read_only_data_dir_serves_its_journal_when_writes_are_off(
    bind: tuple[Path, Callable[[bool], None]], serve: Serve
) -> None:
    data_dir, read_only = bind
    writer = serve([], env(data_dir))
    assert update(writer, place("lgov")).status_code == 200
    writer.stop()
    read_only(True)
    reader = serve([], env(data_dir, token=None))
    assert select(reader, SETTLEMENTS) == settlements("lgov", "sudzha")
    assert update(reader, place("oboyan")).status_code == 403


def test_a_data_dir_turned_read_only_while_serving_refuses_writes_then_recovers(
    bind: tuple[Path, Callable[[bool], None]], serve: Serve
) -> None:
    data_dir, read_only = bind
    server = serve([], env(data_dir))
    assert update(server, place("lgov")).status_code == 200
    before = dump(server)
    read_only(True)
    refused = update(server, place("oboyan"))
    assert (refused.status_code, refused.text) == (503, READ_ONLY)
    assert dump(server) == before
    read_only(False)
    assert update(server, place("rylsk")).status_code == 200
    server.stop()
    restarted = serve([], env(data_dir))
    assert select(restarted, SETTLEMENTS) == settlements("lgov", "rylsk", "sudzha")
    assert journal_entries(data_dir) == 2


# --- kill -9 while a big body is being loaded ---

BIG = 50_000
"""Triples in the big body: a journal entry of about 4 MB, long enough to be caught being written."""
BIG_GRAPH = "http://example.org/big"


@pytest.mark.slow
def test_kill_9_while_a_big_load_is_journaled_keeps_it_whole_or_absent(tmp_path: Path, serve: Serve) -> None:
    args = ["--max-body-bytes", str(20 * 1024 * 1024)]
    server = serve(args, env(tmp_path))
    for name in ("lgov", "oboyan"):
        assert update(server, place(name)).status_code == 200
    journal = tmp_path / JOURNAL_NAME
    acknowledged_size = journal.stat().st_size
    body = "".join(f'<{KGR}gen/{i}> <http://example.org/p> "value {i}" .\n' for i in range(BIG)).encode()
    answer: list[int] = []

    def load() -> None:
        with contextlib.suppress(requests.RequestException):  # killed while the load was in flight
            response = requests.post(
                server.url + "/store",
                params={"graph": BIG_GRAPH},
                data=body,
                headers={**AUTH, "Content-Type": "application/n-triples"},
                timeout=120,
            )
            answer.append(response.status_code)

    loader = threading.Thread(target=load)
    loader.start()
    while loader.is_alive() and journal.stat().st_size == acknowledged_size:
        time.sleep(0.0002)  # the kill lands while the entry is written or fsync'd
    kill_9(server)
    loader.join()
    restarted = serve(args, env(tmp_path))
    assert select(restarted, SETTLEMENTS) == settlements("lgov", "oboyan", "sudzha")
    loaded = select(restarted, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{BIG_GRAPH}> {{ ?s ?p ?o }} }}")
    assert loaded in (["0"], [str(BIG)])
    if answer == [200]:
        assert loaded == [str(BIG)]
    assert update(restarted, place("rylsk")).status_code == 200
    assert journal_entries(tmp_path) == 3 + (loaded == [str(BIG)])
    assert journal.read_bytes().endswith(b"\n")


# --- a remote store (--store URL) that is down, failing or slow ---


@pytest.fixture
def oxigraph(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen, str]]]:
    """Start Oxigraph servers for the test; killed after it."""
    started: list[subprocess.Popen] = []

    def start(port: int | None = None) -> tuple[subprocess.Popen, str]:
        process, url = start_oxigraph(tmp_path / "oxigraph", port)
        started.append(process)
        return process, url

    yield start
    for process in started:
        process.kill()
        process.wait()


class Proxy:
    """A TCP proxy in front of the remote store that can turn it slow or broken.

    Modes: ``pass`` forwards; ``stall`` takes the request and never answers (a hung store); ``reset`` closes the
    connection without an answer (a store that crashes mid-request); ``refuse-updates`` answers 503 to updates
    only, so a write fails at its commit, after it was validated and journaled.
    """

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.mode = "pass"
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            first, mode = client.recv(1 << 16), self.mode
            if mode == "stall":
                while client.recv(1 << 16):  # until the caller gives up
                    pass
            elif mode == "refuse-updates" and first.startswith(b"POST /update"):
                client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            elif mode != "reset":
                self._forward(client, first)

    def _forward(self, client: socket.socket, first: bytes) -> None:
        with socket.create_connection(self.upstream) as upstream:
            # one request per connection, so that a new mode applies to the next request of kgraph's connection pool
            upstream.sendall(first.replace(b"\r\n", b"\r\nConnection: close\r\n", 1))
            threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
            _pipe(upstream, client)
        # and closed on the client's side too, both ways: a request kgraph sends on it meanwhile (reusing a
        # connection the store closed as it answered) fails at once and is sent again, instead of waiting for an
        # answer that cannot come (the thread reading it would otherwise keep the socket open, silent)
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(1 << 16):
            sink.sendall(data)
    with contextlib.suppress(OSError):  # a reset source ends the sink's writing too
        sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def proxy() -> Iterator[Callable[[str], Proxy]]:
    proxies: list[Proxy] = []

    def start(upstream: str) -> Proxy:
        proxies.append(Proxy(upstream))
        return proxies[-1]

    yield start
    for started in proxies:
        started.close()


@needs_oxigraph
@pytest.mark.slow
def test_a_remote_killed_while_serving_refuses_writes_unjournaled_and_recovers(
    oxigraph: Callable[..., tuple[subprocess.Popen, str]], serve: Serve, tmp_path: Path
) -> None:
    remote, url = oxigraph()
    data_dir = tmp_path / "data"
    server = serve(["--timeout", "5"], env(data_dir, store=url))
    assert update(server, place("lgov")).status_code == 200
    remote.kill()
    remote.wait()
    down = requests.post(server.endpoint, data={"query": PREFIXES + SETTLEMENTS}, timeout=60)
    assert (down.status_code, down.text) == (502, UNAVAILABLE + "\n")
    for page in ("/sparql", "/store?default", "/id/lgov", "/.well-known/void"):  # pages that read the store
        read = requests.get(server.url + page, timeout=60)
        assert (read.status_code, read.text) == (502, UNAVAILABLE + "\n"), page
    refused = update(server, place("oboyan"))
    assert (refused.status_code, refused.text) == (502, STORE_UNAVAILABLE + "\n")
    assert journal_entries(data_dir) == 1
    oxigraph(int(url.rsplit(":", 1)[1]))  # the same store back, on the same port
    assert select(server, SETTLEMENTS) == settlements("lgov", "sudzha")
    assert update(server, place("rylsk")).status_code == 200
    server.stop()
    restarted = serve(["--timeout", "5"], env(data_dir, store=url))
    assert select(restarted, SETTLEMENTS) == settlements("lgov", "rylsk", "sudzha")
    assert journal_entries(data_dir) == 2


@needs_oxigraph
@pytest.mark.slow
def test_a_slow_or_broken_remote_gets_a_clear_status_never_a_hang_or_a_journaled_write(
    oxigraph: Callable[..., tuple[subprocess.Popen, str]], proxy: Callable[[str], Proxy], serve: Serve, tmp_path: Path
) -> None:
    _, url = oxigraph()
    front = proxy(url)
    data_dir = tmp_path / "data"
    # the write limit above the store's (2 s): a stalled store is what is tested here, not a long write
    server = serve(["--timeout", "2", "--write-timeout", "10"], env(data_dir, store=front.url))
    query = {"query": PREFIXES + SETTLEMENTS}
    expected = {
        "stall": (503, "Query stopped after 2 s: the server's time limit (--timeout).\n"),
        "reset": (502, UNAVAILABLE + "\n"),
    }
    for mode, answer in expected.items():
        front.mode = mode
        asked = requests.post(server.endpoint, data=query, timeout=60)  # the bound that says "no hang"
        assert (asked.status_code, asked.text) == answer, mode
        refused = update(server, place("lgov"))
        assert (refused.status_code, refused.text) == (answer[0], STORE_UNAVAILABLE + "\n"), mode
    front.mode = "refuse-updates"
    refused = update(server, place("oboyan"))
    assert (refused.status_code, refused.text) == (502, STORE_UNAVAILABLE + "\n")
    assert journal_entries(data_dir) == 0  # journaled before the commit failed, then retracted
    front.mode = "pass"
    assert select(server, SETTLEMENTS) == settlements("sudzha")
    assert update(server, place("rylsk")).status_code == 200
    assert journal_entries(data_dir) == 1
    assert select(server, SETTLEMENTS) == settlements("rylsk", "sudzha")


def test_a_remote_that_hangs_at_start_up_stops_the_start_with_one_line(
    proxy: Callable[[str], Proxy], tmp_path: Path
) -> None:
    front = proxy("http://127.0.0.1:1")
    front.mode = "stall"
    result = subprocess.run(
        [str(KGRAPH), "serve", "--port", str(free_port()), "--store", front.url, "--timeout", "1"],
        env={**os.environ, **env(tmp_path, token=None)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"kgraph: cannot load the graph: The SPARQL store at {front.url}/query did not answer within 1 s\n" in (
        result.stderr
    )
