"""A path answered alone and written into its query as VALUES (Virtuoso 7.2 loses some paths, issue 16)."""

from __future__ import annotations

import pyoxigraph as ox

from kgraph.store.path_first import inline_paths

EX = "http://example.org/"
QUERY = f"""PREFIX ex: <{EX}>
SELECT * WHERE {{
  ?e ex:at ?place .
  ?place ex:in+ ex:region .
}}"""


def test_a_path_to_a_constant_becomes_its_answer() -> None:
    asked: list[str] = []

    def answer(select: str) -> list[ox.NamedNode | ox.BlankNode | ox.Literal]:
        asked.append(select)
        return [ox.NamedNode(EX + "town"), ox.Literal("odd", language="en")]

    rewritten = inline_paths(QUERY, answer)
    assert asked == [f"SELECT DISTINCT ?place WHERE {{ ?place <{EX}in>+ <{EX}region> }}"]
    assert rewritten == QUERY.replace("?place ex:in+ ex:region", f'VALUES ?place {{ <{EX}town> "odd"@en }}')
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode(EX + "e1"), ox.NamedNode(EX + "at"), ox.NamedNode(EX + "town")))
    assert [s["e"] for s in store.query(rewritten)] == [ox.NamedNode(EX + "e1")]  # valid SPARQL, the same join


def test_a_star_path_adds_its_constant() -> None:
    star = QUERY.replace("ex:in+ ex:region", "ex:in* ex:region").replace("?place ex:in", "ex:region ex:in")
    star = star.replace("ex:in* ex:region", "ex:in* ?place")
    rewritten = inline_paths(star, lambda select: [])
    assert rewritten == star.replace("ex:region ex:in* ?place", f"VALUES ?place {{ <{EX}region> }}")


def test_what_it_cannot_replace_is_none() -> None:
    def blank(select: str) -> list[ox.NamedNode | ox.BlankNode | ox.Literal]:
        return [ox.BlankNode()]

    assert inline_paths(QUERY, blank) is None  # VALUES cannot name a blank node
    assert inline_paths(QUERY.replace("ex:region", "?region"), lambda s: []) is None  # no constant end
    assert inline_paths(QUERY.replace(".\n}", ". FILTER EXISTS { ?e ?p ?o }\n}"), lambda s: []) is None


def test_a_path_in_a_list_of_predicates_is_answered_after_its_statement() -> None:
    listed = QUERY.replace("?place ex:in+ ex:region .", "?place a ex:Town ; ex:in+ ex:region ; ex:named ?n .")
    rewritten = inline_paths(listed, lambda select: [ox.NamedNode(EX + "town")])
    assert rewritten == listed.replace(
        "?place a ex:Town ; ex:in+ ex:region ; ex:named ?n .",
        f"?place a ex:Town  ; ex:named ?n . VALUES ?place {{ <{EX}town> }} ",
    )
    in_brackets = QUERY.replace("?place ex:in+ ex:region .", "?e ex:by [ a ex:Unit ; ex:in+ ex:region ] .")
    assert inline_paths(in_brackets, lambda select: []) is None  # a blank node's list: no variable to bind


def test_a_closure_ending_a_sequence_becomes_its_answer_joined_with_the_first_step() -> None:
    """``?x a/ex:sub* ex:C``: the closure asked alone, the first step joined with its answer in a subquery that hides
    the variable between the steps and keeps the join's duplicates, as the sequence does."""
    asked: list[str] = []

    def answer(select: str) -> list[ox.NamedNode | ox.BlankNode | ox.Literal]:
        asked.append(select)
        return [ox.NamedNode(EX + "Raid")]

    typed = QUERY.replace("?place ex:in+ ex:region .", "?e ex:at ?place ; a/ex:sub* ex:Op .")
    rewritten = inline_paths(typed, answer)
    assert asked == [f"SELECT DISTINCT ?_kgstep0 WHERE {{ ?_kgstep0 <{EX}sub>* <{EX}Op> }}"]
    subquery = (
        "{ SELECT ?e WHERE { ?e <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ?_kgstep0 . "
        f"VALUES ?_kgstep0 {{ <{EX}Raid> <{EX}Op> }} }} }}"
    )
    assert rewritten == typed.replace("?e ex:at ?place ; a/ex:sub* ex:Op .", f"?e ex:at ?place  . {subquery} ")
    store = ox.Store()
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    for kind in ("Raid", "Op", "Other"):
        event = ox.NamedNode(EX + kind.lower())
        store.add(ox.Quad(event, ox.NamedNode(EX + "at"), ox.NamedNode(EX + "town")))
        store.add(ox.Quad(event, rdf_type, ox.NamedNode(EX + kind)))
    store.add(ox.Quad(ox.NamedNode(EX + "raid"), rdf_type, ox.NamedNode(EX + "Op")))  # two types: two rows
    store.add(ox.Quad(ox.NamedNode(EX + "Raid"), ox.NamedNode(EX + "sub"), ox.NamedNode(EX + "Op")))
    as_written = sorted(s["e"].value for s in store.query(typed))
    assert as_written == [EX + "op", EX + "raid", EX + "raid"]
    assert sorted(s["e"].value for s in store.query(rewritten)) == as_written


def test_the_variable_between_the_steps_is_one_the_query_does_not_use() -> None:
    """A query naming its own ``?_kgstep0`` keeps it: the rewrite's hidden variables are new ones, one per path."""
    typed = QUERY.replace(
        "?place ex:in+ ex:region .", "?e ex:at ?_kgstep0 ; a/ex:sub* ex:Op . ?_kgstep0 ex:kind/ex:sub* ex:Place ."
    )
    rewritten = inline_paths(typed, lambda select: [ox.NamedNode(EX + "Raid")])
    assert rewritten is not None
    assert "?e <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ?_kgstep1 ." in rewritten
    assert f"?_kgstep0 <{EX}kind> ?_kgstep2 ." in rewritten
    assert "?e ex:at ?_kgstep0" in rewritten


def test_a_sequence_it_cannot_write_as_a_join_is_left_as_written() -> None:
    backwards = QUERY.replace("?place ex:in+ ex:region .", "ex:region ^ex:in/ex:in+ ?place .")
    assert inline_paths(backwards, lambda select: []) is None
    to_a_variable = QUERY.replace("?place ex:in+ ex:region .", "?e a/ex:sub* ?kind .")
    assert inline_paths(to_a_variable, lambda select: []) is None
