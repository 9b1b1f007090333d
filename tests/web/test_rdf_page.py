"""The RDF documents the server writes about itself, as statements: parsed, added to and serialised (no app)."""

from __future__ import annotations

import pyoxigraph as ox

from kgraph.sparql.formats import negotiate
from kgraph.web.rdf_page import RdfDocument

TURTLE = b"""# a note for editors
@prefix void: <http://rdfs.org/ns/void#> .
<https://w3id.org/kgraph/dataset> a void:Dataset ; void:sparqlEndpoint <sparql> .
<other> a void:Dataset .
"""


def test_relative_iris_resolve_against_the_base_and_the_prefixes_are_kept() -> None:
    document = RdfDocument.parse(TURTLE, base="https://mirror.example/kg/")
    assert document.prefixes == {"void": "http://rdfs.org/ns/void#"}
    assert (
        ox.Triple(
            ox.NamedNode("https://w3id.org/kgraph/dataset"),
            ox.NamedNode("http://rdfs.org/ns/void#sparqlEndpoint"),
            ox.NamedNode("https://mirror.example/kg/sparql"),
        )
        in document.triples
    )


def test_statements_added_later_are_written_with_their_subject() -> None:
    document = RdfDocument.parse(TURTLE, base="http://localhost/")
    document.add(ox.NamedNode("https://w3id.org/kgraph/dataset"), "http://rdfs.org/ns/void#triples", ox.Literal(3))
    turtle = document.serialize(negotiate("graph", "text/turtle", None)).decode()
    assert turtle == (
        "@prefix void: <http://rdfs.org/ns/void#> .\n"
        "<https://w3id.org/kgraph/dataset> a void:Dataset ;\n"
        "\tvoid:sparqlEndpoint <http://localhost/sparql> ;\n"
        "\tvoid:triples 3 .\n"
        "<http://localhost/other> a void:Dataset .\n"
    )
