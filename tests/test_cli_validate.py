"""``kgraph validate``: exact output and exit codes, as contributors and CI see them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kgraph.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "validate"
ENV = {"KGRAPH_PROJECT_DIR": str(FIXTURES / "project")}


@pytest.fixture(autouse=True)
def in_fixtures(monkeypatch):
    monkeypatch.chdir(FIXTURES)


def run(*args: str):
    return CliRunner().invoke(main, ["validate", *args], env=ENV)


def test_conforming_file_exit_0():
    result = run("contrib/good.ttl")
    assert (result.exit_code, result.stdout) == (0, "conforms\n")


def test_no_paths_validates_the_project_data():
    result = run()
    assert (result.exit_code, result.stdout) == (0, "conforms\n")


def test_the_project_data_shows_its_own_warnings():
    result = run("--shapes", "warning-shapes")
    assert (result.exit_code, result.stdout) == (
        0,
        "project/data/ttl/places.ttl:5: warning: kgr:kursk-oblast kg:locatedIn: A place should say where it is "
        "(kg:locatedIn) (expected at least 1 value(s), found 0)\nconforms (1 warning)\n",
    )


def test_a_contributor_file_is_not_shown_the_project_data_warnings():
    result = run("--shapes", "warning-shapes", "contrib/good.ttl")
    assert (result.exit_code, result.stdout) == (0, "conforms\n")


def test_syntax_error_exit_2():
    result = run("contrib/syntax.ttl")
    assert result.exit_code == 2
    assert result.stdout == "contrib/syntax.ttl:3:18: Unexpected end of file\n1 problem found\n"


def test_missing_path_exit_2():
    result = run("contrib/nowhere.ttl")
    assert result.exit_code == 2
    assert result.stdout == "contrib/nowhere.ttl: no such file or folder\n1 problem found\n"


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        pytest.param(
            "contrib/typo.ttl",
            "contrib/typo.ttl:7:5: kg:deployedInt is not declared in the ontology; did you mean kg:deployedIn?",
            id="undeclared-term",
        ),
        pytest.param(
            "contrib/unlabelled.ttl",
            "contrib/unlabelled.ttl:5: kgr:martynovka rdfs:label: This resource needs a name:"
            " add an English rdfs:label (expected at least 1 value(s), found 0)",
            id="shacl-violation",
        ),
    ],
)
def test_one_problem_exit_1(path: str, problem: str) -> None:
    result = run(path)
    assert result.exit_code == 1
    assert result.stdout == problem + "\n1 problem found\n"


def test_a_blank_node_nothing_points_to_is_located_by_its_file() -> None:
    result = run("contrib/unlabelled-blank.ttl")
    assert result.exit_code == 1
    assert re.fullmatch(
        r"contrib/unlabelled-blank\.ttl: _:[0-9a-f]+ rdfs:label: This resource needs a name: add an English "
        r"rdfs:label \(expected at least 1 value\(s\), found 0\)\n1 problem found\n",
        result.stdout,
    ), result.stdout


def test_json_format():
    result = run("--format", "json", "contrib/unlabelled.ttl", "contrib/typo.ttl")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["conforms"] is False
    assert document["errors"] == [
        {
            "kind": "undeclared-term",
            "message": "kg:deployedInt is not declared in the ontology; did you mean kg:deployedIn?",
            "file": "contrib/typo.ttl",
            "line": 7,
            "column": 5,
            "triples": [],
        }
    ]
    assert document["violations"] == [
        {
            "file": "contrib/unlabelled.ttl",
            "line": 5,
            "column": 1,
            "focus": "kgr:martynovka",
            "path": "rdfs:label",
            "message": "This resource needs a name: add an English rdfs:label (expected at least 1 value(s), found 0)",
            "severity": "Violation",
            "constraint": "sh:MinCountConstraintComponent",
            "shape": "kgsh:Labelled-label",
            "value": None,
        }
    ]


def test_github_format():
    result = run("--format", "github", "contrib/syntax.ttl")
    assert result.exit_code == 2
    assert result.stdout == ("::error file=contrib/syntax.ttl,line=3,col=18::Unexpected end of file\n1 problem found\n")


def test_shapes_option():
    result = run("--shapes", "no-shapes", "contrib/unlabelled.ttl")
    assert (result.exit_code, result.stdout) == (0, "conforms\n")


def test_installed_console_script():
    """The command pre-commit and CI run: the ``kgraph`` script installed next to this Python."""
    script = Path(sys.executable).parent / "kgraph"
    completed = subprocess.run(
        [str(script), "validate", "contrib/typo.ttl"],
        capture_output=True,
        text=True,
        env={**ENV, "PATH": str(script.parent), "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]},
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stdout.startswith("contrib/typo.ttl:7:5: kg:deployedInt is not declared")
    assert completed.stderr == ""


NEW_CLAIM = """\
@prefix kg: <https://w3id.org/kgraph/ontology#> .
@prefix kgr: <https://w3id.org/kgraph/id/> .
@prefix src: <https://w3id.org/kgraph/id/source/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .

kgr:new-claim a kg:Claim ;
    rdfs:label "Russia claims Sudzha"@en ;
    kg:claimant kgr:russia ;
    kg:stance kg:stanceClaims ;
    kg:about kgr:sudzha ;
    kg:statement kgr:new-content ;
    prov:wasDerivedFrom src:kursk-article .

kgr:new-content a kg:Proposition ;
    rdfs:label "Russia controls Sudzha."@en ;
    prov:wasDerivedFrom src:kursk-article .
"""


@pytest.mark.slow
def test_a_new_claim_needs_clauses_and_an_anchor_in_the_article(tmp_path, monkeypatch):
    """A contribution to the real project: a claim whose content is only a sentence, and that says nowhere where
    the article says it, is refused by the project's own shapes."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "new-claim.ttl").write_text(NEW_CLAIM, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["validate", "new-claim.ttl"], env={"KGRAPH_PROJECT_DIR": str(Path(__file__).parents[1])}
    )
    assert (result.exit_code, result.stdout.splitlines()) == (
        1,
        [
            "new-claim.ttl:7: kgr:new-claim kg:textAnchor: A claim needs a kg:textAnchor: the source's exact words "
            "(oa:exact) and their character offsets (oa:start, oa:end). (expected at least 1 value(s), found 0)",
            "new-claim.ttl:15: kgr:new-content kg:clause: A proposition needs at least one kg:clause, a kg:Clause with "
            "kg:propSubject, kg:propPredicate and kg:propObject (or kg:propValue). (expected at least 1 value(s), "
            "found 0)",
            "2 problems found",
        ],
    )
