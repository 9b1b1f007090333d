"""SHACL results worded for contributors (``validate/shacl.py``), on graphs small enough to read."""

from __future__ import annotations

import pyoxigraph as ox
import rdflib

from kgraph.validate.report import ShaclResult
from kgraph.validate.shacl import run_shacl

SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .
ex:Counted a sh:NodeShape ; sh:targetObjectsOf ex:count ; sh:datatype xsd:integer .
ex:Named a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property ex:Name .
ex:Name sh:path ex:name ; sh:minCount 1 .
"""
DATA = """@prefix ex: <http://example.org/> .
ex:a a ex:Thing ; ex:count "many" .
"""


def _graph(turtle: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=turtle, format="turtle")


def test_a_literal_focus_node_and_a_missing_value_are_each_one_result() -> None:
    """SHACL targets may be literals (``sh:targetObjectsOf``): the result names the literal as its focus node."""
    found = sorted(run_shacl(_graph(DATA), _graph(SHAPES), rdflib.Graph()), key=lambda r: r.constraint)
    assert found == [
        ShaclResult(
            focus=ox.Literal("many"),
            path=None,
            message="Value is not Literal with datatype xsd:integer"
            ' (expected a literal of type xsd:integer, found "many")',
            severity="Violation",
            constraint="sh:DatatypeConstraintComponent",
            shape="<http://example.org/Counted>",
            value='"many"',
        ),
        ShaclResult(
            focus=ox.NamedNode("http://example.org/a"),
            path=ox.NamedNode("http://example.org/name"),
            message="Less than 1 values on ex:a->ex:name (expected at least 1 value(s), found 0)",
            severity="Violation",
            constraint="sh:MinCountConstraintComponent",
            shape="<http://example.org/Name>",
            value=None,
        ),
    ]
