"""Inference computed inside a remote store equals the in-memory inferred graph, on the article, over a real Oxigraph
server and a real Virtuoso."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import OXIGRAPH, PROJECT, start_oxigraph, stop_process
from kgraph.config import GRAPH_NS, INFERRED_GRAPH, ReasonerName, Settings
from kgraph.graph import KnowledgeGraph, build
from kgraph.infer import closure, in_store, native
from kgraph.infer.closed_tables import OnePremiseTables, one_premise_tables
from kgraph.infer.in_store import SCRATCH_GRAPHS
from kgraph.infer.rules import Rule
from kgraph.infer.terms import BUILT_IN_NAMESPACES, PREFIXES
from kgraph.load import load_paths
from kgraph.store import EmbeddedStore, RemoteStore, open_store
from kgraph.store.remote import RemoteStoreError

_spec = importlib.util.spec_from_file_location("bench_virtuoso", PROJECT / "bench" / "virtuoso.py")
assert _spec and _spec.loader
virtuoso = sys.modules["bench_virtuoso"] = importlib.util.module_from_spec(_spec)  # bench/ is no package
_spec.loader.exec_module(virtuoso)


@pytest.fixture(scope="module")
def in_memory(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    settings = Settings.from_env(environ={}, project_dir=PROJECT, data_dir=tmp_path_factory.mktemp("data"))
    return build(settings)


def _build_over(url: str, data_dir: Path) -> KnowledgeGraph:
    settings = Settings.from_env(environ={}, project_dir=PROJECT, data_dir=data_dir)
    return build(settings.with_overrides(store=url))


def _inferred(graph: KnowledgeGraph) -> set[ox.Triple]:
    return {quad.triple for quad in graph.store.quads(graph=INFERRED_GRAPH)}


def _assert_same(remote: KnowledgeGraph, in_memory: KnowledgeGraph) -> None:
    assert isinstance(remote.store, RemoteStore)
    assert remote.inference.reasoner == "native (in the store)"
    assert _inferred(remote) == _inferred(in_memory)
    assert remote.inference.added == in_memory.inference.added
    assert remote.inference.reasoned_graphs == in_memory.inference.reasoned_graphs
    assert [str(i) for i in remote.inference.inconsistencies] == [str(i) for i in in_memory.inference.inconsistencies]
    assert not set(SCRATCH_GRAPHS) & set(remote.store.graph_names())  # the scratch graphs are gone


@pytest.mark.slow
@pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")
def test_inference_in_an_oxigraph_server_equals_in_memory(
    in_memory: KnowledgeGraph, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("oxigraph")
    process, url = start_oxigraph(folder / "db")
    try:
        _assert_same(_build_over(url, tmp_path_factory.mktemp("data")), in_memory)
    finally:
        stop_process(process)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")
def test_conclusions_looked_up_in_the_largest_graphs_and_the_rest_dropped_after_equal_in_memory(
    in_memory: KnowledgeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The article's graphs are all small: at 150 triples, the ontology and the largest data graph are looked up as
    # conclusions are made, the others copied into one graph that is.
    monkeypatch.setattr(in_store, "LARGE_GRAPH", 150)
    looked_up: list[tuple[str, ...]] = []
    choose = in_store._looked_up
    monkeypatch.setattr(in_store, "_looked_up", lambda store: looked_up.append(choose(store)) or looked_up[-1])
    process, url = start_oxigraph(tmp_path / "db")
    try:
        _assert_same(_build_over(url, tmp_path / "data"), in_memory)
    finally:
        stop_process(process)
    largest = (GRAPH_NS + "ontology/kgraph.ttl", GRAPH_NS + "data/ttl/anchors.ttl")
    assert looked_up == [(INFERRED_GRAPH, *largest, in_store.ASSERTED_COPY)]


def _deaf_to(monkeypatch: pytest.MonkeyPatch, *prefixes: str) -> list[str]:
    """Make the remote store ignore the updates starting with one of ``prefixes`` (as Virtuoso 7.2 ignored part of
    two DROPs and a ``DELETE ... WHERE``); the updates it ignored."""
    ignored: list[str] = []
    send = RemoteStore.update

    def update(store: RemoteStore, sparql: str) -> None:
        if sparql.startswith(prefixes):
            ignored.append(sparql)
            return
        send(store, sparql)

    monkeypatch.setattr(RemoteStore, "update", update)
    return ignored


@pytest.mark.slow
@pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")
def test_a_scratch_graph_a_drop_left_triples_in_is_emptied_at_the_end(
    in_memory: KnowledgeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        in_store, "LARGE_GRAPH", 150
    )  # the article's smaller graphs copied into one, dropped at the end
    ignored = _deaf_to(monkeypatch, f"DROP SILENT GRAPH <{in_store.ASSERTED_COPY}>")
    process, url = start_oxigraph(tmp_path / "db")
    try:
        _assert_same(_build_over(url, tmp_path / "data"), in_memory)
    finally:
        stop_process(process)
    assert len(ignored) == 2  # at the start, and at the end
    warning = f"the store kept triples of {in_store.ASSERTED_COPY} after dropping it: deleting them as a scan finds"
    assert caplog.messages.count(warning + " them") == 1


@pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")
@pytest.mark.parametrize("deaf", [False, True])
def test_scratch_graphs_are_emptied_or_the_build_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deaf: bool
) -> None:
    process, url = start_oxigraph(tmp_path / "db")
    try:
        _assert_emptied_or_failed(RemoteStore(url + "/query", timeout=10), monkeypatch, deaf=deaf)
    finally:
        stop_process(process)


@pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")
def test_a_scratch_graph_still_shown_after_its_deletion_is_looked_at_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    lane = in_store.RULE_LANES[0]
    monkeypatch.setattr(in_store, "EMPTYING_PAUSE", 0.01)
    names = RemoteStore.graph_names
    shown: list[list[str]] = []

    def late(store: RemoteStore) -> list[str]:  # as Virtuoso 7.2 showed a deleted graph for a moment
        shown.append(names(store) + ([lane] if len(shown) == 1 else []))
        return shown[-1]

    monkeypatch.setattr(RemoteStore, "graph_names", late)
    process, url = start_oxigraph(tmp_path / "db")
    try:
        store = RemoteStore(url + "/query", timeout=10)
        store.update(f"INSERT DATA {{ GRAPH <{lane}> {{ <http://example.org/s> <http://example.org/p> 1 }} }}")
        assert in_store.emptied(store, SCRATCH_GRAPHS) == []
    finally:
        stop_process(process)
    assert shown == [[lane], [lane], []]
    assert len([m for m in caplog.messages if m.startswith(f"the store kept triples of {lane}")]) == 2


def _assert_emptied_or_failed(store: RemoteStore, monkeypatch: pytest.MonkeyPatch, *, deaf: bool) -> None:
    """A triple in a data graph and a rule lane: :func:`in_store.emptied` deletes the lane's, or fails when the store
    does not (``deaf``)."""
    lane, data = in_store.RULE_LANES[0], "http://example.org/data"
    triple = "<http://example.org/s> <http://example.org/p> <http://example.org/o>"
    store.update(f"INSERT DATA {{ GRAPH <{lane}> {{ {triple} }} GRAPH <{data}> {{ {triple} }} }}")
    if deaf:
        _deaf_to(monkeypatch, "DELETE { GRAPH ?g")
        monkeypatch.setattr(in_store, "EMPTYING_PAUSE", 0.01)
        with pytest.raises(RemoteStoreError) as raised:
            in_store.emptied(store, SCRATCH_GRAPHS)
        assert str(raised.value) == f"The SPARQL store kept triples of {lane} after deleting them"
    else:
        before = store.graph_names()
        names = in_store.emptied(store, SCRATCH_GRAPHS)
        assert names == [name for name in before if name != lane] == store.graph_names()
        assert data in names


class _Counted:
    """A store's graph counts, and the updates sent to it."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.updates: list[str] = []

    def graph_counts(self) -> dict[str, int]:
        return self.counts

    def update(self, sparql: str) -> None:
        self.updates.append(sparql)


def test_the_graphs_looked_up_are_the_inferred_one_the_two_largest_and_a_copy_of_the_others() -> None:
    counts = {
        "": 90_000,
        INFERRED_GRAPH: 50_000,
        SCRATCH_GRAPHS[0]: 99_999,
        "urn:g:big": 900_000,
        "urn:g:b": 20_000,
        "urn:g:a": 20_000,
        "urn:g:c": 15_000,
        "urn:g:small": 9_999,
    }
    store = _Counted(counts)
    copy = in_store.ASSERTED_COPY
    assert in_store._looked_up(store) == (INFERRED_GRAPH, "urn:g:big", "urn:g:a", copy)  # type: ignore[arg-type]
    assert store.updates == [f"ADD SILENT <urn:g:{name}> TO <{copy}>" for name in ("b", "c", "small")]
    only_small = _Counted({"urn:g:small": 9_999, "urn:g:smaller": 10})
    assert in_store._looked_up(only_small) == (INFERRED_GRAPH, copy)  # type: ignore[arg-type]
    assert only_small.updates == [f"ADD SILENT <urn:g:{name}> TO <{copy}>" for name in ("small", "smaller")]
    assert in_store._looked_up(_Counted({INFERRED_GRAPH: 5})) == (INFERRED_GRAPH,)  # type: ignore[arg-type]


@contextmanager
def _built_both_ways(fixture: str, tmp_path: Path) -> Iterator[tuple[Settings, KnowledgeGraph]]:
    """A fixture of ``tests/fixtures/infer`` built in memory and over a real Oxigraph server, the two inferred graphs
    and reports the same; the settings and the remote graph, its server running meanwhile."""
    data = (PROJECT / "tests" / "fixtures" / "infer" / fixture,)
    settings = Settings.from_env(environ={}, project_dir=PROJECT, data_dir=tmp_path / "data", data=data)
    in_memory = build(settings)
    process, url = start_oxigraph(tmp_path / "db")
    try:
        remote = build(settings.with_overrides(store=url))
        _assert_same(remote, in_memory)
        yield settings, remote
    finally:
        stop_process(process)


@pytest.mark.slow
@pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")
def test_a_closure_with_statements_to_drop_is_checked_for_consistency_as_in_memory(tmp_path: Path) -> None:
    # The consistency checks run while the statements about OWL's vocabulary are looked for; when some are dropped
    # (here "ex:thing a owl:Nothing"), they run again over the inferred graph as it is left.
    with _built_both_ways("subclass-of-nothing.ttl", tmp_path) as (settings, remote):
        expected = [
            "<http://example.org/nothing/thing> is a member of owl:Nothing as a "
            "<http://example.org/nothing/Impossible>, a subclass of it"
        ]
        assert [found.message for found in remote.inference.inconsistencies] == expected
        by_owlrl = build(settings.with_overrides(reasoner=ReasonerName.OWLRL, data_dir=tmp_path / "owlrl"))
        said = [found.message for found in by_owlrl.inference.inconsistencies]  # owlrl also types the member with
        assert expected[0] in said  # every class (owl:Nothing is a subclass of each), so more disjoint pairs follow
        assert not [message for message in said if "'Nothing'" in message]  # owlrl's own words for it, dropped
        thing = "<http://example.org/nothing/thing>"
        assert not remote.store.query(f"ASK {{ GRAPH <{INFERRED_GRAPH}> {{ {thing} a ?class }} }}")


@pytest.mark.slow
@pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")
def test_a_link_to_a_literal_turned_around_types_its_subject_in_the_store_as_in_memory(tmp_path: Path) -> None:
    with _built_both_ways("inverse-of-a-literal-link.ttl", tmp_path) as (_, remote):
        thing = "<http://example.org/literal/thing>"
        found = remote.store.query(f"SELECT ?c WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ {thing} a ?c }} }} ORDER BY ?c")
        assert [str(row["c"]) for row in found] == [  # type: ignore[union-attr]
            "<http://example.org/literal/Described>",
            "<http://example.org/literal/Labelled>",
        ]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[virtuoso.Virtuoso]:
    if virtuoso.SERVER is None:
        pytest.skip("Virtuoso is not installed (apt-get install virtuoso-opensource; .ci/run does)")
    with virtuoso.start(tmp_path_factory.mktemp("virtuoso"), buffers=10_000) as instance:
        yield instance


@pytest.mark.slow
def test_inference_in_virtuoso_equals_in_memory(
    in_memory: KnowledgeGraph, server: virtuoso.Virtuoso, tmp_path_factory: pytest.TempPathFactory
) -> None:
    remote = _build_over(server.endpoint, tmp_path_factory.mktemp("data"))
    _assert_same(remote, in_memory)
    assert open_store(server.endpoint).count(INFERRED_GRAPH) == in_memory.store.count(INFERRED_GRAPH)


@pytest.mark.slow
def test_inference_in_virtuoso_with_every_later_delta_taken_as_large_equals_in_memory(
    in_memory: KnowledgeGraph,
    server: virtuoso.Virtuoso,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The article's deltas are all small: the path a large one takes (at 1M triples, after the rules) is forced.
    monkeypatch.setattr(in_store, "LARGE_DELTA", 1)
    remote = _build_over(server.endpoint, tmp_path_factory.mktemp("data"))
    _assert_same(remote, in_memory)


@pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")
def test_ill_typed_literals_found_in_the_store_are_those_found_in_memory(tmp_path: Path) -> None:
    # Over Oxigraph's server, which keeps such literals as written (Virtuoso refuses an ill-typed integer outright).
    fixture = PROJECT / "tests" / "fixtures" / "infer" / "ill-typed-literals.ttl"
    graph = GRAPH_NS + "test/ill-typed"
    embedded = EmbeddedStore()
    load_paths(embedded, [fixture], root=fixture.parent)
    process, url = start_oxigraph(tmp_path / "db")
    try:
        remote = open_store(url, timeout=30)
        assert isinstance(remote, RemoteStore)
        remote.add(ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(graph)) for q in embedded.quads())
        many = ox.Literal("many", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
        elsewhere = ox.NamedNode("http://example.org/elsewhere")
        remote.add([ox.Quad(elsewhere, ox.NamedNode("http://example.org/p"), many, elsewhere)])  # not looked at
        found = in_store.ill_typed_literals(remote, [graph])
        remote.close()
    finally:
        stop_process(process)
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert (
        found
        == native.ill_typed_literals(embedded, None)
        == [
            f"Lexical value of the literal '2024-08-32' does not match its datatype ({xsd}date)",
            f"Lexical value of the literal 'thousands' does not match its datatype ({xsd}integer)",
        ]
    )


def test_distinct_subqueries_of_a_rule_are_flattened_only_when_nothing_can_change() -> None:
    flat = in_store._flatten(
        "CONSTRUCT { ?a <p> ?b } WHERE { ?a <q> ?b { SELECT DISTINCT ?b ?k WHERE { VALUES ?k { <x> <y> } ?b a ?k } } }"
    )
    assert flat == "CONSTRUCT { ?a <p> ?b } WHERE { ?a <q> ?b { VALUES ?k { <x> <y> } ?b a ?k } }"
    hidden = "CONSTRUCT { ?a <p> ?b } WHERE { ?a <q> ?b { SELECT DISTINCT ?b WHERE { ?b <r> ?hidden } } }"
    assert in_store._flatten(hidden) == hidden  # ?hidden is projected away: it could clash with an outer variable
    counted = (
        "CONSTRUCT { ?a <p> ?n } WHERE { { SELECT DISTINCT ?b WHERE { ?b <r> ?b } } "
        "{ SELECT ?a (COUNT(*) AS ?n) WHERE { ?a <q> ?b } GROUP BY ?a } }"
    )
    assert in_store._flatten(counted) == counted  # duplicates would change a count


def test_lookups_of_subjects_and_predicates_bound_earlier_are_keyed_and_no_others() -> None:
    where = (
        "WHERE { { VALUES ?kind { kg:Region } ?place rdf:type ?kind } ?operation kg:occurredIn ?place . "
        "{ ?operation <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> kg:MilitaryOperation } "
        "{ VALUES ?role { kg:attacker } } ?operation ?role ?force . ?force ?free ?x . "
        "?force a <https://w3id.org/kgraph/ontology#ArmedForce> . ?forces a kg:Force . "
        '?unit rdf:type kg:Unit ; kg:name ?name . ?force kg:name "Sever" }'
    )
    keyed = 'OPTION (TABLE_OPTION "index RDF_QUAD")'
    assert in_store._keyed_lookups(where) == (
        "WHERE { { VALUES ?kind { kg:Region } ?place rdf:type ?kind } ?operation kg:occurredIn ?place . "
        f"{{ ?operation <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> kg:MilitaryOperation {keyed} }} "
        f"{{ VALUES ?role {{ kg:attacker }} }} ?operation ?role ?force {keyed} . ?force ?free ?x . "
        f"?force a <https://w3id.org/kgraph/ontology#ArmedForce> {keyed} . ?forces a kg:Force . "
        '?unit rdf:type kg:Unit ; kg:name ?name . ?force kg:name "Sever" }'
    )  # not a first match (?place, ?operation's kg:occurredIn), an unbound predicate (?free), ?forces (never bound
    # before: ?force is another variable), a ';' list or a literal object


def test_annotations_left_out_of_the_schema_copy_change_no_compiled_rule() -> None:
    # in_store._schema_copy leaves rdfs:label, rdfs:comment... out: the ontology compiles the same without them.
    ontology = EmbeddedStore()
    load_paths(ontology, [PROJECT / "ontology" / "kgraph.ttl"], root=PROJECT)
    bare = EmbeddedStore()
    bare.add(quad for quad in ontology.quads() if quad.predicate not in closure.ANNOTATIONS)
    assert len(bare) < len(ontology)
    rules = native.load_owl_rl_rules()
    assert native.compile_schema(bare, None, rules) == native.compile_schema(ontology, None, rules)


def _term(name: str) -> ox.NamedNode:
    prefix, _, local = name.partition(":")
    return ox.NamedNode(PREFIXES[prefix] + local)


def _triple(s: str | ox.BlankNode, p: str, o: str | ox.BlankNode | ox.Literal) -> ox.Triple:
    return ox.Triple(
        s if isinstance(s, ox.BlankNode) else _term(s), _term(p), o if not isinstance(o, str) else _term(o)
    )


_MEANINGFUL = [
    _triple("kg:Kursk", "rdf:type", "kg:Region"),
    _triple("kg:Kursk", "owl:sameAs", "kg:KurskOblast"),
    _triple("kg:Kursk", "kg:name", ox.Literal("Kursk")),
    _triple(ox.BlankNode("b"), "kg:partOf", "owl:Thing"),
]
_MEANINGLESS = [
    _triple("owl:Thing", "kg:note", ox.Literal("x")),  # about a term of OWL's
    _triple("owl:sameAs", "kg:partOf", "kg:Region"),
    _triple("kg:Kursk", "rdf:type", "owl:Thing"),  # typed with a class of OWL's
    _triple("kg:Kursk", "owl:sameAs", "kg:Kursk"),  # the same as itself
    _triple("kg:Region", "rdfs:subClassOf", "kg:Place"),  # a predicate of RDFS or OWL
    _triple(ox.BlankNode("b"), "owl:equivalentClass", ox.BlankNode("b")),
]


def _assert_meaningless_dropped(url: str) -> None:
    remote = open_store(url, timeout=30)
    assert isinstance(remote, RemoteStore)
    graph = ox.NamedNode(INFERRED_GRAPH)
    remote.clear_graph(INFERRED_GRAPH)  # the store may be one a test above built
    remote.add(ox.Quad(t.subject, t.predicate, t.object, graph) for t in [*_MEANINGFUL, *_MEANINGLESS])
    assert in_store.drop_meaningless(remote, in_store.meaningless_found(remote))
    assert not in_store.drop_meaningless(remote, in_store.meaningless_found(remote))  # nothing left to drop
    left = {re.sub(r"_:\w+", "_:b", str(quad.triple)) for quad in remote.quads(graph=INFERRED_GRAPH)}  # relabelled
    remote.clear_graph(INFERRED_GRAPH)
    remote.close()
    assert left == {str(t) for t in _MEANINGFUL}
    both = [*_MEANINGFUL, *_MEANINGLESS]
    assert [t for t in both if native.is_meaningful((str(t.subject), str(t.predicate), str(t.object)))] == _MEANINGFUL


@pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (pip install oxigraph) is missing")
def test_statements_about_owl_vocabulary_are_dropped_from_the_inferred_graph_as_in_memory(tmp_path: Path) -> None:
    process, url = start_oxigraph(tmp_path / "db")
    try:
        _assert_meaningless_dropped(url)
    finally:
        stop_process(process)


@pytest.mark.slow
def test_statements_about_owl_vocabulary_are_dropped_in_virtuoso_too(server: virtuoso.Virtuoso) -> None:
    _assert_meaningless_dropped(server.endpoint)


@pytest.mark.slow
def test_a_scratch_graph_is_emptied_in_virtuoso_too(server: virtuoso.Virtuoso, monkeypatch: pytest.MonkeyPatch) -> None:
    store = RemoteStore(server.endpoint, timeout=30).unlogged_copy()  # as inference writes
    try:
        _assert_emptied_or_failed(store, monkeypatch, deaf=False)
    finally:
        store.clear_graph("http://example.org/data")


def _rule(construct: str) -> Rule:
    return Rule("test", Path("test.rq"), "test", "", construct)


@pytest.mark.slow
def test_a_one_triple_rule_inserts_in_virtuoso_the_distinct_values_its_select_finds(
    server: virtuoso.Virtuoso,
) -> None:
    remote = open_store(server.endpoint, timeout=30)
    assert isinstance(remote, RemoteStore)
    data, target, ex = GRAPH_NS + "test/rule-data", GRAPH_NS + "test/rule-target", "http://example.org/rule/"
    other = GRAPH_NS + "test/not-read"
    q, a, b, c = (ox.NamedNode(ex + name) for name in ("q", "a", "b", "c"))
    remote.add([ox.Quad(a, q, b, ox.NamedNode(data)), ox.Quad(b, q, c, ox.NamedNode(data))])
    remote.add([ox.Quad(c, q, a, ox.NamedNode(other))])  # in the store, not in the graphs the rule reads
    chained = _rule(f"CONSTRUCT {{ ?x <{ex}p> ?z }} WHERE {{ ?x <{ex}q> ?y . ?y <{ex}q> ?z }}")
    reflexive = _rule(f"CONSTRUCT {{ ?x a ?x }} WHERE {{ ?x <{ex}q> ?y }}")
    constant = _rule(f"CONSTRUCT {{ <{ex}a> <{ex}p> <{ex}b> }} WHERE {{ ?x <{ex}q> ?y }}")
    try:
        rules = in_store.StoreRules(remote, [data])
        updates = [rules.update(rule, target) for rule in (chained, reflexive, constant)]
        for update in updates:
            remote.update(update)
        found = {str(quad.triple) for quad in remote.quads(graph=target)}
    finally:
        for graph in (data, target, other):
            remote.clear_graph(graph)
        remote.close()
    assert f"{{ SELECT DISTINCT ?x ?z WHERE {{ ?x <{ex}q> ?y . ?y <{ex}q> ?z }} LIMIT " in updates[0]
    assert f"INSERT {{ GRAPH <{target}> {{ ?x <{ex}p> ?z }} }} WHERE {{ {{ SELECT DISTINCT ?x ?z WHERE" in updates[0]
    typed = f"INSERT {{ GRAPH <{target}> {{ ?x {in_store.TYPE} ?x }} }} WHERE {{ {{ SELECT DISTINCT ?x WHERE"
    assert typed in updates[1]
    assert "SELECT DISTINCT" not in updates[2]  # no variable to select: the rule's own INSERT
    assert found == {
        f"<{ex}a> <{ex}p> <{ex}c>",
        f"<{ex}a> {in_store.TYPE} <{ex}a>",
        f"<{ex}b> {in_store.TYPE} <{ex}b>",
        f"<{ex}a> <{ex}p> <{ex}b>",
    }  # not <c> p <b> nor <c> a <c>: <c> q <a> is in a graph left out


def test_the_subjects_in_owls_own_namespaces_are_picked_from_a_csv_answer_quoted_or_not() -> None:
    built_in = [ns + "Thing" for ns in BUILT_IN_NAMESPACES]
    near = [
        "http://wwwxw3.org/2002/07/owl#Thing",
        "http://www.w3.org/2002/07/owlThing",
        "https://www.w3.org/2002/07/owl#Thing",
        "http://example.org/http://www.w3.org/2002/07/owl#Thing",
        "http://www.w3.org/2006/time#unitYear",
        "_:b0",
        "nodeID://b10044",
    ]
    virtuoso_csv = "\r\n".join(['"x"', *(f'"{iri}"' for iri in built_in + near)]).encode()
    standard_csv = "\n".join(["x", *near, *built_in, ""]).encode()
    for answer in (virtuoso_csv, standard_csv):
        assert in_store._built_in_subjects((answer, "text/csv")) == [ox.NamedNode(iri) for iri in built_in]


_DEADLOCKED = (
    "The SPARQL store at http://127.0.0.1:1/sparql answered 500: Virtuoso 40001 Error SR172: Transaction deadlocked"
)


def test_each_job_runs_once_on_one_of_the_lanes_and_both_lanes_work() -> None:
    ran: list[tuple[str, str]] = []
    both_busy = threading.Barrier(2, timeout=10)  # passes only when two jobs run at once, one a lane

    def job(name: str) -> Callable[[str], None]:
        def run(lane: str) -> None:
            if name in ("first", "second"):
                both_busy.wait()
            ran.append((name, lane))

        return run

    names = ["first", "second", "third", "fourth", "fifth"]
    in_store.in_lanes([(name, job(name)) for name in names], ["urn:lane-a", "urn:lane-b"])
    assert sorted(name for name, _ in ran) == sorted(names)
    assert {lane for name, lane in ran if name in ("first", "second")} == {"urn:lane-a", "urn:lane-b"}


def test_a_job_ended_as_a_deadlocks_victim_is_sent_again() -> None:
    attempts: list[str] = []

    def deadlocked_once(lane: str) -> None:
        attempts.append(lane)
        if len(attempts) == 1:
            raise RemoteStoreError(_DEADLOCKED)

    in_store.in_lanes([("once", deadlocked_once)], ["urn:lane-a", "urn:lane-b"])
    assert len(attempts) == 2
    assert len(set(attempts)) == 1  # sent again on its own lane


def test_a_job_deadlocked_every_time_or_failing_otherwise_fails_the_round() -> None:
    attempts: list[str] = []

    def deadlocked(lane: str) -> None:
        attempts.append(lane)
        raise RemoteStoreError(_DEADLOCKED)

    def refused(lane: str) -> None:
        attempts.append(lane)
        raise RemoteStoreError("The SPARQL store at http://127.0.0.1:1/sparql answered 500: out of disk")

    with pytest.raises(RemoteStoreError, match="40001"):
        in_store.in_lanes([("always", deadlocked)], ["urn:lane-a"])
    assert len(attempts) == in_store.DEADLOCK_RETRIES + 1
    attempts.clear()
    with pytest.raises(RemoteStoreError, match="out of disk"):
        in_store.in_lanes([("refused", refused)], ["urn:lane-a"])
    assert len(attempts) == 1


def _one_domain_schema() -> tuple[native.Schema, OnePremiseTables]:
    schema = native.Schema(domains=defaultdict(set, {"<urn:p>": {"<urn:C>"}}))
    return schema, one_premise_tables(schema)


def test_later_rounds_look_conclusions_up_by_virtuosos_primary_key() -> None:
    schema, tables = _one_domain_schema()
    graphs = ("VALUES ?G { <urn:delta> } GRAPH ?G { {} }", "", ("urn:known",))
    [(name, update)] = in_store.owl_rl_updates(schema, tables, graphs, "urn:new", for_virtuoso=True)
    assert name == "types of subjects"
    assert update == (
        f"{in_store.IN_WRITTEN_ORDER}INSERT {{ GRAPH <urn:new> {{ ?s {in_store.TYPE} ?d }} }} WHERE {{ "
        "VALUES (?p ?d) { (<urn:p> <urn:C>) } VALUES ?g_s_p_o { <urn:delta> } GRAPH ?g_s_p_o { ?s ?p ?o }  "
        f"FILTER NOT EXISTS {{ GRAPH <urn:known> {{ ?s {in_store.TYPE} ?d{in_store.BY_PRIMARY_KEY} }} }} }}"
    )
    [(_, elsewhere)] = in_store.owl_rl_updates(schema, tables, graphs, "urn:new")
    assert in_store.BY_PRIMARY_KEY not in elsewhere and in_store.IN_WRITTEN_ORDER not in elsewhere


def test_the_first_rounds_sets_are_halved_by_conclusion_balanced_by_the_triples_their_rows_match() -> None:
    n = ox.NamedNode
    counts = in_store.TermCounts(
        {n("urn:p"): 50, n("urn:q"): 30, n("urn:r"): 25}, {n("urn:C"): 40, n("urn:p"): 1_000}
    )  # urn:p as a class weighs for the types of classes only
    branches = [
        ("of classes", frozenset({("<urn:C>", "<urn:D>"), ("<urn:C>", "<urn:E>")}), "?c ?d", "?s a ?c", ""),
        ("of subjects", frozenset({("<urn:p>", "<urn:D>"), ("<urn:q>", "<urn:F>")}), "?p ?d", "?s ?p ?o", ""),
        ("of objects", frozenset({("<urn:r>", "<urn:E>"), ("<urn:x>", "<urn:G>")}), "?p ?d", "?o ?p ?s", "F"),
    ]
    first, second = in_store._halves(branches, counts)
    # D weighs 40 + 50, E 40 + 25, F 30, G 0 (nothing counted), each to the lighter half: D, E, F (65 < 90), G
    assert [rows for _, rows, *_ in first] == [
        frozenset({("<urn:C>", "<urn:D>")}),
        frozenset({("<urn:p>", "<urn:D>")}),
        frozenset({("<urn:x>", "<urn:G>")}),
    ]
    assert [rows for _, rows, *_ in second] == [
        frozenset({("<urn:C>", "<urn:E>")}),
        frozenset({("<urn:q>", "<urn:F>")}),
        frozenset({("<urn:r>", "<urn:E>")}),
    ]
    assert [rest for _, _, *rest in first] == [rest for _, _, *rest in branches] == [rest for _, _, *rest in second]


def test_the_first_round_leaves_its_look_ups_to_virtuoso_and_skips_the_graph_it_fills() -> None:
    schema, tables = _one_domain_schema()
    looked_up = in_store._not_written((INFERRED_GRAPH, "urn:generated", in_store.ASSERTED_COPY))
    assert looked_up == ("urn:generated", in_store.ASSERTED_COPY)
    graphs = ("VALUES ?G { <urn:generated> } GRAPH ?G { {} }", "", looked_up)
    updates = dict(
        in_store.owl_rl_updates(schema, tables, graphs, INFERRED_GRAPH, selected_at_once=True, for_virtuoso=True)
    )
    assert list(updates) == ["types"]
    assert f"GRAPH <{INFERRED_GRAPH}> {{ ?s" not in updates["types"].split("WHERE", 1)[1]
    assert "FILTER NOT EXISTS { GRAPH <urn:generated>" in updates["types"]
    assert in_store.BY_PRIMARY_KEY not in updates["types"]  # measured slower there (see owl_rl_updates)


def test_conclusions_of_terms_no_asserted_graph_holds_are_looked_up_in_the_inferred_graph_alone() -> None:
    schema = native.Schema(domains=defaultdict(set, {"<urn:p>": {"<urn:C>", "<urn:D>"}, "<urn:q>": {"<urn:D>"}}))
    tables = one_premise_tables(schema)
    n = ox.NamedNode
    asserted = in_store.TermCounts({n("urn:p"): 3, n("urn:q"): 2}, {n("urn:C"): 1})  # no triple says "a urn:D"
    first = ("VALUES ?G { <urn:generated> } GRAPH ?G { {} }", "", ("urn:generated", in_store.ASSERTED_COPY))
    updates = dict(
        in_store.owl_rl_updates(
            schema, tables, first, INFERRED_GRAPH, selected_at_once=True, for_virtuoso=True, asserted=asserted
        )
    )
    assert list(updates) == ["types, unasserted", "types"]
    assert "(<urn:p> <urn:D>) (<urn:q> <urn:D>)" in updates["types, unasserted"]
    assert "<urn:C>" not in updates["types, unasserted"] and "NOT EXISTS" not in updates["types, unasserted"]
    assert "VALUES (?p ?d) { (<urn:p> <urn:C>) }" in updates["types"]
    assert "<urn:D>" not in updates["types"]
    assert updates["types"].count("FILTER NOT EXISTS") == 2
    # a later round, one table at a time: a table that may conclude an asserted triple looks each up everywhere
    later = ("VALUES ?G { <urn:delta> } GRAPH ?G { {} }", "", (INFERRED_GRAPH, "urn:generated"))
    only_d = native.Schema(domains=defaultdict(set, {"<urn:q>": {"<urn:D>"}}))
    [(_, update)] = in_store.owl_rl_updates(only_d, one_premise_tables(only_d), later, "urn:new", asserted=asserted)
    assert f"FILTER NOT EXISTS {{ GRAPH <{INFERRED_GRAPH}>" in update and "GRAPH <urn:generated>" not in update
    [(_, update)] = in_store.owl_rl_updates(schema, tables, later, "urn:new", asserted=asserted)
    assert "GRAPH <urn:generated>" in update
    [(_, update)] = in_store.owl_rl_updates(only_d, one_premise_tables(only_d), later, "urn:new")
    assert "GRAPH <urn:generated>" in update  # what the asserted graphs hold is not known: every look-up


def test_a_closure_runs_while_the_rules_read_and_its_failure_is_raised_once_both_are_over() -> None:
    both_busy = threading.Barrier(2, timeout=10)  # passes only when both run at once
    done: list[str] = []
    in_store._at_once(
        lambda: (both_busy.wait(), done.append("closure")), lambda: (both_busy.wait(), done.append("rules"))
    )
    assert sorted(done) == ["closure", "rules"]

    def failing() -> None:
        raise RemoteStoreError("The SPARQL store at http://127.0.0.1:1/sparql answered 500: out of disk")

    done.clear()
    with pytest.raises(RemoteStoreError, match="out of disk"):
        in_store._at_once(failing, lambda: done.append("rules"))
    assert done == ["rules"]
    in_store._at_once(None, lambda: done.append("alone"))
    assert done == ["rules", "alone"]
