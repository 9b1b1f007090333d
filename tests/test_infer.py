"""Inference on a miniature project: each OWL 2 RL pattern, the rules to a fixpoint, the inferred
graph kept apart,
contradictions worded, and contested claims never turned into facts."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.config import GRAPH_NS, INFERRED_GRAPH
from kgraph.infer import Inconsistency, run_inference
from kgraph.infer.rules import RuleError, load_rule
from kgraph.infer.terms import parse_term, shorten_triple
from kgraph.store import EmbeddedStore

FIXTURES = Path(__file__).parent / "fixtures" / "infer"
PROJECT = FIXTURES / "project"
FILES = ["ontology/mini.ttl", "data/ttl/facts.ttl", "data/ttl/unrelated.nt"]


def load(*files: str, root: Path = PROJECT) -> EmbeddedStore:
    """A store with each file in its own named graph, as the loader makes it."""
    store = EmbeddedStore()
    for name in files:
        store.oxigraph.load(path=str(root / name), to_graph=ox.NamedNode(GRAPH_NS + name))
    return store


def triple(text: str) -> ox.Triple:
    return ox.Triple(*(parse_term(t) for t in text.split()))


def inferred(store: EmbeddedStore) -> list[str]:
    return sorted(shorten_triple(q.triple) for q in store.quads(graph=INFERRED_GRAPH))


@pytest.fixture
def store() -> EmbeddedStore:
    store = load(*FILES)
    run_inference(store, rules_dir=PROJECT / "rules")
    return store


@pytest.mark.parametrize(
    "expected",
    [
        pytest.param("kgr:putin rdf:type kg:Agent", id="cax-sco subclass"),
        pytest.param("kgr:putin rdf:type kg:Person", id="prp-dom domain"),
        pytest.param("kgr:kursk-oblast rdf:type kg:Place", id="prp-rng range"),
        pytest.param("kgr:putin kg:memberOf kgr:russian-government", id="prp-spo1 subproperty"),
        pytest.param("kgr:kursk-oblast kg:contains kgr:sudzha", id="prp-inv inverse"),
        pytest.param("kgr:russia kg:alliedWith kgr:north-korea", id="prp-symp symmetric"),
        pytest.param("kgr:sudzha kg:locatedIn kgr:russia", id="prp-trp transitive"),
        pytest.param("kgr:kpa-unit kg:servesState kgr:north-korea", id="prp-spo2 chain"),
        pytest.param("kgr:north-korea kg:alliedWith kgr:russia", id="rule"),
        pytest.param("kgr:ukraine-mechanized kg:foughtIn kgr:russia", id="rule after closure"),
    ],
)
def test_each_pattern_is_inferred_into_the_inferred_graph(store, expected):
    assert expected in inferred(store)


def test_the_inferred_graph_holds_exactly_the_meaningful_new_triples(store):
    assert inferred(store) == [
        "kgr:kpa-unit kg:servesState kgr:north-korea",
        "kgr:kursk-oblast kg:contains kgr:sudzha",
        "kgr:kursk-oblast rdf:type kg:Place",
        "kgr:north-korea kg:alliedWith kgr:russia",
        "kgr:putin kg:memberOf kgr:russian-government",
        "kgr:putin rdf:type kg:Agent",
        "kgr:putin rdf:type kg:Person",
        "kgr:russia kg:alliedWith kgr:north-korea",
        "kgr:russia kg:contains kgr:kursk-oblast",
        "kgr:russia kg:contains kgr:sudzha",
        "kgr:russia rdf:type kg:Place",
        "kgr:sudzha kg:locatedIn kgr:russia",
        "kgr:sudzha rdf:type kg:Place",
        "kgr:ukraine-mechanized kg:foughtIn kgr:kursk-oblast",
        "kgr:ukraine-mechanized kg:foughtIn kgr:russia",
    ]


def test_the_report_counts_what_was_added():
    store = load(*FILES)
    report = run_inference(store, rules_dir=PROJECT / "rules")
    assert report.added == store.count(INFERRED_GRAPH) == 15
    assert report.inconsistencies == []
    assert report.seconds > 0


def test_no_inferred_triple_repeats_an_asserted_one(store):
    for quad in store.quads(graph=INFERRED_GRAPH):
        graphs = {q.graph_name for q in store.quads(*quad.triple)}
        assert graphs == {ox.NamedNode(INFERRED_GRAPH)}, shorten_triple(quad.triple)


def test_asserted_graphs_are_left_as_they_were(store):
    fresh = load(*FILES)
    for name in FILES:
        assert store.count(GRAPH_NS + name) == fresh.count(GRAPH_NS + name)
    assert store.graph_names() == sorted([*(GRAPH_NS + n for n in FILES), INFERRED_GRAPH])


def test_running_again_replaces_the_inferred_graph(store):
    store.remove(
        [
            ox.Quad(
                *triple("kgr:putin kg:leads kgr:russian-government"),
                ox.NamedNode(GRAPH_NS + "data/ttl/facts.ttl"),
            )
        ]
    )
    report = run_inference(store, rules_dir=PROJECT / "rules")
    assert report.added == 12
    assert not [line for line in inferred(store) if line.startswith("kgr:putin")]


class _LoadsRecorded(EmbeddedStore):
    """An embedded store that keeps the N-Quads handed to its loader."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[bytes] = []

    def load_file(self, source, rdf_format, *, base_iri, graph, large=False):
        self.loads.append(source.read())
        source.seek(0)
        super().load_file(source, rdf_format, base_iri=base_iri, graph=graph, large=large)


def test_each_subjects_inferred_triples_are_written_together():
    """pyoxigraph's in-memory store lays quads out in the order they are added: a subject's triples added together
    are read together, which made star joins over 1M triples a third faster (bench/README.md)."""
    store = _LoadsRecorded()
    for name in FILES:
        store.oxigraph.load(path=str(PROJECT / name), to_graph=ox.NamedNode(GRAPH_NS + name))
    run_inference(store, rules_dir=PROJECT / "rules")
    subjects = [[line.split(b" ", 1)[0] for line in load.splitlines()] for load in store.loads]
    assert max(len(set(each)) for each in subjects) > 1
    assert all(each == sorted(each) for each in subjects)


def test_graphs_without_ontology_terms_skip_the_closure_but_not_the_rules(tmp_path):
    rule = tmp_path / "knows.rq"
    rule.write_text(
        "# rule: knowing is mutual\n# meaning: if a knows b, b knows a.\n"
        "CONSTRUCT { ?b <urn:x:knows> ?a } WHERE { ?a <urn:x:knows> ?b }\n"
    )
    store = load(*FILES)
    report = run_inference(store, rules_dir=tmp_path)
    assert report.reasoned_graphs == [
        GRAPH_NS + "data/ttl/facts.ttl",
        GRAPH_NS + "ontology/mini.ttl",
    ]
    assert "<urn:x:b> <urn:x:knows> <urn:x:a>" in inferred(store)


def test_contested_claims_are_never_materialised_as_facts(store):
    claim = "kgr:claim-full-control"
    content = [
        next(store.quads(parse_term(claim), parse_term(p), None)).object
        for p in ("kg:claimSubject", "kg:claimPredicate", "kg:claimObject")
    ]
    assert list(store.quads(*content)) == []


def test_a_member_of_disjoint_classes_is_reported_in_words():
    store = load(*FILES)
    store.oxigraph.load(path=str(FIXTURES / "bad.ttl"), to_graph=ox.NamedNode(GRAPH_NS + "bad.ttl"))
    report = run_inference(store, rules_dir=PROJECT / "rules")
    assert report.inconsistencies == [
        Inconsistency(
            "kgr:sudzha is both a kg:Person and a kg:Place, which are disjoint (ontology/mini.ttl)",
            [triple("kgr:sudzha rdf:type kg:Person"), triple("kgr:sudzha rdf:type kg:Place")],
        )
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "kg:alliedWith a owl:AsymmetricProperty . kgr:a kg:alliedWith kgr:b . kgr:b kg:alliedWith kgr:a .",
            "kg:alliedWith is asymmetric but links kgr:a and kgr:b both ways (extra.ttl)",
        ),
        (
            "kg:contains a owl:IrreflexiveProperty . kgr:a kg:contains kgr:a .",
            "kg:contains is irreflexive but links kgr:a to itself (extra.ttl)",
        ),
        (
            'kg:code a owl:FunctionalProperty . kgr:a kg:code "RU" , "UA" .',
            'kg:code is functional but kgr:a has two values: "RU" and "UA" (extra.ttl)',
        ),
        (
            "kg:leads owl:propertyDisjointWith kg:controls . kgr:a kg:leads kgr:b ; kg:controls kgr:b .",
            "kgr:a is linked to kgr:b by both kg:leads and kg:controls, which are disjoint properties (extra.ttl)",
        ),
        (
            "kgr:a owl:sameAs kgr:b ; owl:differentFrom kgr:b .",
            "kgr:a and kgr:b are said to be both the same and different",
        ),
    ],
)
def test_other_contradictions_are_reported_in_words(data, message, tmp_path):
    (tmp_path / "extra.ttl").write_text(
        "@prefix kg: <https://w3id.org/kgraph/ontology#> .\n"
        "@prefix kgr: <https://w3id.org/kgraph/id/> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n" + data
    )
    store = load("extra.ttl", root=tmp_path)
    report = run_inference(store, rules_dir=tmp_path)
    assert [i.message for i in report.inconsistencies] == [message]


def test_a_rule_without_its_header_is_refused(tmp_path):
    rule = tmp_path / "bare.rq"
    rule.write_text("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }\n")
    with pytest.raises(RuleError, match="a rule starts with '# rule:' and '# meaning:'"):
        load_rule(rule)


def test_a_rule_that_is_not_a_construct_is_refused(tmp_path):
    rule = tmp_path / "select.rq"
    rule.write_text("# rule: r\n# meaning: m\nSELECT * WHERE { ?s ?p ?o }\n")
    with pytest.raises(RuleError, match="a rule is a SPARQL CONSTRUCT query"):
        load_rule(rule)


# --- the real project: ontology/, data/ttl/ and rules/ of the repository -----------------------

ALLIANCE = ["kgr:russia kg:alliedWith kgr:north-korea", "kgr:north-korea kg:alliedWith kgr:russia"]


@pytest.fixture(scope="module")
def article():
    from kgraph.config import Settings
    from kgraph.graph import build

    return build(Settings())


def test_the_article_graph_is_consistent(article):
    assert article.inference.inconsistencies == []


def test_russia_and_north_korea_are_allied_both_ways_by_inference_only(article):
    found = inferred(article.store)
    assert [line for line in ALLIANCE if line in found] == ALLIANCE
    for line in ALLIANCE:
        asserted = [q for q in article.store.quads(*triple(line)) if q.graph_name.value != INFERRED_GRAPH]
        assert asserted == []


def test_contested_claims_content_is_never_a_fact(article):
    contents = article.store.query(
        """PREFIX kg: <https://w3id.org/kgraph/ontology#>
        PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        SELECT ?s ?p ?o WHERE {
          ?claim a kg:ContestedClaim ; kg:statement/kg:clause ?clause .
          ?clause kg:propSubject ?s ; kg:propPredicate ?p ; kg:propObject ?o .
        }""",
        default_graph=article.default_graph(infer=True),
    )
    rows = [(row["s"], row["p"], row["o"]) for row in contents]
    assert rows, "the article has contested claims (Russia's full control of Kursk)"
    for s, p, o in rows:
        assert list(article.store.quads(s, p, o)) == []
