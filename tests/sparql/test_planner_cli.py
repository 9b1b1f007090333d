"""``kgraph query --explain`` and the planner on the command line: the plan is printed, the answer is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kgraph.cli import main

PROJECT = Path(__file__).parents[1] / "fixtures" / "infer" / "project"
QUERY = (
    "PREFIX kg: <https://w3id.org/kgraph/ontology#>\n"
    "SELECT ?a ?b ?c WHERE { ?a kg:alliedWith ?b OPTIONAL { ?b kg:alliedWith ?c } ?b a ?t } ORDER BY ?a ?b ?c"
)


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setenv("KGRAPH_PROJECT_DIR", str(PROJECT))
    runner = CliRunner()
    return lambda *args, **env: runner.invoke(main, list(args), env=env)


def test_explain_prints_the_plan_without_running_the_query(run):
    result = run("query", "--explain", QUERY)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "# Query as evaluated"
    assert "- OPTIONAL { ?b kg:alliedWith ?c } moved after 1 join element(s) that do not use its new variables" in lines
    assert "(2 rows)" not in result.stdout


def test_explain_says_when_the_planner_is_off(run):
    result = run("query", "--explain", QUERY, KGRAPH_PLAN_QUERIES="false")
    assert result.exit_code == 0
    assert result.stdout.startswith("# Query as evaluated (unchanged)\n" + QUERY + "\n")
    assert "- none: the planner is off (KGRAPH_PLAN_QUERIES=false)" in result.stdout


@pytest.mark.parametrize("explain", [[], ["--explain"]], ids=["run", "explained"])
def test_a_query_that_does_not_parse_exits_2_located(run, tmp_path, explain):
    broken = tmp_path / "broken.rq"
    broken.write_text("# no object\nSELECT * WHERE { ?s ?p }\n")
    result = run("query", *explain, str(broken))
    assert (result.exit_code, result.stderr) == (
        2,
        f"kgraph: {broken}: Syntax error at line 3, column 1 (after 'SELECT * WHERE {{ ?s ?p }}'): expected OPTIONAL\n",
    )


def test_the_answer_is_the_same_with_and_without_the_planner(run):
    planned, written = run("query", QUERY), run("query", QUERY, KGRAPH_PLAN_QUERIES="false")
    assert planned.exit_code == written.exit_code == 0
    assert planned.stdout == written.stdout
    assert planned.stdout == (
        "a               | b          | c\n"
        "----------------+------------+----------------\n"
        "kgr:north-korea | kgr:russia | kgr:north-korea\n"
        "(1 row)\n"
    )
