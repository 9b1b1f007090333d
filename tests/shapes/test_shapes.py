"""The SHACL shapes in ``shapes/``, tested the way pySHACL tests itself: the cases are data.

Each file in ``tests/fixtures/shapes/`` holds one hand-made mistake (with the minimal correct
context it needs) and, in its comment header, the exact results it must produce::

    # expect: <focus> <path> <constraint component> <source shape> "message"

one line per expected result (``expect-warning:`` for a result of severity ``sh:Warning``; ``-``
for no path; a path that is not a single property is written ``a|b`` for alternatives and ``a/b``
for a sequence). Each fixture is validated together with the ontology against every shape, and
must give exactly those results and nothing else. The files in ``good/`` (one per family of
shapes) and the article's data must conform.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDFS, SH, NamespaceManager
from rdflib.term import Node

from kgraph.project import ProjectFiles

FIXTURES = Path(__file__).parents[1] / "fixtures" / "shapes"
PROJECT = ProjectFiles.locate()
EXPECT = re.compile(r'^# expect(?P<warning>-warning)?: (\S+) (\S+) (\S+) (\S+) "(.*)"$', re.MULTILINE)

Result = tuple[str, str, str, str, str, str]
"""(severity, focus, path, component, source shape, message), written as in the fixtures."""


def _turtle_graph(*paths: Path) -> Graph:
    """One rdflib graph holding every Turtle file of the given files and folders."""
    graph = Graph()
    for path in paths:
        for file in sorted(path.glob("*.ttl")) if path.is_dir() else [path]:
            graph.parse(file, format="turtle")
    return graph


@pytest.fixture(scope="module")
def shapes() -> Graph:
    """Every shape of the project, parsed once for the module."""
    return _turtle_graph(PROJECT.shapes)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    """The ontology, which pySHACL mixes into each data graph (classes and properties only)."""
    return _turtle_graph(PROJECT.ontology)


def _results(data: Graph, shapes: Graph, ontology: Graph) -> list[Result]:
    """Every validation result, written with the data graph's prefixes."""
    _, report, _ = validate(data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True)
    names = data.namespace_manager
    results = []
    for result in report.objects(None, SH.result):  # not the sh:detail results nested in them
        severity = "sh:Warning" if report.value(result, SH.resultSeverity) == SH.Warning else ""
        path = report.value(result, SH.resultPath)
        results.append(
            (
                severity,
                _name(report.value(result, SH.focusNode), names),
                _path(report, path, names) if path is not None else "-",
                _name(report.value(result, SH.sourceConstraintComponent), names),
                _name(report.value(result, SH.sourceShape), names),
                str(report.value(result, SH.resultMessage)),
            )
        )
    return results


def _name(node: Node, names: NamespaceManager) -> str:
    """A term as the fixtures write it: prefixed name for IRIs, Turtle for literals."""
    return node.n3(names) if isinstance(node, URIRef | Literal) else str(node)


def _path(graph: Graph, path: Node, names: NamespaceManager) -> str:
    """A SHACL property path in the fixtures' syntax: ``a|b`` alternatives, ``a/b`` sequences."""
    if isinstance(path, URIRef):
        return _name(path, names)
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "|".join(_path(graph, p, names) for p in Collection(graph, alternatives))
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + _path(graph, inverse, names)
    return "/".join(_path(graph, p, names) for p in Collection(graph, path))


def _expected(fixture: Path) -> list[Result]:
    """The results a fixture's header announces."""
    return [
        ("sh:Warning" if m["warning"] else "", m[2], m[3], m[4], m[5], m[6])
        for m in EXPECT.finditer(fixture.read_text(encoding="utf-8"))
    ]


BAD = sorted(FIXTURES.glob("*.ttl"))
GOOD = sorted((FIXTURES / "good").glob("*.ttl"))


def test_there_is_a_fixture_per_constraint() -> None:
    """The data-driven tests below would pass vacuously without fixtures and their headers."""
    assert len(BAD) >= 25
    for fixture in BAD:
        assert _expected(fixture), f"{fixture.name} announces no expected result"


@pytest.mark.parametrize("fixture", BAD, ids=lambda p: p.stem)
def test_each_mistake_gives_exactly_its_result(fixture: Path, shapes: Graph, ontology: Graph) -> None:
    """A mistake is reported where it is, by the shape meant for it, and by no other shape."""
    data = _turtle_graph(fixture)
    assert Counter(_results(data, shapes, ontology)) == Counter(_expected(fixture))


@pytest.mark.parametrize("fixture", GOOD, ids=lambda p: p.stem)
def test_correct_examples_conform(fixture: Path, shapes: Graph, ontology: Graph) -> None:
    """The shapes accept what the project means to allow (mixed precisions, vague values...)."""
    assert _results(_turtle_graph(fixture), shapes, ontology) == []


def test_the_article_data_has_no_violation(shapes: Graph, ontology: Graph) -> None:
    """The article's data conforms; warnings (events the text gives no time for) are allowed."""
    results = _results(_turtle_graph(PROJECT.data), shapes, ontology)
    assert [r for r in results if r[0] != "sh:Warning"] == []


def test_every_named_shape_is_explained(shapes: Graph) -> None:
    """Contributors read the shapes: each named one has a name, a comment and a message in words."""
    kinds = [SH.NodeShape, SH.PropertyShape, SH.SPARQLConstraint]
    named = {s for kind in kinds for s in shapes.subjects(RDF.type, kind) if isinstance(s, URIRef)}
    assert len(named) > 50
    for shape in named:
        has_name = (shape, SH.name, None) in shapes or (
            shape,
            RDF.type,
            SH.SPARQLConstraint,
        ) in shapes
        assert has_name, f"{shape} has no sh:name"
        assert (shape, RDFS.comment, None) in shapes, f"{shape} has no rdfs:comment"
    for shape in named - set(shapes.subjects(SH.property, None)):
        assert (shape, SH.message, None) in shapes, f"{shape} has no sh:message"


def test_every_constraint_has_a_fixture(shapes: Graph) -> None:
    """Each named property shape and SPARQL constraint is shown failing by at least one fixture."""
    expected = [result for fixture in BAD for result in _expected(fixture)]
    shown = {result[4] for result in expected}
    messages = {result[5] for result in expected}
    names = shapes.namespace_manager
    for shape in shapes.subjects(RDF.type, SH.PropertyShape):
        assert _name(shape, names) in shown, f"no fixture shows {shape} failing"
    for constraint in shapes.subjects(RDF.type, SH.SPARQLConstraint):
        message = str(shapes.value(constraint, SH.message))
        assert message in messages, f"no fixture shows {constraint} failing"
