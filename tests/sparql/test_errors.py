"""Syntax errors worded from pyoxigraph's own: located, with the bracket at fault named where one is."""

import pyoxigraph as ox
import pytest

from kgraph.sparql.errors import QuerySyntaxError


def message(sparql: str) -> str:
    with pytest.raises(SyntaxError) as raised:
        ox.Store().query(sparql)
    return str(QuerySyntaxError.from_pyoxigraph(raised.value, sparql))


@pytest.mark.parametrize(
    ("sparql", "expected"),
    [
        (
            "SELECT * WHERE { ?s ?p ?o",
            "Syntax error at line 1, column 26 (after 'SELECT * WHERE { ?s ?p ?o'): the query ends before the '{' "
            "opened at line 1, column 16 is closed",
        ),
        (
            "SELECT * WHERE {\n  ?s ?p ?o .\n  # the end }\n",
            "Syntax error at line 4, column 1 (after '# the end }'): the query ends before the '{' opened at line 1, "
            "column 16 is closed",
        ),
        (
            "SELECT * WHERE { ?s ?p ?o FILTER (?o > 3 }",
            "Syntax error at line 1, column 43 (after 'RE { ?s ?p ?o FILTER (?o > 3 }'): '}' cannot close the '(' "
            "opened at line 1, column 34, which needs ')'",
        ),
        (
            'SELECT * WHERE { ?s ?p "é" } }',
            "Syntax error at line 1, column 31 (after 'SELECT * WHERE { ?s ?p \"é\" } }'): '}' closes no bracket "
            "(every one before it is closed)",
        ),
    ],
    ids=["unclosed", "unclosed-after-comment", "wrong-kind", "nothing-open"],
)
def test_a_bracket_that_does_not_pair_is_named(sparql: str, expected: str) -> None:
    assert message(sparql) == expected


def test_an_error_before_the_unpaired_bracket_keeps_pyoxigraphs_words() -> None:
    assert message("SELECT (COUNT(*) AS ?n WHERE { ?s ?p ?o }") == (
        "Syntax error at line 1, column 24 (after 'SELECT (COUNT(*) AS ?n'): expected \")\""
    )


def test_a_query_whose_brackets_pair_keeps_pyoxigraphs_words() -> None:
    assert message("SELECT * WHERE { } LIMIT") == (
        "Syntax error at line 1, column 25 (after 'SELECT * WHERE { } LIMIT'): expected one of GROUP, LATERAL, "
        "ORDER, SERVICE, ..."
    )


def test_without_the_text_only_the_position_is_given() -> None:
    with pytest.raises(SyntaxError) as raised:
        ox.Store().query("SELECT * WHERE { ?s ?p ?o")
    assert str(QuerySyntaxError.from_pyoxigraph(raised.value)).startswith("Syntax error at line 1, column 26: expected")
