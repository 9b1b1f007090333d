"""Inference where the data is: the OWL 2 RL closure and the project's rules computed inside a remote SPARQL store.

Reading a remote store into this process's memory to infer over it, then uploading the result, caps the graph at
this machine's memory and sends every triple over HTTP twice. Here the store does the work, in SPARQL Update rounds:
the rules are compiled from the schema exactly as the native engine compiles them (:func:`kgraph.infer.native.
compile_schema`, over an in-memory copy of the schema triples only), the one-premise tables closed under
composition (:mod:`kgraph.infer.closed_tables`), each table an ``INSERT ... WHERE`` with a ``VALUES`` table, and the
rounds are semi-naive: a round matches only the triples the previous round added (the delta graph, at first the
asserted graphs themselves) against everything known. The project's rules
(``rules/*.rq``, CONSTRUCT queries) run whole between closures, their template inserted instead of constructed (on
Virtuoso, while a closure runs beside them, a one-triple template's new conclusions are selected and written back
after it: :func:`conclusions_query`), after the first time only those that can match a triple the store gained since
(:mod:`kgraph.infer.rule_reads`).

Each round writes its conclusions to a scratch graph, leaving out those already known (asserted anywhere, or
inferred), and stops when nothing is left; the new triples then join the inferred graph, and their scratch graph is
the next round's delta as it is (two take turns, so nothing is copied but into the inferred graph); a round after
the first sends only the tables' rows its delta's predicates and classes can match. The updates of a round from a
large delta (the first round's, split in halves) and the rules are sent :data:`LANES` at a time, each rule writing
to a scratch graph of its own. The OWL 2 RL rounds run
to their fixpoint first, then the project's rules once over the closure; from then on, a step's rules read while the
closure of what the step before concluded is computed, and write once it is over, until neither concludes anything
new: the same fixpoint the in-memory engine reaches by alternating them. That closure leaves out the types the
rules' own patterns guarantee their conclusions' terms (:mod:`kgraph.infer.rule_types`). At the end the triples the
native engine leaves out (about OWL's own vocabulary: :func:`kgraph.infer.native.is_meaningful`) are dropped from
the inferred graph, so that it equals the in-memory result (tests compare both on the article, over a real Virtuoso
and a real Oxigraph server).

Virtuoso 7.2 evaluates ``rdf:type/rdfs:subClassOf*`` unlike the standard; at the fixpoint every instance is typed
with all its classes' superclasses (cax-sco), so the path is rewritten as ``rdf:type`` for it.
"""

from __future__ import annotations

import functools
import gc
import logging
import queue
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kgraph.config import GRAPH_NS, INFERRED_GRAPH, ReasonerName
from kgraph.infer.closed_tables import OnePremiseTables, one_premise_tables
from kgraph.infer.closure import ANNOTATIONS, SCHEMA_PREDICATES, SCHEMA_TYPES, vocabulary
from kgraph.infer.consistency import Inconsistency, find_inconsistencies, owlrl_inconsistencies
from kgraph.infer.engine import MAX_ROUNDS, InferenceReport, asserted_graphs
from kgraph.infer.native import Schema, compile_schema, ill_typed, load_owl_rl_rules
from kgraph.infer.rule_reads import Changes, Reads, query_reads, rule_reads
from kgraph.infer.rule_types import without_guaranteed
from kgraph.infer.rules import Rule, header_comments, load_rules
from kgraph.infer.terms import BUILT_IN_NAMESPACES, PREFIXES
from kgraph.store import EmbeddedStore
from kgraph.store.base import QueryResult
from kgraph.store.remote import (
    FORM_ACCEPT,
    VIRTUOSO_GRAPHS,
    RemoteStore,
    RemoteStoreError,
    has_path_closure,
    media_type,
    parse_body,
    parse_results,
    parsed_triples,
    virtuoso_dataset,
)
from kgraph.store.results import solutions, triples

_log = logging.getLogger(__name__)

NEW_GRAPH = GRAPH_NS + "inference/new"
"""Where a round's conclusions go before those already known are dropped."""
DELTA_GRAPH = GRAPH_NS + "inference/delta"
"""The triples the previous round added: what the next round matches against the rules."""
LANES = 2
"""Updates sent at once (the first OWL RL round's, the project's rules), each writing to a scratch graph of its own
(a lane) but for the first round, which writes into the inferred graph: the store computes and writes on as many
cores (Virtuoso: the compiled tables' first round over 1M triples in 2.5-3.0 s instead of 3.5-4.1 s)."""


def _lanes(graph: str) -> list[str]:
    """The scratch graphs of a round, one a lane, the first named ``graph``."""
    return [graph, *(f"{graph}-{lane}" for lane in range(2, LANES + 1))]


RULES_GRAPH = GRAPH_NS + "inference/rules"
"""Where the project's rules write their conclusions: a scratch graph a lane, in two sets (:func:`_rule_lanes`)."""


def _rule_lanes(step: int) -> list[str]:
    """The scratch graphs a step's rules write to: the two sets take turns, so that a step's rules write while the
    previous step's conclusions are the closure's delta."""
    return _lanes(f"{RULES_GRAPH}-{'ab'[step % 2]}")


RULE_LANES = (*_rule_lanes(0), *_rule_lanes(1))
ASSERTED_COPY = GRAPH_NS + "inference/asserted"
"""The triples of the graphs a conclusion is not looked up in one by one, copied into one graph it is looked up in."""
SCRATCH_GRAPHS = (NEW_GRAPH, DELTA_GRAPH, *RULE_LANES, ASSERTED_COPY)
"""Every graph inference writes to before the inferred graph: left out of what is known and what rules read."""

IN_WRITTEN_ORDER = 'define sql:select-option "order"\n'
"""Virtuoso's pragma to join a query's patterns in the order written."""

UPDATE_TIMEOUT = 3600.0
"""Seconds one inference request may take: a round over a large store is one long update, bounded all the same."""

TYPE = f"<{PREFIXES['rdf']}type>"
SAME_AS = f"<{PREFIXES['owl']}sameAs>"
_SCHEMA_NAMESPACES = (PREFIXES["rdfs"], PREFIXES["owl"])
_LISTS = (PREFIXES["rdf"] + "first", PREFIXES["rdf"] + "rest")
_SUBCLASS_PATH = re.compile(
    r"(?:rdf:type|a|<http://www\.w3\.org/1999/02/22-rdf-syntax-ns#type>)\s*/\s*"
    r"(?:rdfs:subClassOf|<http://www\.w3\.org/2000/01/rdf-schema#subClassOf>)\s*\*"
)
_CONSTRUCT = re.compile(r"\bCONSTRUCT\s*\{(?P<template>.*?)\}\s*WHERE", re.IGNORECASE | re.DOTALL)


def infer_in_store(store: RemoteStore, *, rules_dir: Path) -> InferenceReport | None:
    """Replace the inferred graph with the closure, computed in the store; None when the schema uses a construct the
    native engine leaves to owlrl (then the caller infers in memory). The checks at the end are three streams of
    reads at once (:func:`_checked_at_once`). Each step's time is logged at DEBUG level (logger
    ``kgraph.infer.in_store``), so that an operator sees where a slow start goes."""
    started = time.perf_counter()
    store = store.with_timeout(max(store.timeout, UPDATE_TIMEOUT))  # for inference's updates, not for queries
    store.analyse_first_time = True  # each check is asked once: 5.4 s instead of 0.9 s for them on 1M triples
    rules = load_rules(rules_dir)
    with timed("clearing the inferred and scratch graphs"):
        for graph in (INFERRED_GRAPH, *SCRATCH_GRAPHS):
            store.clear_graph(graph)
        names = emptied(store, (INFERRED_GRAPH, *SCRATCH_GRAPHS))
    with timed("choosing the graphs to reason over"):
        graphs = asserted_graphs(store, names)
        reasoned = _graphs_to_reason_over(store, graphs)
    with timed("reading and compiling the schema"):
        counts = term_counts(store, reasoned)
        asserted = counts if set(reasoned) == set(graphs) else term_counts(store, graphs)
        schema = compile_schema(_schema_copy(store, reasoned, counts), None, load_owl_rl_rules())
    if schema.unsupported:
        return None
    with _no_collection(), ThreadPoolExecutor(1, thread_name_prefix="kgraph-literals") as background:
        literals = _Later(background, functools.partial(_ill_typed_found, store, _literals_request(store, reasoned)))
        _rounds(store, schema, rules, graphs, reasoned, (counts, asserted), literals)
        inconsistencies = _checked_at_once(store, [*graphs, INFERRED_GRAPH], literals)
    with timed("counting the inferred graph"):
        added = store.count(INFERRED_GRAPH)
    return InferenceReport(
        added=added,
        inconsistencies=inconsistencies,
        seconds=time.perf_counter() - started,
        reasoned_graphs=reasoned,
        engine=ReasonerName.NATIVE,
        in_store=True,
    )


@dataclass
class _Later:
    """A read whose answer is wanted only at the end, started in a thread of its own when a core is mostly idle
    (:func:`_rounds`), else at the end (:func:`_checked_at_once`). No automatic garbage collection may run until it
    is over (see :func:`in_lanes`)."""

    pool: ThreadPoolExecutor
    read: Callable[[], list[Inconsistency]]
    running: Future[list[Inconsistency]] | None = None

    def start(self) -> Future[list[Inconsistency]]:
        """Send the read, unless it was sent already."""
        if self.running is None:
            self.running = self.pool.submit(self.read)
        return self.running

    def result(self) -> list[Inconsistency]:
        """The read's answer, once it is over (sent now if it was not)."""
        return self.start().result()


def _checked_at_once(store: RemoteStore, checked: list[str], literals: _Later) -> list[Inconsistency]:
    """The contradictions in the closure: the consistency checks (:func:`find_inconsistencies`) in this thread, while
    another looks for the statements about OWL's own vocabulary, which are then dropped, and the ill-typed-literal
    scan goes on (or starts, if no step started it): each is mostly one request at a time. (With the scratch graphs
    dropped meanwhile, the checks took 1.3-1.9 s in three builds at 1M generated triples, against 0.9 s: more than
    the drops took.)"""
    checking = "consistency checks, while statements about OWL's own vocabulary are looked for"
    with timed(checking), ThreadPoolExecutor(1, thread_name_prefix="kgraph-reads") as background:
        literals.start()
        meaningless = background.submit(meaningless_found, store)
        inconsistencies = find_inconsistencies(store, checked)
        found = meaningless.result()
    with timed("dropping statements about OWL's own vocabulary"):
        if drop_meaningless(store, found):
            inconsistencies = find_inconsistencies(store, checked)  # over the graph as it is now
    with timed("waiting for the ill-typed literals"):
        return inconsistencies + literals.result()


@contextmanager
def timed(step: str, stage: str = "in-store inference") -> Iterator[None]:
    """Log at DEBUG level how long a step of building the graph in a remote store took (nothing is measured when
    DEBUG is off): of its inference unless another ``stage`` is named."""
    if not _log.isEnabledFor(logging.DEBUG):
        yield
        return
    started = time.perf_counter()
    yield
    _log.debug("%s: %s: %.2f s", stage, step, time.perf_counter() - started)


def ill_typed_literals(store: RemoteStore, graphs: list[str]) -> list[str]:
    """:func:`kgraph.infer.native.ill_typed_literals` said so that a remote engine evaluates it fast: the distinct
    literals in one scan, their datatypes checked here (a language-tagged literal's, ``rdf:langString``, is not one
    checked). Joined with a ``VALUES`` table of the 34 checked datatypes, as the native engine asks it, Virtuoso 7.2
    scans the store once per datatype: 113 s on 100k triples, against 0.4 s for this. Leaving out the tagged
    literals there too (``LANG(?value) = ""``) doubled Virtuoso's time at 1M triples (1.9-2.3 s against 1.0 s), and
    leaving out ``xsd:string`` by ``DATATYPE`` took 7.5 s.

    The literals come as the objects of a CONSTRUCT (:data:`_LITERALS`), in N-Triples: Virtuoso writes them there
    faster than in a SELECT's XML results, and in half the bytes (at 1M generated triples, the 53k distinct literals
    in 1.2-1.5 s against 1.9-2.2 s, 4.6 MB against 8.3 MB, parsed here in 0.05 s against 0.35 s; its JSON took 2.2
    s). Its Turtle, a little faster still, writes a double such as ``1500.0`` as a bare number, which Turtle reads as
    a decimal."""
    return _ill_typed_in(_fetch(store, _literals_request(store, graphs)))


def _literals_request(store: RemoteStore, graphs: list[str]) -> _Request:
    annotations = ", ".join(sorted(str(term) for term in ANNOTATIONS))
    query = f"""CONSTRUCT {{ {_LITERALS} ?value }} WHERE {{ {{ SELECT DISTINCT ?value WHERE {{ ?s ?p ?value
      FILTER (isLiteral(?value) && ?p NOT IN ({annotations})) }} }} }}"""
    if not store.is_virtuoso:
        return store.request(query, default_graph=graphs)
    return virtuoso_dataset(query, _left_out(store, graphs)), [], FORM_ACCEPT["CONSTRUCT"]


_LITERALS = "<urn:kgraph:scan> <urn:kgraph:literal>"
"""The subject and predicate of each literal the scan for ill-typed ones constructs (:func:`ill_typed_literals`)."""


def _left_out(store: RemoteStore, graphs: list[str]) -> frozenset[str]:
    """What a query over Virtuoso's own default graph leaves out to read only ``graphs``: its system graphs, the
    store's other graphs, and the graphs inference writes, named whether they hold triples yet or not."""
    return VIRTUOSO_GRAPHS | ({INFERRED_GRAPH, *SCRATCH_GRAPHS, *store.graph_names()} - set(graphs))


_Request = tuple[str, list[tuple[str, str]], str]
"""A query as sent: its text, its protocol parameters, the media type asked for."""


def _fetch(store: RemoteStore, request: _Request) -> tuple[bytes, str]:
    """A query's answer as bytes and their media type: only HTTP, so it may run in another thread."""
    with store.open_query(*request) as response:
        return response.read(), media_type(response)


def _ill_typed_found(store: RemoteStore, request: _Request) -> list[Inconsistency]:
    """The ill-typed literals the scan ``request`` finds, as owlrl words them: read and parsed in the calling thread,
    which frees the query results it makes (see :func:`in_lanes`)."""
    with timed("reading the literals"):
        return owlrl_inconsistencies(_ill_typed_in(_fetch(store, request)))


def _ill_typed_in(answer: tuple[bytes, str]) -> list[str]:
    values = (found.object for found in parsed_triples(*answer))
    return ill_typed((value.value, value.datatype.value) for value in values if isinstance(value, ox.Literal))


def _graphs_to_reason_over(store: RemoteStore, graphs: list[str]) -> list[str]:
    """The ontology graphs and the data graphs using their terms, as the in-memory engine chooses them."""
    schema = _schema_graphs(store, graphs)
    values = " ".join(sorted(str(term) for term in vocabulary(store, schema)))
    using = _graphs_using(store, [g for g in graphs if g not in schema], values) if values else set()
    return [g for g in graphs if g in schema or g in using]


def _schema_graphs(store: RemoteStore, graphs: list[str]) -> list[str]:
    """The graphs :func:`kgraph.infer.closure.is_schema_graph` says declare or axiomatise classes or properties, in
    one query (over HTTP, its look-ups cost a request each: 0.5 s for 16 graphs)."""
    predicates = " ".join(f"<{p}>" for p in SCHEMA_PREDICATES)
    types = " ".join(f"<{t}>" for t in SCHEMA_TYPES)
    query = f"""SELECT DISTINCT ?g WHERE {{ {{ VALUES ?p {{ {predicates} }} GRAPH ?g {{ ?s ?p ?o }} }}
      UNION {{ VALUES ?t {{ {types} }} GRAPH ?g {{ ?s {TYPE} ?t }} }} }}"""
    found = {row["g"].value for row in solutions(store.query(query, named_graphs=graphs))}
    return [g for g in graphs if g in found]


def _graphs_using(store: RemoteStore, graphs: list[str], values: str) -> set[str]:
    """Those of ``graphs`` that use a term of ``values`` as predicate or class: :func:`kgraph.infer.closure.
    uses_vocabulary` in one ASK a graph (over HTTP, a look-up per term costs a request and brings back every matching
    triple), :data:`LANES` at a time (Virtuoso 7.2 took 25-35 ms for each, mostly its own work: 0.3-0.5 s for 14
    graphs one after the other). Asked of all the graphs at once (``VALUES ?g`` and ``FILTER EXISTS``), Virtuoso
    found the one data graph of a small fixture to use none."""
    requests = {
        graph: store.request(
            f"""ASK {{ GRAPH <{graph}> {{ {{ VALUES ?term {{ {values} }} ?s ?term ?o }}
      UNION {{ VALUES ?term {{ {values} }} ?s {TYPE} ?term }} }} }}"""
        )
        for graph in graphs
    }
    with ThreadPoolExecutor(LANES, thread_name_prefix="kgraph-asks") as pool:
        answers = dict(zip(requests, pool.map(functools.partial(_fetch, store), requests.values()), strict=True))
    return {graph for graph, answer in answers.items() if bool(parse_body(*answer))}


@dataclass(frozen=True)
class TermCounts:
    """How many triples of each predicate, and of each class (``rdf:type`` links to it), some graphs hold: which
    predicates and classes the schema copy reads (:func:`_schema_copy`), and how the first round shares its work
    between the lanes (:func:`owl_rl_updates`)."""

    predicates: dict[ox.NamedNode, int]
    classes: dict[ox.NamedNode, int]


def term_counts(store: RemoteStore, graphs: list[str]) -> TermCounts:
    """The :class:`TermCounts` of the graphs, in two queries (Virtuoso counts them from its indexes as fast as it
    lists them: 0.05-0.1 s each at 1M generated triples)."""
    return TermCounts(_counted(store, "?s ?x ?o", graphs), _counted(store, f"?s {TYPE} ?x", graphs))


def _counted(store: RemoteStore, pattern: str, graphs: list[str]) -> dict[ox.NamedNode, int]:
    """The triples of the pattern for each IRI ``?x`` takes in it."""
    rows = solutions(store.query(f"SELECT ?x (COUNT(*) AS ?n) WHERE {{ {pattern} }} GROUP BY ?x", default_graph=graphs))
    return {row["x"]: int(row["n"].value) for row in rows if isinstance(row["x"], ox.NamedNode)}


def _schema_copy(store: RemoteStore, graphs: list[str], counts: TermCounts) -> EmbeddedStore:
    """The triples the rule compilers read (RDFS and OWL axioms, their lists), in memory, in one request so that
    blank nodes keep their identity. Which predicates and classes those are is asked first (``counts``): a filter
    on every triple's predicate scans the whole store (0.9 s on 100k triples, against 0.1 s). Annotations
    (``rdfs:label``, ``rdfs:comment``...) are left out: no compiled rule reads them, and data labels nearly every
    resource (17k of the 17.5k triples otherwise copied on 100k generated triples)."""
    predicates = [
        p
        for p in counts.predicates
        if (p.value.startswith(_SCHEMA_NAMESPACES) or p.value in _LISTS) and p not in ANNOTATIONS
    ]
    classes = [c for c in counts.classes if c.value.startswith(_SCHEMA_NAMESPACES)]
    scratch = EmbeddedStore()
    if not predicates and not classes:
        return scratch
    pairs = " ".join(f"({TYPE} {c})" for c in classes)
    query = f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ VALUES ?p {{ {" ".join(map(str, predicates))} }} ?s ?p ?o }}
      UNION {{ VALUES (?p ?o) {{ {pairs} }} ?s ?p ?o }} }}"""
    found = triples(store.query(query, default_graph=graphs))
    scratch.add(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in found)
    return scratch


def _rounds(
    store: RemoteStore,
    schema: Schema,
    rules: list[Rule],
    graphs: list[str],
    reasoned: list[str],
    counts: tuple[TermCounts, TermCounts],
    beside: _Later | None = None,
) -> None:
    """The OWL 2 RL closure, then the project's rules over it, then the closure of what they concluded, and so on
    until neither concludes anything new. After the first step, a step's rules read (their SELECTs) while the closure
    of what the previous step's rules concluded is computed, and write once it is over (:func:`_apply_rules`): each
    is mostly one request at a time, and the other core idled meanwhile (at 1M generated triples, ``fought-in.rq``
    0.5-1.6 s and its closure 1.4-2 s, one after the other). What that closure concludes is new to the next step's
    rules. The rules of step 0 run after the closure: Virtuoso plans a pattern over its default graph far worse while
    large graphs are being left out of it (the first closure's graphs hold about as many triples as the inferred
    graph). What the rules selected once (:func:`conclusions_query`) is in the store from then on, asserted or inferred:
    later steps send only what they had not selected before.

    ``graphs``: the asserted graphs; ``reasoned``: those reasoned over (:func:`_graphs_to_reason_over`); ``counts``:
    the latter's :func:`term_counts`, by which the first round shares its work between the lanes, and the former's,
    by which every round leaves out the look-ups of conclusions no asserted graph can hold (:func:`owl_rl_updates`).

    ``beside``: a read wanted only at the end (the ill-typed-literal scan, 3-4 s at 1M generated triples), started
    once the first closure is over, beside the first step's rules, and left to go on. Their two lanes leave a core
    mostly idle (at 1M generated triples, CPU at 115-140% for 2 s), and since the closure of the rules' conclusions
    leaves out the types their patterns guarantee (:mod:`kgraph.infer.rule_types`), the next step's closure is
    shorter than the scan: started there (beside that closure and a rule's SELECT), it went on into the consistency
    checks, which keep both cores busy (builds alternated three times: 28.5-31.2 s against 30.2-34.8 s). Beside the
    first round's writes, it slowed them by more than it took (4.5-5.6 s against 3.1-3.3 s)."""
    looked_up = _looked_up(store)
    reasoned_counts, asserted = counts
    known = _in_graphs([*reasoned, INFERRED_GRAPH])
    everything = [*graphs, INFERRED_GRAPH]
    store_rules = StoreRules(store, everything)
    tables = one_premise_tables(schema)
    delta = _in_graphs(reasoned)
    in_delta: Changes | None = None  # the asserted triples': not asked
    due = list(rules)
    ran: list[Rule] = []  # the rules whose conclusions the step's closure starts from
    for step in range(MAX_ROUNDS):
        if not delta and not due:
            _each_lane(store, [*RULE_LANES, ASSERTED_COPY], "clearing", _drop)
            emptied(store, SCRATCH_GRAPHS)
            return
        lanes = _rule_lanes(step)
        closed = Changes()
        closing = (delta, known, looked_up)
        close = functools.partial(
            _owl_closure,
            store,
            schema,
            tables,
            closing,
            step,
            closed,
            in_delta,
            (None if step else reasoned_counts, asserted),
            ran,
        )
        if step == 0:
            close()  # first: the rules read its conclusions
            if beside:
                beside.start()
        meanwhile = close if step and delta else None
        dropped = _rule_lanes(step - 1) if step else []  # the delta closed meanwhile: dropped as the rules write
        concluded = _conclude(store, due, store_rules, lanes, step, meanwhile, dropped)
        changes = concluded or Changes()
        if step:
            changes |= closed
        ran, due = due, []
        for rule in rules:
            if store_rules.reads(rule).met_by(changes):
                due.append(rule)
            else:
                _log.debug("in-store inference: step %d, rule %s: nothing new it reads", step + 1, rule.path.name)
        delta = _in_graphs(lanes) if concluded else ""  # none: the rules concluded nothing new
        in_delta = concluded
    raise RuntimeError(f"inference in the store did not reach a fixpoint in {MAX_ROUNDS} rounds")


@dataclass
class StoreRules:
    """The project's rules as one build sends them to the store: the graphs they read, the conclusions they selected
    so far (:meth:`select`), and each rule's texts and reads, written once a build. Writing them asks the store (its
    graphs; on Virtuoso, the sub-properties fought-in.rq inlines), whose answers inference does not change: asked for
    each rule and lane, they cost 25-35 ms each (0.3 s before the first step's six rules could start)."""

    store: RemoteStore
    graphs: list[str]
    selected: set[ox.Triple] = field(default_factory=set)
    _queries: dict[Rule, str] = field(default_factory=dict)
    _left_out: frozenset[str] | None = None
    _selects: dict[Rule, str | None] = field(default_factory=dict)
    _updates: dict[tuple[Rule, str], str] = field(default_factory=dict)
    _reads: dict[Rule, Reads] = field(default_factory=dict)

    def query(self, rule: Rule) -> str:
        """The rule as the store evaluates it like the standard (on Virtuoso: :func:`_for_virtuoso`)."""
        if rule not in self._queries:
            virtuoso = self.store.is_virtuoso
            self._queries[rule] = _for_virtuoso(rule.query, self.store, self.graphs) if virtuoso else rule.query
        return self._queries[rule]

    def left_out(self) -> frozenset[str]:
        """The graphs a rule's dataset leaves out of Virtuoso's default graph (:func:`_left_out`), asked once."""
        if self._left_out is None:
            self._left_out = _left_out(self.store, self.graphs)
        return self._left_out

    def select(self, rule: Rule) -> str | None:
        """:func:`conclusions_query` on Virtuoso; None elsewhere."""
        if rule not in self._selects:
            virtuoso = self.store.is_virtuoso
            self._selects[rule] = conclusions_query(rule, self.query(rule), self.left_out()) if virtuoso else None
        return self._selects[rule]

    def update(self, rule: Rule, lane: str) -> str:
        """:func:`rule_update` into ``lane``."""
        if (rule, lane) not in self._updates:
            left_out = self.left_out() if self.store.is_virtuoso else None
            self._updates[rule, lane] = rule_update(rule, self.query(rule), self.graphs, lane, left_out)
        return self._updates[rule, lane]

    def reads(self, rule: Rule) -> Reads:
        """What a rule can match (:mod:`kgraph.infer.rule_reads`). On Virtuoso, a variable predicate whose values a
        subquery gives (fought-in.rq's ``?role``, the sub-properties of ``kg:participant``) is read from the rule as
        it runs there, that subquery answered and inlined as VALUES (:func:`_for_virtuoso`); the IRIs of the rule as
        written are kept, so that a change to what the subquery reads (``rdfs:subPropertyOf``) counts too."""
        if rule not in self._reads:
            reads = rule_reads(rule)
            if reads.any_predicate and self.store.is_virtuoso:
                inlined = query_reads(self.query(rule))
                reads = Reads(reads.iris | inlined.iris, inlined.any_predicate, reads.any_class or inlined.any_class)
            self._reads[rule] = reads
        return self._reads[rule]


def _conclude(
    store: RemoteStore,
    rules: list[Rule],
    store_rules: StoreRules,
    lanes: list[str],
    step: int,
    meanwhile: Callable[[], None] | None,
    dropped: Sequence[str] = (),
) -> Changes | None:
    """A step's round of the project's rules into its ``lanes`` (:func:`_apply_rules`, ``meanwhile`` run while they
    read, the scratch graphs ``dropped`` as they write), their new conclusions then added to the inferred graph; the
    predicates and classes of those, None when there were none (they stay in the lanes, the next step's delta)."""
    _apply_rules(store, rules, store_rules, lanes, step, meanwhile, dropped)
    if not rules:
        return None
    with timed(f"step {step}, keeping the rules' new conclusions"):
        _forget_known_in(store, lanes)
        return _keep_new(store, lanes)


def _at_once(meanwhile: Callable[[], None] | None, work: Callable[[], None]) -> None:
    """Run ``work`` in this thread and, when there is one, ``meanwhile`` in another. No automatic garbage collection
    runs meanwhile (see :func:`in_lanes`): each thread frees only the query results it made."""
    if meanwhile is None:
        work()
        return
    with _no_collection(), ThreadPoolExecutor(1, thread_name_prefix="kgraph-meanwhile") as pool:
        running = pool.submit(meanwhile)
        try:
            work()
        finally:
            running.result()


def _owl_closure(
    store: RemoteStore,
    schema: Schema,
    tables: OnePremiseTables,
    graphs: tuple[str, str, Sequence[str]],
    step: int,
    changes: Changes,
    in_delta: Changes | None = None,
    counts: tuple[TermCounts | None, TermCounts | None] = (None, None),
    concluded_by: Sequence[Rule] = (),
) -> None:
    """Semi-naive rounds of the compiled OWL 2 RL tables, from the triples of ``delta``, until a round concludes
    nothing new; each round's new triples stay in its scratch graph as the next round's delta (two scratch graphs
    take turns: nothing is copied but into the inferred graph), and all are left empty. With
    the one-premise tables closed, a round after the first matches them only against the links the joined rules
    conclude (what they concluded themselves, they would only conclude again).

    At step 0 the inferred graph is empty, so the first round's lanes both write into the inferred graph itself: what
    they conclude is neither copied nor dropped after (at 1M generated triples, copying the 420k links implied took
    1.5-1.8 s, dropping their scratch graph 0.5 s), nor looked up there (:func:`_not_written`). A step's first round
    from a delta of :data:`LARGE_DELTA` triples or more (that one, and at 1M generated triples the first round after
    the project's rules, from their 165k conclusions) selects its conclusions at once (see :func:`owl_rl_updates`) in
    two lanes: 1.1-1.2 s there, against 1.6-1.7 s a table at a time in one lane. The others run one table at a time
    in one lane: two updates at once sometimes stalled (a round of a 1M generated triples' build that usually takes
    0.1 s took 28.5 s in one build), and so did a later round's few rows selected at once from a large delta (the
    second round of step 0, from the first round's 650k conclusions: 14.5 s in one build of ten, deadlocks in
    two others, 0.04-0.25 s else).

    ``graphs``: the delta's and the known triples' patterns (:func:`_in_graphs`), the graphs a conclusion is looked
    up in (:func:`_looked_up`); ``in_delta``: the predicates and classes of the delta's triples, when known (each
    later round's are, from the round before): only the tables' rows they can match are sent
    (:meth:`OnePremiseTables.matching`); ``counts``: the delta's (:class:`TermCounts`), by which the first round's
    updates are split in halves, and the asserted graphs', by which conclusions none of them can hold are not looked
    up there (both: :func:`owl_rl_updates`); ``concluded_by``: the project's rules whose conclusions the
    delta holds (after the first step), whose first round then leaves out the types those rules' own patterns
    guarantee (:func:`kgraph.infer.rule_types.without_guaranteed`: at 1M generated triples, all it looked for)."""
    delta, known, looked_up = graphs
    delta_counts, asserted = counts
    scratch = (DELTA_GRAPH, NEW_GRAPH)  # taking turns
    joined = tables.matching(schema.transitive | set(schema.chains), ()) if tables.closed else tables
    for number in range(MAX_ROUNDS):
        first = step == 0 and number == 0  # the asserted triples
        large = first or (number == 0 and in_delta is not None and in_delta.triples >= LARGE_DELTA)
        target = INFERRED_GRAPH if first else scratch[number % 2]
        matched = joined if number else tables
        if in_delta is not None:
            matched = matched.matching(in_delta.predicates, in_delta.classes)
        if number == 0 and concluded_by:
            matched = without_guaranteed(matched, concluded_by, tables)
        updates = owl_rl_updates(
            schema,
            matched,
            (delta, known, _not_written(looked_up) if first else looked_up),
            target,
            selected_at_once=large,
            for_virtuoso=store.is_virtuoso,
            halves=delta_counts if first else None,
            asserted=asserted,
        )
        jobs = [
            (f"step {step}, OWL RL round {number}, {name}", functools.partial(_send, store, u)) for name, u in updates
        ]
        in_lanes(jobs, [target] * (LANES if large else 1))
        with timed(f"step {step}, OWL RL round {number}, keeping the new conclusions"):
            in_delta = _keep_new(store, [target])
            if in_delta is None:
                break
            changes.predicates |= in_delta.predicates
            changes.classes |= in_delta.classes
        store.update(_drop(scratch[(number + 1) % 2]))  # the previous round's
        delta = _in_graphs([target])
    else:
        raise RuntimeError(f"inference in the store did not reach a fixpoint in {MAX_ROUNDS} rounds")
    _each_lane(store, list(scratch), "clearing", _drop)


LARGE_DELTA = 50_000
"""Triples the delta of a step's first round holds at least to be matched as step 0's is (:func:`_owl_closure`)."""

DEADLOCK_RETRIES = 5
"""Times a job is sent again after the store ended it as a deadlock's victim."""
DEADLOCK = " 40001 "
"""SQLSTATE 40001 in a store's error message: Virtuoso chose this update as a deadlock's victim ("Virtuoso 40001
Error SR172: Transaction deadlocked"), which two updates writing at once sometimes are."""


def _until_not_deadlocked(name: str, job: Callable[[str], None], lane: str) -> None:
    """Run a job, again while it ends as a deadlock's victim (at most :data:`DEADLOCK_RETRIES` times again)."""
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            job(lane)
            return
        except RemoteStoreError as error:
            if DEADLOCK not in str(error) or attempt == DEADLOCK_RETRIES:
                raise
            _log.debug("in-store inference: %s: deadlocked, sent again", name)


def in_lanes(jobs: Sequence[tuple[str, Callable[[str], None]]], lanes: list[str]) -> None:
    """Run named jobs on a thread a lane, each given its thread's scratch graph, a job taken as soon as a thread is
    free (the tables' costs differ tenfold). A job the store ends as a deadlock's victim is sent again (every job adds
    or drops triples, so a second time leaves what one time would); the first other failure is raised once both
    threads have stopped.

    pyoxigraph's query results must be freed in the thread that made them, so jobs make none (they send and receive
    bytes), and no automatic garbage collection runs while they do (this thread waits meanwhile): one started by a
    job's thread could free this thread's results held in reference cycles (the schema copy's store holds some)."""
    with _no_collection():
        _run_in_lanes(jobs, lanes)


@contextmanager
def _no_collection() -> Iterator[None]:
    """No automatic garbage collection within (as it was before when nested)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _each_lane(store: RemoteStore, graphs: list[str], name: str, update: Callable[[str], str]) -> None:
    """One update about each of ``graphs`` (``update`` writes it for a graph), all sent at once."""
    jobs = [(f"{name} {graph}", functools.partial(_send, store, update(graph))) for graph in graphs]
    in_lanes(jobs, graphs[:LANES])


def emptied(store: RemoteStore, graphs: Collection[str]) -> list[str]:
    """The store's graph names, once none of ``graphs`` (dropped just before) holds a triple. A graph that still
    shows triples has them deleted as a scan of every graph finds them (its name compared as a string, which the store
    cannot narrow to the graph's own index), and is looked at again a little later, a few times: Virtuoso 7.2, busy
    beside other servers, showed triples of a rule lane of step 0 after two DROPs and after such a deletion too, gone
    a moment later (three starts of ten at 1M generated triples); on a quiet machine, once in about a dozen, such
    triples stayed and then showed as graphs of the dataset. A graph still showing triples after that is an error."""
    names = store.graph_names()
    for attempt in range(EMPTYING_ATTEMPTS):
        kept = [graph for graph in names if graph in graphs]
        if not kept:
            return names
        for graph in kept:
            _log.warning("the store kept triples of %s after dropping it: deleting them as a scan finds them", graph)
            quads = "GRAPH ?g { ?s ?p ?o }"
            store.update(f"DELETE {{ {quads} }} WHERE {{ {quads} FILTER (STR(?g) = {ox.Literal(graph)}) }}")
        time.sleep(EMPTYING_PAUSE * 2**attempt)
        names = store.graph_names()
    kept = [graph for graph in names if graph in graphs]
    raise RemoteStoreError(f"The SPARQL store kept triples of {', '.join(kept)} after deleting them")


EMPTYING_ATTEMPTS = 4
EMPTYING_PAUSE = 0.25
"""Seconds :func:`emptied` waits after its first deletion before it looks again (then twice as long each time)."""


def _send(store: RemoteStore, update: str, _: str) -> None:
    """Send an update that names its graphs itself, whatever the lane."""
    store.update(update)


def _drop(graph: str) -> str:
    """Drop a graph (SPARQL's ``DROP SILENT``: nothing to drop is no error)."""
    return f"DROP SILENT GRAPH <{graph}>"


def _run_in_lanes(jobs: Sequence[tuple[str, Callable[[str], None]]], lanes: list[str]) -> None:
    pending: queue.SimpleQueue[tuple[str, Callable[[str], None]]] = queue.SimpleQueue()
    for job in jobs:
        pending.put(job)

    def work(lane: str) -> None:
        while True:
            try:
                name, job = pending.get_nowait()
            except queue.Empty:
                return
            with timed(name):
                _until_not_deadlocked(name, job, lane)

    with ThreadPoolExecutor(len(lanes), thread_name_prefix="kgraph-infer") as pool:
        for running in [pool.submit(work, lane) for lane in lanes]:
            running.result()


def _keep_new(store: RemoteStore, lanes: list[str]) -> Changes | None:
    """Add a round's scratch graphs' triples (none known already) to the inferred graph; their predicates and classes
    and how many they are, None when there were no triples (a lane that is the inferred graph itself holds only the
    round's)."""
    counts = {lane: store.count(lane) for lane in lanes}
    filled = [lane for lane in lanes if counts[lane]]
    if not filled:
        return None
    kept = Changes(
        {str(p) for p in _distinct_in(store, _fill(_in_graphs(filled), "?s ?x ?o"))},
        {str(c) for c in _distinct_in(store, _fill(_in_graphs(filled), f"?s {TYPE} ?x"))},
        sum(counts.values()),
    )
    scratch = [lane for lane in filled if lane != INFERRED_GRAPH]
    if scratch:
        _each_lane(store, scratch, "keeping", lambda lane: _copy(lane, INFERRED_GRAPH))
    return kept


def _in_graphs(graphs: list[str]) -> str:
    """A pattern template (``{}`` for the triple, ``?G`` for its graph) matching in any of the graphs."""
    values = " ".join(f"<{g}>" for g in graphs)
    return f"VALUES ?G {{ {values} }} GRAPH ?G {{ {{}} }}"


def owl_rl_updates(
    schema: Schema,
    tables: OnePremiseTables,
    graphs: tuple[str, str, Sequence[str]],
    target: str,
    *,
    selected_at_once: bool = False,
    for_virtuoso: bool = False,
    halves: TermCounts | None = None,
    asserted: TermCounts | None = None,
) -> list[tuple[str, str]]:
    """The INSERTs of a round, named: the types and the links the delta's triples imply alone (``tables``), and the
    conclusions of the delta's triples joined with the known ones (transitive properties, chains), into the scratch
    graph, leaving out those the graphs looked up hold (``graphs``: as :func:`_owl_closure` takes them). (Leaving the
    known ones out as they are found, rather than deleting them from the scratch graph after, saves Virtuoso writing
    and deleting them: 0.8 s instead of 2 s for the domains of 1M generated triples.)

    ``selected_at_once`` (for a large delta: :data:`LARGE_DELTA`): the types in one update and the links in another
    (each split in two by ``asserted``, below), each set made distinct before its conclusions are looked up (on
    Virtuoso behind a ``LIMIT`` it cannot see through: else it looks up every row of each table's join, under the
    update's locks; the types of 1M generated triples, 1.9M rows for 408k distinct, 9-12 s against 2.6-3.2 s).
    Otherwise one update per table, its join alone:
    in a subquery over a delta graph written moments before, Virtuoso took the graph's whole index first, whatever
    the pragma below (1.2-2.3 s for a round of a few thousand triples). With ``halves`` (the delta's
    :class:`TermCounts`), each of those sets is split in halves, by the class or the property concluded (so that no
    conclusion is in both), balanced by the delta's triples each half's rows match (:func:`_halves`): in two lanes,
    the types of 1M generated triples otherwise went on alone for 1.5-2.2 s after the links, one core idle.

    ``for_virtuoso``: the one-premise tables joined in the order written, each ``VALUES`` table first, by Virtuoso's
    ``sql:select-option "order"`` pragma (left to itself, Virtuoso 7.2 now and then scans the delta graph first and
    probes the table for each triple: 2.8 s instead of 0.01 s for the domains of 20k new triples, on 100k, which made
    some starts several times slower than others), and, but for the large delta's, each conclusion looked up by the
    primary key (:func:`_insert`): the large delta's look-ups Virtuoso chose well, and told, took longer (the first
    round at 1M generated triples 4.9-6.0 s in three builds, against 3.7-4.2 s in the next three).

    ``asserted``: the predicates and classes the asserted graphs hold (:func:`term_counts` of them all). A conclusion
    of a class or property none of them holds cannot be asserted, so it is looked up in the inferred graph alone
    (:func:`_split_by_assertion`). At 1M generated triples, 530k of the first round's 740k conclusions need no
    look-up: the round took 4.4 s instead of 5.9 s, twice each, over one store (6.8 s against 10.3 s in one lane),
    and 4.1-5.8 s against 4.9-10.1 s in builds alternated six times."""
    pragma = IN_WRITTEN_ORDER if for_virtuoso else ""
    barrier = f" LIMIT {_NO_LIMIT}" if for_virtuoso else ""
    delta, known, looked_up = graphs
    in_inferred = tuple(graph for graph in looked_up if graph == INFERRED_GRAPH)
    updates = []
    sets = (
        (
            "types",
            f"?s {TYPE} ?d",
            [
                ("of classes", tables.types, "?c ?d", f"?s {TYPE} ?c", ""),
                ("of subjects", tables.subject_types, "?p ?d", "?s ?p ?o", ""),
                ("of objects", tables.object_types, "?p ?d", "?o ?p ?s", _NOT_LITERAL),
            ],
            None if asserted is None else {str(term) for term in asserted.classes},
        ),
        (
            "links",
            "?s ?q ?o",
            [
                ("forward", tables.forward, "?p ?q", "?s ?p ?o", ""),
                ("backward", tables.backward, "?p ?q", "?o ?p ?s", _NOT_LITERAL),
            ],
            None if asserted is None else {str(term) for term in asserted.predicates},
        ),
    )
    for name, conclusion, branches, terms in sets:
        maybe, never = _split_by_assertion(branches, terms)
        if selected_at_once:
            selected = " ".join(re.findall(r"\?\w+", conclusion))
            parts = ((f"{name}, unasserted", never, in_inferred), (name, maybe, looked_up))
            for label, part, lookups in parts:
                pieces = _halves(part, halves) if halves else [part]
                for i, piece in enumerate(pieces, 1):
                    union = " UNION ".join(f"{{ {join} }}" for join in _joins(piece, delta).values())
                    where = f"{{ SELECT DISTINCT {selected} WHERE {{ {union} }}{barrier} }}"
                    named = f"{label}, half {i}" if halves else label
                    updates += [(named, pragma + _insert(conclusion, where, target, lookups))] if union else []
        else:
            for branch, (_, may_be_asserted, *_) in zip(branches, maybe, strict=True):
                lookups = looked_up if may_be_asserted else in_inferred
                updates += [
                    (f"{name} {which}", pragma + _insert(conclusion, join, target, lookups, keyed=for_virtuoso))
                    for which, join in _joins([branch], delta).items()
                ]
    for prop in sorted(schema.transitive):
        p = f"{prop}"
        left = f"{_fill(delta, f'?x {p} ?y')} {_fill(known, f'?y {p} ?z')}"
        right = f"{_fill(known, f'?x {p} ?y')} {_fill(delta, f'?y {p} ?z')}"
        updates += [
            (f"transitive {p}, new {which}", _insert(f"?x {p} ?z", where, target, looked_up, keyed=for_virtuoso))
            for which, where in (("first", left), ("second", right))
        ]
    for prop, chains in sorted(schema.chains.items()):
        for chain in chains:
            for index in range(len(chain)):
                links = [
                    _fill(delta if i == index else known, f"?n{i} {link} ?n{i + 1}") for i, link in enumerate(chain)
                ]
                conclusion = f"?n0 {prop} ?n{len(chain)}"
                updates.append(
                    (
                        f"chain {prop}, new link {index}",
                        _insert(conclusion, " ".join(links), target, looked_up, keyed=for_virtuoso),
                    )
                )
    return updates


_Branch = tuple[str, frozenset[tuple[str, str]], str, str, str]
"""A one-premise table as :func:`owl_rl_updates` joins it: its name, rows, columns, premise and condition."""


def _joins(branches: list[_Branch], delta: str) -> dict[str, str]:
    """Each table's join with the delta, by the table's name, the tables without rows left out."""
    return {
        which: f"VALUES ({columns}) {{ {_pairs(rows)} }} {_fill(delta, premise)} {condition}"
        for which, rows, columns, premise, condition in branches
        if rows
    }


def _split_by_assertion(branches: list[_Branch], asserted: set[str] | None) -> tuple[list[_Branch], list[_Branch]]:
    """The tables' rows that may conclude an asserted triple, their class or property (the second column) among the
    ``asserted`` ones, and those that cannot; all may when ``asserted`` is not known."""
    if asserted is None:
        return branches, []
    maybe: list[_Branch] = []
    never: list[_Branch] = []
    for which, rows, columns, premise, condition in branches:
        may_be_asserted = frozenset(row for row in rows if row[1] in asserted)
        maybe.append((which, may_be_asserted, columns, premise, condition))
        never.append((which, rows - may_be_asserted, columns, premise, condition))
    return maybe, never


def _halves(branches: list[_Branch], counts: TermCounts) -> list[list[_Branch]]:
    """The tables of one set of conclusions (types, or links) in two halves, each class or property concluded (a
    row's second column) in one of them, so that the delta's triples their rows match weigh about the same: the
    heaviest first, each to the lighter half (a row's premise, the first column, weighs the delta's triples of that
    class, for the types of classes, else of that property). A half may be empty."""
    weights = {str(term): count for term, count in counts.predicates.items()}
    of_class = {str(term): count for term, count in counts.classes.items()}
    concluded: dict[str, int] = {}
    for which, rows, *_ in branches:
        weigh = of_class if which == "of classes" else weights
        for premise, conclusion in rows:
            concluded[conclusion] = concluded.get(conclusion, 0) + weigh.get(premise, 0)
    halves: tuple[set[str], set[str]] = (set(), set())
    loads = [0, 0]
    for conclusion in sorted(concluded, key=lambda term: (-concluded[term], term)):
        lighter = loads.index(min(loads))
        halves[lighter].add(conclusion)
        loads[lighter] += concluded[conclusion]
    return [
        [
            (which, frozenset(row for row in rows if row[1] in half), columns, premise, condition)
            for which, rows, columns, premise, condition in branches
        ]
        for half in halves
    ]


_NO_LIMIT = 1_000_000_000_000
"""A ``LIMIT`` no selection reaches: it only keeps Virtuoso from moving filters into the subquery."""
_NOT_LITERAL = "FILTER (!isLiteral(?s))"
"""No conclusion about a literal: a store holds none."""


def _apply_rules(
    store: RemoteStore,
    rules: list[Rule],
    store_rules: StoreRules,
    lanes: list[str],
    step: int,
    meanwhile: Callable[[], None] | None = None,
    dropped: Sequence[str] = (),
) -> None:
    """A step's round of the project's rules, in lanes, each an INSERT (:func:`rule_update`) but while ``meanwhile``
    runs (the previous step's closure): then, on Virtuoso, a rule whose template is one triple reads its conclusions
    (:func:`conclusions_query`) beside it, and those not ``selected`` before are written back (and added to
    ``selected``) once it is over. The lanes' threads only send and receive bytes; the answers are parsed in this
    thread (see :func:`in_lanes`) as soon as they are in, then written back in lanes.

    Nothing is written while ``meanwhile`` runs: Virtuoso took one of a closure's updates, 0.5-0.6 s alone, 3.1-3.5 s
    while a rule's conclusions were written back and added to the inferred graph (its update reads the rows it joins
    for update, and waits for the rows written). With nothing to run beside, inserting in the store is faster than
    the round trip (at 1M generated triples, ``adversaries.rq``'s 34k conclusions: 0.35 s, against 1.1-1.4 s read,
    parsed and written back).

    The rules with a ``*`` or ``+`` path are sent first: their updates name every graph (:func:`rule_update`), which
    Virtuoso plans as a union over each, and the longest of them sent last kept one lane working alone at the end of
    the step (``located-in-containing-place.rq`` at 1M generated triples: 0.9-1.5 s of the step's 2-2.3 s).

    The scratch graphs ``dropped`` (the delta ``meanwhile`` closed) are dropped after the writes, in the lanes they
    leave free: fought-in.rq's conclusions are written back on about one core (at 1M generated triples, the drops'
    0.3-0.4 s after the step went; beside its SELECT, they slowed it by as much)."""
    reads: list[tuple[str, Callable[[str], None]]] = []
    writes: list[tuple[str, Callable[[str], None]]] = []
    answers: dict[str, tuple[bytes, str]] = {}
    for rule in sorted(rules, key=lambda rule: not has_path_closure(store_rules.query(rule))):
        name = f"step {step}, rule {rule.path.name}"
        select = store_rules.select(rule) if meanwhile else None
        if select is None:
            updates = {lane: store_rules.update(rule, lane) for lane in lanes}
            writes.append((name, functools.partial(_send_for_lane, store, updates)))
        else:
            request: _Request = (select, [], FORM_ACCEPT["CONSTRUCT"])  # a conclusions_query, read as N-Triples
            reads.append((name, functools.partial(_answer_into, answers, name, store, request)))

    def read() -> None:  # and parse, while ``meanwhile`` goes on
        in_lanes(reads, lanes)
        for name, answer in answers.items():
            found = _conclusions(answer) - store_rules.selected
            store_rules.selected |= found
            if found:
                writes.append((f"{name}, writing back", functools.partial(_add_to_lane, store, list(found))))

    _at_once(meanwhile, read)
    drops = [(f"clearing {graph}", functools.partial(_send, store, _drop(graph))) for graph in dropped]
    in_lanes([*writes, *drops], lanes)


def _send_for_lane(store: RemoteStore, updates: dict[str, str], lane: str) -> None:
    """Send the update written for ``lane``."""
    store.update(updates[lane])


def _answer_into(
    answers: dict[str, tuple[bytes, str]], name: str, store: RemoteStore, request: _Request, _: str
) -> None:
    """Keep the answer of a request (:func:`_sent_as_written`, or a CONSTRUCT's as N-Triples) as bytes under
    ``name``."""
    answers[name] = _fetch(store, request)


def _conclusions(answer: tuple[bytes, str]) -> set[ox.Triple]:
    """The triples a :func:`conclusions_query` found."""
    return set(parsed_triples(*answer))


def _add_to_lane(store: RemoteStore, found: list[ox.Triple], lane: str) -> None:
    """Write triples into a lane's scratch graph."""
    graph = ox.NamedNode(lane)
    store.add(ox.Quad(t.subject, t.predicate, t.object, graph) for t in found)


def _as_written(store: RemoteStore, select: str) -> QueryResult:
    """A SELECT sent exactly as written, its dataset said by its own pragmas: :meth:`RemoteStore.query` would list
    every graph for a query whose text says ``graph`` (as ``input:default-graph-exclude`` does), and Virtuoso plans a
    listed dataset as a union over each graph (fought-in.rq: 1.6 s instead of 0.5 s on 100k triples)."""
    response = store.open_query(*_sent_as_written(select))
    return parse_results(response, media_type(response))


def _sent_as_written(select: str) -> tuple[str, list[tuple[str, str]], str]:
    """The request of a SELECT sent as written (:func:`_as_written`): no dataset parameter, the results as
    :data:`ANSWERS`."""
    return select, [], ANSWERS


ANSWERS = "application/sparql-results+xml"
"""The results format inference asks for the answers it reads: Virtuoso 7.2 writes SPARQL's XML results two to three
times faster than its JSON (at 1M generated triples, the 34k conclusions of ``adversaries.rq`` in 0.57 s against
1.52 s, ``contested-claim.rq``'s 18k in 0.29 s against 0.78 s; counting the first takes 0.08 s), and every store
writes them."""


def conclusions_query(rule: Rule, query: str, left_out: Collection[str]) -> str | None:
    """A rule whose template is one triple without blank nodes as a CONSTRUCT of its conclusions over a SELECT
    DISTINCT of them (as ``?s ?p ?o``), over Virtuoso's own default graph without the graphs ``left_out``; None for
    any other template, and for a rule with a ``*`` or ``+`` path, which Virtuoso answers wrongly with graphs left
    out by pragma. ``query``: the rule as Virtuoso evaluates it (:func:`_for_virtuoso`).

    Virtuoso 7.2 evaluates some rules' ``INSERT ... WHERE`` ten times slower than the same pattern in a SELECT
    (fought-in.rq: 10 s against 1 s on 100k triples, whatever the pattern's form; outside its log too, 174.6 s at a
    build's step 1 at 1M triples, where its SELECT takes 1.6-17.6 s): :func:`rule_update` inserts what a SELECT of
    the template's variables finds. Read as N-Triples rather than as the SELECT's rows, its answer is written about
    as fast and parsed five times faster (fought-in.rq's 26k conclusions at 1M generated triples: 0.05 s against
    0.25 s, while the store waits)."""
    found = _one_triple(rule, query)
    if found is None:
        return None
    prologue, terms, where = found
    projection = " ".join(f"({term} AS ?{name})" for term, name in zip(terms, "spo", strict=True))
    select = f"SELECT DISTINCT {projection} WHERE{where}"
    return _over_virtuoso_graphs(rule, f"{prologue}CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {select} }}", left_out)


def _one_triple(rule: Rule, query: str) -> tuple[str, list[str], str] | None:
    """A rule (``query``: as Virtuoso evaluates it) whose template is one triple without blank nodes: its prologue,
    the template's three terms and the WHERE clause (each look-up keyed, for a rule joined in the written order:
    :func:`_keyed_lookups`); None for another rule (see :func:`conclusions_query`)."""
    match = _CONSTRUCT.search(query)
    if match is None:
        raise ValueError(f"{rule.path}: in-store inference needs 'CONSTRUCT {{ ... }} WHERE'")
    template = match.group("template").strip().rstrip(".").strip()
    terms = template.split()
    if has_path_closure(query) or len(terms) != 3 or any(t.startswith(("_:", "[")) or t in (";", ",") for t in terms):
        return None
    where = query[match.end() :].rstrip()
    if not where.endswith("}"):
        return None
    keyed = _keyed_lookups(where) if _order_pragma(rule) else where
    return query[: match.start()], [TYPE if term == "a" else term for term in terms], keyed


def _over_virtuoso_graphs(rule: Rule, sparql: str, left_out: Collection[str]) -> str:
    """A rule's query or update over Virtuoso's own default graph without the graphs ``left_out``, said with pragmas
    (which it plans far better than a ``USING`` per graph), and its order pragma (:func:`_order_pragma`)."""
    return _order_pragma(rule) + virtuoso_dataset(sparql, left_out)


def rule_update(rule: Rule, query: str, graphs: list[str], target: str, left_out: Collection[str] | None) -> str:
    """A project rule (a CONSTRUCT; ``query``: as the store evaluates it) as an INSERT of its template into the
    scratch graph, over the graphs given; on Virtuoso (``left_out`` given), unless the rule has a ``*`` or ``+``
    path, over its own default graph without the graphs ``left_out`` (:func:`_over_virtuoso_graphs`).

    On Virtuoso, a rule whose template is one triple (:func:`_one_triple`) inserts the distinct values of its
    template's variables that a SELECT finds, behind a ``LIMIT`` Virtuoso cannot see through: so planned, Virtuoso
    evaluates the pattern about as fast as the SELECT alone (at 1M generated triples, fought-in.rq 1.4-1.7 s
    against 2.2-2.7 s as the rule's own INSERT; adversaries.rq 0.35 s against 0.5 s). Those already known are not
    left out as they are found (as the OWL 2 RL rounds do, :func:`_insert`): with the dataset said by pragmas,
    Virtuoso 7.2 inserted nothing with any ``FILTER NOT EXISTS`` or ``MINUS`` after the subquery, and everything
    with an ``OPTIONAL`` look-up, known or not."""
    if left_out is None or has_path_closure(query):  # see store.remote.has_path_closure
        return _insert_constructed(rule, query, target, " ".join(f"USING <{g}>" for g in graphs))
    one_triple = _one_triple(rule, query)
    variables = " ".join(dict.fromkeys(term for term in one_triple[1] if term.startswith("?"))) if one_triple else ""
    if one_triple and variables:
        prologue, terms, where = one_triple
        selected = f"{{ SELECT DISTINCT {variables} WHERE{where} LIMIT {_NO_LIMIT} }}"
        update = f"{prologue}INSERT {{ GRAPH <{target}> {{ {' '.join(terms)} }} }} WHERE {{ {selected} }}"
        return _over_virtuoso_graphs(rule, update, left_out)
    return _over_virtuoso_graphs(
        rule, _insert_constructed(rule, query, target, "", keyed=bool(_order_pragma(rule))), left_out
    )


def _insert_constructed(rule: Rule, query: str, target: str, using: str, *, keyed: bool = False) -> str:
    """The rule's own INSERT of its template into ``target``, its dataset said by ``using``; ``keyed``: its look-ups
    told to use Virtuoso's primary key (:func:`_keyed_lookups`)."""
    match = _CONSTRUCT.search(query)
    if match is None:
        raise ValueError(f"{rule.path}: in-store inference needs 'CONSTRUCT {{ ... }} WHERE'")
    head = f"INSERT {{ GRAPH <{target}> {{ {match.group('template')} }} }} {using} WHERE"
    where = query[match.end() :]
    return query[: match.start()] + head + (_keyed_lookups(where) if keyed else where)


def _keyed_lookups(where: str) -> str:
    """A rule's WHERE clause (joined in the written order, on Virtuoso) with each triple pattern whose subject and
    predicate earlier patterns bind (``?operation rdf:type kg:MilitaryOperation``, ``?operation ?role ?force`` after
    ``VALUES ?role``) told to use Virtuoso's primary key (predicate, subject, object, graph), with Virtuoso's ``OPTION
    (TABLE_OPTION "index RDF_QUAD")``.

    Left to choose, Virtuoso 7.2 took its POGS index for such a look-up in some builds, which cannot reach the subject
    without going through every graph's matches of the predicate and object: fought-in.rq at a build's step 1 over
    1M triples took 10.7-12.6 s in seven starts of twelve, against 0.9-1.3 s in the others (their plans, from
    ``explain()``, differed in that index alone). Which index is read never changes what is found."""

    def keyed(match: re.Match[str]) -> str:
        earlier = where[: match.start()]
        bound = all(
            re.search(rf"\{term}(?!\w)", earlier)
            for term in (match.group("subject"), match.group("predicate"))
            if term.startswith("?")
        )
        return match.group() + BY_PRIMARY_KEY if bound else match.group()

    return _LOOKUP.sub(keyed, where)


_TERM = r"(?:\?\w+|<[^<>\s]*>|[A-Za-z][\w.-]*:[\w-]*\w)"
_LOOKUP = re.compile(rf"(?P<subject>\?\w+)\s+(?P<predicate>a|{_TERM})\s+{_TERM}(?=\s*[.}}])")
"""A triple pattern of a variable subject, a variable or named predicate and a variable or named object, ending its
group or followed by another pattern (no literal, no ``;`` or ``,`` list)."""


def _order_pragma(rule: Rule) -> str:
    """Virtuoso's pragma to join a rule's patterns in the order written, for a rule whose header asks for it (``#
    plan: in the written order``): the order the embedded engine evaluates, which the rule's author has chosen.
    Virtuoso's planner does better alone on most rules (corroborated-claim.rq: 0.01 s, against 0.3 s in the written
    order), not on all (fought-in.rq: 1.7 s instead of 3 to 4 s on 300k generated triples)."""
    plan = header_comments(rule.query).get("plan", "")
    return IN_WRITTEN_ORDER if plan.lower().startswith("in the written order") else ""


def _for_virtuoso(query: str, store: RemoteStore, graphs: list[str]) -> str:
    """The rule as Virtuoso 7.2 evaluates it like the standard, and fast: ``rdf:type/rdfs:subClassOf*`` as
    ``rdf:type`` (the same at the fixpoint), a one-variable subquery still holding a ``*`` path (``?role
    rdfs:subPropertyOf* kg:participant``, right alone and wrong joined with the rest) answered on its own and inlined
    as VALUES, and the other DISTINCT subqueries flattened (:func:`_flatten`)."""
    query = _SUBCLASS_PATH.sub(TYPE, query)
    construct = _CONSTRUCT.search(query)
    prologue = query[: construct.start()] if construct else ""

    def inline(match: re.Match[str]) -> str:
        if "*" not in match.group("pattern"):
            return match.group()
        variable = match.group("variable")
        answers = solutions(store.query(f"{prologue} {match.group('select')}", default_graph=graphs))
        values = " ".join(str(solution[variable[1:]]) for solution in answers)
        return f"{{ VALUES {variable} {{ {values} }} }}"

    return _flatten(_SUBQUERY.sub(inline, query))


_SUBQUERY = re.compile(
    r"\{\s*(?P<select>SELECT\s+DISTINCT\s+(?P<variable>\?\w+)\s+WHERE\s*\{(?P<pattern>[^{}]*)\})\s*\}", re.IGNORECASE
)
"""A subquery of one variable over one basic pattern: ``{ SELECT DISTINCT ?v WHERE { ... } }``."""

_DISTINCT_SUBQUERY = re.compile(
    r"\{\s*SELECT\s+DISTINCT\s+(?P<variables>(?:\?\w+\s+)+)WHERE\s*\{(?P<pattern>(?:[^{}]|\{[^{}]*\})*)\}\s*\}",
    re.IGNORECASE,
)
"""A DISTINCT subquery of plain variables over one group with at most one level of braces inside:
``{ SELECT DISTINCT ?a ?b WHERE { VALUES ?b { ... } ... } }``."""

_VALUES = re.compile(r"VALUES\s*(?:\?\w+|\((?:\s*\?\w+)*\s*\))\s*\{[^{}]*\}", re.IGNORECASE)

_AGGREGATE = re.compile(r"\b(GROUP\s+BY|COUNT|SUM|AVG|MIN|MAX|SAMPLE|GROUP_CONCAT|LIMIT|OFFSET)\b", re.IGNORECASE)


def _flatten(query: str) -> str:
    """The rule with its DISTINCT subqueries over a basic pattern (and VALUES tables) as plain groups when that cannot
    change what it inserts: every variable of the pattern is projected (none is renamed apart), the pattern has no
    blank node, and no aggregate, LIMIT or OFFSET counts the rows; an INSERT, like a CONSTRUCT, keeps each triple
    once whatever the duplicates. Virtuoso plans the groups as one join (fought-in.rq: 1.1 s instead of 3.5 s on
    100k triples)."""
    if _AGGREGATE.search(_COMMENT.sub("", query)):
        return query

    def flat(match: re.Match[str]) -> str:
        pattern = match.group("pattern")
        projected = set(match.group("variables").split())
        used = {"?" + name for name in re.findall(r"[?$](\w+)", pattern)}
        plain = _VALUES.sub("", pattern)
        if "{" in plain or "_:" in plain or "[" in plain or not used <= projected:
            return match.group()
        return "{" + pattern + "}"

    return _DISTINCT_SUBQUERY.sub(flat, query)


_COMMENT = re.compile(r"^\s*#.*$", re.MULTILINE)


def _pairs(rows: Iterable[tuple[str, str]]) -> str:
    return " ".join(f"({key} {value})" for key, value in sorted(rows))


def _fill(template: str, triple: str) -> str:
    """The template around the triple, its graph variable named after the triple's own variables (one a pattern)."""
    return template.replace("{}", triple).replace("?G", "?g_" + "_".join(re.findall(r"\?(\w+)", triple)))


def _insert(conclusion: str, where: str, target: str, looked_up: Sequence[str], *, keyed: bool = False) -> str:
    """The conclusions of ``where`` that none of the graphs ``looked_up`` holds, into ``target``; ``keyed``: each
    looked up by Virtuoso's primary key (:data:`BY_PRIMARY_KEY`). Virtuoso 7.2 otherwise took its POGS index for
    some builds' look-ups, a bitmap of the subjects under each property, object and graph, slow to probe where a
    class has many members: a round over the 60k conclusions of the project's rules at 1M generated triples took
    2.5-3.9 s in two builds of three, 0.6 s in the third, and their plans (``explain``) differed in that index alone."""
    option = BY_PRIMARY_KEY if keyed else ""
    unknown = " ".join(f"FILTER NOT EXISTS {{ GRAPH <{graph}> {{ {conclusion}{option} }} }}" for graph in looked_up)
    return f"INSERT {{ GRAPH <{target}> {{ {conclusion} }} }} WHERE {{ {where} {unknown} }}"


BY_PRIMARY_KEY = ' OPTION (TABLE_OPTION "index RDF_QUAD")'
"""Virtuoso's option to match a triple pattern by its primary key (predicate, subject, object, graph)."""


LOOKED_UP_GRAPHS = 2
"""The largest graphs a conclusion is looked up in as it is concluded, besides the inferred graph."""
LARGE_GRAPH = 10_000
"""Triples a graph holds at least to be looked up in as conclusions are made (:func:`_looked_up`)."""


def _looked_up(store: RemoteStore) -> tuple[str, ...]:
    """The graphs a conclusion is looked up in as it is made: the inferred graph, the :data:`LOOKED_UP_GRAPHS` largest
    others holding :data:`LARGE_GRAPH` triples or more, and :data:`ASSERTED_COPY`, into which the triples of all the
    others are copied here (at 1M generated triples, the article's 3.7k). Named, a graph costs Virtuoso one key
    look-up per conclusion (2.4 s for 408k types concluded at 1M generated triples, the inferred and the generated
    graph looked up); ``GRAPH ?known`` over every graph at once took 16 s, one look-up per graph of sixteen 6.2 s
    for 95k. (Dropping the small graphs' triples from the inferred graph at the end instead, Virtuoso's plan for the
    deletion sometimes read the whole store once per graph: 31.6 s instead of 0.6 s.)"""
    counts = store.graph_counts()
    asserted = sorted((graph for graph in counts if graph not in _WRITTEN), key=lambda graph: (-counts[graph], graph))
    largest = [graph for graph in asserted[:LOOKED_UP_GRAPHS] if counts[graph] >= LARGE_GRAPH]
    others = asserted[len(largest) :]
    for graph in others:
        store.update(_copy(graph, ASSERTED_COPY))
    return (INFERRED_GRAPH, *largest, *([ASSERTED_COPY] if others else []))


def _not_written(looked_up: Sequence[str]) -> tuple[str, ...]:
    """The graphs a conclusion of the first round is looked up in: not the inferred graph, which that round writes
    into empty. Two of its updates concluding the same triple at once leave it there once, as a store keeps a set of
    quads; and nothing else is in it. (At 1M generated triples, the look-ups of the 648k conclusions there cost
    Virtuoso about 1 s: 5.3-5.8 s for the two updates one after the other, against 4.3-4.6 s without.)"""
    return tuple(graph for graph in looked_up if graph != INFERRED_GRAPH)


_WRITTEN = frozenset({INFERRED_GRAPH, *SCRATCH_GRAPHS, ""})
"""The graphs inference writes, and the default graph (which no triple of the build is in)."""


def _forget_known_in(store: RemoteStore, lanes: list[str]) -> None:
    """Drop from the rules' scratch graphs what another graph (asserted or inferred) already holds, in the lanes
    where something is: asked first, since the deletion's join costs Virtuoso about as much when it finds nothing
    (1.3 s for 65k triples) and the question almost nothing (0.05 s)."""
    answers: dict[str, tuple[bytes, str]] = {}
    asks = [
        (
            f"asking what is known in {lane}",
            functools.partial(_answer_into, answers, lane, store, _sent_as_written(_any_known(lane))),
        )
        for lane in lanes
    ]
    in_lanes(asks, lanes)
    holding = [lane for lane in lanes if bool(parse_body(*answers[lane]))]
    if holding:
        _each_lane(store, holding, "dropping what is known from", _forget_known)


def _any_known(lane: str) -> str:
    return f"ASK {{ GRAPH <{lane}> {{ ?s ?p ?o }} GRAPH ?k {{ ?s ?p ?o }} {_NOT_SCRATCH.format('?k')} }}"


def _forget_known(lane: str) -> str:
    """Drop from a rules' scratch graph what another graph (asserted or inferred) already holds."""
    return (
        f"DELETE {{ GRAPH <{lane}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{lane}> {{ ?s ?p ?o }} "
        f"GRAPH ?k {{ ?s ?p ?o }} {_NOT_SCRATCH.format('?k')} }}"
    )


_NOT_SCRATCH = "FILTER (" + " && ".join(f"{{0}} != <{graph}>" for graph in SCRATCH_GRAPHS) + ")"
"""A graph variable's filter leaving out the scratch graphs."""


def _copy(source: str, target: str) -> str:
    """SPARQL 1.1's ``ADD``: Virtuoso copies a graph that way 2 to 10 times faster than by ``INSERT ... WHERE`` (50k
    triples: 0.2 to 1 s, against 2.1 s)."""
    return f"ADD SILENT <{source}> TO <{target}>"


def meaningless_found(store: RemoteStore) -> list[tuple[bytes, str]]:
    """The answers (bytes and media type: only HTTP, so it may run in another thread) saying which statements of
    the inferred graph are about OWL's own vocabulary, which the native engine leaves out: the distinct subjects,
    predicates and classes (among the distinct ones: a filter on every triple's terms costs Virtuoso a string per
    term, 0.5 s on 100k triples, against 0.25 s), and whether a term is said to be the same as itself. The subjects
    come as CSV (:func:`_built_in_subjects` picks those in OWL's namespaces): for the 161k distinct subjects at 1M
    generated triples, Virtuoso wrote them in 0.7-1.2 s, where testing each against the namespaces (one ``REGEX``, its
    fastest way) took 1.5-1.7 s and writing them as JSON 2.7-3.3 s."""
    inferred = f"<{INFERRED_GRAPH}>"
    subjects = f"SELECT DISTINCT ?x WHERE {{ GRAPH {inferred} {{ ?x ?p ?o }} }}"
    queries = [
        _distinct_select(f"GRAPH {inferred} {{ ?s ?x ?o }}"),
        _distinct_select(f"GRAPH {inferred} {{ ?s {TYPE} ?x }}"),
        f"SELECT ?x WHERE {{ GRAPH {inferred} {{ ?x {SAME_AS} ?o }} FILTER (?x = ?o) }} LIMIT 1",
    ]
    return [_fetch(store, (subjects, [], "text/csv")), *(_fetch(store, _sent_as_written(query)) for query in queries)]


def _built_in_subjects(answer: tuple[bytes, str]) -> list[ox.NamedNode]:
    """The IRIs in OWL's own namespaces among a one-column CSV answer's values (after its header line), quoted
    (Virtuoso) or not (the standard's way for an IRI); a blank node's label (``_:b0``, ``nodeID://b0``) is none."""
    found = []
    for line in answer[0].decode("utf-8").splitlines()[1:]:
        value = line[1:-1].replace('""', '"') if len(line) > 1 and line[0] == line[-1] == '"' else line
        if value.startswith(BUILT_IN_NAMESPACES):
            found.append(ox.NamedNode(value))
    return found


def drop_meaningless(store: RemoteStore, found: list[tuple[bytes, str]]) -> bool:
    """Leave out of the inferred graph the statements about OWL's own vocabulary that :func:`meaningless_found`
    found, deleted by index; whether there were any."""
    subjects = _built_in_subjects(found[0])
    predicates, classes, same = ([row["x"] for row in solutions(parse_body(*answer))] for answer in found[1:])
    predicates = [p for p in predicates if str(p) not in (TYPE, SAME_AS) and _built_in(p)]
    classes = [c for c in classes if _built_in(c)]
    inferred = f"<{INFERRED_GRAPH}>"
    for variable, terms, triple in (
        ("?s", subjects, "?s ?p ?o"),
        ("?p", predicates, "?s ?p ?o"),
        ("?o", classes, f"?s {TYPE} ?o"),
    ):
        if terms:
            values = " ".join(map(str, terms))
            where = f"VALUES {variable} {{ {values} }} GRAPH {inferred} {{ {triple} }}"
            store.update(f"DELETE {{ GRAPH {inferred} {{ {triple} }} }} WHERE {{ {where} }}")
    if same:
        same_as = f"GRAPH {inferred} {{ ?s {SAME_AS} ?o }}"
        store.update(f"DELETE {{ {same_as} }} WHERE {{ {same_as} FILTER (?s = ?o) }}")
    return bool(subjects or predicates or classes or same)


def _built_in(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> bool:
    return isinstance(term, ox.NamedNode) and term.value.startswith(BUILT_IN_NAMESPACES)


def _distinct_in(store: RemoteStore, pattern: str) -> list[ox.NamedNode]:
    """The IRIs ``?x`` takes in a pattern of named graphs (each once)."""
    rows = solutions(_as_written(store, _distinct_select(pattern)))
    return [row["x"] for row in rows if isinstance(row["x"], ox.NamedNode)]


def _distinct_select(pattern: str) -> str:
    """The values ``?x`` takes in a pattern, each once (GROUP BY, as ``RemoteStore.graph_names`` asks it)."""
    return f"SELECT ?x WHERE {{ {pattern} }} GROUP BY ?x"
