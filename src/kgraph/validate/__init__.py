"""Is a contribution fit to merge? The check contributors run locally, in pre-commit and in CI.

New files are checked together with the ontology and the existing data, after inference, so a
contribution is judged by what it means in the whole graph: SHACL shapes, contradictions found by
inference, and ``kg:`` terms that the ontology does not declare (typos). Every problem is located in
the contributor's file. :func:`validate_paths` is a plain function; the CLI only prints its report.

The checking itself is :func:`kgraph.validate.checker.check`, shared with the write path. With a cache folder the
project's checked state is reused (:mod:`kgraph.validate.cache`): only the files that differ from it are loaded
again, and only the nodes their changes can reach are validated again (:mod:`kgraph.validate.reach`); the report
is the same as a run from scratch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pyoxigraph as ox

from kgraph.config import INFERRED_GRAPH
from kgraph.infer.terms import shorten, shorten_triple
from kgraph.load import FORMATS, MAX_NESTING, LoadedFile, RdfSyntaxError, graph_iri, load_paths, parse_file, rdf_files
from kgraph.project import ProjectFiles
from kgraph.store import EmbeddedStore, Store
from kgraph.store.base import Term, named_graph
from kgraph.validate import cache
from kgraph.validate.checker import (
    Baseline,
    CheckContext,
    Findings,
    Shapes,
    as_violation,
    check,
    declared_terms,
    suggestion,
)
from kgraph.validate.literals import ill_typed_literals, quiet_rdflib, triple_terms, without_reported
from kgraph.validate.locate import RDF_TYPE, SourceFile
from kgraph.validate.reach import Reach
from kgraph.validate.repeated import repeated_triples
from kgraph.validate.report import FORMATTERS, Problem, ShaclResult, ValidationReport, Violation

__all__ = [
    "FORMATTERS",
    "Baseline",
    "CheckContext",
    "Problem",
    "ValidationReport",
    "Violation",
    "check",
    "validate_paths",
]


def validate_paths(
    paths: Sequence[Path],
    *,
    project: ProjectFiles,
    shapes: Path | None = None,
    project_data: bool = True,
    progress: Callable[[str], None] | None = None,
    cache_dir: Path | None = None,
    reasoner: str | None = None,
    max_nesting: int = MAX_NESTING,
) -> ValidationReport:
    """Validate ``paths`` (default: the project's data) with the ontology and the project's data.

    ``shapes`` is the folder of SHACL shapes (default: the project's); ``project_data=False`` leaves
    the existing data out, to check files on their own against the ontology. With a ``cache_dir``, the project's
    checked state is kept there and only what the files change is checked again (:mod:`kgraph.validate.cache`);
    the report is the same. ``max_nesting`` bounds JSON-LD and RDF/XML nesting.
    """
    report = ValidationReport()
    ontology = _files([project.ontology], report)
    existing = _files([project.data], report) if project_data else []
    given = _files(paths, report, empty_folders=False) if paths else existing
    shape_files = _files([shapes or project.shapes], report)
    if report.errors:
        return report
    run = _Run(project, _unique(ontology), _unique(existing), _unique(given), shape_files, reasoner, progress)
    run.max_nesting = max_nesting
    run.explicit = bool(paths)  # files named: only their warnings are shown
    with quiet_rdflib():
        if cache_dir is not None and run.cacheable():
            return run.cached(Path(cache_dir), report)
        return run.full(report)


class _Run:
    """One validation: the files it reads, checked from scratch or from the cached state of the project."""

    def __init__(
        self,
        project: ProjectFiles,
        ontology: list[Path],
        existing: list[Path],
        given: list[Path],
        shape_files: list[Path],
        reasoner: str | None,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.project = project
        self.ontology = ontology
        self.project_files = _unique([*ontology, *existing])
        self.given = given
        self.shape_files = shape_files
        self.reasoner = reasoner
        self.progress = progress
        self.explicit = True  # files were named (only their warnings are shown), not the project's data by default
        self.max_nesting = MAX_NESTING

    def cacheable(self) -> bool:
        """Files that each fill only their own graph: a dataset (TriG, N-Quads, JSON-LD) may fill any."""
        return not any(FORMATS[f.suffix.lower()].supports_datasets for f in [*self.project_files, *self.given])

    def full(self, report: ValidationReport) -> ValidationReport:
        """Everything loaded, inferred and validated from scratch."""
        store = EmbeddedStore()
        loaded = _load(
            store, _unique([*self.project_files, *self.given]), self.project, report, self.progress, self.max_nesting
        )
        shapes = _shapes(self.shape_files, report)
        report.errors += triple_terms(store, self._checked(loaded), display)
        if report.errors:
            return report
        context = self._context(shapes, loaded)
        _say(self.progress, f"inferring over {store.count():,} quads")
        findings = check(
            store, None, context=context, terms_of=self._checked_graphs(loaded, context), progress=self.progress
        )
        return self._report(store, findings, loaded, context, report)

    def cached(self, folder: Path, report: ValidationReport) -> ValidationReport:
        """From the cached state of the project: reload the files that differ from it, check what they change."""
        rules = sorted(self.project.rules.glob("*.rq")) if self.project.rules.is_dir() else []
        with_data = len(self.project_files) > len(self.ontology)  # --no-project-data: another state, another key
        cache_key = cache.key([*self.ontology, *self.shape_files, *rules], self.reasoner or "native", with_data)
        state = cache.load(folder, cache_key) or self._baseline(folder, cache_key)
        if state is None:  # the project's own files do not load: say so as a full run does
            return self.full(report)
        store = EmbeddedStore()
        store.add(state.quads)
        loaded, changed = self._update(store, state, report)
        shapes = _shapes(self.shape_files, report, state.reach)
        report.errors += triple_terms(store, self._checked(loaded), display)
        if report.errors:
            return report
        context = self._context(shapes, loaded)
        _say(self.progress, f"inferring over {store.count():,} quads ({len(changed):,} changed)")
        baseline = Baseline({q.triple for q in state.quads if named_graph(q) == INFERRED_GRAPH}, state.results)
        findings = check(
            store,
            changed,
            context=context,
            baseline=baseline,
            terms_of=self._checked_graphs(loaded, context),
            progress=self.progress,
        )
        if changed and set(loaded) == set(self.project_files):  # the project as it is now: the next run starts here
            self._save(folder, cache_key, store, loaded, findings, shapes)
        return self._report(store, findings, loaded, context, report)

    def _baseline(self, folder: Path, cache_key: str) -> cache.CachedState | None:
        """Check the project's own files from scratch and cache the result; None if they do not load."""
        report = ValidationReport()
        store = EmbeddedStore()
        loaded = _load(store, self.project_files, self.project, report, self.progress, self.max_nesting)
        shapes = _shapes(self.shape_files, report)
        if report.errors:
            return None
        findings = check(store, None, context=self._context(shapes, loaded))
        return self._save(folder, cache_key, store, loaded, findings, shapes)

    def _save(
        self,
        folder: Path,
        cache_key: str,
        store: EmbeddedStore,
        loaded: dict[Path, LoadedFile],
        findings: Findings,
        shapes: Shapes,
    ) -> cache.CachedState:
        sources = {file.graph: cache.Source(str(path), cache.file_hash(path)) for path, file in loaded.items()}
        state = cache.CachedState(sources, list(store.quads()), findings.results, shapes.reach)
        cache.save(folder, cache_key, state)
        return state

    def _update(
        self, store: EmbeddedStore, state: cache.CachedState, report: ValidationReport
    ) -> tuple[dict[Path, LoadedFile], list[ox.Quad]]:
        """Make the cached store hold the files as they are now; the quads that differ are what changed."""
        files = _unique([*self.project_files, *self.given])
        graphs = {graph_iri(f, self.project.root): f for f in files}
        loaded: dict[Path, LoadedFile] = {}
        changed: list[ox.Quad] = []
        for graph in set(state.sources) - set(graphs):
            changed += store.quads(graph=graph)
            store.clear_graph(graph)
        for graph, file in graphs.items():
            if state.sources.get(graph) == cache.Source(str(file), cache.file_hash(file)):
                loaded[file] = LoadedFile(file, graph, store.count(graph))
                continue
            before = set(store.quads(graph=graph))
            store.clear_graph(graph)
            loaded.update(_load(store, [file], self.project, report, self.progress, self.max_nesting))
            changed += before ^ set(store.quads(graph=graph))
        return loaded, changed

    def _context(self, shapes: Shapes, loaded: dict[Path, LoadedFile]) -> CheckContext:
        ontology_graphs = {loaded[f].graph for f in self.ontology if f in loaded}
        return CheckContext(self.project.rules, shapes, ontology_graphs, reasoner=self.reasoner)

    def _checked(self, loaded: dict[Path, LoadedFile]) -> list[LoadedFile]:
        """The loaded files being checked, the ontology's left out."""
        ontology = set(self.ontology)
        return [loaded[f] for f in self.given if f in loaded and f not in ontology]

    def _checked_graphs(self, loaded: dict[Path, LoadedFile], context: CheckContext) -> list[str]:
        return [loaded[f].graph for f in self.given if loaded[f].graph not in context.ontology_graphs]

    def _report(
        self,
        store: EmbeddedStore,
        findings: Findings,
        loaded: dict[Path, LoadedFile],
        context: CheckContext,
        report: ValidationReport,
    ) -> ValidationReport:
        """The findings worded and located in the files: a node stated in several files is located in the first of the
        given files, else of the others by path, whatever order the store keeps them in."""
        mine = set(self.given)
        ranked = sorted(loaded.values(), key=lambda f: (f.path not in mine, str(f.path)))
        sources = {file.graph: file for file in ranked}
        declared = declared_terms(store, context.ontology_graphs)
        problems = [_undeclared(iri, declared, sources[graph]) for graph, iri in findings.undeclared]
        literals = ill_typed_literals(store, self._checked(loaded), display)
        report.errors += sorted(problems, key=lambda p: (p.file or "", p.line or 0, p.column or 0)) + literals
        report.errors += without_reported(_inferred_problems(store, findings, sources), literals)
        violations = [_violation(store, r, sources) for r in findings.results]
        violations += repeated_triples(store, self._checked(loaded), sources, display)
        violations.sort(key=lambda v: (v.file or "~", v.line or 0, v.focus, v.path or ""))
        report.violations += _about_given_files(violations, self.given) if self.explicit else violations
        return report


def _say(progress: Callable[[str], None] | None, message: str) -> None:
    if progress:
        progress(message)


def _about_given_files(violations: list[Violation], given: Sequence[Path]) -> list[Violation]:
    """What a contributor checking their files needs to see: every violation (their triples may have caused one
    located in the project's data), but only the warnings about their own files, not the project's standing ones."""
    mine = {display(path) for path in given}
    return [v for v in violations if v.severity == "Violation" or v.file is None or v.file in mine]


def _files(paths: Sequence[Path], report: ValidationReport, *, empty_folders: bool = True) -> list[Path]:
    """The RDF files under each path; a missing or non-RDF path is reported, not raised (an empty folder too, when
    it was given to be checked)."""
    found = []
    for path in paths:
        try:
            found += rdf_files([path], empty_folders=empty_folders)
        except (FileNotFoundError, ValueError) as error:
            report.errors.append(Problem(kind="missing", message=str(error)))
    return found


def _unique(files: Sequence[Path]) -> list[Path]:
    """Each file once, however it was named: the data folder may be among the given paths."""
    return list({file.resolve(): file.resolve() for file in files}.values())


def _load(
    store: Store,
    files: list[Path],
    project: ProjectFiles,
    report: ValidationReport,
    progress: Callable[[str], None] | None,
    max_nesting: int,
) -> dict[Path, LoadedFile]:
    """Load every file into its graph, reporting every syntax error rather than stopping at one."""
    loaded = {}
    for file in files:
        try:
            [loaded[file]] = load_paths(store, [file], root=project.root, progress=progress, max_nesting=max_nesting)
        except RdfSyntaxError as error:
            report.errors.append(_syntax_problem(error))
    return loaded


def _syntax_problem(error: RdfSyntaxError) -> Problem:
    return Problem("syntax", error.message, display(error.path), error.line, error.column)


def _shapes(files: list[Path], report: ValidationReport, reach: Reach | None = None) -> Shapes:
    """The shapes' triples (pySHACL's input, made into a graph only if shapes run); syntax errors are reported."""
    triples: list[ox.Triple] = []
    for file in files:
        try:
            quads, _ = parse_file(file, "urn:kgraph:shapes")
        except RdfSyntaxError as error:
            report.errors.append(_syntax_problem(error))
        else:
            triples += (q.triple for q in quads)
    return Shapes(triples, reach)


def _undeclared(iri: str, declared: set[str], file: LoadedFile) -> Problem:
    term = ox.NamedNode(iri)
    message = f"{shorten(term)} is not declared in the ontology"
    close = suggestion(iri, declared)
    if close:
        message += f"; did you mean {shorten(ox.NamedNode(close))}?"
    line, column = SourceFile(file.path, file.prefixes).find_term(term) or (None, None)
    return Problem("undeclared-term", message, display(file.path), line, column)


def _inferred_problems(store: Store, findings: Findings, sources: dict[str, LoadedFile]) -> list[Problem]:
    """Contradictions that inference finds, located at the first asserted triple involved."""
    problems = []
    for found in findings.inference.inconsistencies:
        file, line, column = _first_located(store, found.triples, sources)
        triples = [shorten_triple(t) for t in found.triples]
        problems.append(Problem("inconsistency", found.message, file, line, column, triples))
    return problems


def _first_located(
    store: Store, triples: list[ox.Triple], sources: dict[str, LoadedFile]
) -> tuple[str | None, int | None, int | None]:
    """Where the first asserted one of ``triples`` is written, else where its subject is."""
    for triple in triples:
        graphs = {named_graph(q) for q in store.quads(triple.subject, triple.predicate, triple.object)}
        for source in (s for g, s in sources.items() if g in graphs):
            if isinstance(triple.subject, ox.NamedNode):
                position = SourceFile(source.path, source.prefixes).find_triple(triple.subject, triple.predicate)
                return display(source.path), *(position or (None, None))
    subjects = [t.subject for t in triples if isinstance(t.subject, ox.NamedNode | ox.BlankNode)]
    return _locate_focus(store, subjects[0], None, sources) if subjects else (None, None, None)


def _violation(store: Store, result: ShaclResult, sources: dict[str, LoadedFile]) -> Violation:
    return as_violation(result, *_locate_focus(store, result.focus, result.path, sources))


def _locate_focus(
    store: Store,
    focus: Term | ox.Triple,
    path: ox.NamedNode | None,
    sources: dict[str, LoadedFile],
) -> tuple[str | None, int | None, int | None]:
    """Where the focus is described, else mentioned; a blank node or a literal is found through its parent, and a
    blank node nothing points to (``[] a kg:Settlement``) in the file that describes it, without a line."""
    if not isinstance(focus, ox.NamedNode):
        rank = {graph: n for n, graph in enumerate(sources)}
        parents = [q for q in store.quads(obj=focus) if named_graph(q) != INFERRED_GRAPH]
        if not parents:
            stating = (
                _files_stating(store, focus, as_subject=True, sources=sources)
                if isinstance(focus, ox.BlankNode)
                else []
            )
            return (display(stating[0].path) if stating else None), None, None
        parents.sort(key=lambda q: (rank.get(named_graph(q) or "", len(rank)), str(q.subject), str(q.predicate)))
        return _locate_focus(store, parents[0].subject, parents[0].predicate, sources)
    for source in _files_stating(store, focus, as_subject=True, sources=sources):
        position = SourceFile(source.path, source.prefixes).find_triple(focus, path)
        if position:
            return display(source.path), *position
    for source in _files_stating(store, focus, as_subject=False, sources=sources):
        position = SourceFile(source.path, source.prefixes).find_term(focus)
        if position:
            return display(source.path), *position
    return None, None, None


def _files_stating(
    store: Store, term: ox.NamedNode | ox.BlankNode, *, as_subject: bool, sources: dict[str, LoadedFile]
) -> list[LoadedFile]:
    """The files with a triple about ``term`` (as subject), or mentioning it (as object), in the order of
    ``sources``; as subject, those that give its type first (where it is described, not only annotated)."""
    quads = list(store.quads(subject=term) if as_subject else store.quads(obj=term))
    graphs = {named_graph(q) for q in quads}
    typed = {named_graph(q) for q in quads if q.predicate.value == RDF_TYPE} if as_subject else set()
    stating = [(graph, source) for graph, source in sources.items() if graph in graphs]
    return [source for graph, source in sorted(stating, key=lambda item: item[0] not in typed)]


def display(path: Path) -> str:
    """A path as contributors (and GitHub) expect it: relative to the current folder if inside."""
    relative = os.path.relpath(Path(path).resolve())
    return str(path) if relative.startswith("..") else relative
