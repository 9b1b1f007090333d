"""The validation cache read back as it was written, and a tampered one ignored (plain functions, no CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox

from kgraph.validate import cache
from kgraph.validate.reach import Reach
from kgraph.validate.report import ShaclResult

KGR = "https://w3id.org/kgraph/id/"


def _state() -> cache.CachedState:
    quad = ox.Quad(ox.NamedNode(KGR + "a"), ox.NamedNode(KGR + "p"), ox.Literal("x"), ox.NamedNode(KGR + "g"))
    results = [
        ShaclResult(ox.NamedNode(KGR + "a"), ox.NamedNode(KGR + "p"), "m", "Violation", "sh:MinCount", "kgsh:S", None),
        ShaclResult(ox.Literal("12", language="en"), None, "lit", "Warning", "sh:Datatype", "kgsh:T", "12"),
    ]
    return cache.CachedState({KGR + "g": cache.Source("a.ttl", "0" * 64)}, [quad], results, Reach())


def test_a_saved_state_loads_as_it_was(tmp_path: Path) -> None:
    """A literal focus node (SHACL targets may be literals) and an absent path survive the round trip."""
    state = _state()
    cache.save(tmp_path, "k", state)
    assert cache.load(tmp_path, "k") == state


def test_a_result_whose_path_is_no_iri_makes_the_cache_untrusted(tmp_path: Path) -> None:
    cache.save(tmp_path, "k", _state())
    file = tmp_path / "k.json"
    document = json.loads(file.read_text())
    document["results"][0]["path"] = '"not an IRI"'
    file.write_text(json.dumps(document))
    assert cache.load(tmp_path, "k") is None
