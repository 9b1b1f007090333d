"""Which of the project's rules a round of in-store inference must run again: those that can match a new triple.

A project rule (a CONSTRUCT) runs between closures, over the whole store; run again after the closure and the rules
have added triples, it concludes something new only if one of the new triples is one it matches. Its parse says which
those are (the IRIs it names, its variable predicates, its class tests), and the inferred graph's new triples their
predicates and classes: a rule none of whose triples changed is skipped (on a generated 300k triples, the last round
then runs one rule of five). Used by :mod:`kgraph.infer.in_store`; the in-memory engine runs every rule each pass.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from pyparsing import ParseBaseException
from rdflib import RDF, RDFS, URIRef, Variable, paths
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from kgraph.infer.rules import Rule
from kgraph.infer.terms import PREFIXES

TYPE = f"<{PREFIXES['rdf']}type>"


@dataclass
class Changes:
    """The predicates and classes of the triples the inferred graph gained since the project's rules last ran, and how
    many triples those are (when counted)."""

    predicates: set[str] = field(default_factory=set)
    classes: set[str] = field(default_factory=set)
    triples: int = 0

    def __or__(self, other: Changes) -> Changes:
        """The changes of both."""
        return Changes(self.predicates | other.predicates, self.classes | other.classes, self.triples + other.triples)


@dataclass(frozen=True)
class Reads:
    """What a project rule can match: the IRIs it names; whether a pattern has a free variable predicate (any triple:
    no VALUES table of IRIs joined with it lists its values); whether a type pattern's class is free (any class: not
    an IRI, nor a variable bound by a VALUES table joined with it)."""

    iris: frozenset[str]
    any_predicate: bool
    any_class: bool

    def met_by(self, changes: Changes) -> bool:
        """Whether new triples of these predicates and classes can give the rule a conclusion it has not drawn yet.

        A rule's conclusions only grow with the triples it matches (those under ``FILTER NOT EXISTS`` or ``MINUS``
        can only take some away, and they are counted as read all the same). A new ``?x rdf:type C`` matters only
        if the rule names C: a class test ``rdf:type/rdfs:subClassOf* K`` with C below K is met by ``?x rdf:type K``
        too, which the closure has added by then, and which is itself new unless ?x was a K already. No new triple
        meets no rule, not even one that reads any predicate."""
        if not changes.predicates:
            return False
        if self.any_predicate or changes.predicates & (self.iris - {TYPE}):
            return True
        return (
            TYPE in changes.predicates and TYPE in self.iris and (self.any_class or bool(changes.classes & self.iris))
        )


def rule_reads(rule: Rule) -> Reads:
    """What a rule can match (:class:`Reads`), from its parsed algebra."""
    try:
        where = rule.algebra.p
    except ParseBaseException:  # SPARQL rdflib does not read (RDF-star): the rule is run again every round
        return Reads(frozenset(), any_predicate=True, any_class=True)
    return _reads(where)


@functools.lru_cache(maxsize=64)
def query_reads(query: str) -> Reads:
    """What a rule's query text can match: for a rule rewritten with the answer of a subquery inlined as ``VALUES``
    (in-store inference on Virtuoso), where a variable predicate's values are then known."""
    try:
        where = prepareQuery(query).algebra.p
    except ParseBaseException:
        return Reads(frozenset(), any_predicate=True, any_class=True)
    return _reads(where)


def _reads(where: CompValue) -> Reads:
    iris: set[str] = set()
    free = {"predicate": False, "class": False}

    def pattern(triple: tuple, bound: frozenset) -> None:
        _, predicate, obj = triple
        if isinstance(predicate, Variable):
            free["predicate"] |= predicate not in bound  # else one of the IRIs of a VALUES table joined with it
        elif isinstance(predicate, paths.Path) and _negated(predicate):
            free["predicate"] = True
        elif predicate == RDF.type or class_test(predicate):
            free["class"] |= isinstance(obj, Variable) and obj not in bound
        elif isinstance(predicate, paths.Path) and RDF.type in _path_iris(predicate):
            free["class"] = True

    def visit(node: object, bound: frozenset) -> None:
        if isinstance(node, URIRef):
            iris.add(f"<{node}>")
        elif isinstance(node, paths.Path):
            iris.update(f"<{iri}>" for iri in _path_iris(node))
        elif isinstance(node, CompValue) and node.name == "BGP":
            for triple in node.triples:
                pattern(triple, bound)
                visit(list(triple), frozenset())
        elif isinstance(node, CompValue) and node.name == "Join":
            leaves = join_leaves(node)
            joined = bound | _values_bound(leaves)
            for leaf in leaves:
                visit(leaf, joined if isinstance(leaf, CompValue) and leaf.name == "BGP" else frozenset())
        elif isinstance(node, dict):
            for value in node.values():
                visit(value, frozenset())
        elif isinstance(node, list | tuple | set | frozenset):
            for value in node:
                visit(value, frozenset())

    visit(where, frozenset())  # the WHERE clause: the template is what it concludes, not reads
    return Reads(frozenset(iris), free["predicate"], free["class"])


def _path_iris(path: paths.Path | URIRef) -> set[URIRef]:
    if isinstance(path, URIRef):
        return {path}
    return set().union(*(_path_iris(part) for part in _parts(path)))


def _negated(path: paths.Path | URIRef) -> bool:
    """Whether a path has a negated property set (``!p``), which matches nearly any predicate."""
    if isinstance(path, paths.NegatedPath):
        return True
    if isinstance(path, URIRef):
        return False
    return any(_negated(part) for part in _parts(path))


def class_test(path: object) -> bool:
    """``rdf:type/rdfs:subClassOf*``: a class test, which at the fixpoint matches what ``rdf:type`` does."""
    return (
        isinstance(path, paths.SequencePath)
        and len(path.args) == 2
        and path.args[0] == RDF.type
        and isinstance(path.args[1], paths.MulPath)
        and path.args[1].path == RDFS.subClassOf
        and path.args[1].mod == "*"
    )


def join_leaves(node: object) -> list[object]:
    """The operands of a chain of joins: one group's patterns, subqueries and VALUES tables."""
    if isinstance(node, CompValue) and node.name == "Join":
        return join_leaves(node.p1) + join_leaves(node.p2)
    return [node]


def _values_bound(leaves: list[object]) -> frozenset:
    """The variables a VALUES table among the leaves binds to an IRI in every row."""
    bound: set = set()
    for leaf in leaves:
        table = leaf.p if isinstance(leaf, CompValue) and leaf.name == "ToMultiSet" else None
        if isinstance(table, CompValue) and table.name == "values" and table.res:
            rows = table.res
            bound |= {v for v in rows[0] if all(isinstance(row.get(v), URIRef) for row in rows)}
    return frozenset(bound)


def _parts(path: paths.Path) -> list:
    """The operands of a path operator."""
    if isinstance(path, paths.MulPath):
        return [path.path]
    if isinstance(path, paths.InvPath):
        return [path.arg]
    return list(getattr(path, "args", []))
