"""The shared lexer's bracket check and positions: brackets in strings, IRIs and comments are not brackets."""

from hypothesis import given
from hypothesis import strategies as st

from kgraph.sparql import lexer
from kgraph.sparql.lexer import BracketFault, bracket_fault, line_and_column, offset_of


def test_a_query_whose_brackets_pair_has_no_fault() -> None:
    assert bracket_fault("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p [ ?q ?o ] FILTER (?o > 3) }") is None


def test_brackets_in_strings_iris_and_comments_are_not_read() -> None:
    query = 'SELECT * WHERE { ?s <http://x/a> "{(" . ?s ?p """}\n)""" # }\n ?s ?p \'[\' }'
    assert bracket_fault(query) is None


def test_the_innermost_bracket_left_open_is_the_fault() -> None:
    query = "SELECT * WHERE {\n  ?s ?p ?o FILTER (?o > 3"
    assert bracket_fault(query) == BracketFault(opener=("(", query.index("(")), closer=None)


def test_a_closing_bracket_of_another_kind_names_the_open_one() -> None:
    query = "SELECT * WHERE { ?s ?p ?o FILTER (?o > 3 } }"
    assert bracket_fault(query) == BracketFault(opener=("(", query.index("(")), closer=("}", query.index("}")))


def test_a_closing_bracket_with_nothing_open_is_the_fault() -> None:
    query = "SELECT * WHERE { ?s ?p ?o } } LIMIT 1"
    assert bracket_fault(query) == BracketFault(opener=None, closer=("}", query.rindex("}")))


def test_line_and_column_count_characters_from_one() -> None:
    text = 'SELECT *\nWHERE { "é" }\n'
    assert line_and_column(text, 0) == (1, 1)
    assert line_and_column(text, text.index("}")) == (2, 13)
    assert line_and_column(text, len(text)) == (3, 1)


def test_offset_of_reverses_line_and_column_and_runs_past_the_end() -> None:
    text = 'SELECT *\nWHERE { "é" }\n'
    for offset in range(len(text) + 1):
        assert offset_of(text, *line_and_column(text, offset)) == offset
    assert offset_of(text, 5, 1) == len(text) + 1


@given(st.text(alphabet='{}()[] ?x"#\n', max_size=40))
def test_a_fault_points_at_brackets_that_are_there(text: str) -> None:
    fault = bracket_fault(text)
    if fault is None:
        return
    for bracket in (fault.opener, fault.closer):
        if bracket is not None:
            assert text[bracket[1]] == bracket[0]
    if fault.closer is None:
        assert fault.opener is not None


def test_the_base_line_added_before_a_query_is_taken_off_again_and_no_line_of_the_author() -> None:
    relative = "SELECT * WHERE {\n  <a> ?p ?o }"
    based = lexer.with_base(relative, lambda: "http://localhost/")
    assert based == f"BASE <http://localhost/> {lexer.ADDED_BASE}\n{relative}"
    assert lexer.as_written(based) == (relative, 1)
    absolute = "SELECT * WHERE { <http://localhost/a> ?p ?o }"
    assert lexer.with_base(absolute, lambda: "unused") == absolute
    own = "BASE <http://example.org/> # their own\nSELECT * WHERE { <a> ?p ?o }"
    assert lexer.as_written(own) == (own, 0)
