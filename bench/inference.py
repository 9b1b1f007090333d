"""How long inference takes as the graph grows: the native OWL 2 RL engine against owlrl, its reference.

Generated data is written as N-Triples, then loaded next to the project's ontology, data and rules (timed: "load s"),
then ``run_inference`` is timed with each reasoner, and timed again after a one-triple write to another graph
(inference is recomputed from scratch on each write). Three kinds of data:

- "generate.py": ``bench/generate.py``'s conflict events, claims and provenance in the ontology's vocabulary;
- "with kg: terms": operations, forces and places typed with kg: classes and linked by kg: properties;
- "without kg: terms": a vocabulary the ontology does not know (it skips the closure and only meets the rules).

owlrl takes minutes past 100k triples that use the ontology, so it is only run up to ``OWLRL_LIMIT``.
No assertions: it prints a table.

    .venv/bin/python bench/inference.py            # 10k and 100k generated triples
    .venv/bin/python bench/inference.py --large    # also 1M (native only at that size)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from generate import Generator
from kgraph.config import GRAPH_NS, ONTOLOGY_NS, RESOURCE_NS
from kgraph.infer import run_inference
from kgraph.load import load_paths
from kgraph.project import ProjectFiles
from kgraph.store import EmbeddedStore

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
WRITE_GRAPH = ox.NamedNode(GRAPH_NS + "bench/write")
OWLRL_LIMIT = 100_000
"""Largest generated size owlrl is run on (about 1 s per 1,000 triples that use the ontology)."""


def kg(name: str) -> ox.NamedNode:
    return ox.NamedNode(ONTOLOGY_NS + name)


def resource(name: str) -> ox.NamedNode:
    return ox.NamedNode(RESOURCE_NS + "bench/" + name)


def from_generate_py(size: int) -> Iterator[str]:
    """The first ``size`` lines of ``bench/generate.py``'s output (seed 7)."""
    lines = Generator(size, 7).lines()
    for _ in range(size):
        yield next(lines)


def with_ontology_terms(size: int) -> Iterator[str]:
    """Operations with a force and a place each; places in regions, regions in countries."""
    for i in range(size // 6):
        operation, force, place = resource(f"op-{i}"), resource(f"force-{i}"), resource(f"place-{i}")
        region, country = resource(f"region-{i % 50}"), resource(f"country-{i % 5}")
        yield f"{operation} {RDF_TYPE} {kg('MilitaryOperation')} ."
        yield f"{operation} {kg('attacker')} {force} ."
        yield f"{operation} {kg('hasPlace')} {place} ."
        yield f"{force} {RDF_TYPE} {kg('ArmedForce')} ."
        yield f"{place} {kg('locatedIn')} {region} ."
        yield f"{region} {kg('locatedIn')} {country} ."


def without_ontology_terms(size: int) -> Iterator[str]:
    """Triples in a vocabulary the ontology does not know."""
    for i in range(size):
        yield f'<urn:bench:s{i}> <urn:bench:p{i % 20}> "{i}" .'


KINDS = {
    "generate.py": from_generate_py,
    "with kg: terms": with_ontology_terms,
    "without kg: terms": without_ontology_terms,
}


def measure(data: Path | None, reasoner: str) -> tuple[float, float, float, int]:
    """Load seconds, inference seconds, re-inference seconds after one write, triples inferred."""
    files = ProjectFiles.locate()
    store = EmbeddedStore()
    started = time.perf_counter()
    load_paths(store, [files.ontology, files.data, *([data] if data else [])], root=files.root)
    load = time.perf_counter() - started
    started = time.perf_counter()
    report = run_inference(store, rules_dir=files.rules, reasoner=reasoner)
    first = time.perf_counter() - started
    store.add([ox.Quad(resource("late-place"), kg("locatedIn"), resource("region-0"), WRITE_GRAPH)])
    started = time.perf_counter()
    run_inference(store, rules_dir=files.rules, reasoner=reasoner)
    return load, first, time.perf_counter() - started, report.added


def row(label: str, size: int, reasoner: str, data: Path | None) -> str:
    load, first, again, added = measure(data, reasoner)
    rate = f"{size / first:,.0f}" if size else "-"
    return f"{label:<18} {size:>10,} {reasoner:>7} {load:>7.2f} {first:>12.2f} {again:>14.2f} {added:>9,} {rate:>10}"


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also measure 1M generated triples")
    parser.add_argument("--sizes", type=int, nargs="*", help="generated triple counts to measure")
    parser.add_argument("--reasoners", nargs="*", default=["native", "owlrl"], help="native, owlrl or both")
    parser.add_argument("--kinds", nargs="*", choices=list(KINDS), default=list(KINDS), help="data to generate")
    args = parser.parse_args()
    sizes = args.sizes or [10_000, 100_000, *([1_000_000] if args.large else [])]
    header = f"{'data':<18} {'generated':>10} {'engine':>7} {'load s':>7} {'inference s':>12} {'after write s':>14}"
    print(f"{header} {'inferred':>9} {'triples/s':>10}")
    for reasoner in args.reasoners:
        print(row("article only", 0, reasoner, None), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            for label in args.kinds:
                generator = KINDS[label]
                data = Path(folder) / "generated.nt"
                data.write_text("\n".join(generator(size)) + "\n", encoding="utf-8")
                for reasoner in args.reasoners:
                    if reasoner == "owlrl" and size > OWLRL_LIMIT and label != "without kg: terms":
                        print(f"{label:<18} {size:>10,} {reasoner:>7}   skipped: owlrl takes minutes at this size")
                        continue
                    print(row(label, size, reasoner, data), flush=True)


if __name__ == "__main__":
    main()
