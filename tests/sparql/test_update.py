"""SPARQL Update text read before it reaches a store: USING clauses written in, and the exact quads of DATA updates."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kgraph.sparql.errors import SparqlError
from kgraph.sparql.update import data_changes, with_using

EX = "http://example.org/"
OWN = "https://w3id.org/kgraph/graph/contrib/alice"


def quad(s: str, p: str, o: ox.NamedNode | ox.Literal, graph: str | None = OWN) -> ox.Quad:
    return ox.Quad(ox.NamedNode(EX + s), ox.NamedNode(EX + p), o, ox.NamedNode(graph) if graph else ox.DefaultGraph())


def test_using_graph_uri_becomes_using_clauses_on_each_modify_operation() -> None:
    update = 'DELETE { ?s ?p "WHERE" } WHERE { ?s ?p ?o } ; DELETE WHERE { ?s ?p ?o } ; INSERT DATA { <a> <b> <c> }'
    assert with_using(update, ["http://g/1"], ["http://g/2"]) == (
        'DELETE { ?s ?p "WHERE" } USING <http://g/1> USING NAMED <http://g/2> WHERE { ?s ?p ?o } ; '
        "DELETE WHERE { ?s ?p ?o } ; INSERT DATA { <a> <b> <c> }"
    )
    assert with_using(update, [], []) == update
    with pytest.raises(SparqlError, match="has its own WITH"):
        with_using("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", ["http://g/1"], [])


def test_data_operations_give_their_quads_in_order_the_default_graph_in_the_contributors() -> None:
    update = (
        f"PREFIX ex: <{EX}>\n"
        'INSERT DATA { ex:a ex:says "x } {" . GRAPH <http://example.org/g> { ex:a ex:n 1.5 } . ex:b a ex:C } ;\n'
        "# a comment with a brace {\n"
        'DELETE DATA { ex:a ex:says "x } {" ; ex:old ex:c } ;\n'
        "INSERT DATA { ex:c ex:p ex:d }"
    )
    added, removed = data_changes(update, OWN) or ([], [])
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    assert added == [
        quad("a", "n", ox.Literal("1.5", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")), EX + "g"),
        ox.Quad(ox.NamedNode(EX + "b"), rdf_type, ox.NamedNode(EX + "C"), ox.NamedNode(OWN)),
        quad("c", "p", ox.NamedNode(EX + "d")),
    ]
    assert removed == [quad("a", "says", ox.Literal("x } {")), quad("a", "old", ox.NamedNode(EX + "c"))]


def test_a_later_operation_on_the_same_quad_wins() -> None:
    triple = f"<{EX}a> <{EX}b> <{EX}c>"
    changes = data_changes(f"DELETE DATA {{ {triple} }} ; INSERT DATA {{ {triple} }}", None)
    assert changes == ([quad("a", "b", ox.NamedNode(EX + "c"), None)], [])
    changes = data_changes(f"INSERT DATA {{ {triple} }} ; DELETE DATA {{ {triple} }}", None)
    assert changes == ([], [quad("a", "b", ox.NamedNode(EX + "c"), None)])


@pytest.mark.parametrize(
    "update",
    [
        f"INSERT DATA {{ <{EX}a> <{EX}b> _:fresh }}",  # fresh blank nodes: the store makes them
        f"INSERT DATA {{ <{EX}a> <{EX}b> [ <{EX}c> 1 ] }}",
        f"INSERT {{ <{EX}a> <{EX}b> ?o }} WHERE {{ ?s ?p ?o }}",
        f"DELETE WHERE {{ <{EX}a> ?p ?o }}",
        f"CLEAR GRAPH <{EX}g>",
        f"INSERT DATA {{ <{EX}a> <{EX}b> <{EX}c> ; INSERT DATA {{ }}",  # unbalanced: the store words the error
        f"INSERT DATA {{ <{EX}a> <{EX}b> }}",
        f"INSERT DATA {{ GRAPH ?g {{ <{EX}a> <{EX}b> <{EX}c> }} }}",
    ],
)
def test_any_other_update_is_left_to_the_store(update: str) -> None:
    assert data_changes(update, OWN) is None
