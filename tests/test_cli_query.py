"""The ``query`` and ``explain`` commands on the miniature project: output, formats, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kgraph.cli import main

PROJECT = Path(__file__).parent / "fixtures" / "infer" / "project"
ALLIES = "SELECT ?a ?b WHERE { ?a <https://w3id.org/kgraph/ontology#alliedWith> ?b } ORDER BY ?a"


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setenv("KGRAPH_PROJECT_DIR", str(PROJECT))
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


def test_query_prints_a_table_with_prefixed_names(run):
    result = run("query", ALLIES)
    assert result.exit_code == 0
    assert result.stdout == (
        "a               | b\n"
        "----------------+----------------\n"
        "kgr:north-korea | kgr:russia\n"
        "kgr:russia      | kgr:north-korea\n"
        "(2 rows)\n"
    )


def test_query_without_inference_does_not_give_the_alliance(run):
    result = run("query", "--no-infer", ALLIES)
    assert result.exit_code == 0
    assert result.stdout.endswith("(0 rows)\n")


def test_query_reads_a_file_and_writes_csv(run, tmp_path):
    query = tmp_path / "allies.rq"
    query.write_text(ALLIES)
    result = run("query", "--format", "csv", str(query))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "a,b",
        "https://w3id.org/kgraph/id/north-korea,https://w3id.org/kgraph/id/russia",
        "https://w3id.org/kgraph/id/russia,https://w3id.org/kgraph/id/north-korea",
    ]


def test_query_json_is_sparql_results_json(run):
    result = run("query", "--format", "json", ALLIES)
    bindings = json.loads(result.stdout)["results"]["bindings"]
    assert [b["a"]["value"] for b in bindings] == [
        "https://w3id.org/kgraph/id/north-korea",
        "https://w3id.org/kgraph/id/russia",
    ]


def test_ask_and_construct(run):
    assert run("query", "ASK { ?s ?p ?o }").stdout == "true\n"
    construct = "CONSTRUCT { ?a <urn:x:ally> ?b } WHERE { ?a <https://w3id.org/kgraph/ontology#alliedWith> ?b }"
    result = run("query", "--format", "ntriples", construct)
    nk, ru = "<https://w3id.org/kgraph/id/north-korea>", "<https://w3id.org/kgraph/id/russia>"
    assert sorted(result.stdout.splitlines()) == [
        f"{nk} <urn:x:ally> {ru} .",
        f"{ru} <urn:x:ally> {nk} .",
    ]


def test_a_malformed_query_exits_2_with_its_position(run):
    result = run("query", "SELEC")
    assert (result.exit_code, result.stderr) == (
        2,
        "kgraph: the query: Syntax error at line 1, column 6 (after 'SELEC'): unexpected text or end of query\n",
    )


def test_explain_prints_the_tree(run):
    result = run("explain", "kgr:north-korea", "kg:alliedWith", "<https://w3id.org/kgraph/id/russia>")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        "kgr:north-korea kg:alliedWith kgr:russia",
        "  <- rule alliance: deployment in support means alliance",
    ]


def test_explain_json(run):
    result = run("explain", "--format", "json", "kgr:russia", "kg:alliedWith", "kgr:north-korea")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["kind"], data["rule"], data["premises"][0]["rule"]) == (
        "owl-rl",
        "prp-symp",
        "alliance",
    )


def test_explain_an_absent_triple_exits_1(run):
    result = run("explain", "kgr:russia", "kg:alliedWith", "kgr:ukraine")
    assert result.exit_code == 1
    assert result.stderr == "not in the graph: kgr:russia kg:alliedWith kgr:ukraine\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kgr:russia", "foo:x", "kgr:ukraine"], "unknown prefix foo: in foo:x"),
        (["kgr:russia", '"12"', "kgr:ukraine"], 'a literal cannot be a predicate: "12"'),
        (['"12"', "kg:x", "kgr:ukraine"], 'a literal cannot be a subject: "12"'),
    ],
)
def test_explain_bad_terms_exit_2(run, args, message):
    result = run("explain", *args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize(("flag", "answer"), [("--infer", "true\n"), ("--no-infer", "false\n")])
def test_the_real_alliance_needs_inference(flag, answer):
    ask = (
        "ASK { <https://w3id.org/kgraph/id/russia> "
        "<https://w3id.org/kgraph/ontology#alliedWith> <https://w3id.org/kgraph/id/north-korea> }"
    )
    result = CliRunner().invoke(main, ["query", flag, ask], env={"KGRAPH_PROJECT_DIR": ""})
    assert (result.exit_code, result.stdout) == (0, answer)
