"""The embedded store behind the one store interface: graphs, patterns, datasets, and the on-disk variant."""

from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.store import EmbeddedStore, open_store

G1, G2 = "http://example.org/g1", "http://example.org/g2"
S, P = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")


def _quad(value: str, graph: str) -> ox.Quad:
    return ox.Quad(S, P, ox.Literal(value), ox.NamedNode(graph))


@pytest.fixture
def store() -> EmbeddedStore:
    store = EmbeddedStore()
    store.add([_quad("one", G1), _quad("two", G2)])
    return store


def _values(result: ox.QuerySolutions) -> list[str]:
    return sorted(solution["o"].value for solution in result)


def test_default_graph_is_the_union_unless_named(store: EmbeddedStore) -> None:
    query = "SELECT ?o WHERE { ?s ?p ?o }"
    assert _values(store.query(query)) == ["one", "two"]
    assert _values(store.query(query, default_graph=[G1])) == ["one"]
    assert _values(store.query(query, default_graph=[])) == []


def test_named_graphs_limit_graph_patterns(store: EmbeddedStore) -> None:
    result = store.query("SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=[G2])
    assert _values(result) == ["two"]


def test_graph_names_counts_and_clear(store: EmbeddedStore) -> None:
    assert store.graph_names() == [G1, G2]
    assert (store.count(G1), len(store)) == (1, 2)
    store.clear_graph(G1)
    assert store.graph_names() == [G2]
    assert len(store) == 1


def test_replace_graph_keeps_other_graphs(store: EmbeddedStore) -> None:
    store.replace_graph(G1, [_quad("three", G1), _quad("four", G1)])
    assert sorted(q.object.value for q in store.quads(graph=G1)) == ["four", "three"]
    assert [q.object.value for q in store.quads(graph=G2)] == ["two"]


def test_remove_and_update(store: EmbeddedStore) -> None:
    store.remove([_quad("two", G2)])
    store.update(f'INSERT DATA {{ GRAPH <{G2}> {{ <http://example.org/s> <http://example.org/p> "five" }} }}')
    assert [q.object.value for q in store.quads(graph=G2)] == ["five"]


def test_malformed_query_names_line_and_column(store: EmbeddedStore) -> None:
    with pytest.raises(SyntaxError, match=r"error at 2:16"):
        store.query("SELECT *\nWHERE { ?s ?p }")


def test_on_disk_store_keeps_its_data(tmp_path: Path) -> None:
    first = open_store(str(tmp_path / "db"))
    first.add([_quad("kept", G1)])
    first.close()
    second = open_store(str(tmp_path / "db"))
    assert [q.object.value for q in second.quads(graph=G1)] == ["kept"]


def test_a_list_of_every_graph_reads_as_their_union_and_nothing_more(store: EmbeddedStore) -> None:
    query = "SELECT ?o WHERE { ?s ?p ?o }"
    assert _values(store.query(query, default_graph=[G1, G2])) == ["one", "two"]
    store.add([ox.Quad(S, P, ox.Literal("unnamed"), ox.DefaultGraph())])  # not named in the list: not read
    assert _values(store.query(query, default_graph=[G1, G2])) == ["one", "two"]


def test_a_list_leaving_out_a_graph_with_triples_does_not_read_it(store: EmbeddedStore) -> None:
    query = "SELECT ?o WHERE { ?s ?p ?o }"
    store.add([ox.Quad(S, P, ox.Literal("three"), ox.NamedNode("http://example.org/g3"))])
    assert _values(store.query(query, default_graph=[G1, G2])) == ["one", "two"]
    store.clear_graph("http://example.org/g3")
    assert _values(store.query(query, default_graph=[G1, G2, "http://example.org/absent"])) == ["one", "two"]
