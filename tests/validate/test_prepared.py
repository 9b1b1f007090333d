"""Tests of ``kgraph.validate.prepared``: each query string is parsed once, and evaluated with each call's bindings."""

from __future__ import annotations

import rdflib
from rdflib.namespace import Namespace

from kgraph.validate.prepared import PreparedSPARQLProcessor, prepared_query

EX = Namespace("http://example.org/")


def _graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.add((EX.a, EX.p, rdflib.Literal(1)))
    graph.add((EX.b, EX.p, rdflib.Literal(2)))
    return graph


def test_the_same_text_namespaces_and_base_give_the_same_translated_query() -> None:
    text = "SELECT ?o WHERE { ?s <http://example.org/p> ?o } # prepared-once test"
    first = prepared_query(text)
    assert prepared_query(text) is first
    assert prepared_query(text, (("ex", EX),)) is not first
    assert prepared_query(text, (), "http://example.org/base/") is not first


def test_bindings_are_applied_per_call_to_the_cached_query() -> None:
    processor = PreparedSPARQLProcessor(_graph())
    text = "SELECT ?o WHERE { ?this ex:p ?o }"
    namespaces = {"ex": EX}
    before = prepared_query.cache_info().misses
    a = processor.query(text, initBindings={"this": EX.a}, initNs=namespaces)
    b = processor.query(text, initBindings={"this": EX.b}, initNs=namespaces)
    assert [s["o"] for s in a["bindings"]] == [rdflib.Literal(1)]
    assert [s["o"] for s in b["bindings"]] == [rdflib.Literal(2)]
    assert prepared_query.cache_info().misses == before + 1


def test_it_answers_as_rdflib_when_registered_as_the_sparql_processor() -> None:
    rdflib.plugin.register(
        "prepared-test", rdflib.query.Processor, "kgraph.validate.prepared", "PreparedSPARQLProcessor"
    )
    result = _graph().query("ASK { ?s <http://example.org/p> 2 }", processor="prepared-test")
    assert result.askAnswer is True
