"""The cached, focused validation answers exactly what a validation from scratch answers.

Hypothesis writes small patches from the project's own vocabulary (its resources, classes and every predicate its
data uses, a few misspelt terms, dates and literals of the wrong kind), some valid, most breaking a shape or the
ontology, either as a new contributor file or as an edit of one of the project's data files, and compares the two
reports, byte for byte.
The project is a copy of the real one (ontology, article data, shapes, rules) in a temporary folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgraph.config import ONTOLOGY_NS, RESOURCE_NS
from kgraph.project import ProjectFiles
from kgraph.validate import validate_paths
from kgraph.validate.report import to_json

PROJECT = Path(__file__).parents[2]
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def _vocabulary() -> tuple[list[str], list[str], list[str]]:
    """The project's resources, classes and properties, as N-Triples terms."""
    store = ox.Store()
    for folder in ("ontology", "data/ttl"):
        for path in sorted((PROJECT / folder).glob("*.ttl")):
            store.load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:" + folder))
    resources = sorted({str(q.subject) for q in store if q.subject.value.startswith(RESOURCE_NS)})
    classes = sorted(
        {
            str(q.subject)
            for q in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), None)
            if str(q.object).endswith("#Class>") and q.subject.value.startswith(ONTOLOGY_NS)
        }
    )
    data = store.quads_for_pattern(None, None, None, ox.NamedNode("urn:data/ttl"))
    properties = sorted({str(q.predicate) for q in data if q.predicate.value != RDF_TYPE})
    return resources, classes, properties


RESOURCES, CLASSES, PROPERTIES = _vocabulary()
NEW = [f"<{RESOURCE_NS}patch/thing-{n}>" for n in range(3)]
TYPOS = [f"<{ONTOLOGY_NS}claimantt>", f"<{ONTOLOGY_NS}Sttlement>"]
LITERALS = [
    '"a name"@en',
    '"plain text"',
    '"12"^^<http://www.w3.org/2001/XMLSchema#integer>',
    '"true"',
    '"2024-08-06"^^<http://www.w3.org/2001/XMLSchema#date>',
    '"2023-01"^^<http://www.w3.org/2001/XMLSchema#gYearMonth>',
    '"maybe"^^<http://www.w3.org/2001/XMLSchema#boolean>',
    '"POINT(95.1 51.2)"^^<http://www.opengis.net/ont/geosparql#wktLiteral>',
]

nodes = st.sampled_from(RESOURCES + NEW)
typed = st.tuples(nodes, st.just(f"<{RDF_TYPE}>"), st.sampled_from(CLASSES + TYPOS[1:]))
linked = st.tuples(nodes, st.sampled_from(PROPERTIES + TYPOS[:1]), nodes | st.sampled_from(LITERALS))
labelled = st.tuples(nodes, st.just(f"<{LABEL}>"), st.sampled_from(LITERALS))
patches = st.lists(st.one_of(typed, linked, labelled), min_size=1, max_size=4)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectFiles:
    root = tmp_path_factory.mktemp("project")
    for folder in ("ontology", "data", "shapes", "rules"):
        shutil.copytree(PROJECT / folder, root / folder)
    return ProjectFiles(root)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _both(paths: list[Path], project: ProjectFiles, cache_dir: Path) -> tuple[str, str]:
    """The report of a validation from scratch, and of the cached one."""
    full = to_json(validate_paths(paths, project=project))
    cached = to_json(validate_paths(paths, project=project, cache_dir=cache_dir))
    return full, cached


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patch=patches)
def test_a_new_file_gets_the_report_of_a_full_validation(patch, project, cache_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("contrib") / "patch.nt"
    path.write_text("".join(f"{s} {p} {o} .\n" for s, p, o in patch), encoding="utf-8")
    full, cached = _both([path], project, cache_dir)
    assert cached == full


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patch=patches, drop=st.integers(min_value=0, max_value=40), which=st.integers(min_value=0, max_value=11))
def test_an_edited_data_file_gets_the_report_of_a_full_validation(patch, drop, which, project, cache_dir):
    files = sorted(project.data.glob("*.ttl"))
    path = files[which % len(files)]
    original = path.read_text(encoding="utf-8")
    triples = (
        ox.serialize(list(ox.parse(input=original.encode(), format=ox.RdfFormat.TURTLE)), format=ox.RdfFormat.N_TRIPLES)
        .decode()
        .splitlines(keepends=True)
    )
    kept = [t for n, t in enumerate(triples) if n != drop]
    try:  # N-Triples is Turtle: the file keeps its name, hence its graph
        path.write_text("".join(kept) + "".join(f"{s} {p} {o} .\n" for s, p, o in patch), encoding="utf-8")
        full, cached = _both([path], project, cache_dir)
    finally:
        path.write_text(original, encoding="utf-8")
    assert cached == full
