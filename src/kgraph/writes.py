"""Writes over HTTP as transactions that keep the graph valid: apply -> infer -> validate -> journal -> commit.

A write costs what it changes, not what the store holds. Its asserted quads are read off the request (``INSERT
DATA``, ``DELETE DATA``, the Graph Store Protocol), found from the solutions of its ``WHERE`` clauses
(``DELETE``/``INSERT ... WHERE``, the operations of a request made in turn) or found by running it on a copy (of
the graphs a ``CLEAR``, ``ADD``... names; of the asserted graphs for other updates); they are refused early if they
touch a protected graph or the schema, then applied to the served store in place, where the closure is extended
from them (:mod:`kgraph.infer.incremental`), contradictions and ``kg:`` terms are checked, and the SHACL shapes are
run on the nodes the write touches. Every change made to the store on the way is recorded
(:class:`~kgraph.store.recording.RecordingStore`): a write that is refused, runs out of time or cannot be journaled
is taken back exactly, and an accepted one is journaled (fsync'd) before anyone sees it. Readers of this process
never see a write half made: while one is under way, a read that starts waits for its end (the store's
:meth:`~kgraph.store.Store.writing` gate), and a read already started reads its snapshot from before. The query
workers are sent the write's delta once it is committed. A store that cannot take a write back (a remote one) is
written through a copy instead, and sent the delta. One writer at a time: a lock serialises writers.

The checks are those of ``kgraph validate`` (:func:`kgraph.validate.checker.check`): SHACL runs on the nodes whose
validation the change can reach, over their neighbourhood, not over the whole graph.

What a contributor may write (their own graph, data and not schema, never from a derived graph) is
:mod:`kgraph.write_policy`. On a server of one's own data (``own_data``) there is no such policy: the default graph
is the store's default graph, every graph is writable, and no provenance is added to the data (the journal still
records who wrote what, when).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from kgraph.config import INFERRED_GRAPH, NAMESPACE, ReasonerName, Settings
from kgraph.graph import KnowledgeGraph
from kgraph.infer import InferenceReport, run_inference
from kgraph.infer.budget import Budget, BudgetExceeded
from kgraph.infer.incremental import infer_additions, infer_removals
from kgraph.infer.terms import shorten, shorten_triple
from kgraph.journal import Entry, Journal
from kgraph.sparql.errors import QuerySyntaxError, SparqlError
from kgraph.sparql.update import Modify, data_changes, graph_operation, modify_operation, operations
from kgraph.store import EmbeddedStore, RemoteStoreError, Store
from kgraph.store.recording import RecordingStore
from kgraph.store.results import solutions
from kgraph.validate.checker import CheckContext, Inferred, as_violation, check, shapes_in, suggestion
from kgraph.validate.report import Problem, ValidationReport
from kgraph.watchdog import TimeUp, Watchdog
from kgraph.write_policy import (
    DERIVED_GRAPHS,
    ONTOLOGY_GRAPHS,
    PROVENANCE_GRAPH,
    contrib_graph,
    ontology_terms,
    refuse_derived_reads,
    refuse_protected,
    schema_problems,
)

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

STORE_FAILED = "The store could not take the write (the server logged why); nothing was changed. Try again later."
"""What a writer is told when an on-disk store fails (a full disk) while the write is applied: it is taken back."""


@dataclass(frozen=True)
class Delta:
    """What a committed write changed in the store, asserted and inferred quads together."""

    added: list[ox.Quad] = field(default_factory=list)
    removed: list[ox.Quad] = field(default_factory=list)


@dataclass(frozen=True)
class Edit:
    """The asserted change a write asks for, before it is compared with the store.

    ``declared`` are named graphs the write makes exist even without a triple (a Graph Store PUT or POST), ``dropped``
    those it removes whole (a Graph Store DELETE); ``empty`` is set only when the write was run on a copy, which then
    says exactly which graphs exist without a triple afterwards.
    """

    added: list[ox.Quad]
    removed: list[ox.Quad]
    declared: frozenset[str] = frozenset()
    dropped: frozenset[str] = frozenset()
    empty: set[str] | None = None


@dataclass(frozen=True)
class _Prepared:
    """A write applied, inferred and validated, ready to be journaled and made visible."""

    entry: Entry
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
        """Graphs that exist without a triple (a Graph Store PUT of nothing, a CLEAR): kept here, in memory only,
        since the store and the journal hold triples, not graph names."""
        self.journal = journal
        self.reasoner = reasoner
        self.timeout = timeout
        """Seconds a write may hold the writer (None: no limit)."""
        self.max_inferred = max_inferred
        """Most inferred triples one write may add (None: no limit)."""
        self.on_commit = on_commit or (lambda delta: None)
        self._lock = threading.Lock()
        self._ontology_terms: frozenset[str] | None = None
        self._shapes = shapes_in(graph.files.shapes)
        self._context: CheckContext | None = None
        self._mirror: EmbeddedStore | None = None
        """A remote store's in-memory copy as the last committed write left it, reused by the next write."""

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
        """Apply a SPARQL Update; its default graph is the contributor's graph.

        ``INSERT DATA`` / ``DELETE DATA`` give their quads directly; one ``DELETE``/``INSERT ... WHERE`` on a store
        written in place gets them from its ``WHERE`` clause's solutions (:meth:`_run_matched`); one ``CLEAR``,
        ``DROP``, ``CREATE``, ``ADD``, ``COPY`` or ``MOVE`` naming its graphs runs on a copy of those graphs alone;
        several operations of those first two kinds are written one after the other (:meth:`_run_in_turn`); any
        other update is run on a copy of the asserted graphs to find which quads it changes (:meth:`_run_on_copy`).
        """
        refuse_derived_reads(sparql)
        own_graph = None if self.own_data else contrib_graph(who)
        data = data_changes(sparql, own_graph)
        if data is not None:
            return self._transact(who, lambda store: Edit(*data))
        modify = modify_operation(sparql) if self.graph.store.writes_in_place else None
        if modify is not None:
            return self._transact(who, lambda store: self._run_matched(store, _parsed(sparql), modify, own_graph))
        named = graph_operation(sparql) if self.graph.store.writes_in_place else None
        if named is not None:
            return self._transact(who, lambda store: self._run_on_copy(store, sparql, own_graph, only=named))
        steps = self._steps(sparql, own_graph) if self.graph.store.writes_in_place else None
        if steps is not None:
            return self._transact(who, lambda store: self._run_in_turn(store, sparql, steps, own_graph))
        return self._transact(who, lambda store: self._run_on_copy(store, sparql, own_graph))

    def put_graph(self, graph: str | None, quads: Iterable[ox.Quad], *, who: str) -> WriteResult:
        """Make ``graph`` (None: the store's default graph) hold exactly ``quads`` (Graph Store Protocol PUT)."""
        new = _in_graph(quads, graph)
        declared = frozenset([graph] if graph else [])
        return self._transact(who, lambda store: Edit(new, list(store.graph_quads(graph)), declared=declared))

    def post_graph(self, graph: str | None, quads: Iterable[ox.Quad], *, who: str) -> WriteResult:
        """Add ``quads`` to ``graph`` (None: the store's default graph) (Graph Store Protocol POST)."""
        new = _in_graph(quads, graph)
        return self._transact(who, lambda store: Edit(new, [], declared=frozenset([graph] if graph else [])))

    def delete_graph(self, graph: str | None, *, who: str) -> WriteResult:
        """Remove ``graph`` (None: empty the store's default graph) (Graph Store Protocol DELETE)."""
        dropped = frozenset([graph] if graph else [])
        return self._transact(who, lambda store: Edit([], list(store.graph_quads(graph)), dropped=dropped))

    def _run_matched(self, store: Store, sparql: str, modify: Modify, own_graph: str | None) -> Edit:
        """The quads one ``DELETE``/``INSERT ... WHERE`` changes, found from its ``WHERE`` clause's solutions over the
        asserted graphs (the contributor's graph as the default graph, the derived ones out of reach) and its
        templates instantiated with them: the write costs what it matches, not what the store holds. The solutions
        are read one by one in Python, so the write's time limit stops a ``WHERE`` that matches too much (one that
        must be evaluated whole before its first solution, such as an ``ORDER BY``, finishes first). Solutions
        holding a triple term, and a dataset of ``USING NAMED`` alone, go to :meth:`_run_on_copy`. The caller has
        had the update's syntax checked (:func:`_parsed`)."""
        dataset = self._where_dataset(store, modify, own_graph)
        if dataset is None:
            return self._run_on_copy(store, sparql, own_graph)
        select = f"{modify.prologue}SELECT * WHERE {modify.where}"
        rows = solutions(store.query(select, default_graph=dataset[0], named_graphs=dataset[1]))
        blank_nodes = _BlankNodes()
        values = blank_nodes.values_block(rows)
        if values is None:
            return self._run_on_copy(store, sparql, own_graph)
        target = ox.NamedNode(own_graph) if own_graph else ox.DefaultGraph()
        try:
            added = blank_nodes.instantiated(modify, modify.insert, values, target)
            removed = blank_nodes.instantiated(modify, modify.delete, values, target)
        except SyntaxError:  # a term the values block cannot write (an RDF 1.2 base direction)
            return self._run_on_copy(store, sparql, own_graph)
        return Edit(added, removed)

    def _steps(self, sparql: str, own_graph: str | None) -> list[tuple[str, Modify | Edit]] | None:
        """Each operation of a request of several, with its changes when its text gives them (``INSERT DATA``,
        ``DELETE DATA`` without blank nodes) or its clauses (``DELETE``/``INSERT ... WHERE``); None if there is one
        operation, or one of another kind."""
        steps: list[tuple[str, Modify | Edit]] = []
        for operation in operations(sparql) or ():
            data = data_changes(operation, own_graph)
            modify = modify_operation(operation) if data is None else None
            if data is not None:
                steps.append((operation, Edit(*data)))
            elif modify is not None:
                steps.append((operation, modify))
            else:
                return None
        return steps or None

    def _run_in_turn(
        self, store: Store, sparql: str, steps: list[tuple[str, Modify | Edit]], own_graph: str | None
    ) -> Edit:
        """The quads a request of several operations changes: each operation's changes made in turn, so the next
        one's ``WHERE`` sees them, then taken back; the write then makes their sum like any other."""
        _parsed(sparql)
        trial = RecordingStore(store)
        try:
            for operation, step in steps:
                edit = step if isinstance(step, Edit) else self._run_matched(trial, operation, step, own_graph)
                trial.remove(edit.removed)
                trial.add(edit.added)
            return Edit(trial.added, trial.removed)
        finally:
            trial.undo()

    def _where_dataset(self, store: Store, modify: Modify, own_graph: str | None) -> tuple[list[str], list[str]] | None:
        """(default graphs, named graphs) a ``WHERE`` clause reads, as in :meth:`_run_on_copy`: ``USING``, else the
        ``WITH`` graph or the contributor's graph (the store's default graph on one's own data) as the default
        graph and every other asserted graph as a named one; None for ``USING NAMED`` without ``USING``."""
        if modify.using or modify.using_named:
            return (list(modify.using), list(modify.using_named)) if modify.using else None
        hidden = {*DERIVED_GRAPHS, own_graph}
        named = sorted((set(store.graph_names()) | self.empty_graphs) - hidden)
        default = modify.with_graph or own_graph
        return ([default] if default else []), named

    def _run_on_copy(
        self, store: Store, sparql: str, own_graph: str | None, only: tuple[str | None, ...] | None = None
    ) -> Edit:
        """The quads an update changes, found by running it on a copy of the asserted graphs (the derived ones left
        out of reach of a ``GRAPH ?g`` pattern): costs what the store holds, so only updates whose quads cannot be
        read off their text come here. With ``only`` (the graphs a graph operation names, None for the default
        graph), the copy holds those graphs, the contributor's and the default graph alone: what the operation reads
        and changes, at the cost of what they hold."""
        kept = None if only is None else {*only, own_graph, None} - set(DERIVED_GRAPHS)
        copy = _copy(store, self.empty_graphs, kept, leave_out=DERIVED_GRAPHS)
        before = set(copy.quads())
        _move_graph(copy, own_graph, None)
        _run_update(copy, sparql)
        _move_graph(copy, None, own_graph)
        after = set(copy.quads())
        empty = copy.empty_graphs() if kept is None else (self.empty_graphs - kept) | copy.empty_graphs()
        return Edit(list(after - before), list(before - after), empty=empty)

    def _transact(self, who: str, edit: Callable[[Store], Edit]) -> WriteResult:
        """Run one write under the lock: applied in place (or to a copy of a store that cannot take it back), and
        taken back whole if anything refuses it before it is journaled."""
        with self._lock:
            budget = self._budget()
            live = self.graph.store
            try:
                with live.writing():  # this process's readers see the state before this write or after it
                    empty_before = set(self.empty_graphs)
                    work = RecordingStore(live if live.writes_in_place else self._copy_of(live))
                    prepared = self._prepare_or_undo(who, edit, work, budget)
                    if prepared is None:
                        if self.empty_graphs != empty_before:
                            self._record_graphs_only(who, empty_before)
                        return WriteResult("", 0, 0, 0, 0)
                    offset = self._record(prepared.entry, work.undo)
                    if work.inner is not live:
                        self._send(live, prepared, offset)
                        self._mirror = work.inner if isinstance(work.inner, EmbeddedStore) else None
                    self.graph.inference = prepared.inference
                    _replace_set(self.empty_graphs, prepared.empty)
            except RemoteStoreError as error:
                _log.warning("write not made: %s", str(error))
                raise WriteUnavailable(
                    STORE_UNAVAILABLE, status=503 if isinstance(error, TimeoutError) else 502
                ) from None
            self.on_commit(prepared.delta)
            entry = prepared.entry
            asserted = len([q for q in entry.added if q.graph_name != ox.NamedNode(PROVENANCE_GRAPH)])
            return WriteResult(
                entry.id, asserted, len(entry.removed), prepared.inferred_added, prepared.inferred_removed
            )

    def _copy_of(self, live: Store) -> EmbeddedStore:
        """An in-memory copy of a store that cannot take a write back (a remote one), for one write: the copy the
        last committed write left, when the store still holds as many quads (nothing else wrote to it), else a new
        one, which costs what the store holds. A write that is not committed leaves no copy to reuse."""
        mirror, self._mirror = self._mirror, None
        if mirror is not None and mirror.count() == live.count():
            return mirror
        return _copy(live, self.empty_graphs)

    def _prepare_or_undo(
        self, who: str, edit: Callable[[Store], Edit], work: RecordingStore, budget: Budget
    ) -> _Prepared | None:
        """:meth:`_prepare` under the time limit; whatever stops it (a refusal, the limit, a failing disk) takes the
        write back from the store first."""
        try:
            with Watchdog(self.timeout) as watchdog:
                prepared = self._prepare(who, edit(work), work, budget)
                watchdog.disarm()  # from here on the write is journaled and committed whole, or not at all
            return prepared
        except BaseException as error:
            work.undo()  # outside the watchdog: the time limit cannot stop it half-way
            if isinstance(error, TimeUp):
                raise self._refusal(BudgetExceeded(seconds=budget.elapsed(), limit=self.timeout or 0)) from None
            if isinstance(error, BudgetExceeded):
                raise self._refusal(error) from None
            if isinstance(error, OSError) and not isinstance(error, RemoteStoreError):
                _log.error("the store could not take a write: %s", str(error))
                raise WriteUnavailable(STORE_FAILED) from None
            raise

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

    def _prepare(self, who: str, edit: Edit, work: RecordingStore, budget: Budget) -> _Prepared | None:
        """The write applied to ``work``, inferred and validated (None: it changes nothing). Refusals that need only
        the write's quads (protected graphs, schema) come before anything is changed."""
        kept = set(edit.added)
        added = [q for q in dict.fromkeys(edit.added) if not work.contains(q)]
        removed = [q for q in dict.fromkeys(edit.removed) if q not in kept and work.contains(q)]
        if not self.own_data:
            refuse_protected([*added, *removed], who)
        if not added and not removed:
            _replace_set(self.empty_graphs, _empty_after(work, self.empty_graphs, edit, []))
            return None
        if not self.own_data:  # one's own data has no project ontology to keep: every statement is theirs
            self._refuse_schema(added, removed)
        write_id, stamp, provenance = _provenance(who, [*added, *removed])
        if self.own_data:
            provenance = []  # the user's data stays as they wrote it; the journal entry says who and when
        work.remove(removed)
        work.add([*added, *provenance])
        budget.check()
        inference = self._infer(work, [*added, *provenance], removed, budget)
        inferred = ox.NamedNode(INFERRED_GRAPH)
        inferred_added = [q for q in work.added if q.graph_name == inferred]
        inferred_removed = [q for q in work.removed if q.graph_name == inferred]
        if self.max_inferred is not None and len(inferred_added) > self.max_inferred:
            raise BudgetExceeded(inferred=self.graph.inference.added + len(inferred_added), limit=self.max_inferred)
        self._validate(work, inference, added, [*removed, *inferred_added, *inferred_removed])
        budget.check()
        added, removed = sorted(added, key=str), sorted(removed, key=str)
        empty = _empty_after(work, self.empty_graphs, edit, removed)
        entry = Entry(write_id, stamp, who, removed, [*added, *provenance], empty=tuple(sorted(empty)))
        delta = Delta(
            [*added, *provenance, *sorted(inferred_added, key=str)], [*removed, *sorted(inferred_removed, key=str)]
        )
        return _Prepared(entry, inference, delta, len(inferred_added), len(inferred_removed), empty)

    def _infer(self, store: Store, added: list[ox.Quad], removed: list[ox.Quad], budget: Budget) -> InferenceReport:
        """The closure after the write, in place: shrunk by what the write removes, then extended from what it adds,
        when that is exact (see :mod:`kgraph.infer.incremental`), else recomputed."""
        rules = self.graph.files.rules
        report: InferenceReport | None = self.graph.inference
        if removed:
            store.remove(added)  # the removals first, over the store without the additions
            try:
                report = infer_removals(
                    store, removed, self.graph.inference, rules_dir=rules, reasoner=self.reasoner, budget=budget
                )
            finally:
                store.add(added)
        if report is not None and added:
            report = infer_additions(store, added, report, rules_dir=rules, reasoner=self.reasoner, budget=budget)
        if report is not None:
            return report
        return run_inference(store, rules_dir=rules, reasoner=self.reasoner, budget=budget)

    def _check_context(self, store: Store) -> CheckContext:
        """What :func:`check` needs, made at the first write (the ontology's graphs are read-only over HTTP)."""
        if self._context is None:
            self._context = CheckContext(
                rules=self.graph.files.rules,
                shapes=self._shapes,
                ontology_graphs={name for name in store.graph_names() if name.startswith(ONTOLOGY_GRAPHS)},
                ignored_graphs={PROVENANCE_GRAPH},
                reasoner=self.reasoner,
            )
        return self._context

    def _send(self, live: Store, prepared: _Prepared, offset: int) -> None:
        """Send an accepted write's delta to a store it was not applied to in place (a remote one); when the store
        fails, take the write back from it as far as it answers, and from the journal."""
        try:
            live.remove(prepared.delta.removed)
            live.add(prepared.delta.added)
        except RemoteStoreError:
            self.journal.retract(offset)
            _undo(live, prepared.delta)
            raise

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

    def _record(self, entry: Entry, undo: Callable[[], None]) -> int:
        """Journal the entry (durable before the client hears of it), or take the write back (``undo``) and refuse
        it (503)."""
        try:
            return self.journal.append(entry)
        except OSError as error:
            undo()
            _log.error("cannot journal a write in %s: %s", self.journal.path, str(error))
            raise WriteUnavailable(
                f"The server cannot record writes: {error.strerror or error}. Nothing was changed; try again later."
            ) from None

    def _record_graphs_only(self, who: str, empty_before: set[str]) -> None:
        """Journal a write that changed no triple but which graphs exist (an empty graph created or dropped), so a
        restart keeps it; when it cannot be journaled, the graphs are as they were and the write is refused (503)."""
        write_id, stamp = _new_write()
        entry = Entry(write_id, stamp, who, [], [], empty=tuple(sorted(self.empty_graphs)))
        self._record(entry, lambda: _replace_set(self.empty_graphs, empty_before))

    def _validate(self, store: Store, inference: InferenceReport, added: list[ox.Quad], changed: list[ox.Quad]) -> None:
        """The write checked as ``kgraph validate`` checks a file (:func:`kgraph.validate.checker.check`), on the
        closure already extended in place: new contradictions, undeclared ``kg:`` terms, and the shapes on the nodes
        the change reaches. Warnings are kept only for the subjects of the added triples: a warning elsewhere was
        there before the write."""
        asserted = [q for q in changed if q.graph_name != ox.NamedNode(INFERRED_GRAPH)]
        inferred = [q for q in changed if q.graph_name == ox.NamedNode(INFERRED_GRAPH)]
        context = self._check_context(store)
        findings = check(
            store,
            [*added, *asserted],
            context=context,
            inferred=Inferred(inference, inferred),
            terms_in=added,
        )
        known = {found.message for found in self.graph.inference.inconsistencies}
        declared = context.declared(store)
        report = ValidationReport()
        report.errors += [_undeclared(iri, declared) for iri in sorted({iri for _, iri in findings.undeclared})]
        report.errors += [
            Problem("inconsistency", found.message, triples=[shorten_triple(t) for t in found.triples])
            for found in inference.inconsistencies
            if found.message not in known
        ]
        written = {q.subject for q in added}
        report.violations += sorted(
            (as_violation(r) for r in findings.results if r.severity == "Violation" or r.focus in written),
            key=lambda v: (v.focus, v.path or "", v.message),
        )
        if not report.conforms:
            raise WriteRejected(report)


def _parsed(sparql: str) -> str:
    """The update, once the store has run it on an empty dataset, raising the error it words for one that is not
    valid SPARQL: the rewritten queries that find its changes accept some updates SPARQL refuses (a blank node in
    ``DELETE``)."""
    _run_update(EmbeddedStore(), sparql)
    return sparql


def _run_update(store: Store, sparql: str) -> None:
    """Run an update on a scratch store, its errors worded for the client (located when it does not parse)."""
    try:
        store.update(sparql)
    except SyntaxError as error:
        raise QuerySyntaxError.from_pyoxigraph(error, sparql) from None
    except (OSError, ValueError, RuntimeError) as error:
        raise SparqlError(f"The update failed: {error}") from None


class _BlankNodes:
    """Solutions written as a ``VALUES`` block, their blank nodes (the store's own, which a query may not name) as
    placeholder IRIs of this write, turned back into the same blank nodes in the instantiated quads."""

    def __init__(self) -> None:
        self._prefix = f"urn:uuid:{uuid.uuid4()}:"

    def values_block(self, rows: ox.QuerySolutions) -> str | None:
        """``VALUES (?v ...) { (...) ... }`` of every solution; None if one binds a triple term."""
        variables = rows.variables
        lines = []
        for row in rows:
            terms = [row[variable] for variable in variables]
            if any(isinstance(term, ox.Triple) for term in terms):
                return None
            lines.append("(" + " ".join(self._written(term) for term in terms) + ")")
        return "VALUES (" + " ".join(str(v) for v in variables) + ") {\n" + "\n".join(lines) + "\n}"

    def _written(self, term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
        if term is None:
            return "UNDEF"
        if isinstance(term, ox.BlankNode):
            return f"<{self._prefix}{term.value}>"
        return str(term)

    def instantiated(
        self, modify: Modify, template: str | None, values: str, target: ox.NamedNode | ox.DefaultGraph
    ) -> list[ox.Quad]:
        """The quads of ``template`` for every solution (SPARQL's rules: a quad with an unbound variable or a literal
        subject is left out, a template's blank node is new in each solution), its default graph's in ``target``
        (the ``WITH`` graph's when there is one)."""
        if template is None:
            return []
        scratch = EmbeddedStore()
        with_graph = f"WITH <{modify.with_graph}> " if modify.with_graph else ""
        scratch.update(f"{modify.prologue}{with_graph}INSERT {template} WHERE {{ {values} }}")
        return [
            ox.Quad(
                self._restored(q.subject),
                self._restored(q.predicate),
                self._restored(q.object),
                target if isinstance(q.graph_name, ox.DefaultGraph) else self._restored(q.graph_name),
            )
            for q in scratch.quads()
        ]

    def _restored(self, term: Any) -> Any:  # any term of a quad, typed as pyoxigraph's Quad takes it
        """The blank node a placeholder stands for; any other term as it is."""
        if isinstance(term, ox.NamedNode) and term.value.startswith(self._prefix):
            return ox.BlankNode(term.value[len(self._prefix) :])
        return term


def _copy(
    store: Store,
    empty_graphs: set[str],
    graphs: set[str | None] | None = None,
    leave_out: Iterable[str] = (),
) -> EmbeddedStore:
    """An in-memory copy of ``store`` (of ``graphs`` only when given, None being the default graph; else of every
    graph but those of ``leave_out``), with those of ``empty_graphs`` it covers existing empty: what a write is made
    on when it cannot be made in place (a remote store), or run to find what it changes."""
    copy = EmbeddedStore()
    if graphs is None:
        left_out = {ox.NamedNode(name) for name in leave_out}
        copy.add(q for q in store.quads() if q.graph_name not in left_out)
    else:
        copy.add(q for graph in graphs for q in store.graph_quads(graph))
    for name in empty_graphs if graphs is None else empty_graphs & graphs:
        copy.declare_graph(name)
    return copy


def _undo(store: Store, delta: Delta) -> None:
    """Put back what a commit that failed half-way may have changed in a remote store, as far as it answers."""
    with contextlib.suppress(OSError):
        store.remove(delta.added)
        store.add(delta.removed)


def _empty_after(store: Store, empty: set[str], edit: Edit, removed: list[ox.Quad]) -> set[str]:
    """The named graphs that exist without a triple after a write: those that did, those it declares and those it
    emptied by removing their last triple (as a SPARQL store keeps them), less those it dropped or filled."""
    if edit.empty is not None:
        return set(edit.empty)
    emptied = {q.graph_name.value for q in removed if isinstance(q.graph_name, ox.NamedNode)}
    maybe = (empty | edit.declared | emptied) - edit.dropped
    return {name for name in maybe if next(store.graph_quads(name), None) is None}


def _in_graph(quads: Iterable[ox.Quad], graph: str | None) -> list[ox.Quad]:
    """The quads' triples in ``graph`` (None: the default graph)."""
    node = ox.NamedNode(graph) if graph else ox.DefaultGraph()
    return [ox.Quad(q.subject, q.predicate, q.object, node) for q in quads]


def _replace_set(target: set[str], values: set[str]) -> None:
    """Replace a set's members in place (the application shares the set)."""
    target.clear()
    target.update(values)


def _move_graph(store: Store, source: str | None, target: str | None) -> None:
    """Move every quad of one graph (``None``: the default graph) into another; nothing when they are the same."""
    if source == target:
        return
    target_node = ox.NamedNode(target) if target else ox.DefaultGraph()
    quads = list(store.graph_quads(source))
    store.remove(quads)
    store.add(ox.Quad(q.subject, q.predicate, q.object, target_node) for q in quads)


def _new_write() -> tuple[str, str]:
    """A new write's id and time (UTC, to the millisecond), as the journal and the provenance graph record them."""
    return uuid.uuid4().hex, dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _provenance(who: str, changed: list[ox.Quad]) -> tuple[str, str, list[ox.Quad]]:
    """A new write id, the time, and the ``prov:Activity`` recording who wrote, when, and which graphs changed."""
    write_id, stamp = _new_write()
    activity = ox.NamedNode(NAMESPACE + "write/" + write_id)
    graph = ox.NamedNode(PROVENANCE_GRAPH)
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
    return write_id, stamp, quads


def _undeclared(iri: str, declared: set[str]) -> Problem:
    """A ``kg:`` term the write uses that no ontology graph declares (most are typos), as ``kgraph validate`` says."""
    message = f"{shorten(ox.NamedNode(iri))} is not declared in the ontology"
    close = suggestion(iri, declared)
    if close:
        message += f"; did you mean {shorten(ox.NamedNode(close))}?"
    return Problem("undeclared-term", message)
