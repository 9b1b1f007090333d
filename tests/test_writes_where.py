"""Writes that do not copy the store: ``DELETE``/``INSERT ... WHERE`` found from their WHERE clause's solutions,
and graph operations (``CLEAR``, ``DROP``, ``CREATE``, ``ADD``, ``COPY``, ``MOVE``) run over the graphs they name.

The copy of the whole store is the reference: pyoxigraph runs the update there, so whatever SPARQL 1.1 Update says,
it does. Random updates over random data must change exactly the same quads both ways (blank nodes compared up to
renaming), and leave the same graphs existing empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kgraph import writes
from kgraph.config import Settings
from kgraph.graph import KnowledgeGraph, build
from kgraph.journal import Journal
from kgraph.sparql.errors import QuerySyntaxError, SparqlError
from kgraph.sparql.update import Modify, graph_operation, modify_operation, operations
from kgraph.store import EmbeddedStore
from kgraph.writes import Edit, Writer, WriteUnavailable

PROJECT = Path(__file__).parent / "fixtures" / "writes"
EX = "http://example.org/"
OWN = "https://w3id.org/kgraph/graph/contrib/alice"
PREFIX = f"PREFIX ex: <{EX}>\n"


@pytest.fixture
def graph(tmp_path: Path) -> KnowledgeGraph:
    """The writes fixture project, its journal in ``tmp_path``."""
    return build(Settings.from_env(environ={}, project_dir=PROJECT, data_dir=tmp_path))


# --- reading the operation ---


def test_one_modify_operation_is_cut_into_its_clauses() -> None:
    sparql = (
        PREFIX
        + "WITH ex:g DELETE { ?s ex:p ?o } INSERT { ?s ex:q ?o } "
        + "USING ex:a USING NAMED <http://b/> WHERE { ?s ex:p ?o } ;"
    )
    assert modify_operation(sparql) == Modify(
        prologue=PREFIX,
        where="{ ?s ex:p ?o }",
        delete="{ ?s ex:p ?o }",
        insert="{ ?s ex:q ?o }",
        with_graph=EX + "g",
        using=(EX + "a",),
        using_named=("http://b/",),
    )
    assert modify_operation("BASE <http://x/> DELETE WHERE { GRAPH <g> { ?s ?p ?o } }") == Modify(
        prologue="BASE <http://x/> ",
        where="{ GRAPH <g> { ?s ?p ?o } }",
        delete="{ GRAPH <g> { ?s ?p ?o } }",
    )


@pytest.mark.parametrize(
    "sparql",
    [
        "INSERT DATA { <a> <b> <c> }",
        "INSERT { <a> <b> <c> } WHERE {} ; INSERT { <a> <b> <c> } WHERE {}",  # two operations
        "CLEAR GRAPH <http://g/>",  # a graph operation
        "ADD <http://a/> TO <http://b/>",
        "WITH ex:g INSERT { <a> <b> <c> } WHERE {}",  # undeclared prefix: the store words the error
        "WITH <http://g/> DELETE WHERE { ?s ?p ?o }",  # not SPARQL: the store words the error
        "INSERT { <a> <b> <c> }",  # no WHERE
        "INSERT { <a> <b> <c> } WHERE { } <x>",  # something after it
    ],
)
def test_other_updates_are_not_read_as_one_modify_operation(sparql: str) -> None:
    assert modify_operation(sparql) is None


# --- the same changes as the update run over a copy ---

SUBJECTS = ["ex:a", "ex:b", "_:x"]
PREDICATES = ["ex:p", "ex:q"]
OBJECTS = ["ex:a", "ex:b", '"1"', '"x"@en', "_:x", "2"]
GRAPHS = [None, "ex:g1", "ex:g2", f"<{OWN}>"]
VARIABLES = ["?s", "?o", "?t"]


def _data(quads: list[tuple[str, str, str, str | None]], default: str | None) -> EmbeddedStore:
    """The quads in a store, those of no graph in ``default`` (None: the default graph; a served store holds
    nothing there, each file has its graph)."""
    store = EmbeddedStore()
    named = [(s, p, o, g or (default and f"<{default}>")) for s, p, o, g in quads]
    trig = PREFIX + "\n".join(f"{'GRAPH ' + g if g else ''} {{ {s} {p} {o} }}" for s, p, o, g in named)
    store.add(ox.parse(trig, format=ox.RdfFormat.TRIG))
    return store


_patterns = st.tuples(
    st.sampled_from(SUBJECTS[:2] + VARIABLES),
    st.sampled_from([*PREDICATES, "?p"]),
    st.sampled_from(OBJECTS[:4] + VARIABLES),
).map(" ".join)


@st.composite
def _where(draw: st.DrawFn) -> str:
    first = draw(_patterns)
    wrapped = draw(st.sampled_from(["{x}", "GRAPH ?g {{ {x} }}", "GRAPH ex:g1 {{ {x} }}"])).format(x=first)
    extra = draw(
        st.sampled_from(
            [
                "",
                ". " + draw(_patterns),
                "OPTIONAL { " + draw(_patterns) + " }",
                "FILTER(isLiteral(?o))",
                "MINUS { ?s ex:q ?o }",
                "BIND(BNODE() AS ?t)",
            ]
        )
    )
    return "{ " + wrapped + " " + extra + " }"


@st.composite
def _template(draw: st.DrawFn, *, blank: bool) -> str:
    terms = [*VARIABLES, "?g", "?p"]
    triples = draw(
        st.lists(
            st.tuples(
                st.sampled_from(terms[:3] + ["ex:a"] + (["_:n"] if blank else [])),
                st.sampled_from(["ex:p", "ex:r", "?p"]),
                st.sampled_from(terms[:3] + ['"y"'] + (["_:n"] if blank else [])),
            ).map(" ".join),
            min_size=1,
            max_size=3,
        )
    )
    graph = draw(st.sampled_from(["", "GRAPH ?g", "GRAPH ex:g2"]))
    body = " . ".join(triples)
    return "{ " + (f"{graph} {{ {body} }}" if graph else body) + " }"


@st.composite
def _updates(draw: st.DrawFn) -> str:
    where = draw(_where())
    form = draw(st.sampled_from(["delete-insert", "delete", "insert", "delete-where"]))
    if form == "delete-where":
        return PREFIX + "DELETE WHERE " + draw(st.sampled_from(["{ ?s ex:p ?o }", "{ GRAPH ?g { ?s ?p ex:a } }"]))
    head = draw(st.sampled_from(["", "WITH ex:g1 "]))
    using = draw(st.sampled_from(["", "USING ex:g1 ", "USING ex:g1 USING ex:g2 USING NAMED ex:g2 "]))
    delete = "DELETE " + draw(_template(blank=False)) + " " if form != "insert" else ""
    insert = "INSERT " + draw(_template(blank=True)) + " " if form != "delete" else ""
    return f"{PREFIX}{head}{delete}{insert}{using}WHERE {where}"


_quads = st.lists(
    st.tuples(
        st.sampled_from(SUBJECTS), st.sampled_from(PREDICATES), st.sampled_from(OBJECTS), st.sampled_from(GRAPHS)
    ),
    max_size=25,
)


def _after(store: EmbeddedStore, edit: Edit) -> ox.Dataset:
    """The store's quads once the edit is made as a write makes it (a quad deleted and inserted stays)."""
    dataset = ox.Dataset(store.quads())
    kept = set(edit.added)
    for quad in edit.removed:
        if quad not in kept:
            dataset.discard(quad)
    for quad in edit.added:
        dataset.add(quad)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return dataset


@pytest.mark.parametrize("own_graph", [OWN, None], ids=["contributor", "own-data"])
@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quads=_quads, update=_updates())
@example(
    quads=[("_:x", "ex:p", "ex:a", None), ("_:x", "ex:q", "_:x", "ex:g1")],
    update=PREFIX + "DELETE { ?s ?p ?o } INSERT { ?s ex:r _:n } WHERE { ?s ?p ?o FILTER(isBlank(?s)) }",
)
@example(quads=[("ex:a", "ex:p", "ex:a", "ex:g1")], update=PREFIX + "INSERT { ?s ex:p ?o } WHERE { ?s ex:q ?o }")
def test_a_modify_changes_what_it_changes_over_a_copy(
    graph: KnowledgeGraph, tmp_path: Path, quads: list, update: str, own_graph: str | None
) -> None:
    writer = Writer(graph, Journal(tmp_path), own_data=own_graph is None)
    store = _data(quads, own_graph)
    modify = modify_operation(update)
    assert modify is not None
    assert _outcome(lambda: writer._run_matched(store, writes._parsed(update), modify, own_graph), store) == _outcome(
        lambda: writer._run_on_copy(store, update, own_graph), store
    ), update


def _outcome(edit: Callable[[], Edit], store: EmbeddedStore) -> ox.Dataset | str:
    """The store after the edit, or the error's message (an invalid update is refused the same way)."""
    try:
        return _after(store, edit())
    except QuerySyntaxError as error:
        return str(error)


# --- several operations, in turn ---


def test_a_request_is_cut_into_its_operations_each_with_the_declarations_before_it() -> None:
    sparql = PREFIX + 'INSERT DATA { ex:a ex:p "x;y" } ;\nPREFIX t: <http://t/> DELETE WHERE { t:a ?p ?o } ;'
    assert operations(sparql) == [
        PREFIX + 'INSERT DATA { ex:a ex:p "x;y" } ',
        PREFIX + "PREFIX t: <http://t/> DELETE WHERE { t:a ?p ?o } ",
    ]
    assert operations(PREFIX + "INSERT DATA { ex:a ex:p ex:b } ;") is None  # one operation
    assert operations("INSERT DATA { <http://a/> <http://p/> <http://b/> ; CLEAR ALL") is None  # unclosed


_data_operations = st.tuples(st.sampled_from(["INSERT DATA", "DELETE DATA"]), _patterns).map(
    lambda parts: f"{parts[0]} {{ {parts[1]} }}"
)


@st.composite
def _requests(draw: st.DrawFn) -> str:
    steps = draw(
        st.lists(
            st.one_of(_updates().map(lambda update: update.removeprefix(PREFIX)), _data_operations.filter(_ground)),
            min_size=2,
            max_size=3,
        )
    )
    return PREFIX + " ;\n".join(steps)


def _ground(operation: str) -> bool:
    """Whether a data operation has no variable (the patterns it is drawn from do)."""
    return "?" not in operation


@pytest.mark.parametrize("own_graph", [OWN, None], ids=["contributor", "own-data"])
@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quads=_quads, update=_requests())
@example(
    quads=[("ex:a", "ex:p", "ex:a", None)],
    update=PREFIX
    + "DELETE { ?s ex:p ?o } INSERT { ?s ex:q ?o } WHERE { ?s ex:p ?o } ;\n"
    + "DELETE { ?s ex:q ?o } INSERT { ?o ex:r ?s } WHERE { ?s ex:q ?o }",
)
def test_operations_in_turn_change_what_the_request_changes_over_a_copy(
    graph: KnowledgeGraph, tmp_path: Path, quads: list, update: str, own_graph: str | None
) -> None:
    writer = Writer(graph, Journal(tmp_path), own_data=own_graph is None)
    store = _data(quads, own_graph)
    steps = writer._steps(update, own_graph)
    assert steps is not None
    before = sorted(map(str, store.quads()))
    assert _outcome(lambda: writer._run_in_turn(store, update, steps, own_graph), store) == _outcome(
        lambda: writer._run_on_copy(store, update, own_graph), store
    ), update
    assert sorted(map(str, store.quads())) == before  # each operation's changes were taken back


# --- graph operations over the graphs they name ---


@pytest.mark.parametrize(
    ("sparql", "named"),
    [
        ("CLEAR GRAPH <http://g/>", ("http://g/",)),
        ("DROP SILENT DEFAULT ;", (None,)),
        (PREFIX + "CREATE GRAPH ex:g", (EX + "g",)),
        ("BASE <http://b/> COPY <g> TO DEFAULT", ("http://b/g", None)),
        ("MOVE SILENT GRAPH <http://a/> TO GRAPH <http://b/>", ("http://a/", "http://b/")),
        ("ADD DEFAULT TO <http://b/>", (None, "http://b/")),
    ],
)
def test_a_graph_operation_names_its_graphs(sparql: str, named: tuple) -> None:
    assert graph_operation(sparql) == named


@pytest.mark.parametrize(
    "sparql",
    [
        "CLEAR ALL",
        "DROP NAMED",
        "CREATE DEFAULT",
        "COPY <http://a/> <http://b/>",  # no TO
        "CLEAR GRAPH <g>",  # relative, no BASE: the store words the error
        "CLEAR GRAPH <http://a/> ; CLEAR DEFAULT",  # two operations
        "LOAD <http://a/>",
    ],
)
def test_other_updates_are_not_read_as_one_graph_operation(sparql: str) -> None:
    assert graph_operation(sparql) is None


_graph_refs = st.sampled_from(["DEFAULT", "GRAPH ex:g1", "ex:g2", "GRAPH ex:g3", f"<{OWN}>"])


@st.composite
def _graph_operations(draw: st.DrawFn) -> str:
    operation = draw(st.sampled_from(["CLEAR", "DROP", "CREATE", "ADD", "COPY", "MOVE"]))
    silent = draw(st.sampled_from(["", "SILENT "]))
    if operation in ("ADD", "COPY", "MOVE"):
        return f"{PREFIX}{operation} {silent}{draw(_graph_refs)} TO {draw(_graph_refs)}"
    target = draw(_graph_refs.filter(lambda ref: operation != "CREATE" or ref != "DEFAULT"))
    if target != "DEFAULT":
        target = "GRAPH " + target.removeprefix("GRAPH ")
    return f"{PREFIX}{operation} {silent}{target}"


@pytest.mark.parametrize("own_graph", [OWN, None], ids=["contributor", "own-data"])
@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quads=_quads, update=_graph_operations(), empty=st.sets(st.sampled_from([EX + "g2", EX + "g3", OWN])))
def test_a_graph_operation_over_its_graphs_changes_what_it_changes_over_a_copy(
    graph: KnowledgeGraph, tmp_path: Path, quads: list, update: str, empty: set, own_graph: str | None
) -> None:
    writer = Writer(graph, Journal(tmp_path), own_data=own_graph is None)
    store = _data(quads, own_graph)
    writer.empty_graphs = {name for name in empty if not any(store.graph_quads(name))}
    named = graph_operation(update)
    assert named is not None
    assert _graph_outcome(lambda: writer._run_on_copy(store, update, own_graph, only=named), store) == (
        _graph_outcome(lambda: writer._run_on_copy(store, update, own_graph), store)
    ), update


def _graph_outcome(edit: Callable[[], Edit], store: EmbeddedStore) -> tuple | str:
    """The store after the edit and the graphs left existing empty, or the error's message."""
    try:
        made = edit()
    except SparqlError as error:
        return str(error)
    return _after(store, made), sorted(made.empty or ())


# --- through the writer ---


def test_a_modify_write_never_copies_the_store(
    graph: KnowledgeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = Writer(graph, Journal(tmp_path))
    monkeypatch.setattr(Writer, "_run_on_copy", lambda *args: pytest.fail("the store was copied"))
    insert = PREFIX + 'INSERT DATA { ex:a ex:p "1" , "2" }'
    assert writer.update(insert, who="alice").added == 2
    relabel = PREFIX + 'DELETE { ?s ex:p "1" } INSERT { ?s ex:p "3" } WHERE { ?s ex:p "1" }'
    result = writer.update(relabel, who="alice")
    assert (result.added, result.removed) == (1, 1)
    rows = graph.store.query(f"SELECT ?o {{ GRAPH <{OWN}> {{ <{EX}a> <{EX}p> ?o }} }} ORDER BY ?o")
    assert [row[0].value for row in rows] == ["2", "3"]


def test_a_graph_operation_copies_only_the_graphs_it_names(
    graph: KnowledgeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = Writer(graph, Journal(tmp_path))
    writer.update(PREFIX + 'INSERT DATA { ex:a ex:p "1" , "2" }', who="alice")
    copied: list = []
    real = writes._copy
    monkeypatch.setattr(
        writes,
        "_copy",
        lambda store, empty, graphs=None, **kwargs: copied.append(graphs) or real(store, empty, graphs, **kwargs),
    )
    result = writer.update(f"DROP SILENT GRAPH <{EX}none>", who="alice")
    assert (result.added, result.removed, copied) == (0, 0, [{OWN, EX + "none", None}])
    result = writer.update("CLEAR DEFAULT", who="alice")  # the contributor's graph
    assert (result.added, result.removed, copied[1:]) == (0, 2, [{OWN, None}])
    assert not graph.store.query(f"ASK {{ GRAPH <{OWN}> {{ ?s ?p ?o }} }}")


def test_a_request_of_several_operations_never_copies_the_store(
    graph: KnowledgeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = Writer(graph, Journal(tmp_path))
    monkeypatch.setattr(Writer, "_run_on_copy", lambda *args, **kwargs: pytest.fail("the store was copied"))
    request = (
        PREFIX + 'INSERT DATA { ex:a ex:p "1" } ;\n'
        'DELETE { ?s ex:p ?o } INSERT { ?s ex:q ?o } WHERE { ?s ex:p ?o } ;\nDELETE DATA { ex:b ex:p "2" }'
    )
    result = writer.update(request, who="alice")
    assert (result.added, result.removed) == (1, 0)  # ex:p "1" was added, then moved to ex:q
    rows = graph.store.query(f"SELECT ?p ?o {{ GRAPH <{OWN}> {{ <{EX}a> ?p ?o }} }}")
    assert [(row[0].value, row[1].value) for row in rows] == [(EX + "q", "1")]


def test_a_modify_keeps_the_stores_blank_nodes(graph: KnowledgeGraph, tmp_path: Path) -> None:
    writer = Writer(graph, Journal(tmp_path))
    writer.update(PREFIX + 'INSERT DATA { _:b ex:p "1" . _:b ex:q "2" }', who="alice")
    assert writer.update(PREFIX + 'DELETE { ?s ex:p "1" } WHERE { ?s ex:p "1" }', who="alice").removed == 1
    [[subject]] = graph.store.query(f'SELECT ?s {{ GRAPH <{OWN}> {{ ?s <{EX}q> "2" }} }}')
    assert isinstance(subject, ox.BlankNode)
    assert not graph.store.query(f"ASK {{ GRAPH <{OWN}> {{ ?s <{EX}p> ?o }} }}")


def test_a_malformed_modify_is_the_stores_located_syntax_error(graph: KnowledgeGraph, tmp_path: Path) -> None:
    writer = Writer(graph, Journal(tmp_path))
    with pytest.raises(QuerySyntaxError) as refused:  # a blank node in DELETE: the rewritten queries would take it
        writer.update("DELETE { _:b <http://p/> ?o } WHERE { ?s <http://p/> ?o }", who="alice")
    assert str(refused.value) == (
        "Syntax error at line 1, column 34 (after 'ETE { _:b <http://p/> ?o } WHE'): expected GRAPH"
    )


def test_a_where_clause_matching_too_much_is_stopped_at_the_time_limit(graph: KnowledgeGraph, tmp_path: Path) -> None:
    writer = Writer(graph, Journal(tmp_path), timeout=1)
    before = sorted(map(str, graph.store.quads()))
    every = " ".join(f"GRAPH ?g{n} {{ ?s{n} ?p{n} ?o{n} }}" for n in range(6))  # quadrillions of solutions
    cross = f"INSERT {{ ?s0 <{EX}p> ?o5 }} WHERE {{ {every} }}"
    with pytest.raises(WriteUnavailable) as refused:
        writer.update(cross, who="alice")
    assert re.fullmatch(
        r"The write was stopped after 1\.\d s: one write may take 1 s \(--write-timeout\), inference and "
        r"validation included\. Nothing was changed; send it in smaller parts\.",
        str(refused.value),
    )
    assert sorted(map(str, graph.store.quads())) == before
