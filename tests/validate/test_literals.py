"""Tests of ``kgraph.validate.literals``: literals outside their datatype's lexical space, worded and located; the
inference's own unlocated words for them dropped; files with RDF 1.2 triple terms named."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from kgraph.config import GRAPH_NS
from kgraph.load import LoadedFile
from kgraph.store import EmbeddedStore
from kgraph.validate.literals import ill_typed_literals, quiet_rdflib, triple_terms, without_reported
from kgraph.validate.report import Problem

FIXTURE = Path(__file__).parents[1] / "fixtures" / "literals" / "ill-typed.ttl"
XSD = "http://www.w3.org/2001/XMLSchema#"


def loaded(store: EmbeddedStore, path: Path, rdf_format: ox.RdfFormat = ox.RdfFormat.TURTLE) -> LoadedFile:
    graph = GRAPH_NS + "test/" + path.name
    with path.open("rb") as source:
        store.load_file(source, rdf_format, base_iri=None, graph=graph)
    return LoadedFile(path, graph, store.count(graph))


def name(path: Path) -> str:
    return path.name


def test_each_ill_typed_literal_is_one_worded_and_located_problem() -> None:
    store = EmbeddedStore()
    problems = ill_typed_literals(store, [loaded(store, FIXTURE)], name)
    assert [(p.kind, p.message, p.location()) for p in problems] == [
        (
            "ill-typed-literal",
            '"thousands"^^xsd:integer is not a valid xsd:integer; xsd:integer expects a whole number, e.g. "1300"',
            "ill-typed.ttl:6:21",
        ),
        (
            "ill-typed-literal",
            '"2024-08-32"^^xsd:date is not a valid xsd:date (day is out of range for month); xsd:date expects'
            ' YYYY-MM-DD, e.g. "2024-08-06"',
            "ill-typed.ttl:7:28",
        ),
        ("ill-typed-literal", '"x"^^xsd:long is not a valid xsd:long', "ill-typed.ttl:8:22"),
        (
            "ill-typed-literal",
            "\"fast\"^^xsd:double is not a valid xsd:double (could not convert string to float: 'fast');"
            ' xsd:double expects a number, e.g. "1.3E3"',
            "ill-typed.ttl:9:20",
        ),
    ]


def test_only_the_given_files_are_checked() -> None:
    store = EmbeddedStore()
    loaded(store, FIXTURE)
    assert ill_typed_literals(store, [], name) == []


def test_a_literal_not_written_as_it_is_has_no_line(tmp_path: Path) -> None:
    data = tmp_path / "escaped.ttl"
    data.write_text(
        '<http://example.org/a> <http://example.org/p> "\\u0031x"^^<http://www.w3.org/2001/XMLSchema#int> .\n'
    )
    store = EmbeddedStore()
    [problem] = ill_typed_literals(store, [loaded(store, data)], name)
    assert (problem.message, problem.location()) == ('"1x"^^xsd:int is not a valid xsd:int', "escaped.ttl")


@pytest.mark.parametrize(
    ("lexical", "datatype"),
    [
        ("maybe", "boolean"),
        ("2024-13", "gYearMonth"),
        ("24", "gYear"),
        pytest.param(
            "-5",
            "nonNegativeInteger",
            marks=pytest.mark.xfail(strict=True, reason="pyoxigraph's store keeps xsd:integer subtypes as xsd:integer"),
        ),
        pytest.param(
            "0",
            "positiveInteger",
            marks=pytest.mark.xfail(strict=True, reason="pyoxigraph's store keeps xsd:integer subtypes as xsd:integer"),
        ),
    ],
)
def test_every_literal_outside_its_lexical_space_is_reported(tmp_path: Path, lexical: str, datatype: str) -> None:
    data = tmp_path / "bad.ttl"
    data.write_text(f'<http://example.org/a> <http://example.org/p> "{lexical}"^^<{XSD}{datatype}> .\n')
    store = EmbeddedStore()
    with quiet_rdflib():
        problems = ill_typed_literals(store, [loaded(store, data)], name)
    assert [p.location() for p in problems] == ["bad.ttl:1:47"]


def test_a_literal_is_located_where_it_is_written_not_where_its_text_first_appears(tmp_path: Path) -> None:
    data = tmp_path / "dates.ttl"
    data.write_text(
        "PREFIX ex: <http://example.org/>\n"
        "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
        'ex:a ex:label "2024-08-32" .\n'
        'ex:a ex:date "2024-08-32"^^xsd:date .\n'
    )
    store = EmbeddedStore()
    [problem] = ill_typed_literals(store, [loaded(store, data)], name)
    assert problem.location() == "dates.ttl:4:14"


def test_the_inferences_words_for_a_reported_literal_are_dropped() -> None:
    reported = [
        Problem("ill-typed-literal", '"thousands"^^xsd:integer is not a valid xsd:integer; ...', "a.ttl", 6, 21)
    ]
    thousands = Problem(
        "inconsistency", "Lexical value of the literal 'thousands' does not match its datatype (xsd:integer)"
    )
    other = Problem("inconsistency", "Lexical value of the literal '1e' does not match its datatype (xsd:double)")
    cardinality = Problem("inconsistency", "OWL 2 RL: owl:maxCardinality of 1 violated by kgr:x")
    assert without_reported([thousands, other, cardinality], reported) == [other, cardinality]
    assert without_reported([thousands], []) == [thousands]


def test_quiet_rdflib_silences_its_literal_log_and_warnings_and_restores_them() -> None:
    logger = logging.getLogger("rdflib.term")
    assert logger.disabled is False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_rdflib():
            assert logger.disabled is True
            assert rdflib.Literal("maybe", datatype=rdflib.XSD.boolean).value is False
        assert logger.disabled is False
        assert caught == []
        rdflib.Literal("perhaps", datatype=rdflib.XSD.boolean)
    assert [str(w.message) for w in caught] == ["Parsing weird boolean, 'perhaps' does not map to True or False"]


def test_a_file_with_triple_terms_is_named_once(tmp_path: Path) -> None:
    data = tmp_path / "reified.ttl"
    data.write_text(
        "PREFIX ex: <http://example.org/>\nex:a ex:says << ex:b ex:p ex:c >> .\nex:d ex:says << ex:e ex:p ex:f >> .\n"
    )
    plain = tmp_path / "plain.ttl"
    plain.write_text("<http://example.org/a> <http://example.org/p> 1 .\n")
    store = EmbeddedStore()
    files = [loaded(store, data), loaded(store, plain)]
    assert [(p.kind, p.message, p.location()) for p in triple_terms(store, files, name)] == [
        (
            "syntax",
            "uses RDF 1.2 triple terms (<< ... >>), which kgraph validate cannot check (its SHACL engine has none)",
            "reified.ttl",
        )
    ]
    assert triple_terms(store, [files[1]], name) == []
