"""Writes as validated transactions: committed with their inferences, or refused leaving the store as it was."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.config import INFERRED_GRAPH, ReasonerName, Settings
from kgraph.export import export_graph
from kgraph.graph import KnowledgeGraph, build, checkpoint
from kgraph.journal import Journal
from kgraph.sparql.errors import QuerySyntaxError, SparqlError
from kgraph.sparql.update import with_using
from kgraph.write_policy import DerivedGraphRead, WriteForbidden
from kgraph.writes import (
    PROVENANCE_GRAPH,
    Delta,
    Writer,
    WriteRejected,
    WriteTooLarge,
    WriteUnavailable,
)

PROJECT = Path(__file__).parent / "fixtures" / "writes"
PREFIXES = (
    "PREFIX kg: <https://w3id.org/kgraph/ontology#>\n"
    "PREFIX kgr: <https://w3id.org/kgraph/id/>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)
LGOV = PREFIXES + 'INSERT DATA { kgr:lgov a kg:Settlement ; rdfs:label "Lgov"@en ; kg:locatedIn kgr:kursk-oblast }'
CONTRIB = "https://w3id.org/kgraph/graph/contrib/alice"
KGR = "https://w3id.org/kgraph/id/"
KG = "https://w3id.org/kgraph/ontology#"
PREFIXES_RDFS = "http://www.w3.org/2000/01/rdf-schema#"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(environ={}, project_dir=PROJECT, data_dir=tmp_path)


@pytest.fixture
def graph(settings: Settings) -> KnowledgeGraph:
    return build(settings)


@pytest.fixture
def deltas() -> list[Delta]:
    return []


@pytest.fixture
def writer(graph: KnowledgeGraph, settings: Settings, deltas: list[Delta]) -> Writer:
    return Writer(graph, Journal(settings.data_dir), on_commit=deltas.append)


def ask(graph: KnowledgeGraph, pattern: str) -> bool:
    return bool(graph.store.query(PREFIXES + f"ASK {{ {pattern} }}"))


def dump(graph: KnowledgeGraph) -> bytes:
    return ox.serialize(sorted(graph.store.quads(), key=str), format=ox.RdfFormat.N_QUADS)


def test_a_valid_write_lands_in_the_contributors_graph_with_its_inferences(
    writer: Writer, graph: KnowledgeGraph, deltas: list[Delta]
) -> None:
    result = writer.update(LGOV, who="alice")
    assert (result.added, result.removed, result.inferred_added, result.inferred_removed) == (3, 0, 2, 0)
    assert ask(graph, f"GRAPH <{CONTRIB}> {{ kgr:lgov a kg:Settlement }}")
    assert ask(graph, f"GRAPH <{INFERRED_GRAPH}> {{ kgr:lgov a kg:Place ; kg:locatedIn kgr:russia }}")
    [delta] = deltas
    assert (
        ox.Quad(
            ox.NamedNode(KGR + "lgov"),
            ox.NamedNode(KG + "locatedIn"),
            ox.NamedNode(KGR + "russia"),
            ox.NamedNode(INFERRED_GRAPH),
        )
        in delta.added
    )


def test_each_write_records_who_and_when(writer: Writer, graph: KnowledgeGraph, settings: Settings) -> None:
    result = writer.update(LGOV, who="alice")
    rows = list(
        graph.store.query(
            "PREFIX prov: <http://www.w3.org/ns/prov#> SELECT ?who ?when ?g WHERE { GRAPH <" + PROVENANCE_GRAPH + "> {"
            f" <https://w3id.org/kgraph/write/{result.id}> a prov:Activity ; prov:wasAssociatedWith ?who ;"
            " prov:endedAtTime ?when ; prov:generated ?g } }"
        )
    )
    assert [(r["who"].value, r["g"].value) for r in rows] == [("https://w3id.org/kgraph/agent/alice", CONTRIB)]
    [entry] = Journal(settings.data_dir).entries()
    recorded = datetime.fromisoformat(rows[0]["when"].value)  # the store writes 12:00:00.780Z as 12:00:00.78Z
    assert (entry.id, entry.who, datetime.fromisoformat(entry.time)) == (result.id, "alice", recorded)


def test_an_invalid_write_is_refused_with_the_report_and_changes_nothing(
    writer: Writer, graph: KnowledgeGraph, settings: Settings, deltas: list[Delta]
) -> None:
    before, count = dump(graph), len(graph.store)
    update = PREFIXES + "INSERT DATA { kgr:x a kg:Settlement ; kg:locatedIn kgr:russia . kgr:sudzha a kg:Person }"
    with pytest.raises(WriteRejected) as refused:
        writer.update(update + " ; INSERT DATA { kgr:y a kg:Setlement }", who="alice")
    assert refused.value.status == 422
    assert refused.value.message == (
        "kg:Setlement is not declared in the ontology; did you mean kg:Settlement?\n"
        "kgr:sudzha is both a kg:Person and a kg:Place, which are disjoint (ontology/mini.ttl)\n"
        "    kgr:sudzha rdf:type kg:Person\n"
        "    kgr:sudzha rdf:type kg:Place\n"
        "kgr:x rdfs:label: A place needs a name (rdfs:label). (expected at least 1 value(s), found 0)\n"
        "3 problems found\n"
    )
    assert (dump(graph), len(graph.store)) == (before, count)
    assert deltas == []
    assert list(Journal(settings.data_dir).entries()) == []


def test_a_write_that_breaks_an_untouched_node_pointing_at_it_is_refused(writer: Writer) -> None:
    writer.update(
        PREFIXES + 'INSERT DATA { kgr:a rdfs:label "A" ; kg:locatedIn kgr:b . kgr:b rdfs:label "B" }', who="alice"
    )
    with pytest.raises(WriteRejected, match="kgr:b rdfs:label"):
        writer.update(PREFIXES + 'DELETE DATA { kgr:b rdfs:label "B" } ; INSERT DATA { kgr:b a kg:Place }', who="alice")


def test_the_project_files_graphs_are_read_only(writer: Writer, graph: KnowledgeGraph) -> None:
    count = len(graph.store)
    with pytest.raises(WriteForbidden, match=r"data/ttl/places\.ttl>, which is read-only over HTTP"):
        writer.update("DROP GRAPH <https://w3id.org/kgraph/graph/data/ttl/places.ttl>", who="alice")
    with pytest.raises(WriteForbidden):
        writer.delete_graph(INFERRED_GRAPH, who="alice")
    assert len(graph.store) == count


def test_an_update_without_graph_deletes_from_the_contributors_graph(writer: Writer, graph: KnowledgeGraph) -> None:
    writer.update(LGOV, who="alice")
    result = writer.update(PREFIXES + "DELETE WHERE { kgr:lgov ?p ?o }", who="alice")
    assert (result.removed, result.inferred_removed) == (3, 2)
    assert not ask(graph, "kgr:lgov ?p ?o")


def test_a_malformed_update_is_a_located_syntax_error(writer: Writer) -> None:
    with pytest.raises(QuerySyntaxError, match="line 1"):
        writer.update("INSERT DATA { <a> }", who="alice")


def test_graph_store_operations(writer: Writer, graph: KnowledgeGraph) -> None:
    g = "http://example.org/g"
    triple = ox.Quad(ox.NamedNode(KGR + "kursk"), ox.NamedNode(KG + "locatedIn"), ox.NamedNode(KGR + "russia"))
    writer.put_graph(g, [triple], who="alice")
    assert graph.store.count(g) == 1
    writer.post_graph(g, [ox.Quad(triple.subject, triple.predicate, ox.NamedNode(KGR + "sudzha"))], who="alice")
    assert graph.store.count(g) == 2
    writer.delete_graph(g, who="alice")
    assert graph.store.count(g) == 0


def test_a_restart_replays_the_journal(writer: Writer, settings: Settings) -> None:
    writer.update(LGOV, who="alice")
    restarted = build(settings)
    assert ask(restarted, f"GRAPH <{CONTRIB}> {{ kgr:lgov rdfs:label 'Lgov'@en }}")
    assert ask(restarted, f"GRAPH <{INFERRED_GRAPH}> {{ kgr:lgov a kg:Place }}")


def test_export_includes_the_writes(writer: Writer, settings: Settings) -> None:
    writer.update(LGOV, who="alice")
    turtle = export_graph(build(settings), "turtle").decode()
    assert 'kgr:lgov a kg:Settlement ;\n\trdfs:label "Lgov"@en ;' in turtle
    assert "kgr:lgov a kg:Place" not in export_graph(build(settings), "ntriples").decode()
    assert f"<{KGR}lgov> a kg:Place" in export_graph(build(settings), "trig", inferred=True).decode().replace(
        "kgr:lgov", f"<{KGR}lgov>"
    )


def test_the_where_clause_sees_the_contributors_graph_unless_using_names_others(
    writer: Writer, graph: KnowledgeGraph
) -> None:
    tag = PREFIXES + 'INSERT { ?s rdfs:comment "seen" } WHERE { ?s a kg:Settlement }'
    assert writer.update(tag, who="alice").id == ""  # the contributor's graph is empty: nothing matches
    files = "https://w3id.org/kgraph/graph/data/ttl/places.ttl"
    assert writer.update(with_using(tag, [files], []), who="alice").added == 1
    assert ask(graph, f"GRAPH <{CONTRIB}> {{ kgr:sudzha rdfs:comment 'seen' }}")


def test_the_export_command_writes_the_graph_with_the_journaled_writes(writer: Writer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kgraph.cli import main

    writer.update(LGOV, who="alice")
    out = tmp_path / "export.nt"
    env = {"KGRAPH_PROJECT_DIR": str(PROJECT), "KGRAPH_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["export", "--format", "ntriples", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert f'<{KGR}lgov> <http://www.w3.org/2000/01/rdf-schema#label> "Lgov"@en .' in lines
    assert not any(line.startswith(f"<{KGR}lgov> <{KG}locatedIn> <{KGR}russia>") for line in lines)
    inferred = CliRunner().invoke(main, ["export", "--inferred", "--format", "ntriples"], env=env)
    assert f"<{KGR}lgov> <{KG}locatedIn> <{KGR}russia> ." in inferred.output.splitlines()


def test_an_on_disk_store_is_patched_in_place_and_replay_is_idempotent(tmp_path: Path) -> None:
    settings = Settings.from_env(environ={}, project_dir=PROJECT, data_dir=tmp_path, store=str(tmp_path / "db"))
    graph = build(settings)
    store = graph.store
    Writer(graph, Journal(tmp_path)).update(LGOV, who="alice")
    assert graph.store is store
    assert ask(graph, f"GRAPH <{INFERRED_GRAPH}> {{ kgr:lgov a kg:Place }}")
    count = len(store)
    store.close()
    reopened = build(settings)
    assert len(reopened.store) == count
    reopened.store.close()


def test_another_contributors_graph_is_read_only(writer: Writer) -> None:
    writer.update(LGOV, who="alice")
    with pytest.raises(WriteForbidden, match=r"contrib/alice>, which is read-only over HTTP"):
        writer.update(f"DROP GRAPH <{CONTRIB}>", who="bob")


SAME_AS = (
    PREFIXES + "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n"
    'INSERT DATA { kgr:lgov a kg:Settlement ; rdfs:label "Lgov"@en ; owl:sameAs kgr:sudzha }'
)
"""A write native cannot reason over (equality): the closure goes to owlrl, for this write and the ones after."""


def test_after_a_write_that_needs_owlrl_later_writes_still_succeed(writer: Writer, graph: KnowledgeGraph) -> None:
    writer.update(SAME_AS, who="alice")
    report = graph.inference
    assert (report.engine, report.fallback) == (
        ReasonerName.OWLRL,
        "native does not implement <http://www.w3.org/2002/07/owl#sameAs>",
    )
    assert report.reasoner == "owlrl (native does not implement <http://www.w3.org/2002/07/owl#sameAs>)"
    assert writer.reasoner is ReasonerName.NATIVE  # the setting, not what ran last
    assert ask(graph, f"GRAPH <{INFERRED_GRAPH}> {{ kgr:lgov kg:locatedIn kgr:kursk-oblast }}")
    assert writer.update(PREFIXES + 'INSERT DATA { kgr:oboyan a kg:Settlement ; rdfs:label "Oboyan"@en }', who="alice")
    assert ask(graph, f"GRAPH <{INFERRED_GRAPH}> {{ kgr:oboyan a kg:Place }}")
    writer.update(PREFIXES + "DELETE WHERE { kgr:lgov ?p ?o }", who="alice")
    assert (graph.inference.engine, graph.inference.fallback) == (ReasonerName.NATIVE, "")


def test_after_a_restart_that_replays_a_write_needing_owlrl_writes_succeed(writer: Writer, settings: Settings) -> None:
    writer.update(SAME_AS, who="alice")
    restarted = build(settings)
    assert restarted.inference.engine is ReasonerName.OWLRL
    again = Writer.from_settings(restarted, settings)
    result = again.update(PREFIXES + 'INSERT DATA { kgr:oboyan a kg:Settlement ; rdfs:label "Oboyan"@en }', who="bob")
    assert (result.added, result.inferred_added) == (2, 1)
    assert ask(
        restarted, f"GRAPH <{INFERRED_GRAPH}> {{ kgr:oboyan a kg:Place . kgr:lgov kg:locatedIn kgr:kursk-oblast }}"
    )


def test_an_on_disk_store_keeps_the_engine_that_ran_as_a_typed_value(tmp_path: Path) -> None:
    settings = Settings.from_env(environ={}, project_dir=PROJECT, data_dir=tmp_path, store=str(tmp_path / "db"))
    graph = build(settings)
    Writer.from_settings(
        graph, settings, on_commit=lambda delta: checkpoint(graph, settings, (delta.added, delta.removed))
    ).update(SAME_AS, who="alice")
    graph.store.close()
    reopened = build(settings)  # nothing to replay: the report comes from the manifest
    assert (reopened.inference.engine, reopened.inference.fallback) == (
        ReasonerName.OWLRL,
        "native does not implement <http://www.w3.org/2002/07/owl#sameAs>",
    )
    result = Writer.from_settings(reopened, settings).update(LGOV.replace("lgov", "oboyan"), who="bob")
    assert result.added == 3
    reopened.store.close()


OWL = "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n"


@pytest.mark.parametrize(
    ("statement", "triple", "why"),
    [
        (
            "kg:Settlement rdfs:subClassOf kg:Person",
            "kg:Settlement rdfs:subClassOf kg:Person",
            "its subject kg:Settlement is a term of the ontology",
        ),
        (
            "kgr:ally rdfs:subPropertyOf kg:locatedIn",
            "kgr:ally rdfs:subPropertyOf kg:locatedIn",
            "a rdfs:subPropertyOf axiom",
        ),
        (
            "kgr:near a owl:SymmetricProperty",
            "kgr:near rdf:type owl:SymmetricProperty",
            "it declares a owl:SymmetricProperty",
        ),
        ("kgr:x owl:sameAs kg:Place", "kgr:x owl:sameAs kg:Place", "owl:sameAs a term of the ontology, kg:Place"),
        (
            "owl:Thing rdfs:label 'thing'",
            'owl:Thing rdfs:label "thing"',
            "its subject owl:Thing is RDF, RDFS or OWL vocabulary",
        ),
        ("kgr:o owl:imports kgr:other", "kgr:o owl:imports kgr:other", "a owl:imports axiom"),
        ("_:r owl:onProperty kg:locatedIn", "_:r owl:onProperty kg:locatedIn", "a owl:onProperty axiom"),
    ],
)
def test_a_schema_statement_is_refused_and_changes_nothing(
    writer: Writer, graph: KnowledgeGraph, settings: Settings, statement: str, triple: str, why: str
) -> None:
    before = dump(graph)
    with pytest.raises(WriteRejected) as refused:
        writer.update(PREFIXES + OWL + f"INSERT DATA {{ {statement} }}", who="alice")
    assert refused.value.status == 422
    message = refused.value.message.splitlines()
    assert message[0] == (
        f"The write adds a schema statement ({why}): contributions are data, the ontology changes by pull request "
        "to ontology/, checked by kgraph validate"
    )
    subject, rest = message[1].strip().split(" ", 1)
    assert (subject if not subject.startswith("_:") else "_:r") + " " + rest == triple
    assert dump(graph) == before
    assert list(Journal(settings.data_dir).entries()) == []


def test_data_with_types_labels_and_identity_between_individuals_is_accepted(writer: Writer) -> None:
    result = writer.update(
        PREFIXES + OWL + 'INSERT DATA { kgr:lgov a kg:Settlement, owl:NamedIndividual ; rdfs:label "Lgov" ; '
        "rdfs:comment 'a town' ; owl:differentFrom kgr:sudzha }",
        who="alice",
    )
    assert result.added == 5


def test_removing_a_schema_statement_is_refused_too(writer: Writer, graph: KnowledgeGraph) -> None:
    mine = ox.Quad(ox.NamedNode(KGR + "p"), ox.NamedNode(KG + "locatedIn"), ox.NamedNode(KGR + "q"))
    graph.store.add(
        [ox.Quad(ox.NamedNode(KG + "Place"), ox.NamedNode(KG + "locatedIn"), mine.object, ox.NamedNode(CONTRIB))]
    )
    with pytest.raises(WriteRejected, match=r"^The write removes a schema statement \(its subject kg:Place"):
        writer.update(PREFIXES + "DELETE WHERE { kg:Place ?p ?o }", who="alice")


def test_copying_the_inferred_graph_into_an_asserted_one_is_refused(writer: Writer, graph: KnowledgeGraph) -> None:
    before = dump(graph)
    for update in (
        f"ADD <{INFERRED_GRAPH}> TO <http://example.org/g1>",
        f"COPY <{PROVENANCE_GRAPH}> TO <http://example.org/g1>",
        "PREFIX kgg: <https://w3id.org/kgraph/graph/> MOVE kgg:inferred TO <http://example.org/g1>",
        "BASE <https://w3id.org/kgraph/graph/> INSERT { ?s ?p ?o } WHERE { GRAPH <inferred> { ?s ?p ?o } }",
    ):
        with pytest.raises(DerivedGraphRead) as refused:
            writer.update(update, who="alice")
        assert refused.value.status == 403
    assert str(refused.value).startswith(
        f"The update names <{INFERRED_GRAPH}>, the inferred graph: the server derives it, so it is never the source "
        "of a write"
    )
    laundering = (
        "INSERT { GRAPH <http://example.org/g1> { ?s ?p ?o } } "
        "WHERE { GRAPH ?g { ?s a kg:Place } . GRAPH ?g { ?s ?p ?o } }"
    )
    result = writer.update(PREFIXES + laundering, who="alice")  # sees the asserted graphs only
    assert not ask(graph, "GRAPH <http://example.org/g1> { kgr:sudzha a kg:Place }")
    assert ask(graph, "GRAPH <http://example.org/g1> { kgr:kursk-oblast a kg:Place }")
    assert result.added == 5
    assert dump(graph) != before


def chain(count: int) -> str:
    """An update adding ``count`` named places, each located in the next: the transitive closure is quadratic."""
    places = " ".join(f'kgr:p{i} a kg:Place ; rdfs:label "P{i}" ; kg:locatedIn kgr:p{i + 1} .' for i in range(count))
    return PREFIXES + f'INSERT DATA {{ {places} kgr:p{count} a kg:Place ; rdfs:label "P{count}" }}'


def refused_changing_nothing(writer: Writer, update: str, error: type[SparqlError], status: int) -> str:
    """The message of a write refused with ``error`` and ``status``, after checking the store and journal kept."""
    before = dump(writer.graph)
    with pytest.raises(error) as refused:
        writer.update(update, who="alice")
    assert refused.value.status == status
    assert dump(writer.graph) == before
    assert list(writer.journal.entries()) == []
    return refused.value.message


def test_a_write_that_would_infer_too_much_is_refused_with_the_numbers(
    graph: KnowledgeGraph, settings: Settings
) -> None:
    writer = Writer(graph, Journal(settings.data_dir), max_inferred=1000)
    message = refused_changing_nothing(writer, chain(100), WriteTooLarge, 422)  # 100 * 101 / 2 - 100 = 4950
    assert re.fullmatch(
        r"The write would add \d+ or more inferred triples; one write may add 1000 \(--max-write-inferred\)\. "
        r"Nothing was changed; send it in smaller parts, or propose the data by pull request\.",
        message,
    )
    assert int(message.split()[4]) > 1000
    assert writer.update(chain(10), who="alice").inferred_added == 11 * 10 // 2 - 10  # the locatedIn closure


def test_a_write_past_its_time_limit_is_refused_and_the_next_one_goes_through(
    graph: KnowledgeGraph, settings: Settings
) -> None:
    writer = Writer(graph, Journal(settings.data_dir), timeout=0.2)
    message = refused_changing_nothing(writer, chain(400), WriteUnavailable, 503)  # 80,000 inferred: seconds
    assert re.fullmatch(
        r"The write was stopped after \d+\.\d s: one write may take 0\.2 s \(--write-timeout\), inference and "
        r"validation included\. Nothing was changed; send it in smaller parts\.",
        message,
    )
    writer.timeout = 30
    assert writer.update(LGOV, who="alice").added == 3


@pytest.mark.parametrize("on_disk", [False, True], ids=["in-memory", "on-disk"])
def test_each_writes_delta_is_exactly_what_changed_in_the_store(tmp_path: Path, on_disk: bool) -> None:
    """The delta the workers are sent is recorded as the write is made, not computed by comparing the store before
    and after: compared here with that comparison, for every kind of write, accepted and refused."""
    store = str(tmp_path / "store") if on_disk else None
    settings = Settings.from_env(environ={}, project_dir=PROJECT, data_dir=tmp_path / "data", store=store)
    graph = build(settings)
    deltas: list[Delta] = []
    writer = Writer(graph, Journal(settings.data_dir), on_commit=deltas.append)
    sudzha = PREFIXES + 'INSERT DATA { kgr:sudzha rdfs:comment "on the Sudzha river"@en }'
    writes = [
        lambda: writer.update(LGOV, who="alice"),
        lambda: writer.update(sudzha, who="alice"),
        lambda: writer.update(PREFIXES + "DELETE DATA { kgr:lgov kg:locatedIn kgr:kursk-oblast }", who="alice"),
        lambda: writer.update(PREFIXES + 'INSERT { ?s rdfs:comment "seen" } WHERE { ?s a kg:Settlement }', who="alice"),
        lambda: writer.update(PREFIXES + "INSERT DATA { kgr:nowhere a kg:Settlement }", who="alice"),  # refused
        lambda: writer.put_graph("http://example.org/g", [], who="alice"),
        lambda: writer.post_graph(
            None,
            [ox.Quad(ox.NamedNode(KGR + "sudzha"), ox.NamedNode(PREFIXES_RDFS + "comment"), ox.Literal("x"))],
            who="alice",
        ),
        lambda: writer.delete_graph(CONTRIB, who="alice"),
    ]
    outcomes = []
    for write in writes:
        before = set(graph.store.quads())
        committed = len(deltas)
        try:
            write()
        except WriteRejected:
            assert set(graph.store.quads()) == before
            outcomes.append("refused")
            continue
        after = set(graph.store.quads())
        if len(deltas) == committed:
            assert after == before
            outcomes.append("unchanged")
            continue
        delta = deltas[-1]
        assert (values(delta.added), values(delta.removed)) == (values(after - before), values(before - after))
        assert any(q.graph_name == ox.NamedNode(PROVENANCE_GRAPH) for q in after - before)
        outcomes.append("committed")
    assert outcomes == [*["committed"] * 4, "refused", "unchanged", "committed", "committed"]
    graph.store.close()


def values(quads: Iterable[ox.Quad]) -> set[tuple]:
    """The quads with their times as values: RocksDB gives back ``…:00.220Z`` as ``…:00.22Z``."""
    return {(q.subject, q.predicate, _value(q.object), q.graph_name) for q in quads}


def _value(term: object) -> object:
    if isinstance(term, ox.Literal) and term.datatype.value.endswith("#dateTime"):
        return datetime.fromisoformat(term.value)
    return term
