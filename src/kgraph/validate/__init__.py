"""Is a contribution fit to merge? The check contributors run locally, in pre-commit and in CI.

New files are checked together with the ontology and the existing data, after inference, so a
contribution is judged by what it means in the whole graph: SHACL shapes, contradictions found by
inference, and ``kg:`` terms that the ontology does not declare (typos). Every problem is located in
the contributor's file. :func:`validate_paths` is a plain function; the CLI only prints its report.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pyoxigraph as ox

from kgraph.config import INFERRED_GRAPH, ONTOLOGY_NS
from kgraph.infer import run_inference
from kgraph.infer.terms import shorten, shorten_triple
from kgraph.load import MAX_NESTING, LoadedFile, RdfSyntaxError, load_paths, parse_file, rdf_files
from kgraph.project import ProjectFiles
from kgraph.store import EmbeddedStore, Store
from kgraph.validate.literals import ill_typed_literals, triple_terms, without_reported
from kgraph.validate.locate import SourceFile
from kgraph.validate.report import FORMATTERS, Problem, ValidationReport, Violation
from kgraph.validate.shacl import ShaclResult, run_shacl, to_graph

__all__ = ["FORMATTERS", "Problem", "ValidationReport", "Violation", "validate_paths"]


def validate_paths(
    paths: Sequence[Path],
    *,
    project: ProjectFiles,
    shapes: Path | None = None,
    project_data: bool = True,
    progress: Callable[[str], None] | None = None,
    max_nesting: int = MAX_NESTING,
) -> ValidationReport:
    """Validate ``paths`` (default: the project's data) with the ontology and the project's data.

    ``shapes`` is the folder of SHACL shapes (default: the project's); ``project_data=False`` leaves
    the existing data out, to check files on their own against the ontology; ``max_nesting`` bounds JSON-LD and
    RDF/XML nesting.
    """
    report = ValidationReport()
    ontology = _files([project.ontology], report)
    existing = _files([project.data], report) if project_data else []
    given = _files(paths, report, empty_folders=False) if paths else existing
    shape_files = _files([shapes or project.shapes], report)
    if report.errors:
        return report
    store = EmbeddedStore()
    loaded = _load(store, _unique([*ontology, *existing, *given]), project, report, progress, max_nesting)
    shapes_graph = _shapes_graph(shape_files, report)
    if report.errors:
        return report
    ontology_graphs = {loaded[f].graph for f in _unique(ontology)}
    checked = [loaded[f] for f in _unique(given) if loaded[f].graph not in ontology_graphs]
    sources = {file.graph: file for file in loaded.values()}
    report.errors += triple_terms(store, checked, display)
    if report.errors:
        return report
    literals = ill_typed_literals(store, checked, display)
    report.errors += _undeclared_terms(store, checked, ontology_graphs) + literals
    _say(progress, f"inferring over {store.count():,} quads")
    report.errors += without_reported(_inferred_problems(store, project, sources), literals)
    _say(progress, "checking the shapes")
    violations = _violations(store, shapes_graph, ontology_graphs, sources)
    report.violations += _about_given_files(violations, given) if paths else violations
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


def _shapes_graph(files: list[Path], report: ValidationReport):
    """The shapes as one rdflib graph (pySHACL's input); shapes files may have syntax errors too."""
    triples = []
    for file in files:
        try:
            quads, _ = parse_file(file, "urn:kgraph:shapes")
        except RdfSyntaxError as error:
            report.errors.append(_syntax_problem(error))
        else:
            triples += (q.triple for q in quads)
    return to_graph(triples)


def _undeclared_terms(store: Store, checked: list[LoadedFile], ontology_graphs: set[str]) -> list[Problem]:
    """``kg:`` terms used in the checked files that no ontology file declares (most are typos)."""
    declared = {
        q.subject.value for g in ontology_graphs for q in store.quads(graph=g) if isinstance(q.subject, ox.NamedNode)
    }
    problems = []
    for file in checked:
        used = {
            t.value
            for q in store.quads(graph=file.graph)
            for t in (q.subject, q.predicate, q.object, getattr(q.object, "datatype", None))
            if isinstance(t, ox.NamedNode) and t.value.startswith(ONTOLOGY_NS)
        }
        source = SourceFile(file.path, file.prefixes)
        for iri in sorted(used - declared):
            problems.append(_undeclared(iri, declared, source))
    return sorted(problems, key=lambda p: (p.file or "", p.line or 0, p.column or 0))


def _undeclared(iri: str, declared: set[str], source: SourceFile) -> Problem:
    term = ox.NamedNode(iri)
    message = f"{shorten(term)} is not declared in the ontology"
    close = difflib.get_close_matches(iri, [d for d in declared if d.startswith(ONTOLOGY_NS)], 1)
    if close:
        message += f"; did you mean {shorten(ox.NamedNode(close[0]))}?"
    line, column = source.find_term(term) or (None, None)
    return Problem("undeclared-term", message, display(source.path), line, column)


def _inferred_problems(store: Store, project: ProjectFiles, sources: dict[str, LoadedFile]) -> list[Problem]:
    """Contradictions that inference finds, located at the first asserted triple involved."""
    inference = run_inference(store, rules_dir=project.rules)
    problems = []
    for found in inference.inconsistencies:
        file, line, column = _first_located(store, found.triples, sources)
        triples = [shorten_triple(t) for t in found.triples]
        problems.append(Problem("inconsistency", found.message, file, line, column, triples))
    return problems


def _first_located(
    store: Store, triples: list[ox.Triple], sources: dict[str, LoadedFile]
) -> tuple[str | None, int | None, int | None]:
    """Where the first asserted one of ``triples`` is written, else where its subject is."""
    for triple in triples:
        for quad in store.quads(triple.subject, triple.predicate, triple.object):
            source = sources.get(getattr(quad.graph_name, "value", ""))
            if source and isinstance(triple.subject, ox.NamedNode):
                position = SourceFile(source.path, source.prefixes).find_triple(triple.subject, triple.predicate)
                return display(source.path), *(position or (None, None))
    subjects = [t.subject for t in triples if isinstance(t.subject, ox.NamedNode | ox.BlankNode)]
    return _locate_focus(store, subjects[0], None, sources) if subjects else (None, None, None)


def _violations(
    store: Store, shapes: object, ontology_graphs: set[str], sources: dict[str, LoadedFile]
) -> list[Violation]:
    """SHACL results over asserted + inferred data, each located where its focus is stated."""
    data_graphs = [g for g in store.graph_names() if g not in ontology_graphs]
    data = to_graph(q.triple for g in data_graphs for q in store.quads(graph=g))
    ontology = to_graph(q.triple for g in ontology_graphs for q in store.quads(graph=g))
    found = [_violation(store, r, sources) for r in run_shacl(data, shapes, ontology)]
    return sorted(found, key=lambda v: (v.file or "~", v.line or 0, v.focus, v.path or ""))


def _violation(store: Store, result: ShaclResult, sources: dict[str, LoadedFile]) -> Violation:
    file, line, column = _locate_focus(store, result.focus, result.path, sources)
    return Violation(
        focus=shorten(result.focus),
        path=shorten(result.path) if result.path else None,
        message=result.message,
        severity=result.severity,
        constraint=result.constraint,
        shape=result.shape,
        value=result.value,
        file=file,
        line=line,
        column=column,
    )


def _locate_focus(
    store: Store,
    focus: ox.NamedNode | ox.BlankNode,
    path: ox.NamedNode | None,
    sources: dict[str, LoadedFile],
) -> tuple[str | None, int | None, int | None]:
    """Where the focus is described, else mentioned; a blank node is found through its parent."""
    if isinstance(focus, ox.BlankNode):
        parents = [q for q in store.quads(obj=focus) if q.graph_name.value != INFERRED_GRAPH]
        if not parents:
            return None, None, None
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
    store: Store, term: ox.NamedNode, *, as_subject: bool, sources: dict[str, LoadedFile]
) -> list[LoadedFile]:
    """The files with a triple about ``term`` (as subject), or mentioning it (as object)."""
    quads = store.quads(subject=term) if as_subject else store.quads(obj=term)
    graphs = dict.fromkeys(q.graph_name.value for q in quads)
    return [sources[g] for g in graphs if g in sources]


def display(path: Path) -> str:
    """A path as contributors (and GitHub) expect it: relative to the current folder if inside."""
    relative = os.path.relpath(Path(path).resolve())
    return str(path) if relative.startswith("..") else relative
