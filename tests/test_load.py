"""Files -> store: a named graph per file, located syntax errors, nothing read beyond the file."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.config import GRAPH_NS
from kgraph.load import RdfSyntaxError, graph_iri, load_paths, rdf_files
from kgraph.store import EmbeddedStore

FIXTURES = Path(__file__).parent / "fixtures" / "load"
EX = "http://example.org/"


def load(name: str, store: EmbeddedStore | None = None):
    return load_paths(EmbeddedStore() if store is None else store, [FIXTURES / name], root=FIXTURES)


def test_rdf_files_expands_folders_sorted_and_skips_other_files():
    folder = FIXTURES / "folder"
    expected = [folder / "one.ttl", folder / "sub" / "two.nt"]
    assert rdf_files([folder, folder / "one.ttl"]) == expected


def test_rdf_files_missing_path():
    with pytest.raises(FileNotFoundError, match=r"nowhere\.ttl: no such file or folder"):
        rdf_files([FIXTURES / "nowhere.ttl"])


def test_rdf_files_explicit_file_with_unknown_extension():
    with pytest.raises(ValueError, match=r"notes.txt: not an RDF file"):
        rdf_files([FIXTURES / "folder" / "notes.txt"])


def test_graph_iri_inside_and_outside_root(tmp_path):
    inside = FIXTURES / "folder" / "sub" / "two.nt"
    assert graph_iri(inside, FIXTURES) == GRAPH_NS + "folder/sub/two.nt"
    assert graph_iri(tmp_path / "x y.ttl", FIXTURES) == GRAPH_NS + "external/x%20y.ttl"


def test_turtle_goes_into_its_file_graph_with_prefixes():
    store = EmbeddedStore()
    [loaded] = load("good.ttl", store)
    assert loaded.graph == GRAPH_NS + "good.ttl"
    assert loaded.quads == 2
    assert loaded.prefixes == {"ex": EX}
    assert store.graph_names() == [GRAPH_NS + "good.ttl"]
    assert store.count(GRAPH_NS + "good.ttl") == 2


@pytest.mark.parametrize("name", ["quads.nq", "quads.trig"])
def test_quads_keep_their_graph_and_default_graph_goes_to_file_graph(name):
    store = EmbeddedStore()
    load(name, store)
    assert store.graph_names() == [EX + "g", GRAPH_NS + name]
    [in_g] = store.quads(graph=EX + "g")
    assert in_g.object == ox.NamedNode(EX + "c")
    [in_file] = store.quads(graph=GRAPH_NS + name)
    assert in_file.object == ox.NamedNode(EX + "b")


@pytest.mark.parametrize("name", ["data.jsonld", "data.rdf"])
def test_other_formats(name):
    store = EmbeddedStore()
    load(name, store)
    assert [q.triple for q in store.quads()] == [
        ox.Triple(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "b"))
    ]


@pytest.mark.parametrize(
    ("name", "line", "column", "message"),
    [
        ("bad-turtle.ttl", 3, 11, "Unexpected end of file"),
        ("bad.nt", 2, 47, "The object of a triple must be an IRI, a blank node or a literal"),
        ("bad.jsonld", 3, 1, "Unexpected closing curly bracket, no array to close"),
        (
            "bad.rdf",
            4,
            5,
            "ill-formed document: expected `</rdf:Description>`, but `</rdf:Descriptio>` was found",
        ),
    ],
)
def test_syntax_error_is_located(name, line, column, message):
    with pytest.raises(RdfSyntaxError) as caught:
        load(name)
    error = caught.value
    found = (error.path, error.line, error.column, error.message)
    assert found == (FIXTURES / name, line, column, message)
    assert str(error) == f"{FIXTURES / name}:{line}:{column}: {message}"


def test_bad_file_leaves_store_unchanged_and_earlier_files_loaded():
    store = EmbeddedStore()
    with pytest.raises(RdfSyntaxError):
        load_paths(store, [FIXTURES / "xxe.rdf", FIXTURES / "good.ttl"], root=FIXTURES)
    assert store.graph_names() == [GRAPH_NS + "good.ttl"]
    assert store.count() == 2


def test_xml_external_entity_is_never_read():
    with pytest.raises(RdfSyntaxError) as caught:
        load("xxe.rdf")
    assert "root:" not in str(caught.value)
    assert str(caught.value) == (f"{FIXTURES / 'xxe.rdf'}: <!ENTITY values should be enclosed in double quotes")


@pytest.mark.parametrize("name", ["remote-context.jsonld", "remote-context-http.jsonld"])
def test_jsonld_remote_context_is_never_fetched(name):
    with pytest.raises(RdfSyntaxError) as caught:
        load(name)
    assert "root:" not in str(caught.value)
    assert caught.value.message == "No LoadDocumentCallback has been set to load remote contexts"


def test_progress_reports_each_file_and_large_files_periodically(tmp_path, monkeypatch):
    big = tmp_path / "big.nt"
    big.write_text("".join(f"<{EX}s{i}> <{EX}p> <{EX}o> .\n" for i in range(4000)), encoding="utf-8")
    monkeypatch.setattr("kgraph.load.PROGRESS_EVERY_BYTES", big.stat().st_size // 4)
    lines: list[str] = []
    load_paths(EmbeddedStore(), [big], root=tmp_path, progress=lines.append)
    assert lines[0] == f"loading {big}"
    assert lines[-1] == f"loaded {big}: 4000 triples into <{GRAPH_NS}big.nt>"
    percents = [int(line.removeprefix(f"{big}: ").removesuffix("% read")) for line in lines[1:-1]]
    assert len(percents) == 3
    assert percents == sorted(percents)
    assert percents[0] > 0 and percents[-1] < 100


@pytest.fixture(params=[False, True], ids=["transaction", "bulk"])
def bulk(request, monkeypatch):
    """Every on-disk test runs with small files loaded in one transaction, and through the bulk loader."""
    if request.param:
        monkeypatch.setattr("kgraph.load.BULK_LOAD_BYTES", 0)
    return request.param


@pytest.mark.parametrize("name", ["good.ttl", "quads.trig", "data.rdf", "data.jsonld"])
def test_on_disk_store_loads_the_same_as_in_memory(tmp_path, name, bulk):
    memory, disk = EmbeddedStore(), EmbeddedStore(tmp_path / "store")
    [in_memory] = load(name, memory)
    [on_disk] = load(name, disk)
    assert on_disk.quads == in_memory.quads
    assert set(disk.quads()) == set(memory.quads())


@pytest.mark.parametrize("name", ["bad.nt", "bad-turtle.ttl", "bad.rdf", "bad.jsonld"])
def test_on_disk_bad_file_adds_nothing(tmp_path, name, bulk):
    store = EmbeddedStore(tmp_path / "store")
    load("good.ttl", store)
    before = set(store.quads())
    with pytest.raises(RdfSyntaxError):
        load(name, store)
    assert set(store.quads()) == before
    assert store.graph_names() == [GRAPH_NS + "good.ttl"]


def test_bulk_loader_failure_clears_the_graph_it_filled(tmp_path, monkeypatch):
    monkeypatch.setattr("kgraph.load.BULK_LOAD_BYTES", 0)
    """The bulk loader adds what it parsed before an error; the loader must take it out again."""
    bad = tmp_path / "late-error.nt"
    good_lines = "".join(f"<{EX}s{i}> <{EX}p> <{EX}o> .\n" for i in range(50_000))
    bad.write_text(good_lines + f"<{EX}s> <{EX}p> .\n", encoding="utf-8")
    store = EmbeddedStore(tmp_path / "store")
    with pytest.raises(RdfSyntaxError) as caught:
        load_paths(store, [bad], root=tmp_path)
    assert (caught.value.line, caught.value.column) == (50_001, 47)
    assert store.count() == 0


class _PartialBulkLoader:
    """A pyoxigraph store whose bulk loader writes a first batch and then meets a syntax error."""

    def __init__(self, store: ox.Store) -> None:
        self._store = store

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def __len__(self) -> int:
        return len(self._store)

    def bulk_load(self, source, rdf_format, *, base_iri, to_graph):
        self._store.add(ox.Quad(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "o"), to_graph))
        raise SyntaxError("Parser error at line 2 column 1: boom")


def test_a_batch_written_before_a_bulk_load_error_is_taken_out(tmp_path, monkeypatch):
    monkeypatch.setattr("kgraph.load.BULK_LOAD_BYTES", 0)
    store = EmbeddedStore(tmp_path / "store")
    load("good.ttl", store)
    before = set(store.quads())
    store._store = _PartialBulkLoader(store._store)
    with pytest.raises(RdfSyntaxError):
        load_paths(store, [FIXTURES / "folder" / "sub" / "two.nt"], root=FIXTURES)
    assert set(store.quads()) == before


def test_progress_says_a_dataset_file_keeps_its_own_graphs(tmp_path):
    dataset = tmp_path / "mixed.nq"
    dataset.write_text(f"<{EX}a> <{EX}p> <{EX}b> <{EX}g> .\n<{EX}a> <{EX}p> <{EX}c> .\n", encoding="utf-8")
    store = EmbeddedStore()
    lines: list[str] = []
    load_paths(store, [dataset], root=tmp_path, progress=lines.append)
    assert lines[-1] == (
        f"loaded {dataset}: 2 quads into their own named graphs, the default graph's into <{GRAPH_NS}mixed.nq>"
    )
    assert sorted(store.graph_names()) == sorted([f"{EX}g", f"{GRAPH_NS}mixed.nq"])
