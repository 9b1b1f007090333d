"""Starts of kgraph over a store that keeps its build (on disk or remote), for the tests of :mod:`kgraph.graph`: the
fixture project they build, and what a start held and said."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyoxigraph as ox

from kgraph.config import Settings
from kgraph.graph import build

FIXTURE = Path(__file__).parent / "fixtures" / "ondisk"
PETS = "http://example.org/pets#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def start(settings: Settings) -> tuple[set[ox.Quad], list[str]]:
    """Build (or reuse) the graph, note every quad and what the start said, and close the store."""
    lines: list[str] = []
    graph = build(settings, progress=lines.append)
    quads = set(graph.store.quads())
    graph.store.close()
    return quads, lines


def triple(subject: str, predicate: str, obj: str, graph: str) -> ox.Quad:
    """A quad of the fixture's namespace (the predicate a full IRI)."""
    return ox.Quad(ox.NamedNode(PETS + subject), ox.NamedNode(predicate), ox.NamedNode(PETS + obj), ox.NamedNode(graph))


def up_to_date(settings: Settings, sources: int = 2) -> list[str]:
    """What a start over a store already built from its inputs says, and all it says."""
    return [f"{settings.store}: up to date with its {sources} source files and the journal: nothing loaded or inferred"]


_BUILD_IN_CHILD = """
import sys
from pathlib import Path
import kgraph.load
from kgraph.config import Settings
from kgraph.graph import build

kgraph.load.BULK_LOAD_BYTES = 0
kgraph.load.PROGRESS_EVERY_BYTES = 256 * 1024
settings = Settings.from_env(
    environ={}, project_dir=Path(sys.argv[1]), store=sys.argv[2], data_dir=Path(sys.argv[3]), data=(Path(sys.argv[4]),)
)
build(settings, progress=lambda line: print(line, flush=True))
print("built", flush=True)
"""


def dogs_and_owners(path: Path, count: int = 20_000) -> Path:
    """An N-Triples file of ``count`` dogs and their owners (inference types each dog an animal, each owner a pet
    owner): big enough for a build to be killed half-way."""
    lines = (
        f"<{PETS}dog{i}> <{RDF_TYPE}> <{PETS}Dog> .\n<{PETS}owner{i}> <{PETS}owns> <{PETS}dog{i}> .\n"
        for i in range(count)
    )
    path.write_text("".join(lines), encoding="utf-8")
    return path


def kill_build(settings: Settings, big: Path, moment: str) -> None:
    """Build with ``big`` as ``--data`` in a child process, killed (SIGKILL) once it says ``moment``, not finished."""
    arguments = [str(settings.project_dir), str(settings.store), str(settings.data_dir), str(big)]
    command = [sys.executable, "-c", textwrap.dedent(_BUILD_IN_CHILD), *arguments]
    said = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            said.append(line)
            if moment in line:
                break
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not any(line.startswith("built") for line in said)
