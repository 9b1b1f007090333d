"""The served knowledge graph: project files loaded into a store, then inferred, ready for queries.

This is the one place where the steps of the data flow are put together, in their order:
files -> store (asserted, one named graph per file) -> inference (the inferred graph, kept apart) -> serving.

An on-disk store (``--store PATH``) keeps the result between starts: its build manifest (:mod:`kgraph.manifest`)
says what it was built from, so a later start with the same inputs loads and infers nothing, a changed file has
just its graph reloaded (then inference runs again), and anything doubtful means a rebuild from scratch.

A remote store (``--store URL``) is loaded and inferred where it is (:mod:`kgraph.infer.in_store`): no graph has to
fit in this process's memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from kgraph import manifest
from kgraph.config import INFERRED_GRAPH, Settings
from kgraph.infer import InferenceReport, run_inference
from kgraph.infer.engine import asserted_graphs
from kgraph.infer.in_store import infer_in_store, timed
from kgraph.journal import JOURNAL_NAME, Journal, apply_entries, complete_entries, replay_journal
from kgraph.load import FORMATS, graph_iri, load_paths, rdf_files, refuse_project_graphs
from kgraph.project import ProjectFiles
from kgraph.store import EmbeddedStore, RemoteStore, Store, open_store


@dataclass
class KnowledgeGraph:
    """A store with its asserted graphs and the inferred graph kept apart."""

    store: Store
    files: ProjectFiles
    inference: InferenceReport

    def asserted_graphs(self) -> list[str]:
        """Every named graph except the inferred one."""
        return asserted_graphs(self.store)

    def default_graph(self, infer: bool) -> list[str]:
        """The graphs whose union a query sees by default: asserted, plus inferred when ``infer`` is on."""
        graphs = self.asserted_graphs()
        return [*graphs, INFERRED_GRAPH] if infer else graphs


def build(settings: Settings, progress: Callable[[str], None] | None = None) -> KnowledgeGraph:
    """Load the ontology, the article data and any ``--data`` into a store, then run inference; an on-disk store
    already built from the same inputs is served as it is."""
    files = (
        ProjectFiles(Path(settings.data_dir) / "no-project")
        if settings.own_data
        else ProjectFiles.locate(settings.project_dir)
    )  # one's own data: no ontology, article, shapes or rules of the project
    store = open_store(settings.store, timeout=settings.timeout)
    sources = rdf_files([*settings.data] if settings.own_data else [files.ontology, files.data, *settings.data])
    refuse_project_graphs(settings.data, root=files.root, max_nesting=settings.max_nesting)
    server = store.sparql_server()
    if store.path is not None:
        inference = _update_on_disk(store, files, sources, settings, progress or _quiet)
    elif server is not None:
        inference = _build_in_store(server, files, sources, settings, progress)
    else:
        scratch = store if store.in_memory else EmbeddedStore()
        load_paths(scratch, sources, root=files.root, progress=progress, max_nesting=settings.max_nesting)
        replay_journal(scratch, settings.data_dir)  # writes acknowledged over HTTP, in order
        if progress:
            progress(f"inferring over {scratch.count():,} quads")
        inference = run_inference(scratch, rules_dir=files.rules, reasoner=settings.reasoner)
        if scratch is not store:
            _upload(scratch, store)
    return KnowledgeGraph(store=store, files=files, inference=inference)


def _build_in_store(
    store: RemoteStore,
    files: ProjectFiles,
    sources: list[Path],
    settings: Settings,
    progress: Callable[[str], None] | None,
) -> InferenceReport:
    """Load the files into the remote store (each graph replaced; N-Triples by the store's own loader when a folder
    it reads is set: ``store_load_dir``), replay the journal there and infer there
    (:mod:`kgraph.infer.in_store`), so that no graph needs to fit in this process's memory; in memory and uploaded
    when the schema needs owlrl."""
    for path in rdf_files(sources):
        graph = graph_iri(path, files.root)
        with timed(path.name, stage="loading into the store"):
            store.clear_graph(graph)
            if settings.store_load_dir and path.suffix.lower() == ".nt":
                count = store.load_shared_file(path, graph, settings.store_load_dir)
                (progress or _quiet)(f"loaded {path} through the store's own loader: {count} triples into <{graph}>")
            else:
                load_paths(store, [path], root=files.root, progress=progress)
    with timed("the journal", stage="replaying into the store"):
        replay_journal(store, settings.data_dir)
    inference = infer_in_store(store, rules_dir=files.rules) if settings.reasoner == "native" else None
    if inference is not None:
        return inference
    scratch = EmbeddedStore()
    for graph in asserted_graphs(store):
        scratch.add(store.quads(graph=graph))
    inference = run_inference(scratch, rules_dir=files.rules, reasoner=settings.reasoner)
    _upload(scratch, store)
    return inference


def _upload(built: Store, remote: Store) -> None:
    """Send a graph built and inferred in memory to a remote store, one graph at a time (when the schema needs
    owlrl, which only runs in memory)."""
    for graph in built.graph_names():
        remote.replace_graph(graph, built.quads(graph=graph))
    if INFERRED_GRAPH not in built.graph_names():
        remote.clear_graph(INFERRED_GRAPH)


def recorded_empty_graphs(graph: KnowledgeGraph, data_dir: Path) -> set[str]:
    """The named graphs the last journaled write left existing without a triple (a Graph Store PUT of nothing):
    a store loaded anew from the files and the journal holds no trace of them."""
    recorded = Journal(data_dir).empty_graphs()
    return {name for name in recorded if next(iter(graph.store.graph_quads(name)), None) is None}


def checkpoint(graph: KnowledgeGraph, settings: Settings) -> None:
    """Record in an on-disk store's manifest that it holds the whole journal, once a write is committed to it, so the
    next start has nothing to replay or re-infer. A no-op for other stores and for a store without a manifest."""
    store = graph.store
    if store.path is None:
        return
    try:
        built = manifest.read(store.path)
    except manifest.ManifestError:
        return  # the next start rebuilds anyway
    if built is None:
        return
    journal = Path(settings.data_dir) / JOURNAL_NAME
    store.flush()
    mark = manifest.advance_mark(built.journal, journal)
    manifest.write(store.path, replace(built, journal=mark, quads=store.count()).with_report(graph.inference))


def _update_on_disk(
    store: Store, files: ProjectFiles, sources: list[Path], settings: Settings, say: Callable[[str], None]
) -> InferenceReport:
    """Bring an on-disk store up to date with its inputs, doing only what its manifest says has changed."""
    folder = store.path
    assert folder is not None
    journal = Path(settings.data_dir) / JOURNAL_NAME
    try:
        old, unreadable = manifest.read(folder), None
    except manifest.ManifestError as error:
        old, unreadable = None, str(error)
    by_graph = {graph_iri(path, files.root): path for path in sources}
    known = old.sources if old else {}
    lines = manifest.journal_lines(journal)
    new = manifest.Manifest(
        engine=manifest.engine(),
        inference_inputs=manifest.inference_inputs(files.rules, settings.reasoner),
        sources={graph: manifest.stamp(path, known.get(graph)) for graph, path in by_graph.items()},
        journal=manifest.journal_mark(journal, lines),
        quads=0,
    )
    todo = manifest.Plan(rebuild=unreadable) if unreadable else manifest.plan(old, new, lines, store.count())
    todo = _whole_if_datasets(todo, old, by_graph)
    if todo.up_to_date and old is not None:
        say(f"{folder}: up to date with its {len(by_graph)} source files and the journal: nothing loaded or inferred")
        if old.sources != new.sources:  # touched but unchanged files: remember their new times
            manifest.write(folder, replace(old, sources=new.sources))
        return old.report()
    manifest.invalidate(folder)
    if todo.rebuild:
        say(f"{folder}: building the store from scratch: {todo.rebuild}")
        scratch = EmbeddedStore()
        load_paths(scratch, sources, root=files.root, progress=say, max_nesting=settings.max_nesting)
        _replay_saying(scratch, lines, folder, say)
        inference = _infer(scratch, files, settings, folder, say)
        say(f"{folder}: writing {scratch.count()} quads to disk")
        store.clear()
        store.copy_from(scratch)
    else:
        _update_graphs(store, todo, by_graph, files, folder, say, settings.max_nesting)
        _replay_saying(store, lines[todo.journal_from :], folder, say)
        scratch = EmbeddedStore()
        for graph in asserted_graphs(store):
            scratch.add(store.quads(graph=graph))
        inference = _infer(scratch, files, settings, folder, say)
        store.clear_graph(INFERRED_GRAPH)
        store.copy_from(scratch, INFERRED_GRAPH)
    store.flush()
    manifest.write(folder, replace(new, quads=store.count()).with_report(inference))
    return inference


def _update_graphs(
    store: Store,
    todo: manifest.Plan,
    by_graph: dict[str, Path],
    files: ProjectFiles,
    folder: Path,
    say: Callable[[str], None],
    max_nesting: int,
) -> None:
    """Empty the graphs of files that are gone; reload those of files that are new or changed."""
    for graph in todo.drop:
        say(f"{folder}: <{graph}> has no source file any more: removing it")
        store.clear_graph(graph)
    for graph in todo.reload:
        say(f"{folder}: {by_graph[graph]} is new or changed: (re)loading its graph")
        store.clear_graph(graph)
        load_paths(store, [by_graph[graph]], root=files.root, progress=say, max_nesting=max_nesting)


def _infer(
    store: Store, files: ProjectFiles, settings: Settings, folder: Path, say: Callable[[str], None]
) -> InferenceReport:
    """Inference over an in-memory copy: the reasoner asks the store a great many small questions, and RocksDB
    answers them several times slower than memory (344 s against 48 s for 1M generated triples)."""
    say(f"{folder}: running inference")
    inference = run_inference(store, rules_dir=files.rules, reasoner=settings.reasoner)
    say(f"{folder}: inferred {inference.added} triples in {inference.seconds:.1f} s")
    return inference


def _replay_saying(store: Store, lines: bytes, folder: Path, say: Callable[[str], None]) -> None:
    replayed = apply_entries(store, complete_entries(lines.splitlines(), JOURNAL_NAME))
    if replayed:
        say(f"{folder}: applied {replayed} journaled write(s)")


def _whole_if_datasets(todo: manifest.Plan, old: manifest.Manifest | None, by_graph: dict[str, Path]) -> manifest.Plan:
    """A rebuild instead when a changed or removed file is a dataset (N-Quads, TriG, JSON-LD): it may have filled
    other graphs than its own, which clearing its graph would not empty."""
    if todo.rebuild or old is None:
        return todo
    paths = [Path(old.sources[g].path) for g in todo.drop] + [by_graph[g] for g in todo.reload if g in old.sources]
    datasets = [p for p in paths if FORMATS[p.suffix.lower()].supports_datasets]
    if datasets:
        return manifest.Plan(rebuild=f"{datasets[0]} changed and may fill graphs other than its own")
    return todo


def _quiet(message: str) -> None:
    """Progress nobody asked for."""
