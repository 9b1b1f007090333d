"""How long inference takes as the graph grows, with and without the ontology's terms.

Generated data is loaded next to the project's ontology, data and rules, then ``run_inference`` is
timed, and timed again after a one-triple write to another graph (inference is recomputed from
scratch on each write).
Data "with ontology terms" is operations, forces and places typed with kg: classes and linked by kg:
properties (so it goes through the OWL 2 RL closure); data "without" uses its own vocabulary (so it
skips the closure and only meets the rules). No assertions: it prints a table.

    .venv/bin/python bench/inference.py            # 10k and 100k generated triples
    .venv/bin/python bench/inference.py --large    # also 1M (the closure of 1M kg: triples is slow)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

import pyoxigraph as ox

from kgraph.config import GRAPH_NS, ONTOLOGY_NS, RESOURCE_NS
from kgraph.infer import run_inference
from kgraph.load import load_paths
from kgraph.project import ProjectFiles
from kgraph.store import EmbeddedStore

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
BENCH_GRAPH = ox.NamedNode(GRAPH_NS + "bench/generated")
WRITE_GRAPH = ox.NamedNode(GRAPH_NS + "bench/write")


def kg(name: str) -> ox.NamedNode:
    return ox.NamedNode(ONTOLOGY_NS + name)


def resource(name: str) -> ox.NamedNode:
    return ox.NamedNode(RESOURCE_NS + "bench/" + name)


def with_ontology_terms(size: int) -> Iterator[ox.Triple]:
    """Operations with a force and a place each; places in regions, regions in countries."""
    for i in range(size // 6):
        operation, force, place = (
            resource(f"op-{i}"),
            resource(f"force-{i}"),
            resource(f"place-{i}"),
        )
        region, country = resource(f"region-{i % 50}"), resource(f"country-{i % 5}")
        yield ox.Triple(operation, RDF_TYPE, kg("MilitaryOperation"))
        yield ox.Triple(operation, kg("attacker"), force)
        yield ox.Triple(operation, kg("hasPlace"), place)
        yield ox.Triple(force, RDF_TYPE, kg("ArmedForce"))
        yield ox.Triple(place, kg("locatedIn"), region)
        yield ox.Triple(region, kg("locatedIn"), country)


def without_ontology_terms(size: int) -> Iterator[ox.Triple]:
    """Triples in a vocabulary the ontology does not know."""
    for i in range(size):
        yield ox.Triple(
            ox.NamedNode(f"urn:bench:s{i}"),
            ox.NamedNode(f"urn:bench:p{i % 20}"),
            ox.Literal(str(i)),
        )


def measure(size: int, generator) -> tuple[int, float, float, int]:
    """Triples generated, inference time, re-inference time after one write, triples inferred."""
    files = ProjectFiles.locate()
    store = EmbeddedStore()
    load_paths(store, [files.ontology, files.data], root=files.root)
    triples = list(generator(size))
    store.add(ox.Quad(*t, BENCH_GRAPH) for t in triples)
    started = time.perf_counter()
    report = run_inference(store, rules_dir=files.rules)
    first = time.perf_counter() - started
    store.add([ox.Quad(resource("late-place"), kg("locatedIn"), resource("region-0"), WRITE_GRAPH)])
    started = time.perf_counter()
    run_inference(store, rules_dir=files.rules)
    again = time.perf_counter() - started
    return len(triples), first, again, report.added


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also measure 1M generated triples")
    parser.add_argument("--sizes", type=int, nargs="*", help="generated triple counts to measure")
    args = parser.parse_args()
    sizes = args.sizes or [10_000, 100_000, *([1_000_000] if args.large else [])]
    print(f"{'data':<22} {'generated':>10} {'inference s':>12} {'after write s':>14} {'inferred':>9}")
    count, first, again, added = measure(0, with_ontology_terms)
    print(f"{'article only':<22} {count:>10} {first:>12.2f} {again:>14.2f} {added:>9}")
    for size in sizes:
        for label, generator in [
            ("with kg: terms", with_ontology_terms),
            ("without kg: terms", without_ontology_terms),
        ]:
            count, first, again, added = measure(size, generator)
            print(f"{label:<22} {count:>10} {first:>12.2f} {again:>14.2f} {added:>9}")


if __name__ == "__main__":
    main()
