"""The ontology and the data read the same in standard OWL tools as in kgraph.

The OWL API (Protege, ROBOT, HermiT, Pellet) reports no OWL 2 DL or RL profile violation and drops no
triple; HermiT finds the ontology with the data consistent, and still catches a deliberate mistake
(a place typed as a person, which the ontology's disjointness forbids).

Both tools come from owlready2 (a test dependency), which bundles HermiT and, inside ``HermiT.jar``, the
OWL API. They need Java: HermiT runs on any JRE; the profile checker is ``ProfileCheck.java`` beside this
file, compiled here with ``javac`` against that jar. CI installs a JDK (``.ci/run``); without one, the
tests say so and skip.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import Graph

from kgraph.project import ProjectFiles

PROJECT = ProjectFiles.locate()
HERE = Path(__file__).parent


def _owlready2_hermit() -> Path:
    """The folder of owlready2's bundled HermiT (classes and ``HermiT.jar``, which holds the OWL API 3)."""
    spec = importlib.util.find_spec("owlready2")
    if spec is None or spec.origin is None:
        pytest.skip("owlready2 is not installed (pip install -e '.[test]')")
    return Path(spec.origin).parent / "hermit"


def _java(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} is not on PATH: install a JDK (Debian: default-jdk-headless), as .ci/run does")
    return found


@pytest.fixture
def merged(tmp_path: Path) -> Callable[..., Path]:
    """One Turtle file holding the ontology (and the data, if asked) plus ``extra`` Turtle: one OWL ontology."""

    def merge(*, data: bool, extra: str = "") -> Path:
        graph = Graph()
        for folder in [PROJECT.ontology, PROJECT.data] if data else [PROJECT.ontology]:
            for file in sorted(folder.glob("*.ttl")):
                graph.parse(file, format="turtle")
        if extra:
            graph.parse(data=extra, format="turtle")
        target = tmp_path / "merged.ttl"
        graph.serialize(target, format="turtle")
        return target

    return merge


@pytest.fixture(scope="session")
def owlapi(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], dict[str, list[str]]]:
    """Run the OWL API over a file: its profile violations (OWL 2 DL and RL) and the triples it did not parse."""
    hermit = _owlready2_hermit()
    classes = tmp_path_factory.mktemp("owlapi")
    classpath = f"{classes}:{hermit / 'HermiT.jar'}"
    subprocess.run(
        [_java("javac"), "-nowarn", "-cp", classpath, "-d", str(classes), str(HERE / "ProfileCheck.java")],
        check=True,
        capture_output=True,
    )
    java = _java("java")

    def run(path: Path) -> dict[str, list[str]]:
        done = subprocess.run(
            [java, "-cp", classpath, "ProfileCheck", str(path)], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        findings: dict[str, list[str]] = {"OWL 2 DL": [], "OWL 2 RL": [], "UNPARSED": []}
        for line in done.stdout.splitlines():
            kind, _, rest = line.partition("\t")
            if kind == "VIOLATION":
                profile, _, violation = rest.partition("\t")
                findings[profile].append(violation)
            elif kind == "UNPARSED":
                findings["UNPARSED"].append(rest)
        return findings

    return run


@pytest.fixture(scope="session")
def hermit() -> Callable[[Path], str]:
    """Ask HermiT whether the ontology in a file is consistent: "consistent", "inconsistent" or what it printed."""
    folder = _owlready2_hermit()
    classpath = f"{folder}:{folder / 'HermiT.jar'}"
    java = _java("java")

    def run(path: Path) -> str:
        done = subprocess.run(
            [java, "-cp", classpath, "org.semanticweb.HermiT.cli.CommandLine", "-k", path.as_uri()],
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = (done.stdout + done.stderr).strip()
        if output == "http://www.w3.org/2002/07/owl#Thing is satisfiable.":
            return "consistent"
        if "InconsistentOntologyException: Inconsistent ontology" in output:
            return "inconsistent"
        return output

    return run


pytestmark = pytest.mark.slow


def test_the_ontology_is_in_owl2_rl_and_dl_for_the_owl_api(owlapi, merged) -> None:
    findings = owlapi(merged(data=False))
    assert findings == {"OWL 2 DL": [], "OWL 2 RL": [], "UNPARSED": []}


# The only OWL 2 RL findings on the data: literals of the datatypes OWL-Time and GeoSPARQL define for dates and
# geometries, kept as annotation values (see ontology/external.ttl). OWL 2 DL accepts them there; the RL profile lists
# a smaller set of datatypes and reports every literal outside it, annotations included.
GEO = r"<http://www\.opengis\.net/ont/geosparql#"
TIME = r"<http://www\.w3\.org/2006/time#"
KNOWN_RL = re.compile(
    rf"Use of data range not in profile: (xsd:date|xsd:gYear|xsd:gMonth|{GEO}wktLiteral>) "
    rf" \[AnnotationAssertion\(({TIME}(inXSDDate|year|month)>|{GEO}asWKT>) "
)


def test_the_ontology_with_the_data_is_in_owl2_dl_and_nothing_is_dropped(owlapi, merged) -> None:
    findings = owlapi(merged(data=True))
    assert findings["OWL 2 DL"] == []
    assert findings["UNPARSED"] == []
    assert [v for v in findings["OWL 2 RL"] if not KNOWN_RL.match(v)] == []
    assert len(findings["OWL 2 RL"]) == 7


def test_hermit_finds_the_ontology_with_the_data_consistent(hermit, merged) -> None:
    answer = hermit(merged(data=True))
    assert answer == "consistent"


def test_hermit_finds_a_place_typed_as_a_person_inconsistent(hermit, merged) -> None:
    wrong = "<https://w3id.org/kgraph/id/sudzha> a <https://w3id.org/kgraph/ontology#Person> ."
    answer = hermit(merged(data=True, extra=wrong))
    assert answer == "inconsistent"
