"""The served knowledge graph: project files loaded into a store, then inferred, ready for queries.

This is the one place where the steps of the data flow are put together, in their order:
files -> store (asserted, one named graph per file) -> inference (the inferred graph, kept apart) -> serving.

An on-disk store (``--store PATH``) keeps the result between starts: its build manifest (:mod:`kgraph.manifest`)
says what it was built from, so a later start with the same inputs loads and infers nothing, a changed file has
just its graph reloaded (then inference runs again), and anything doubtful means a rebuild from scratch.

A remote store (``--store URL``) is loaded and inferred where it is (:mod:`kgraph.infer.in_store`): no graph has to
fit in this process's memory. It keeps the result between starts the same way, its manifest in the data directory
(:func:`kgraph.manifest.remote_path`) with its triple count per graph, so that a restart over a store already built
from the same inputs loads and infers nothing there either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph as ox

from kgraph import manifest
from kgraph.config import INFERRED_GRAPH, Settings
from kgraph.infer import InferenceReport, run_inference
from kgraph.infer.engine import asserted_graphs
from kgraph.infer.in_store import infer_in_store, timed
from kgraph.journal import JOURNAL_NAME, Entry, Journal, apply_entries, complete_entries, replay_journal
from kgraph.load import FORMATS, graph_iri, load_paths, rdf_files, refuse_project_graphs
from kgraph.project import ProjectFiles
from kgraph.store import EmbeddedStore, RemoteStore, Store, open_store

_log = logging.getLogger(__name__)


@dataclass
class KnowledgeGraph:
    """A store with its asserted graphs and the inferred graph kept apart."""

    store: Store
    files: ProjectFiles
    inference: InferenceReport

    def asserted_graphs(self, names: Iterable[str] | None = None) -> list[str]:
        """Every named graph except the inferred one (``names``: as :func:`kgraph.infer.engine.asserted_graphs` takes
        them)."""
        return asserted_graphs(self.store, names)

    def default_graph(self, infer: bool, names: Iterable[str] | None = None) -> list[str]:
        """The graphs whose union a query sees by default: asserted, plus inferred when ``infer`` is on (``names``: as
        :meth:`asserted_graphs` takes them)."""
        graphs = self.asserted_graphs(names)
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
        inference = _update_in_store(server, files, sources, settings, progress or _quiet)
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


@dataclass(frozen=True)
class _Start:
    """What a start over a store with a build manifest found: the manifest and the one a build now would write (its
    ``quads`` and ``graphs`` what the store holds now), the journal's complete lines, and the plan."""

    path: Path
    old: manifest.Manifest | None
    new: manifest.Manifest
    lines: bytes
    todo: manifest.Plan
    by_graph: dict[str, Path]


def _plan_start(
    path: Path,
    files: ProjectFiles,
    sources: list[Path],
    settings: Settings,
    engine: dict[str, str],
    graphs: dict[str, int] | int,
) -> _Start:
    """Compare the manifest at ``path`` with this start's inputs and the store's count (per graph, for a remote)."""
    journal = Path(settings.data_dir) / JOURNAL_NAME
    try:
        old, unreadable = manifest.read(path), None
    except manifest.ManifestError as error:
        old, unreadable = None, str(error)
    by_graph = {graph_iri(source, files.root): source for source in sources}
    known = old.sources if old else {}
    lines = manifest.journal_lines(journal)
    new = manifest.Manifest(
        engine=engine,
        inference_inputs=manifest.inference_inputs(files.rules, settings.reasoner),
        sources={graph: manifest.stamp(source, known.get(graph)) for graph, source in by_graph.items()},
        journal=manifest.journal_mark(journal, lines),
        quads=graphs if isinstance(graphs, int) else sum(graphs.values()),
        graphs={} if isinstance(graphs, int) else graphs,
    )
    todo = manifest.Plan(rebuild=unreadable) if unreadable else manifest.plan(old, new, lines)
    return _Start(path, old, new, lines, _whole_if_datasets(todo, old, by_graph), by_graph)


def _reused(start: _Start, label: str, say: Callable[[str], None]) -> InferenceReport | None:
    """The last build's inference report when the store is up to date with its inputs (said, and the new times of
    touched but unchanged files remembered); None when it is not."""
    old = start.old
    if not start.todo.up_to_date or old is None:
        return None
    say(f"{label}: up to date with its {len(start.by_graph)} source files and the journal: nothing loaded or inferred")
    if old.sources != start.new.sources:
        _keep(start.path, replace(old, sources=start.new.sources))
    return old.report()


def _update_in_store(
    store: RemoteStore, files: ProjectFiles, sources: list[Path], settings: Settings, say: Callable[[str], None]
) -> InferenceReport:
    """Bring a remote store up to date with its inputs, doing only what its manifest (in the data directory) says
    has changed: nothing, or the graphs of changed files reloaded and inference run again in the store, or every
    file loaded again (the store's other graphs are left as they are)."""
    label = store.url
    start = _plan_start(
        manifest.remote_path(settings.data_dir, store.query_url),
        files,
        sources,
        settings,
        manifest.engine(store.software),
        store.graph_counts(),
    )
    reused = _reused(start, label, say)
    if reused is not None:
        return reused
    manifest.invalidate(start.path)
    store = store.unlogged_copy()  # all rebuilt should the store lose it: the manifest is written last
    load = _remote_loader(store, files, settings, say)
    if start.todo.rebuild:
        say(f"{label}: loading every source file and inferring again: {start.todo.rebuild}")
        for path in sources:
            store.clear_graph(graph_iri(path, files.root))
            load(path)
    else:
        _update_graphs(store, start.todo, start.by_graph, label, say, load)
    with timed("the journal", stage="replaying into the store"):
        _replay_saying(store, start.lines, start.todo, label, say)
    inference = _infer_in_store(store, files, settings, label, say)
    counts = store.graph_counts()
    _keep(start.path, replace(start.new, quads=sum(counts.values()), graphs=counts).with_report(inference))
    return inference


def _keep(path: Path, built: manifest.Manifest) -> None:
    """Write a build manifest, last; a data directory that cannot hold it (read-only, or not a folder) is logged, not
    fatal: the store is served all the same, and the next start builds it again."""
    try:
        manifest.write(path, built)
    except OSError as error:
        _log.warning("cannot keep the build manifest %s (%s): the next start builds the store again", path, error)


def _remote_loader(
    store: RemoteStore, files: ProjectFiles, settings: Settings, say: Callable[[str], None]
) -> Callable[[Path], None]:
    """How a file is loaded into its (empty) graph of the remote store: N-Triples by the store's own loader when a
    folder it reads is set (``store_load_dir``), anything else parsed here and sent in batches."""

    def load(path: Path) -> None:
        graph = graph_iri(path, files.root)
        with timed(path.name, stage="loading into the store"):
            if settings.store_load_dir and path.suffix.lower() == ".nt":
                count = store.load_shared_file(path, graph, settings.store_load_dir)
                say(f"loaded {path} through the store's own loader: {count} triples into <{graph}>")
            else:
                load_paths(store, [path], root=files.root, progress=say, max_nesting=settings.max_nesting)

    return load


def _infer_in_store(
    store: RemoteStore, files: ProjectFiles, settings: Settings, label: str, say: Callable[[str], None]
) -> InferenceReport:
    """Inference in the remote store (:mod:`kgraph.infer.in_store`), so that no graph needs to fit in this process's
    memory; in memory and uploaded when the schema needs owlrl."""
    say(f"{label}: running inference")
    inference = infer_in_store(store, rules_dir=files.rules) if settings.reasoner == "native" else None
    if inference is None:
        scratch = EmbeddedStore()
        for graph in asserted_graphs(store):
            scratch.add(store.quads(graph=graph))
        inference = run_inference(scratch, rules_dir=files.rules, reasoner=settings.reasoner)
        _upload(scratch, store)
    say(f"{label}: inferred {inference.added} triples in {inference.seconds:.1f} s")
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


def checkpoint(
    graph: KnowledgeGraph, settings: Settings, change: tuple[list[ox.Quad], list[ox.Quad]] | None = None
) -> None:
    """Record in the store's manifest (an on-disk store's, or a remote store's in the data directory) that it holds
    the whole journal, once a write is committed to it, so the next start has nothing to replay or re-infer. A no-op
    for an in-memory store and for a store without a manifest; a remote store that fails to answer leaves the
    manifest as it was (the next start replays the write again, which is harmless). Given the quads the write added
    and removed (``change``), a remote store's counts per graph are the manifest's moved by them rather than counted
    again (a query over the whole store, 0.4 s at 1M quads); a store changed by something else then still differs
    from its manifest at the next start, which rebuilds it."""
    store, server = graph.store, graph.store.sparql_server()
    if store.path is not None:
        path = manifest.in_folder(store.path)
    elif server is not None:
        path = manifest.remote_path(settings.data_dir, server.query_url)
    else:
        return
    try:
        built = manifest.read(path)
    except manifest.ManifestError:
        return  # the next start rebuilds anyway
    if built is None:
        return
    mark = manifest.advance_mark(built.journal, Path(settings.data_dir) / JOURNAL_NAME)
    if server is None:
        store.flush()
        now = replace(built, journal=mark, quads=store.count())
    else:
        try:
            counts = _moved(built.graphs, change) if change and built.graphs else None
            counts = server.graph_counts() if counts is None else counts
        except OSError as error:
            _log.warning("cannot record the write in the manifest %s: %s", path, str(error))
            return
        now = replace(built, journal=mark, quads=sum(counts.values()), graphs=counts)
    _keep(path, now.with_report(graph.inference))


def _moved(counts: dict[str, int], change: tuple[list[ox.Quad], list[ox.Quad]]) -> dict[str, int] | None:
    """The triples of each named graph once ``change`` (added, removed) is made; None when it touches the default
    graph, which a remote store may not count apart (Virtuoso's is the union)."""
    moved = dict(counts)
    for quads, step in ((change[0], 1), (change[1], -1)):
        for quad in quads:
            if not isinstance(quad.graph_name, ox.NamedNode):
                return None
            moved[quad.graph_name.value] = moved.get(quad.graph_name.value, 0) + step
    return {graph: count for graph, count in moved.items() if count}


def _update_on_disk(
    store: Store, files: ProjectFiles, sources: list[Path], settings: Settings, say: Callable[[str], None]
) -> InferenceReport:
    """Bring an on-disk store up to date with its inputs, doing only what its manifest says has changed."""
    folder = store.path
    assert folder is not None
    start = _plan_start(manifest.in_folder(folder), files, sources, settings, manifest.engine(), store.count())
    reused = _reused(start, str(folder), say)
    if reused is not None:
        return reused
    manifest.invalidate(start.path)
    todo = start.todo
    if todo.rebuild:
        say(f"{folder}: building the store from scratch: {todo.rebuild}")
        scratch = EmbeddedStore()
        load_paths(scratch, sources, root=files.root, progress=say, max_nesting=settings.max_nesting)
        _replay_saying(scratch, start.lines, todo, str(folder), say)
        inference = _infer(scratch, files, settings, folder, say)
        say(f"{folder}: writing {scratch.count()} quads to disk")
        store.clear()
        store.copy_from(scratch)
    else:

        def load(path: Path) -> None:
            load_paths(store, [path], root=files.root, progress=say, max_nesting=settings.max_nesting)

        _update_graphs(store, todo, start.by_graph, str(folder), say, load)
        _replay_saying(store, start.lines, todo, str(folder), say)
        scratch = EmbeddedStore()
        for graph in asserted_graphs(store):
            scratch.add(store.quads(graph=graph))
        inference = _infer(scratch, files, settings, folder, say)
        store.clear_graph(INFERRED_GRAPH)
        store.copy_from(scratch, INFERRED_GRAPH)
    store.flush()
    manifest.write(start.path, replace(start.new, quads=store.count()).with_report(inference))
    return inference


def _update_graphs(
    store: Store,
    todo: manifest.Plan,
    by_graph: dict[str, Path],
    label: str,
    say: Callable[[str], None],
    load: Callable[[Path], None],
) -> None:
    """Empty the graphs of files that are gone; reload (``load``) those of files that are new or changed."""
    for graph in todo.drop:
        say(f"{label}: <{graph}> has no source file any more: removing it")
        store.clear_graph(graph)
    for graph in todo.reload:
        say(f"{label}: {by_graph[graph]} is new or changed: (re)loading its graph")
        store.clear_graph(graph)
        load(by_graph[graph])


def _infer(
    store: Store, files: ProjectFiles, settings: Settings, folder: Path, say: Callable[[str], None]
) -> InferenceReport:
    """Inference over an in-memory copy: the reasoner asks the store a great many small questions, and RocksDB
    answers them several times slower than memory (344 s against 48 s for 1M generated triples)."""
    say(f"{folder}: running inference")
    inference = run_inference(store, rules_dir=files.rules, reasoner=settings.reasoner)
    say(f"{folder}: inferred {inference.added} triples in {inference.seconds:.1f} s")
    return inference


def _replay_saying(store: Store, lines: bytes, todo: manifest.Plan, label: str, say: Callable[[str], None]) -> None:
    """Apply the journaled writes the store lacks: those after its mark (``todo.journal_from``), and of the earlier
    ones, what they wrote into the graphs just emptied (reloaded or removed), as a start without a manifest would."""
    emptied = {*todo.reload, *todo.drop}
    earlier = complete_entries(lines[: todo.journal_from].splitlines(), JOURNAL_NAME) if emptied else ()
    again = apply_entries(store, _within(earlier, emptied))
    if again:
        say(f"{label}: applied {again} earlier journaled write(s) again to the graphs reloaded or removed")
    replayed = apply_entries(store, complete_entries(lines[todo.journal_from :].splitlines(), JOURNAL_NAME))
    if replayed:
        say(f"{label}: applied {replayed} journaled write(s)")


def _within(entries: Iterable[Entry], graphs: set[str]) -> Iterable[Entry]:
    """The part of each entry that is about one of ``graphs`` (entries about none of them left out)."""
    names = {ox.NamedNode(graph) for graph in graphs}
    for entry in entries:
        removed = [quad for quad in entry.removed if quad.graph_name in names]
        added = [quad for quad in entry.added if quad.graph_name in names]
        if removed or added:
            yield replace(entry, removed=removed, added=added)


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
