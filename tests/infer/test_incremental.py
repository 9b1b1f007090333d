"""Incremental inference for writes: after every write, the closure equals a recomputation from scratch."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgraph.config import GRAPH_NS, INFERRED_GRAPH, ReasonerName, Settings
from kgraph.graph import KnowledgeGraph, build
from kgraph.infer import run_inference
from kgraph.infer.incremental import infer_additions, rule_reach
from kgraph.infer.rules import load_rules
from kgraph.journal import Journal
from kgraph.store import EmbeddedStore
from kgraph.writes import Writer, WriteRejected

PROJECT = Path(__file__).parents[1] / "fixtures" / "incremental"
RULES = PROJECT / "rules"
PREFIXES = "PREFIX kg: <https://w3id.org/kgraph/ontology#>\nPREFIX kgr: <https://w3id.org/kgraph/id/>\n"
CONTRIB = GRAPH_NS + "contrib/alice"

node = st.integers(min_value=0, max_value=7)
WRITES = st.one_of(
    st.builds(lambda i, parent: f"INSERT DATA {{ kgr:p{i} a kg:Settlement ; kg:locatedIn kgr:p{parent} }}", node, node),
    st.builds(lambda e, place: f"INSERT DATA {{ kgr:e{e} kg:hasPlace kgr:p{place} }}", node, node),
    st.builds(lambda a, b: f"INSERT DATA {{ kgr:p{a} kg:borders kgr:p{b} }}", node, node),
    st.builds(lambda e: f'INSERT DATA {{ kgr:e{e} kg:hedge "reportedly" }}', node),
    st.builds(lambda i: f"DELETE WHERE {{ kgr:p{i} kg:locatedIn ?x }}", node),
    st.builds(lambda e: f"DELETE WHERE {{ kgr:e{e} ?p ?o }}", node),
    st.builds(
        lambda i, j, k: (
            f"INSERT DATA {{ kgr:p{i} kg:locatedIn kgr:p{j} . kgr:p{j} kg:locatedIn kgr:p{k} . kgr:e{i} kg:hasPlace "
            f"kgr:p{i} }}"
        ),
        node,
        node,
        node,
    ),
)


def inferred(store: EmbeddedStore) -> set[ox.Quad]:
    return set(store.quads(graph=INFERRED_GRAPH))


def recomputed(graph: KnowledgeGraph) -> set[ox.Quad]:
    """The inferred graph of the same asserted triples, computed from scratch."""
    fresh = EmbeddedStore()
    fresh.add(q for q in graph.store.quads() if q.graph_name != ox.NamedNode(INFERRED_GRAPH))
    run_inference(fresh, rules_dir=RULES)
    return inferred(fresh)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(WRITES, min_size=1, max_size=8))
def test_after_every_write_the_closure_equals_a_full_recomputation(tmp_path_factory, writes: list[str]) -> None:
    data_dir = tmp_path_factory.mktemp("data")
    graph = build(Settings.from_env(environ={}, project_dir=PROJECT, data_dir=data_dir))
    writer = Writer(graph, Journal(data_dir))
    for update in writes:
        try:
            writer.update(PREFIXES + update, who="alice")
        except WriteRejected:
            continue
        assert inferred(graph.store) == recomputed(graph), update
        assert graph.inference.added == len(inferred(graph.store))


@pytest.fixture
def store() -> tuple[EmbeddedStore, object]:
    """The fixture project loaded and inferred, as a server starts."""
    graph = build(Settings.from_env(environ={}, project_dir=PROJECT, data_dir=Path("/nonexistent")))
    return graph.store, graph.inference


def quads(text: str) -> list[ox.Quad]:
    parsed = ox.parse(
        input=(PREFIXES.replace("PREFIX", "@prefix").replace(">\n", "> .\n") + text).encode(),
        format=ox.RdfFormat.TURTLE,
    )
    return [ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(CONTRIB)) for q in parsed]


def test_an_addition_extends_the_closure_from_the_delta(store) -> None:
    live, report = store
    added = quads("kgr:p2 a kg:Settlement ; kg:locatedIn kgr:p1 . kgr:e0 kg:hasPlace kgr:p2 .")
    live.add(added)
    extended = infer_additions(live, added, report, rules_dir=RULES, reasoner=ReasonerName.NATIVE)
    assert extended is not None
    assert extended.added == report.added + 11  # types, locatedIn, contains, occurredIn and certainIn
    everything = inferred(live)
    live.clear_graph(INFERRED_GRAPH)
    full = run_inference(live, rules_dir=RULES)
    assert (inferred(live), full.added) == (everything, extended.added)


def test_a_write_that_can_take_conclusions_away_is_recomputed(store) -> None:
    live, report = store
    added = quads('kgr:e0 kg:hedge "reportedly" .')
    live.add(added)
    assert infer_additions(live, added, report, rules_dir=RULES, reasoner=ReasonerName.NATIVE) is None
    assert infer_additions(live, [], report, rules_dir=RULES, reasoner=ReasonerName.OWLRL) is None


def test_what_each_rule_reads_and_reads_under_negation() -> None:
    reaches = {rule.name: rule_reach(rule) for rule in load_rules(RULES)}
    kg = "https://w3id.org/kgraph/ontology#"
    assert reaches["certain-place"].negated == {kg + "hedge"}
    assert {kg + "occurredIn", kg + "hedge"} <= reaches["certain-place"].reads
    assert reaches["located-in-containing-place"].negated == frozenset()
