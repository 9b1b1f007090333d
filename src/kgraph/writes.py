"""Writes over HTTP as transactions that keep the graph valid: candidate -> re-infer -> validate -> journal -> commit.

A contributor's change is applied to a copy of the store (the candidate), never to the store being served, so a
rejected write leaves the served graph exactly as it was and a reader never sees half of one. The candidate is
re-inferred (inference is global: one new triple can reach far), checked for new contradictions, for ``kg:`` terms
the ontology does not declare, and against the SHACL shapes, and only a conforming candidate is journaled (fsync'd)
and then committed: for the in-memory store by swapping the store object, which is atomic, then by sending the
delta to the query workers, which fork fresh copies. One writer at a time: a lock serialises writers; readers never
take it.

SHACL is run on the write's focus nodes only, not the whole graph: the nodes the write's triples mention, the
subjects of the inferred triples it changes, and the nodes that point at any of those (their ``sh:class`` or
``sh:node`` checks may depend on them). The data graph handed to pySHACL is those nodes' statements (asserted and
inferred) and the statements of the nodes they reach, two steps out: enough for the shapes of this project, which
look at a node's values and their types. Results are kept for the focus nodes only.

Graph policy: under ``GRAPH_NS`` a contributor may change only their own graph, ``GRAPH_NS + "contrib/" + token
name``, where a write that names no graph lands; the graphs loaded from the project's files (they change by pull
request, reviewed), the inferred graph, the write-provenance graph and other contributors' graphs are read-only
over HTTP. A client may also name any graph outside ``GRAPH_NS``.

On a server of one's own data (``own_data``) there is no such policy: the default graph is the store's default graph,
every graph is writable, and no provenance is added to the data (the journal still records who wrote what, when).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox

from kgraph.config import GRAPH_NS, INFERRED_GRAPH, NAMESPACE, ONTOLOGY_NS, ReasonerName, Settings
from kgraph.graph import KnowledgeGraph
from kgraph.infer import InferenceReport, run_inference
from kgraph.infer.budget import Budget, BudgetExceeded
from kgraph.infer.incremental import infer_additions, infer_removals
from kgraph.infer.terms import PREFIXES, shorten, shorten_triple
from kgraph.journal import Entry, Journal
from kgraph.load import parse_file, rdf_files
from kgraph.sparql.errors import QuerySyntaxError, SparqlError
from kgraph.sparql.guard import SPARQL_TOKEN
from kgraph.store import EmbeddedStore, RemoteStoreError, Store
from kgraph.validate.report import Problem, ValidationReport, Violation
from kgraph.validate.shacl import run_shacl, to_graph
from kgraph.watchdog import TimeUp, Watchdog
from kgraph.write_policy import (
    DERIVED_GRAPHS,
    ONTOLOGY_GRAPHS,
    PROVENANCE_GRAPH,
    ontology_terms,
    refuse_derived_reads,
    schema_problems,
)

CONTRIB_NS = GRAPH_NS + "contrib/"
"""Where writes land when the client names no graph: one graph per token name."""


_PROV = "http://www.w3.org/ns/prov#"
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_XSD_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
_log = logging.getLogger(__name__)


class WriteRejected(SparqlError):
    """The candidate does not conform: the report says exactly what to fix (422)."""

    status = 422

    def __init__(self, report: ValidationReport) -> None:
        from kgraph.validate.report import to_text

        super().__init__(to_text(report))
        self.report = report


class WriteForbidden(SparqlError):
    """The write would change a graph that is read-only over HTTP (403)."""

    status = 403


class WriteTooLarge(SparqlError):
    """The write would add more inferred triples than one write may (422): nothing was changed."""

    status = 422


class WriteUnavailable(SparqlError):
    """The write could not be recorded or could not reach the store; nothing was changed, the client may retry.

    503 when the journal cannot be written (a full disk, a read-only data directory) or a remote store is too slow,
    502 when a remote store fails: never 500, since the server is sound and says why.
    """

    status = 503


STORE_UNAVAILABLE = "The SPARQL store behind this endpoint did not answer; the write was not made. Try again later."
"""What a writer is told when a remote store fails: its address is the server's business, logged but not shown."""

STORE_FAILED = (
    "The store could not take the write (the server logged why). It is recorded and will be applied when the server "
    "restarts; until then it is not visible."
)
"""What a writer is told when an on-disk store fails after the write was journaled: the journal is the truth."""


@dataclass(frozen=True)
class Delta:
    """What a committed write changed in the store, asserted and inferred quads together."""

    added: list[ox.Quad] = field(default_factory=list)
    removed: list[ox.Quad] = field(default_factory=list)


@dataclass(frozen=True)
class _Prepared:
    """A write ready to be journaled and committed: its journal entry, the candidate store, and what changed."""

    entry: Entry
    candidate: EmbeddedStore
    inference: InferenceReport
    delta: Delta
    inferred_added: int
    inferred_removed: int
    empty: set[str]
    """The named graphs that exist without a triple once the write is made."""


@dataclass(frozen=True)
class WriteResult:
    """What the client is told: the write's id and how many asserted and inferred triples changed."""

    id: str
    added: int
    removed: int
    inferred_added: int
    inferred_removed: int

    def summary(self) -> str:
        """One line for the response body."""
        if not self.id:
            return "nothing to change: the graph already was as the write asks"
        return (
            f"write {self.id}: {self.added} triple(s) added, {self.removed} removed; "
            f"inference: {self.inferred_added} added, {self.inferred_removed} removed"
        )


def is_protected(graph: str, who: str) -> bool:
    """Whether ``who`` may not change ``graph`` over HTTP: project files, inferred, provenance, others' graphs."""
    return graph.startswith(GRAPH_NS) and graph != contrib_graph(who)


def contrib_graph(who: str) -> str:
    """The graph a contributor's writes land in when they name none."""
    return CONTRIB_NS + quote(who, safe="")


class Writer:
    """The one writer of a served graph: serialises writes and runs each as a validated transaction."""

    def __init__(
        self,
        graph: KnowledgeGraph,
        journal: Journal,
        *,
        reasoner: ReasonerName = ReasonerName.NATIVE,
        timeout: float | None = None,
        max_inferred: int | None = None,
        on_commit: Callable[[Delta], None] | None = None,
        own_data: bool = False,
        empty_graphs: set[str] | None = None,
    ) -> None:
        self.graph = graph
        self.own_data = own_data
        self.empty_graphs = set() if empty_graphs is None else empty_graphs
        """Graphs that exist without a triple (a Graph Store PUT of nothing, a CLEAR): kept in place, in memory only,
        since the store and the journal hold triples, not graph names."""
        self.journal = journal
        self.reasoner = reasoner
        self.timeout = timeout
        """Seconds a write may hold the writer (None: no limit)."""
        self.max_inferred = max_inferred
        """Most inferred triples one write may add (None: no limit)."""
        self.on_commit = on_commit or (lambda delta: None)
        self._lock = threading.Lock()
        self._shapes = _shapes_graph(graph.files.shapes)
        self._ontology_terms: frozenset[str] | None = None

    @classmethod
    def from_settings(
        cls,
        graph: KnowledgeGraph,
        settings: Settings,
        *,
        on_commit: Callable[[Delta], None] | None = None,
        empty_graphs: set[str] | None = None,
    ) -> Writer:
        """The writer of a served graph, with the server's settings (the reasoner asked for, not the one that ran
        last: after a write that made native hand over to owlrl, a write that undoes it goes back to native);
        ``empty_graphs`` is the application's set of graphs that exist without a triple, kept up to date here."""
        return cls(
            graph,
            Journal(settings.data_dir),
            reasoner=settings.reasoner,
            timeout=settings.write_timeout or settings.timeout,
            max_inferred=settings.max_write_inferred,
            on_commit=on_commit,
            own_data=settings.own_data,
            empty_graphs=empty_graphs,
        )

    def update(self, sparql: str, *, who: str) -> WriteResult:
        """Apply a SPARQL Update; its default graph is the contributor's graph."""

        refuse_derived_reads(sparql)
        own_graph = None if self.own_data else contrib_graph(who)

        def mutate(candidate: EmbeddedStore) -> None:
            derived = [q for name in DERIVED_GRAPHS for q in candidate.quads(graph=name)]
            candidate.remove(derived)  # out of reach of a GRAPH ?g pattern too
            _move_graph(candidate, own_graph, None)
            try:
                candidate.update(sparql)
            except SyntaxError as error:
                raise QuerySyntaxError.from_pyoxigraph(error, sparql) from None
            except (OSError, ValueError, RuntimeError) as error:
                raise SparqlError(f"The update failed: {error}") from None
            _move_graph(candidate, None, own_graph)
            candidate.add(derived)

        return self._transact(who, mutate)

    def put_graph(self, graph: str | None, quads: Iterable[ox.Quad], *, who: str) -> WriteResult:
        """Make ``graph`` (None: the store's default graph) hold exactly ``quads`` (Graph Store Protocol PUT)."""
        new = _in_graph(quads, graph)

        def replace(candidate: EmbeddedStore) -> None:
            _clear(candidate, graph)
            _declare(candidate, graph)
            candidate.add(new)

        return self._transact(who, replace)

    def post_graph(self, graph: str | None, quads: Iterable[ox.Quad], *, who: str) -> WriteResult:
        """Add ``quads`` to ``graph`` (None: the store's default graph) (Graph Store Protocol POST)."""
        new = _in_graph(quads, graph)

        def add(candidate: EmbeddedStore) -> None:
            _declare(candidate, graph)
            candidate.add(new)

        return self._transact(who, add)

    def delete_graph(self, graph: str | None, *, who: str) -> WriteResult:
        """Remove ``graph`` (None: empty the store's default graph) (Graph Store Protocol DELETE)."""
        return self._transact(who, lambda candidate: _clear(candidate, graph))

    def _transact(self, who: str, mutate: Callable[[EmbeddedStore], None]) -> WriteResult:
        with self._lock:
            budget = self._budget()
            try:
                with Watchdog(self.timeout) as watchdog:
                    prepared = self._prepare(who, mutate, budget)
                    watchdog.disarm()  # from here on the write is journaled and committed whole, or not at all
                return self._apply(prepared) if prepared else WriteResult("", 0, 0, 0, 0)
            except TimeUp:
                raise self._refusal(BudgetExceeded(seconds=budget.elapsed(), limit=self.timeout or 0)) from None
            except BudgetExceeded as exceeded:
                raise self._refusal(exceeded) from None
            except RemoteStoreError as error:
                _log.warning("write not made: %s", error)
                raise WriteUnavailable(
                    STORE_UNAVAILABLE, status=503 if isinstance(error, TimeoutError) else 502
                ) from None

    def _budget(self) -> Budget:
        """The limits of the next write: its time from now, and the inferred triples it may add to those there are."""
        most = None if self.max_inferred is None else self.graph.inference.added + self.max_inferred
        return Budget(seconds=self.timeout, max_inferred=most)

    def _refusal(self, exceeded: BudgetExceeded) -> SparqlError:
        """What the client is told when a write goes past a limit: the numbers, and that nothing changed."""
        if exceeded.seconds is not None:
            return WriteUnavailable(
                f"The write was stopped after {exceeded.seconds:.1f} s: one write may take {exceeded.limit:g} s "
                "(--write-timeout), inference and validation included. Nothing was changed; send it in smaller parts."
            )
        added = exceeded.inferred - self.graph.inference.added if exceeded.inferred is not None else 0
        return WriteTooLarge(
            f"The write would add {added} or more inferred triples; one write may add {self.max_inferred} "
            "(--max-write-inferred). Nothing was changed; send it in smaller parts, or propose the data by pull "
            "request."
        )

    def _prepare(self, who: str, mutate: Callable[[EmbeddedStore], None], budget: Budget) -> _Prepared | None:
        """The write applied to a candidate, inferred and validated (None: it changes nothing); the served graph is
        not touched, so this part may be stopped at any point."""
        live = self.graph.store
        candidate = EmbeddedStore()
        candidate.add(live.quads())
        for name in self.empty_graphs:
            _declare(candidate, name)
        mutate(candidate)
        budget.check()
        empty = _empty_graphs(candidate)
        added, removed = _diff(set(live.quads()), set(candidate.quads()))
        if not self.own_data:
            _refuse_protected([*added, *removed], who)
        if not added and not removed:
            _replace_set(self.empty_graphs, empty)
            return None
        if not self.own_data:  # one's own data has no project ontology to keep: every statement is theirs
            self._refuse_schema(added, removed)
        write_id, provenance = _provenance(who, [*added, *removed])
        stamp = next(q.object.value for q in provenance if q.predicate.value == _PROV + "endedAtTime")
        if self.own_data:
            provenance = []  # the user's data stays as they wrote it; the journal entry says who and when
        candidate.add(provenance)
        inference = self._infer(candidate, [*added, *provenance], removed, budget)
        inferred_added, inferred_removed = _diff(_inferred(live), _inferred(candidate))
        if self.max_inferred is not None and len(inferred_added) > self.max_inferred:
            raise BudgetExceeded(inferred=self.graph.inference.added + len(inferred_added), limit=self.max_inferred)
        self._validate(candidate, inference, added, [*removed, *inferred_added, *inferred_removed])
        budget.check()
        entry = Entry(write_id, stamp, who, removed, [*added, *provenance])
        delta = Delta([*added, *provenance, *inferred_added], [*removed, *inferred_removed])
        return _Prepared(entry, candidate, inference, delta, len(inferred_added), len(inferred_removed), empty)

    def _infer(
        self, candidate: EmbeddedStore, added: list[ox.Quad], removed: list[ox.Quad], budget: Budget
    ) -> InferenceReport:
        """The candidate's closure: shrunk by what the write removes, then extended from what it adds, when that is
        exact (see :mod:`kgraph.infer.incremental`), else recomputed."""
        rules = self.graph.files.rules
        report: InferenceReport | None = self.graph.inference
        if removed:
            candidate.remove(added)  # the removals first, over the store without the additions
            try:
                report = infer_removals(
                    candidate, removed, self.graph.inference, rules_dir=rules, reasoner=self.reasoner, budget=budget
                )
            finally:
                candidate.add(added)
        if report is not None and added:
            report = infer_additions(candidate, added, report, rules_dir=rules, reasoner=self.reasoner, budget=budget)
        if report is not None:
            return report
        return run_inference(candidate, rules_dir=rules, reasoner=self.reasoner, budget=budget)

    def _apply(self, prepared: _Prepared) -> WriteResult:
        """Journal the prepared write (durable), then make it the served state."""
        live, entry, delta = self.graph.store, prepared.entry, prepared.delta
        offset = self._record(entry)
        try:
            self._commit(prepared.candidate, prepared.inference, delta)
        except RemoteStoreError:  # the remote is not rebuilt from the journal: take the write back from both
            self.journal.retract(offset)
            _undo(live, delta)
            raise
        except OSError as error:  # an on-disk store that failed (a full disk): the journal brings it back at restart
            _log.error("an on-disk store could not take write %s: %s", entry.id, error)
            raise WriteUnavailable(STORE_FAILED) from None
        _replace_set(self.empty_graphs, prepared.empty)
        asserted = len([q for q in entry.added if q.graph_name != ox.NamedNode(PROVENANCE_GRAPH)])
        return WriteResult(entry.id, asserted, len(entry.removed), prepared.inferred_added, prepared.inferred_removed)

    def _refuse_schema(self, added: list[ox.Quad], removed: list[ox.Quad]) -> None:
        """Refuse a write that adds or removes schema statements (see :mod:`kgraph.write_policy`), naming them."""
        if self._ontology_terms is None:  # the ontology's graphs are read-only over HTTP: read them once
            self._ontology_terms = ontology_terms(self.graph.store)
        report = ValidationReport(
            errors=schema_problems(added, self._ontology_terms)
            + schema_problems(removed, self._ontology_terms, removed=True)
        )
        if not report.conforms:
            raise WriteRejected(report)

    def _record(self, entry: Entry) -> int:
        """Journal the entry (durable before the client hears of it), or refuse the write with the reason (503)."""
        try:
            return self.journal.append(entry)
        except OSError as error:
            _log.error("cannot journal a write in %s: %s", self.journal.path, error)
            raise WriteUnavailable(
                f"The server cannot record writes: {error.strerror or error}. Nothing was changed; try again later."
            ) from None

    def _validate(
        self, candidate: Store, inference: InferenceReport, added: list[ox.Quad], changed: list[ox.Quad]
    ) -> None:
        known = {found.message for found in self.graph.inference.inconsistencies}
        report = ValidationReport()
        report.errors += _undeclared_terms(self._ontology_terms or frozenset(), added)
        report.errors += [
            Problem("inconsistency", found.message, triples=[shorten_triple(t) for t in found.triples])
            for found in inference.inconsistencies
            if found.message not in known
        ]
        if self._shapes is not None:
            report.violations += _focus_violations(candidate, self._shapes, added, changed)
        if not report.conforms:
            raise WriteRejected(report)

    def _commit(self, candidate: EmbeddedStore, inference: InferenceReport, delta: Delta) -> None:
        """Make the candidate the served state: swap an in-memory store, patch any other (on disk, remote)."""
        live = self.graph.store
        if isinstance(live, EmbeddedStore) and live.path is None:
            self.graph.store = candidate
        else:
            live.remove(delta.removed)
            live.add(delta.added)
        self.graph.inference = inference
        self.on_commit(delta)


def _undo(store: Store, delta: Delta) -> None:
    """Put back what a commit that failed half-way may have changed in a remote store, as far as it answers."""
    with contextlib.suppress(OSError):
        store.remove(delta.added)
        store.add(delta.removed)


def _inferred(store: Store) -> set[ox.Quad]:
    return set(store.quads(graph=INFERRED_GRAPH))


def with_using(sparql: str, using: Sequence[str], using_named: Sequence[str]) -> str:
    """The update with the protocol's ``using-graph-uri`` / ``using-named-graph-uri`` written in as USING clauses.

    SPARQL 1.1 Protocol (2.2.3) makes them equivalent to USING / USING NAMED on every DELETE/INSERT ... WHERE
    operation, and an error beside the update's own USING or WITH. They go before each top-level WHERE that is
    not the short form ``DELETE WHERE``, found on the guard's tokens, so strings, IRIs and comments never match.
    """
    if not using and not using_named:
        return sparql
    for iri in (*using, *using_named):
        try:
            ox.NamedNode(iri)
        except ValueError:
            raise SparqlError(f"using-graph-uri <{iri}> is not an absolute IRI.") from None
    clauses = "".join(f" USING <{g}>" for g in using) + "".join(f" USING NAMED <{g}>" for g in using_named)
    depth, previous, cuts = 0, "", []
    for match in SPARQL_TOKEN.finditer(sparql):
        kind, text = match.lastgroup, match.group()
        if kind in ("ws", "comment", "string"):
            continue
        depth += {"{": 1, "}": -1}.get(text, 0) if kind == "other" else 0
        word = text.upper() if kind == "word" else ""
        if depth == 0 and word in ("USING", "WITH"):
            raise SparqlError(f"The update has its own {word}: it cannot be combined with using-graph-uri.")
        if depth == 0 and word == "WHERE" and previous != "DELETE":
            cuts.append(match.start())
        previous = word
    for cut in reversed(cuts):
        sparql = sparql[:cut] + clauses.lstrip() + " " + sparql[cut:]
    return sparql


def _diff(before: set[ox.Quad], after: set[ox.Quad]) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """(added, removed), sorted so the journal and responses are stable."""
    return sorted(after - before, key=str), sorted(before - after, key=str)


def _in_graph(quads: Iterable[ox.Quad], graph: str | None) -> list[ox.Quad]:
    """The quads' triples in ``graph`` (None: the default graph)."""
    node = ox.NamedNode(graph) if graph else ox.DefaultGraph()
    return [ox.Quad(q.subject, q.predicate, q.object, node) for q in quads]


def _declare(store: EmbeddedStore, graph: str | None) -> None:
    """Make a named graph exist in the store even while it holds no triple (the default graph always exists)."""
    if graph:
        store.oxigraph.add_graph(ox.NamedNode(graph))


def _empty_graphs(store: EmbeddedStore) -> set[str]:
    """The named graphs the store knows of that hold no triple."""
    return {
        g.value
        for g in store.oxigraph.named_graphs()
        if isinstance(g, ox.NamedNode) and next(store.oxigraph.quads_for_pattern(None, None, None, g), None) is None
    }


def _replace_set(target: set[str], values: set[str]) -> None:
    """Replace a set's members in place (the application shares the set)."""
    target.clear()
    target.update(values)


def _clear(store: EmbeddedStore, graph: str | None) -> None:
    """Remove every quad of one graph (``None``: the default graph)."""
    if graph:
        store.clear_graph(graph)
    else:
        store.remove(list(store.oxigraph.quads_for_pattern(None, None, None, ox.DefaultGraph())))


def _move_graph(store: Store, source: str | None, target: str | None) -> None:
    """Move every quad of one graph (``None``: the default graph) into another; nothing when they are the same."""
    if source == target:
        return
    source_node = ox.NamedNode(source) if source else ox.DefaultGraph()
    target_node = ox.NamedNode(target) if target else ox.DefaultGraph()
    quads = list(store.oxigraph.quads_for_pattern(None, None, None, source_node))
    store.remove(quads)
    store.add(ox.Quad(q.subject, q.predicate, q.object, target_node) for q in quads)


def _refuse_protected(quads: list[ox.Quad], who: str) -> None:
    graphs = sorted({q.graph_name.value for q in quads if is_protected(q.graph_name.value, who)})
    if graphs:
        raise WriteForbidden(
            f"The write would change <{graphs[0]}>, which is read-only over HTTP: graphs loaded from the project's "
            f"files change by pull request (kgraph validate checks them). Write to your own graph instead (the "
            f"default, <{contrib_graph(who)}>) or name a graph outside {GRAPH_NS}."
        )


def _provenance(who: str, changed: list[ox.Quad]) -> tuple[str, list[ox.Quad]]:
    """A new write id and the ``prov:Activity`` recording who wrote, when, and which graphs changed."""
    write_id = uuid.uuid4().hex
    activity = ox.NamedNode(NAMESPACE + "write/" + write_id)
    graph = ox.NamedNode(PROVENANCE_GRAPH)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    quads = [
        ox.Quad(activity, _RDF_TYPE, ox.NamedNode(_PROV + "Activity"), graph),
        ox.Quad(
            activity,
            ox.NamedNode(_PROV + "wasAssociatedWith"),
            ox.NamedNode(NAMESPACE + "agent/" + quote(who, safe="")),
            graph,
        ),
        ox.Quad(activity, ox.NamedNode(_PROV + "endedAtTime"), ox.Literal(stamp, datatype=_XSD_DATETIME), graph),
    ]
    for name in sorted({q.graph_name.value for q in changed if isinstance(q.graph_name, ox.NamedNode)}):
        quads.append(ox.Quad(activity, ox.NamedNode(_PROV + "generated"), ox.NamedNode(name), graph))
    return write_id, quads


def _undeclared_terms(declared: frozenset[str], added: list[ox.Quad]) -> list[Problem]:
    """``kg:`` terms the write uses that no ontology graph declares (most are typos), as ``kgraph validate`` says."""
    used = {
        t.value
        for q in added
        for t in (q.subject, q.predicate, q.object, getattr(q.object, "datatype", None))
        if isinstance(t, ox.NamedNode) and t.value.startswith(ONTOLOGY_NS)
    }
    problems = []
    for iri in sorted(used - declared):
        message = f"{shorten(ox.NamedNode(iri))} is not declared in the ontology"
        close = difflib.get_close_matches(iri, [d for d in declared if d.startswith(ONTOLOGY_NS)], 1)
        if close:
            message += f"; did you mean {shorten(ox.NamedNode(close[0]))}?"
        problems.append(Problem("undeclared-term", message))
    return problems


def _focus_violations(store: Store, shapes: object, added: list[ox.Quad], changed: list[ox.Quad]) -> list[Violation]:
    """SHACL results for the nodes the write touches, validated over their neighbourhood only.

    Warnings are kept only for the subjects of the added triples: a warning elsewhere was there before the write.
    """
    focus = _focus_nodes(store, [*added, *changed])
    written = {q.subject for q in added}
    if not focus:
        return []
    data = to_graph(_neighbourhood(store, focus))
    ontology = to_graph(
        q.triple for name in store.graph_names() if name.startswith(ONTOLOGY_GRAPHS) for q in store.quads(graph=name)
    )
    # pySHACL's focus filter keeps IRIs only: with a blank node among them, validate the whole neighbourhood.
    iris = None if any(isinstance(node, ox.BlankNode) for node in focus) else sorted(n.value for n in focus)
    found = [
        Violation(
            focus=shorten(r.focus),
            path=shorten(r.path) if r.path else None,
            message=r.message,
            severity=r.severity,
            constraint=r.constraint,
            shape=r.shape,
            value=r.value,
        )
        for r in run_shacl(data, shapes, ontology, focus_nodes=iris)
        if r.focus in focus and (r.severity == "Violation" or r.focus in written)
    ]
    return sorted(found, key=lambda v: (v.focus, v.path or "", v.message))


def _focus_nodes(store: Store, changed: list[ox.Quad]) -> set[ox.NamedNode | ox.BlankNode]:
    """The subjects and objects of the changed triples (asserted and inferred), and the nodes pointing at the
    subjects (a ``sh:class`` check on them may depend on what the write changed there)."""
    subjects = {q.subject for q in changed if isinstance(q.subject, ox.NamedNode | ox.BlankNode)}
    objects = {
        q.object for q in changed if isinstance(q.object, ox.NamedNode | ox.BlankNode) and q.predicate != _RDF_TYPE
    }
    pointing = {q.subject for node in subjects for q in store.quads(obj=node) if _is_data(q)}
    return {n for n in subjects | objects | pointing if not n.value.startswith(ONTOLOGY_NS)}


def _neighbourhood(store: Store, focus: set[ox.NamedNode | ox.BlankNode]) -> set[ox.Triple]:
    """The statements of the focus nodes and of the nodes they reach in two steps (asserted and inferred)."""
    triples: set[ox.Triple] = set()
    frontier = set(focus)
    seen: set[ox.NamedNode | ox.BlankNode] = set()
    for _ in range(3):
        reached = set()
        for node in frontier - seen:
            for quad in store.quads(subject=node):
                if _is_data(quad):
                    triples.add(quad.triple)
                    if isinstance(quad.object, ox.NamedNode | ox.BlankNode):
                        reached.add(quad.object)
        seen |= frontier
        frontier = reached
    return triples


def _is_data(quad: ox.Quad) -> bool:
    """Data statements: not the ontology's, not write provenance."""
    name = getattr(quad.graph_name, "value", "")
    return not name.startswith(ONTOLOGY_GRAPHS) and name != PROVENANCE_GRAPH


def _shapes_graph(folder: Path) -> object | None:
    """The project's shapes as one rdflib graph, parsed once; ``None`` when the project has none."""
    try:
        files = rdf_files([folder])
    except (FileNotFoundError, ValueError):
        return None
    triples: list[ox.Triple] = []
    for file in files:
        quads, _ = parse_file(file, "urn:kgraph:shapes")
        triples += (q.triple for q in quads)
    return to_graph(triples)


EXPORT_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
}
"""``kgraph export`` formats; TriG and JSON-LD keep one graph per source (and per contributor)."""


def export_graph(graph: KnowledgeGraph, fmt: str, *, inferred: bool = False) -> bytes:
    """The current graph, journaled writes included, so HTTP contributions can become a reviewed ``data/ttl/`` file.

    Turtle and N-Triples hold the default graph (each triple once); TriG and JSON-LD keep the named graphs.
    """
    rdf_format = EXPORT_FORMATS[fmt]
    names = graph.default_graph(inferred)
    quads = sorted(
        (q for name in names for q in graph.store.quads(graph=name)), key=lambda q: (str(q.graph_name), str(q))
    )
    if rdf_format.supports_datasets:
        return ox.serialize(quads, format=rdf_format, prefixes=PREFIXES) or b""
    triples = sorted({q.triple for q in quads}, key=str)
    return ox.serialize(triples, format=rdf_format, prefixes=PREFIXES) or b""
