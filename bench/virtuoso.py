"""A private, throwaway Virtuoso 7 instance (Debian's ``virtuoso-opensource``) for the benchmarks and the tests.

Virtuoso is the fastest SPARQL peer measured here and a likely home for a graph that outgrows one machine, so kgraph
is measured against it and tested over it. Its Debian service (port 8890, password ``dba``) is never used: each
instance lives in a folder of its own with its own ``virtuoso.ini``, listens on free ports of 127.0.0.1 only, gets a
random DBA password at once, and lets its anonymous SPARQL user update (what ``--store URL`` needs). Queries run
without Virtuoso's "anytime" time limit and row cap, which would silently cut answers short.

    with start(Path("/tmp/vt")) as virtuoso:
        print(virtuoso.endpoint)   # http://127.0.0.1:PORT/sparql, for queries and updates

    .venv/bin/python bench/virtuoso.py /tmp/vt       # the same from the shell, until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

SERVER = shutil.which("virtuoso-t")
"""The server binary, or None when Virtuoso is not installed (``apt-get install virtuoso-opensource``)."""

ISQL = shutil.which("isql-vt")

DEFAULT_BUFFERS = 170_000
"""8 KiB pages kept in memory (1.3 GiB): Virtuoso's advice for 2 GiB of RAM, ample for 1M triples on this 24 GiB
machine (a triple takes well under 100 bytes in its column store)."""

INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx

[Parameters]
ServerPort = 127.0.0.1:{isql_port}
DisableUnixSocket = 1
DirsAllowed = {dirs}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
CheckpointInterval = 0
ThreadsPerQuery = 2
MaxQueryMem = 2G

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 10
MaxKeepAlives = 10

[SPARQL]
ResultSetMaxRows = 100000000
MaxQueryExecutionTime = 0
MaxQueryCostEstimationTime = 0
"""

SET_UP = """\
USER_SET_PASSWORD('dba', '{password}');
GRANT SPARQL_UPDATE TO "SPARQL";
GRANT EXECUTE ON DB.DBA.RDF_OBJ_OF_LONG TO "SPARQL";
"""
"""A random DBA password instead of the well-known one, and updates for the anonymous SPARQL endpoint user. The
role leaves out ``RDF_OBJ_OF_LONG``, which some of Virtuoso's plans for an ``INSERT ... WHERE`` call to copy a long
literal (in one fresh-clone test run, every build of the article over Virtuoso failed with "SR186:SECURITY: No
permission to execute procedure DB.DBA.RDF_OBJ_OF_LONG"; the same tests passed just before and after)."""


@dataclass
class Virtuoso:
    """A running private instance: its folder, process, ports and DBA password."""

    folder: Path
    process: subprocess.Popen
    http_port: int
    isql_port: int
    password: str = "dba"

    @property
    def endpoint(self) -> str:
        """The SPARQL endpoint, for queries and (anonymous) updates alike."""
        return f"http://127.0.0.1:{self.http_port}/sparql"

    def isql(self, sql: str, *, timeout: float = 600) -> str:
        """Run SQL statements as DBA (e.g. the bulk loader); raises RuntimeError with Virtuoso's message on error."""
        result = subprocess.run(
            [str(ISQL), f"127.0.0.1:{self.isql_port}", "dba", self.password, "VERBOSE=OFF", "BANNER=OFF"],
            input=sql,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode or "*** Error" in result.stdout + result.stderr:
            raise RuntimeError(f"isql failed: {(result.stdout + result.stderr).strip()[-2000:]}")
        return result.stdout

    def bulk_load(self, folder: Path, pattern: str, graph: str) -> None:
        """Load the files of ``folder`` matching ``pattern`` (an SQL LIKE pattern) with the bulk loader.

        Virtuoso's loader skips what it cannot parse without saying so: callers check what got in."""
        self.isql(f"ld_dir('{folder}', '{pattern}', '{graph}');\nrdf_loader_run();\ncheckpoint;\n")

    def stop(self) -> None:
        """Stop the server (a checkpointless shutdown is fine: the folder is thrown away)."""
        stop_process(self.process)

    def __enter__(self) -> Virtuoso:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a server, killing it if it has not stopped within 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(folder: Path, *, buffers: int = DEFAULT_BUFFERS, dirs_allowed: tuple[Path, ...] = ()) -> Virtuoso:
    """A new instance with its database in ``folder`` (created), ready for queries and updates; the bulk loader
    may read files in ``folder`` and in ``dirs_allowed``."""
    if SERVER is None or ISQL is None:
        raise RuntimeError("Virtuoso is not installed: apt-get install virtuoso-opensource")
    folder.mkdir(parents=True, exist_ok=True)
    http_port, isql_port = free_port(), free_port()
    dirs = ", ".join(str(d) for d in (".", folder, *dirs_allowed))
    ini = INI.format(
        dir=folder, isql_port=isql_port, http_port=http_port, dirs=dirs, buffers=buffers, dirty=buffers * 3 // 4
    )
    (folder / "virtuoso.ini").write_text(ini, encoding="utf-8")
    with (folder / "console.log").open("wb") as log:
        process = subprocess.Popen(
            [SERVER, "+foreground", "+configfile", str(folder / "virtuoso.ini")],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    virtuoso = Virtuoso(folder, process, http_port, isql_port)
    try:
        _wait_ready(virtuoso)
        password = secrets.token_urlsafe(16)
        virtuoso.isql(SET_UP.format(password=password))
        virtuoso.password = password
    except BaseException:
        virtuoso.stop()
        raise
    return virtuoso


def _wait_ready(virtuoso: Virtuoso, within: float = 60) -> None:
    """Poll the SPARQL endpoint until it answers (Virtuoso creates its database on the first start)."""
    url = virtuoso.endpoint + "?" + urllib.parse.urlencode({"query": "ASK {}"})
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if virtuoso.process.poll() is not None:
            log = (virtuoso.folder / "console.log").read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"virtuoso-t exited with {virtuoso.process.returncode}:\n{log[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"Virtuoso did not answer within {within:g} s")


def main() -> None:
    """Start a private instance in the folder given and keep it until Ctrl-C: a Virtuoso for ``--store URL``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folder", type=Path, help="where its database lives (created)")
    args = parser.parse_args()
    with start(args.folder.resolve()) as instance:
        print(f"Virtuoso SPARQL endpoint (queries and updates): {instance.endpoint}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            instance.process.wait()


if __name__ == "__main__":
    main()
