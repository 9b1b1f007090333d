"""The native OWL 2 RL engine concludes exactly what owlrl (the reference) concludes, rule by rule and on whole graphs.

Each rule has a fixture in ``tests/fixtures/infer/owl-rl/``: a Turtle file whose ``# expected:`` lines are the exact
inferred triples; both engines must produce them. The whole article graph and a generated graph are then inferred by
both, and the inferred graphs compared.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kgraph.cli import main
from kgraph.config import GRAPH_NS, INFERRED_GRAPH, ReasonerName, Settings
from kgraph.infer import run_inference
from kgraph.infer.native import RULES_DIR, OwlRlRuleError, load_owl_rl_rules
from kgraph.infer.terms import shorten_triple
from kgraph.load import load_paths
from kgraph.project import ProjectFiles
from kgraph.store import EmbeddedStore

FIXTURES = Path(__file__).parents[1] / "fixtures" / "infer" / "owl-rl"
REPOSITORY = Path(__file__).parents[2]
RULE_NAMES = sorted(p.stem for p in RULES_DIR.glob("*.rq") if p.stem != "unsupported")


def expected(fixture: Path) -> list[str]:
    lines = fixture.read_text(encoding="utf-8").splitlines()
    return sorted(line.removeprefix("# expected: ") for line in lines if line.startswith("# expected: "))


def infer_file(fixture: Path, reasoner: str, rules_dir: Path) -> tuple[list[str], str]:
    store = EmbeddedStore()
    store.oxigraph.load(path=str(fixture), to_graph=ox.NamedNode(GRAPH_NS + fixture.name))
    report = run_inference(store, rules_dir=rules_dir, reasoner=reasoner)
    return sorted(shorten_triple(q.triple) for q in store.quads(graph=INFERRED_GRAPH)), report.reasoner


def test_every_rule_has_a_fixture():
    assert sorted(p.stem for p in FIXTURES.glob("*.ttl")) == sorted([*RULE_NAMES, "unsupported"])


@pytest.mark.parametrize("reasoner", ["native", "owlrl"])
@pytest.mark.parametrize("rule", RULE_NAMES)
def test_each_rule_infers_exactly_the_expected_triples(rule, reasoner, tmp_path):
    fixture = FIXTURES / f"{rule}.ttl"
    triples, used = infer_file(fixture, reasoner, tmp_path)
    assert used == reasoner
    assert triples == expected(fixture)


def test_a_construct_native_does_not_implement_falls_back_to_owlrl(tmp_path):
    fixture = FIXTURES / "unsupported.ttl"
    triples, used = infer_file(fixture, "native", tmp_path)
    assert used == "owlrl (native does not implement <http://www.w3.org/2002/07/owl#sameAs>)"
    assert triples == expected(fixture)


@pytest.mark.parametrize("reasoner", ["native", "owlrl"])
def test_ill_typed_literals_are_reported_as_owlrl_words_them(reasoner, tmp_path):
    store = EmbeddedStore()
    fixture = FIXTURES.parent / "ill-typed-literals.ttl"
    store.oxigraph.load(path=str(fixture), to_graph=ox.NamedNode(GRAPH_NS + fixture.name))
    report = run_inference(store, rules_dir=tmp_path, reasoner=reasoner)
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert [i.message for i in report.inconsistencies] == [
        f"OWL 2 RL: Lexical value of the literal '2024-08-32' does not match its datatype ({xsd}date)",
        f"OWL 2 RL: Lexical value of the literal 'thousands' does not match its datatype ({xsd}integer)",
    ]


def test_the_reasoner_setting_chooses_the_engine_passed_down_not_read_from_the_environment(monkeypatch, tmp_path):
    chosen = Settings.from_env({"KGRAPH_REASONER": "owlrl"}).reasoner
    assert chosen is ReasonerName.OWLRL
    assert infer_file(FIXTURES / "prp-symp.ttl", chosen, tmp_path)[1] == "owlrl"
    monkeypatch.setenv("KGRAPH_REASONER", "owlrl")  # inference never looks: the caller passes the setting
    assert infer_file(FIXTURES / "prp-symp.ttl", ReasonerName.NATIVE, tmp_path)[1] == "native"


def test_the_reasoner_is_a_setting_and_a_serve_option():
    assert Settings.from_env({}).reasoner == "native"
    assert Settings.from_env({"KGRAPH_REASONER": "owlrl"}).reasoner == "owlrl"
    result = CliRunner().invoke(main, ["serve", "--reasoner", "pellet"])
    assert result.exit_code == 2
    assert "Invalid value for '--reasoner': 'pellet' is not one of 'native', 'owlrl'." in result.output


def test_an_unknown_reasoner_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"^KGRAPH_REASONER=pellet: must be native or owlrl$"):
        Settings.from_env({"KGRAPH_REASONER": "pellet"})
    with pytest.raises(ValueError, match="'pellet' is not a valid ReasonerName"):
        infer_file(FIXTURES / "prp-symp.ttl", "pellet", tmp_path)


def test_a_rule_file_must_name_its_step(tmp_path):
    (tmp_path / "odd.rq").write_text("# rule: odd\n# meaning: odd\n# step: guess\nSELECT * WHERE { ?s ?p ?o }\n")
    with pytest.raises(
        OwlRlRuleError, match=re.escape("odd.rq: '# step:' must be one of type, domain, range, property")
    ):
        load_owl_rl_rules(tmp_path)


def test_every_rule_file_says_what_it_means():
    for rule in load_owl_rl_rules():
        assert rule.meaning, rule.name


def both_engines(paths: list[Path]) -> dict[str, tuple[set[ox.Triple], list[str]]]:
    """The inferred graph and the contradictions found by each engine over the project plus ``paths``."""
    files = ProjectFiles.locate(REPOSITORY)
    results = {}
    for reasoner in ("native", "owlrl"):
        store = EmbeddedStore()
        load_paths(store, [files.ontology, files.data, *paths], root=files.root)
        report = run_inference(store, rules_dir=files.rules, reasoner=reasoner)
        assert report.reasoner == reasoner
        inferred = {q.triple for q in store.quads(graph=INFERRED_GRAPH)}
        assert report.added == len(inferred)
        results[reasoner] = inferred, [i.message for i in report.inconsistencies]
    return results


def test_native_equals_owlrl_on_the_article_graph():
    results = both_engines([])
    assert results["native"] == results["owlrl"]
    assert len(results["native"][0]) > 500


@pytest.mark.slow
def test_native_equals_owlrl_on_5k_generated_triples(tmp_path):
    generated = tmp_path / "generated.nt"
    command = [sys.executable, "bench/generate.py", "--triples", "5000", "--seed", "7", "-o", str(generated)]
    subprocess.run(command, cwd=REPOSITORY, check=True)
    results = both_engines([generated])
    assert results["native"] == results["owlrl"]
    assert len(results["native"][0]) > 4000
