"""Tests of ``kgraph.infer.consistency``: each OWL 2 RL contradiction found, worded, with its triples and the file
that states the axiom."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.config import GRAPH_NS
from kgraph.infer.consistency import Inconsistency, find_inconsistencies, owlrl_inconsistencies
from kgraph.store import EmbeddedStore

FIXTURES = Path(__file__).parents[1] / "fixtures" / "consistency"
KG = "https://w3id.org/kgraph/ontology#"
KGR = "https://w3id.org/kgraph/id/"
ONTOLOGY = GRAPH_NS + "ontology/test.ttl"
DATA = GRAPH_NS + "data/ttl/test.ttl"


def kg(name: str) -> ox.NamedNode:
    return ox.NamedNode(KG + name)


def kgr(name: str) -> ox.NamedNode:
    return ox.NamedNode(KGR + name)


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    store = EmbeddedStore()
    for name, graph in (("ontology.ttl", ONTOLOGY), ("data.ttl", DATA)):
        with (FIXTURES / name).open("rb") as source:
            store.load_file(source, ox.RdfFormat.TURTLE, base_iri=None, graph=graph)
    return store


def test_every_contradiction_is_worded_with_the_file_of_its_axiom(store: EmbeddedStore) -> None:
    assert [found.message for found in find_inconsistencies(store, None)] == [
        "kg:commands is irreflexive but links kgr:a to itself (ontology/test.ttl)",
        "kg:outranks is asymmetric but links kgr:a and kgr:b both ways (ontology/test.ttl)",
        'kg:population is functional but kgr:sudzha has two values: "5000"^^xsd:integer and "6000"^^xsd:integer'
        " (ontology/test.ttl)",
        "kgr:a and kgr:b are said to be both the same and different",
        "kgr:a is linked to kgr:b by both kg:attacked and kg:defended, which are disjoint properties"
        " (ontology/test.ttl)",
        "kgr:ghost is a member of owl:Nothing",
        "kgr:ivan is both a kg:Person and a kg:Weapon, which are disjoint (ontology/test.ttl)",
        "kgr:sudzha is both a kg:Town and a kg:River, which are disjoint (ontology/test.ttl)",
        "kgr:wraith is a member of owl:Nothing as a kg:Phantom, a subclass of it",
    ]


def test_each_contradiction_names_the_triples_that_cannot_all_be_true(store: EmbeddedStore) -> None:
    by_start = {found.message.split(" (")[0]: found.triples for found in find_inconsistencies(store, None)}
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    assert by_start["kgr:sudzha is both a kg:Town and a kg:River, which are disjoint"] == [
        ox.Triple(kgr("sudzha"), rdf_type, kg("Town")),
        ox.Triple(kgr("sudzha"), rdf_type, kg("River")),
    ]
    assert by_start["kg:commands is irreflexive but links kgr:a to itself"] == [
        ox.Triple(kgr("a"), kg("commands"), kgr("a"))
    ]
    assert by_start["kgr:a and kgr:b are said to be both the same and different"] == [
        ox.Triple(kgr("a"), ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"), kgr("b"))
    ]


def test_only_the_given_graphs_are_checked(store: EmbeddedStore) -> None:
    assert find_inconsistencies(store, [ONTOLOGY]) == []
    assert [found.message for found in find_inconsistencies(store, [DATA])] == [
        "kgr:a and kgr:b are said to be both the same and different",
        "kgr:ghost is a member of owl:Nothing",
    ]


def test_a_consistent_or_empty_store_has_none() -> None:
    assert find_inconsistencies(EmbeddedStore(), None) == []


def test_an_axiom_outside_the_graph_namespace_is_not_attributed_to_a_file() -> None:
    store = EmbeddedStore()
    store.add(
        [
            ox.Quad(kg("Town"), ox.NamedNode("http://www.w3.org/2002/07/owl#disjointWith"), kg("River")),
            ox.Quad(kgr("x"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), kg("Town")),
            ox.Quad(kgr("x"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), kg("River")),
        ]
    )
    assert [found.message for found in find_inconsistencies(store, None)] == [
        "kgr:x is both a kg:Town and a kg:River, which are disjoint"
    ]


def test_owlrl_findings_already_checked_are_dropped_and_the_rest_deduplicated_and_sorted() -> None:
    errors = [
        "Disjoint classes kg:A and kg:B have a common individual kgr:x",
        "Irreflexive property used on kgr:x",
        "Erroneous usage of asymmetric property kg:p",
        "Erroneous usage of disjoint properties kg:p and kg:q",
        "'sameAs' and 'differentFrom' cannot be used on the same subject-object pair",
        "owl:maxCardinality of 1 violated by kgr:x",
        "Complement class kg:C has a member kgr:y",
        "owl:maxCardinality of 1 violated by kgr:x",
        "https://w3id.org/kgraph/id/wraith is defined of type 'Nothing'",  # owlrl's words for cls-nothing2
    ]
    assert owlrl_inconsistencies(errors) == [
        Inconsistency("OWL 2 RL: Complement class kg:C has a member kgr:y"),
        Inconsistency("OWL 2 RL: owl:maxCardinality of 1 violated by kgr:x"),
    ]
    assert owlrl_inconsistencies([]) == []


def test_the_file_named_is_the_one_stating_the_violated_characteristic() -> None:
    store = EmbeddedStore()
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    owl = "http://www.w3.org/2002/07/owl#"
    store.add(
        [
            ox.Quad(kg("population"), rdf_type, ox.NamedNode(owl + "FunctionalProperty"), ox.NamedNode(ONTOLOGY)),
            ox.Quad(kg("population"), rdf_type, ox.NamedNode(owl + "DatatypeProperty"), ox.NamedNode(DATA)),
            ox.Quad(kgr("x"), kg("population"), ox.Literal("1"), ox.NamedNode(DATA)),
            ox.Quad(kgr("x"), kg("population"), ox.Literal("2"), ox.NamedNode(DATA)),
        ]
    )
    assert [found.message for found in find_inconsistencies(store, None)] == [
        'kg:population is functional but kgr:x has two values: "1" and "2" (ontology/test.ttl)'
    ]


def test_a_class_disjoint_with_an_anonymous_class_is_still_found() -> None:
    # The check runs in two steps (the pairs, then their members), but a blank node cannot be named in the second.
    store = EmbeddedStore()
    anonymous = ox.BlankNode("notTown")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    store.add(
        [
            ox.Quad(kg("Town"), ox.NamedNode("http://www.w3.org/2002/07/owl#disjointWith"), anonymous),
            ox.Quad(kg("Town"), ox.NamedNode("http://www.w3.org/2002/07/owl#disjointWith"), kg("River")),
            ox.Quad(kgr("x"), rdf_type, kg("Town")),
            ox.Quad(kgr("x"), rdf_type, anonymous),
            ox.Quad(kgr("y"), rdf_type, kg("Town")),
            ox.Quad(kgr("y"), rdf_type, kg("River")),
        ]
    )
    assert [found.message for found in find_inconsistencies(store, None)] == [
        "kgr:x is both a kg:Town and a _:notTown, which are disjoint",
        "kgr:y is both a kg:Town and a kg:River, which are disjoint",
    ]
