"""The benchmark data generator: exact size, deterministic, valid N-Triples, only the ontology's own kg: terms."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox

from kgraph.config import ONTOLOGY_NS

PROJECT = Path(__file__).parents[2]
GENERATE = PROJECT / "bench" / "generate.py"


def generate(path: Path, *args: str) -> bytes:
    subprocess.run([sys.executable, str(GENERATE), "-o", str(path), *args], check=True, timeout=60)
    return path.read_bytes()


def declared_terms() -> set[str]:
    ontology = ox.parse(path=str(PROJECT / "ontology" / "kgraph.ttl"), format=ox.RdfFormat.TURTLE)
    return {q.subject.value for q in ontology if isinstance(q.subject, ox.NamedNode)}


def test_exact_size_parses_and_uses_only_declared_terms(tmp_path: Path) -> None:
    generate(tmp_path / "gen.nt", "--triples", "5k", "--seed", "3")
    triples = list(ox.parse(path=str(tmp_path / "gen.nt"), format=ox.RdfFormat.N_TRIPLES))
    assert len(triples) == 5_000
    used = {
        term.value
        for triple in triples
        for term in (triple.subject, triple.predicate, triple.object)
        if isinstance(term, ox.NamedNode) and term.value.startswith(ONTOLOGY_NS)
    }
    assert used - declared_terms() == set()
    types = {t.object.value.removeprefix(ONTOLOGY_NS) for t in triples if t.predicate.value.endswith("#type")}
    assert {"Settlement", "MilitaryUnit", "Claim", "Proposition", "Report", "VagueInterval"} <= types


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a.nt", "--triples", "2000", "--seed", "9")
    assert generate(tmp_path / "b.nt", "--triples", "2000", "--seed", "9") == first
    assert generate(tmp_path / "c.nt", "--triples", "2000", "--seed", "10") != first
