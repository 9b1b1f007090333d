"""Tests of ``kgraph.validate.locate``: the line and column where a term or a triple is written in its file."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.validate.locate import RDF_TYPE, SourceFile

FIXTURES = Path(__file__).parents[1] / "fixtures" / "locate"
KG = "https://w3id.org/kgraph/ontology#"
KGR = "https://w3id.org/kgraph/id/"
PREFIXES = {"kg": KG, "kgr": KGR}


def kg(name: str) -> ox.NamedNode:
    return ox.NamedNode(KG + name)


def kgr(name: str) -> ox.NamedNode:
    return ox.NamedNode(KGR + name)


@pytest.fixture
def turtle() -> SourceFile:
    return SourceFile(FIXTURES / "sample.ttl", PREFIXES)


def test_a_term_is_found_where_first_written_outside_comments(turtle: SourceFile) -> None:
    assert turtle.find_term(kgr("sudzha")) == (5, 1)
    assert turtle.find_term(kg("Town")) == (5, 14)
    assert turtle.find_term(kg("name")) == (7, 5)


def test_a_term_is_matched_as_a_whole_token(turtle: SourceFile) -> None:
    assert turtle.find_term(kgr("sudzha-district")) == (10, 1)
    assert turtle.find_term(kgr("kursk")) is None
    assert turtle.find_term(kgr("kursk-oblast")) == (10, 31)


def test_a_full_iri_in_angle_brackets_is_found(turtle: SourceFile) -> None:
    assert turtle.find_term(kgr("korenevo")) == (9, 1)


def test_a_prefix_the_file_does_not_declare_is_not_searched() -> None:
    unprefixed = SourceFile(FIXTURES / "sample.ttl", {})
    assert unprefixed.find_term(kg("Town")) is None
    assert unprefixed.find_term(kgr("korenevo")) == (9, 1)


def test_a_triple_is_its_predicate_in_the_subjects_block(turtle: SourceFile) -> None:
    assert turtle.find_triple(kgr("sudzha"), kg("population")) == (6, 5)
    assert turtle.find_triple(kgr("sudzha"), kg("name")) == (7, 5)
    assert turtle.find_triple(kgr("sudzha"), ox.NamedNode(RDF_TYPE)) == (5, 12)


def test_a_predicate_in_a_later_block_about_the_subject_is_found(turtle: SourceFile) -> None:
    assert turtle.find_triple(kgr("sudzha"), kg("nearTo")) == (11, 12)


def test_a_predicate_after_a_semicolon_on_the_subjects_line_is_found(turtle: SourceFile) -> None:
    assert turtle.find_triple(kgr("korenevo"), kg("name")) == (9, 39)
    assert turtle.find_triple(kgr("korenevo"), kg("nearTo")) == (9, 60)


def test_an_object_is_not_taken_for_a_predicate(turtle: SourceFile) -> None:
    assert turtle.find_triple(kgr("sudzha-district"), kgr("kursk-oblast")) == (10, 1)


def test_without_the_predicate_the_subjects_first_block_is_named(turtle: SourceFile) -> None:
    assert turtle.find_triple(kgr("sudzha"), kg("population-of")) == (5, 1)
    assert turtle.find_triple(kgr("sudzha"), None) == (5, 1)


def test_a_subject_never_written_at_the_start_of_a_line_is_not_found(turtle: SourceFile) -> None:
    assert turtle.find_triple(kgr("kursk-oblast"), kg("partOf")) is None
    assert turtle.find_triple(kgr("nowhere"), None) is None


def test_in_json_ld_a_triple_is_its_subjects_bare_iri() -> None:
    source = SourceFile(FIXTURES / "sample.jsonld", {})
    assert source.find_triple(kgr("sudzha"), kg("name")) == (3, 11)
    assert source.find_term(kg("name")) is None


def test_an_empty_file_has_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ttl"
    empty.write_text("")
    source = SourceFile(empty, PREFIXES)
    assert source.find_term(kgr("sudzha")) is None
    assert source.find_triple(kgr("sudzha"), kg("name")) is None
