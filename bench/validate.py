"""How long ``kgraph validate`` takes a contributor, against a validation from scratch and against the import floor.

A copy of the project (ontology, article data, shapes, rules) in a temporary folder, and a temporary cache folder.
Three commands run side by side, each ``--runs`` times in turn, in fresh processes as pre-commit runs them: the
median wall time, and the median CPU time (user + system), which a busy machine disturbs far less:

- ``floor``: ``python -c "import rdflib, pyshacl"``, the least any SHACL validation in Python costs;
- ``full``: ``kgraph validate --no-cache FILE``, everything loaded, inferred and validated from scratch;
- ``cached``: ``kgraph validate FILE`` with the cache of the project as it was before the change.

Two changes: a new contributor file (a settlement, a claim about it), and an edit of one of the project's data files
(a triple added to ``data/ttl/places.ttl``; the edit is undone and the cache restored before every run, so every run
sees a one-file change). The target of issue 18 is cached/floor <= 3.

    .venv/bin/python bench/validate.py            # 7 runs each
    .venv/bin/python bench/validate.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
KGRAPH = Path(sys.executable).with_name("kgraph")
NEW_FILE = """@prefix kg: <https://w3id.org/kgraph/ontology#> .
@prefix kgr: <https://w3id.org/kgraph/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix claim: <https://w3id.org/kgraph/id/claim/> .
@prefix src: <https://w3id.org/kgraph/id/source/> .

kgr:bench-village a kg:Settlement ; rdfs:label "Bench village"@en ; kg:locatedIn kgr:kursk-oblast .
claim:bench a kg:Claim ; rdfs:label "A claim about the village"@en ; kg:claimant kgr:russia ;
    kg:stance kg:stanceClaims ; kg:about kgr:bench-village ; prov:wasDerivedFrom src:kursk-article .
"""
EDIT = '\nkgr:sudzha rdfs:comment "An edit for the benchmark."@en .\n'


def main() -> None:
    """Print the table of medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "project"
        for name in ("ontology", "data", "shapes", "rules"):
            shutil.copytree(PROJECT / name, root / name)
        env = {**os.environ, "KGRAPH_PROJECT_DIR": str(root), "KGRAPH_CACHE_DIR": str(Path(folder) / "cache")}
        contrib = Path(folder) / "new.ttl"
        contrib.write_text(NEW_FILE, encoding="utf-8")
        _run([str(KGRAPH), "validate"], env)  # the cache of the project as it is
        floor = [sys.executable, "-c", "import rdflib, pyshacl"]
        rows = [("floor: import rdflib, pyshacl", _median(floor, env, runs))]
        rows += _scenario("new file", [str(contrib)], env, runs)
        rows += _edited(root / "data" / "ttl" / "places.ttl", Path(folder) / "cache", env, runs)
    _print(rows)


def _scenario(name: str, paths: list[str], env: dict, runs: int, before=None) -> list[tuple[str, tuple]]:
    full = _median([str(KGRAPH), "validate", "--no-cache", *paths], env, runs, before)
    cached = _median([str(KGRAPH), "validate", *paths], env, runs, before)
    return [(f"{name}: full", full), (f"{name}: cached", cached)]


def _edited(path: Path, cache: Path, env: dict, runs: int) -> list[tuple[str, tuple]]:
    """The edit made before each run, on top of the cache of the unedited project."""
    original = path.read_text(encoding="utf-8")
    saved = {file: file.read_bytes() for file in cache.glob("*.json")}

    def edit() -> None:
        for file, data in saved.items():
            file.write_bytes(data)
        path.write_text(original + EDIT, encoding="utf-8")

    try:
        return _scenario("edited data file", [str(path)], env, runs, edit)
    finally:
        path.write_text(original, encoding="utf-8")


def _median(command: list[str], env: dict, runs: int, before=None) -> tuple[float, float]:
    """Median wall and CPU seconds of ``runs`` runs of the command."""
    walls, cpus = [], []
    for _ in range(runs):
        if before:
            before()
        started, cpu = time.perf_counter(), _children_cpu()
        _run(command, env)
        walls.append(time.perf_counter() - started)
        cpus.append(_children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str], env: dict) -> None:
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({completed.returncode}):\n{completed.stdout}{completed.stderr}")


def _print(rows: list[tuple[str, tuple[float, float]]]) -> None:
    floor = rows[0][1]
    full = {name.split(":")[0]: times for name, times in rows if name.endswith(": full")}
    print("| run                            | wall s | / floor | / full | CPU s | / floor | / full |")
    print("|--------------------------------|-------:|--------:|-------:|------:|--------:|-------:|")
    for name, (wall, cpu) in rows:
        against = full.get(name.split(":")[0])
        wall_full = f"{wall / against[0]:6.2f}" if against else "     -"
        cpu_full = f"{cpu / against[1]:6.2f}" if against else "     -"
        print(
            f"| {name:<30} | {wall:6.2f} | {wall / floor[0]:7.2f} | {wall_full} "
            f"| {cpu:5.2f} | {cpu / floor[1]:7.2f} | {cpu_full} |"
        )


if __name__ == "__main__":
    main()
