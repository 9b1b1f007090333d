"""validate_paths: a contribution judged with the ontology, the existing data and the shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgraph.project import ProjectFiles
from kgraph.validate import Problem, Violation, validate_paths
from kgraph.validate.report import ValidationReport, to_github, to_text

FIXTURES = Path(__file__).parent / "fixtures" / "validate"
PROJECT = ProjectFiles(FIXTURES / "project")


@pytest.fixture(autouse=True)
def in_fixtures(monkeypatch):
    """Paths in reports are relative to the current folder, as contributors and GitHub expect."""
    monkeypatch.chdir(FIXTURES)


def validate(*names: str, **options) -> ValidationReport:
    return validate_paths([Path(n) for n in names], project=PROJECT, **options)


def test_conforming_file():
    report = validate("contrib/good.ttl")
    assert (report.errors, report.violations, report.exit_code) == ([], [], 0)
    assert to_text(report) == "conforms\n"


def test_project_data_alone_conforms():
    report = validate()
    assert (report.errors, report.violations, report.exit_code) == ([], [], 0)


def test_syntax_error_is_located_and_exit_2():
    report = validate("contrib/syntax.ttl")
    assert report.errors == [Problem("syntax", "Unexpected end of file", "contrib/syntax.ttl", 3, 18)]
    assert report.exit_code == 2


def test_missing_path_exit_2():
    report = validate("contrib/nowhere.ttl")
    assert report.errors == [Problem("missing", "contrib/nowhere.ttl: no such file or folder")]
    assert report.exit_code == 2


def test_undeclared_term_with_suggestion():
    report = validate("contrib/typo.ttl")
    assert report.errors == [
        Problem(
            "undeclared-term",
            "kg:deployedInt is not declared in the ontology; did you mean kg:deployedIn?",
            "contrib/typo.ttl",
            7,
            5,
        )
    ]
    assert report.exit_code == 1


def test_shacl_violation_located_in_words():
    report = validate("contrib/unlabelled.ttl")
    assert report.violations == [
        Violation(
            focus="kgr:martynovka",
            path="rdfs:label",
            message="This resource needs a name: add an English rdfs:label (expected at least 1 value(s), found 0)",
            severity="Violation",
            constraint="sh:MinCountConstraintComponent",
            shape="kgsh:Labelled-label",
            value=None,
            file="contrib/unlabelled.ttl",
            line=5,
            column=1,
        )
    ]
    assert report.exit_code == 1


def test_violation_with_a_value_points_at_the_property_line():
    [violation] = validate("contrib/wrong-datatype.ttl").violations
    assert (violation.file, violation.line, violation.column) == (
        "contrib/wrong-datatype.ttl",
        7,
        5,
    )
    assert violation.sentence() == (
        "kgr:martynovka kg:iso3166Code: Value is not Literal with datatype xsd:string"
        " (expected a literal of type xsd:string, found 42)"
    )
    assert violation.value == "42"


def test_focus_only_mentioned_is_located_where_it_is_mentioned():
    [violation] = validate("contrib/unknown-place.ttl").violations
    assert (violation.focus, violation.path) == ("kgr:nowhere", "rdfs:label")
    assert (violation.file, violation.line, violation.column) == (
        "contrib/unknown-place.ttl",
        7,
        18,
    )


def test_inconsistency_from_inference_is_an_error_with_its_triples():
    report = validate("contrib/disjoint.ttl")
    assert report.exit_code == 1
    assert to_text(report) == (
        "contrib/disjoint.ttl:5:1: kgr:sudzha-garrison is both a kg:Agent and a kg:Place,"
        " which are disjoint (ontology/mini.ttl)\n"
        "    kgr:sudzha-garrison rdf:type kg:Agent\n"
        "    kgr:sudzha-garrison rdf:type kg:Place\n"
        "1 problem found\n"
    )


def test_project_data_among_paths_is_loaded_once():
    report = validate("project/data/ttl", "project/data/ttl/places.ttl", "contrib/good.ttl")
    assert report.exit_code == 0


def test_without_project_data_the_existing_resources_are_missing():
    report = validate("contrib/good.ttl", project_data=False)
    [violation] = report.violations
    assert (violation.focus, violation.file, violation.line) == (
        "kgr:kursk-oblast",
        "contrib/good.ttl",
        7,
    )
    report = validate("contrib/typo.ttl", project_data=False)
    assert [e.kind for e in report.errors] == ["undeclared-term"]


def test_other_shapes_folder():
    report = validate("contrib/unlabelled.ttl", shapes=Path("no-shapes"))
    assert report.exit_code == 0


def test_github_annotations_escape_messages():
    report = ValidationReport(
        errors=[Problem("syntax", "bad, 100%\nreally", "a,b.ttl", 3, 14)],
        violations=[Violation("kgr:x", None, "odd", "Warning", "sh:X", "kgsh:Y")],
    )
    assert to_github(report) == (
        "::error file=a%2Cb.ttl,line=3,col=14::bad, 100%25%0Areally\n::warning::kgr:x: odd\n2 problems found\n"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "contrib/typo.jsonld",
            "contrib/typo.jsonld:3:4: kg:locatedInn is not declared in the ontology; did you mean kg:locatedIn?\n",
        ),
        (
            "contrib/wrong-datatype.nt",
            "contrib/wrong-datatype.nt:2: kgr:martynovka kg:iso3166Code: Value is not Literal"
            " with datatype xsd:string (expected a literal of type xsd:string, found 42)\n",
        ),
    ],
)
def test_other_formats_are_located_too(name, expected):
    assert to_text(validate(name)) == expected + "1 problem found\n"
