"""``kgraph validate --format sarif``: SARIF 2.1.0 for GitHub code scanning, exact on a fixture, and well formed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kgraph.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures" / "validate"
ENV = {"KGRAPH_PROJECT_DIR": str(FIXTURES / "project")}


@pytest.fixture(autouse=True)
def in_fixtures(monkeypatch):
    monkeypatch.chdir(FIXTURES)


def sarif(*paths: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["validate", "--format", "sarif", *paths], env=ENV)
    return result.exit_code, json.loads(result.stdout)


def _location(uri: str, line: int, column: int) -> list[dict]:
    region = {"startLine": line, "startColumn": column}
    return [{"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}, "region": region}}]


def test_an_undeclared_term_and_a_shape_violation():
    code, document = sarif("contrib/typo.ttl", "contrib/unlabelled.ttl")
    assert code == 1
    assert document == {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kgraph",
                        "version": "0.1.0",
                        "informationUri": "https://w3id.org/kgraph/",
                        "rules": [
                            {
                                "id": "undeclared-term",
                                "shortDescription": {"text": "A kg: term that the ontology does not declare."},
                            },
                            {
                                "id": "kgsh:Labelled-label",
                                "shortDescription": {
                                    "text": "SHACL shape kgsh:Labelled-label (sh:MinCountConstraintComponent)."
                                },
                            },
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": "undeclared-term",
                        "level": "error",
                        "message": {
                            "text": "kg:deployedInt is not declared in the ontology; did you mean kg:deployedIn?"
                        },
                        "locations": _location("contrib/typo.ttl", 7, 5),
                        "ruleIndex": 0,
                    },
                    {
                        "ruleId": "kgsh:Labelled-label",
                        "level": "error",
                        "message": {
                            "text": "kgr:martynovka rdfs:label: This resource needs a name: add an English rdfs:label "
                            "(expected at least 1 value(s), found 0)"
                        },
                        "locations": _location("contrib/unlabelled.ttl", 5, 1),
                        "ruleIndex": 1,
                    },
                ],
            }
        ],
    }


def test_an_inconsistency_names_its_triples_and_a_warning_is_a_warning():
    _, document = sarif("contrib/disjoint.ttl")
    [result] = document["runs"][0]["results"]
    assert result["message"]["text"] == (
        "kgr:sudzha-garrison is both a kg:Agent and a kg:Place, which are disjoint (ontology/mini.ttl)\n"
        "kgr:sudzha-garrison rdf:type kg:Agent\nkgr:sudzha-garrison rdf:type kg:Place"
    )
    result = CliRunner().invoke(main, ["validate", "--format", "sarif", "--shapes", "warning-shapes"], env=ENV)
    assert result.exit_code == 0
    [warning] = json.loads(result.stdout)["runs"][0]["results"]
    assert (warning["level"], warning["locations"]) == ("warning", _location("project/data/ttl/places.ttl", 5, 1))


def test_a_missing_file_has_no_location():
    code, document = sarif("contrib/nowhere.ttl")
    assert code == 2
    assert document["runs"][0]["results"] == [
        {
            "ruleId": "missing",
            "level": "error",
            "message": {"text": "contrib/nowhere.ttl: no such file or folder"},
            "ruleIndex": 0,
        }
    ]


@pytest.mark.parametrize(
    "paths", [("contrib/typo.ttl", "contrib/unlabelled.ttl"), ("contrib/syntax.ttl",), ("contrib/good.ttl",)]
)
def test_the_sarif_structure(paths):
    """What SARIF 2.1.0 requires (sarifLog, run, tool, result, message, location) and GitHub reads."""
    _, document = sarif(*paths)
    assert document["version"] == "2.1.0"
    assert isinstance(document["runs"], list) and len(document["runs"]) == 1
    run = document["runs"][0]
    driver = run["tool"]["driver"]
    assert isinstance(driver["name"], str) and driver["name"]
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids))
    for result in run["results"]:
        assert isinstance(result["message"]["text"], str) and result["message"]["text"]
        assert result["level"] in {"none", "note", "warning", "error"}
        assert ids[result["ruleIndex"]] == result["ruleId"]
        for location in result.get("locations", []):
            physical = location["physicalLocation"]
            assert physical["artifactLocation"]["uri"]
            region = physical.get("region", {})
            assert all(isinstance(region[k], int) and region[k] >= 1 for k in region)
