"""The classes a project rule's own pattern guarantees for the terms of what it concludes, so that the closure of its
conclusions does not look for them again.

A rule matches triples that, at the fixpoint, have typed their terms already: ``?event kg:hasPlace ?place`` makes
``?event`` a ``kg:Event`` (the domain), ``?x rdf:type kg:State`` makes ``?x`` every superclass of ``kg:State``. When the
rule concludes ``?event kg:occurredIn ?container``, the domain of ``kg:occurredIn`` (``kg:Event`` again) gives nothing
new, and in the store finding that out costs as much as a conclusion: at 1M generated triples, the closure of the
rules' 157k conclusions looked up 2 to 2.5 s worth of types and found none new. A type left out here is still in the
closure: the triple that guarantees it is in the store when the rule reads it, and every triple in the store is
closed by some round (:mod:`kgraph.infer.in_store`), before the rule's conclusions or beside them.

Only a property or class of the ontology's vocabulary guarantees anything (not one of RDF's, RDFS's, OWL's or XSD's
own, which :func:`kgraph.infer.closure.vocabulary` leaves out): a graph holding a triple of it is reasoned over, so
the triple the rule read is closed; a graph holding only built-in terms may not be. Only what the pattern requires
counts: an ``OPTIONAL``'s, a ``MINUS``'s and a ``FILTER``'s patterns guarantee nothing, a ``UNION`` what both sides
do, a subquery what it projects (an aggregate's nothing). A property path guarantees what its first and last steps do
(``p*`` only what both its ends would without it: the path may be of length zero). Anything else guarantees nothing,
which only means the closure looks, as it did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pyparsing import ParseBaseException
from rdflib import RDF, URIRef, Variable, paths
from rdflib.plugins.sparql.parserutils import CompValue

from kgraph.infer.closed_tables import OnePremiseTables, Pairs
from kgraph.infer.rule_reads import class_test, join_leaves
from kgraph.infer.rules import Rule
from kgraph.infer.terms import BUILT_IN_NAMESPACES

Classes = frozenset[str]
"""Classes, as N-Triples IRIs."""
Guarantees = dict[Variable, Classes]
"""The classes each variable's value is a member of, at the fixpoint, wherever the pattern matches."""


@dataclass(frozen=True)
class _Sides:
    """What the one-premise tables say a triple of each property implies about its subject and its object."""

    of_subject: Mapping[str, Classes]
    of_object: Mapping[str, Classes]
    superclasses: Mapping[str, Classes]

    def with_superclasses(self, classes: Iterable[str]) -> Classes:
        found = set(classes)
        for kind in list(found):
            found |= self.superclasses.get(kind, frozenset())
        return frozenset(found)


def without_guaranteed(tables: OnePremiseTables, rules: Iterable[Rule], schema: OnePremiseTables) -> OnePremiseTables:
    """The tables less the type rows that no conclusion of ``rules`` can need: for a triple of property P, a class of
    its subject (or object) that every rule concluding P guarantees its subject (or object); for a type C, a
    superclass every rule concluding C guarantees. ``schema``: the whole tables, by which the rules' patterns
    guarantee classes (``tables`` may be some of their rows). For the closure of a delta holding only these rules'
    conclusions; the tables as they are when they are not closed (then rounds feed each other) or a rule concludes a
    triple whose predicate, or whose class, is a variable."""
    if not tables.closed:
        return tables
    sides = _sides(schema)
    subjects: dict[str, Classes] = {}
    objects: dict[str, Classes] = {}
    kinds: dict[str, Classes] = {}
    for rule in rules:
        template = _template(rule)
        if template is None:
            return tables
        guarantees = _guaranteed(rule.algebra.p, sides)
        for s, p, o in template:
            if not isinstance(p, URIRef):
                return tables
            of_subject = sides.with_superclasses(guarantees.get(s, frozenset()))
            if p == RDF.type:
                if not isinstance(o, URIRef):
                    return tables
                _narrow(kinds, f"<{o}>", of_subject)
            else:
                _narrow(subjects, f"<{p}>", of_subject)
                _narrow(objects, f"<{p}>", sides.with_superclasses(guarantees.get(o, frozenset())))
    return OnePremiseTables(
        _less(tables.types, kinds),
        _less(tables.subject_types, subjects),
        _less(tables.object_types, objects),
        tables.forward,
        tables.backward,
        tables.closed,
    )


def _template(rule: Rule) -> list[tuple] | None:
    try:
        return rule.template
    except ParseBaseException:  # SPARQL rdflib does not read (RDF-star): nothing is known of it
        return None


def _narrow(found: dict[str, Classes], key: str, classes: Classes) -> None:
    """What every rule so far guarantees for ``key``: the classes all of them do."""
    found[key] = found[key] & classes if key in found else classes


def _less(rows: Pairs, guaranteed: dict[str, Classes]) -> Pairs:
    return frozenset(row for row in rows if row[1] not in guaranteed.get(row[0], frozenset()))


def _sides(tables: OnePremiseTables) -> _Sides:
    def keyed(rows: Pairs) -> dict[str, Classes]:
        found: dict[str, set[str]] = {}
        for key, value in rows:
            found.setdefault(key, set()).add(value)
        return {key: frozenset(values) for key, values in found.items()}

    return _Sides(keyed(tables.subject_types), keyed(tables.object_types), keyed(tables.types))


def _guaranteed(node: object, sides: _Sides) -> Guarantees:
    """What a part of the algebra guarantees (see the module's docstring)."""
    if not isinstance(node, CompValue):
        return {}
    if node.name == "BGP":
        return _in_group([node], sides)
    if node.name == "Join":
        return _in_group(join_leaves(node), sides)
    if node.name in ("Filter", "Distinct", "Reduced", "ToMultiSet", "Slice", "OrderBy", "Extend"):
        return _guaranteed(node.p, sides)
    if node.name == "Project":
        found = _guaranteed(node.p, sides)
        return {var: classes for var, classes in found.items() if var in node.PV}
    if node.name in ("LeftJoin", "Minus"):
        return _guaranteed(node.p1, sides)
    if node.name == "Union":
        left, right = _guaranteed(node.p1, sides), _guaranteed(node.p2, sides)
        return {var: left[var] & right[var] for var in left.keys() & right.keys()}
    return {}


def _in_group(leaves: list[object], sides: _Sides) -> Guarantees:
    """What the operands of one group's joins guarantee together: its triple patterns (VALUES tables of classes
    joined with them naming a type pattern's class), then its ``*`` and ``?`` paths, which need the others'."""
    values = _values(leaves)
    found: Guarantees = {}
    zero_or_more: list[tuple] = []
    for leaf in leaves:
        if isinstance(leaf, CompValue) and leaf.name == "BGP":
            for triple in leaf.triples:
                if _may_be_empty(triple[1]):
                    zero_or_more.append(triple)
                else:
                    _add(found, _pattern(triple, values, sides))
        else:
            _add(found, _guaranteed(leaf, sides))
    for s, path, o in zero_or_more:
        ends = _ends(path.path, sides)
        if ends and isinstance(o, Variable):
            _add(found, {o: ends[1] & found.get(s, frozenset())})
        if ends and isinstance(s, Variable):
            _add(found, {s: ends[0] & found.get(o, frozenset())})
    return found


def _add(found: Guarantees, more: Guarantees) -> None:
    for var, classes in more.items():
        found[var] = found.get(var, frozenset()) | classes


def _pattern(triple: tuple, values: dict[Variable, list[URIRef]], sides: _Sides) -> Guarantees:
    """What one triple pattern guarantees its variables."""
    s, p, o = triple
    found: Guarantees = {}
    if p == RDF.type or class_test(p):
        kinds = [o] if isinstance(o, URIRef) else values.get(o, [])
        if kinds and isinstance(s, Variable) and not any(map(_built_in, kinds)):
            common = frozenset.intersection(*(sides.with_superclasses([f"<{kind}>"]) for kind in kinds))
            found[s] = common
        return found
    ends = _ends(p, sides)
    if ends is None:
        return found
    if isinstance(s, Variable):
        found[s] = ends[0]
    if isinstance(o, Variable):
        found[o] = found.get(o, frozenset()) | ends[1]
    return found


def _ends(path: object, sides: _Sides) -> tuple[Classes, Classes] | None:
    """What a property or a path of at least one step guarantees its subject and its object; None for a path whose
    ends are not known (a negated property set, a ``*`` step at either end, an alternative)."""
    if isinstance(path, URIRef):
        if _built_in(path):
            return frozenset(), frozenset()
        return sides.of_subject.get(f"<{path}>", frozenset()), sides.of_object.get(f"<{path}>", frozenset())
    if isinstance(path, paths.InvPath):
        ends = _ends(path.arg, sides)
        return (ends[1], ends[0]) if ends else None
    if isinstance(path, paths.MulPath) and path.mod == "+":
        return _ends(path.path, sides)
    if isinstance(path, paths.SequencePath) and path.args:
        first, last = _ends(path.args[0], sides), _ends(path.args[-1], sides)
        return (first[0] if first else frozenset(), last[1] if last else frozenset())
    return None


def _built_in(iri: URIRef) -> bool:
    """An IRI of RDF's, RDFS's, OWL's or XSD's own vocabulary."""
    return str(iri).startswith(BUILT_IN_NAMESPACES)


def _may_be_empty(path: object) -> bool:
    """``p*`` or ``p?``: a path that may join a term to itself."""
    return isinstance(path, paths.MulPath) and path.mod in ("*", "?")


def _values(leaves: list[object]) -> dict[Variable, list[URIRef]]:
    """The IRIs a VALUES table among the leaves gives each variable it binds to an IRI in every row."""
    found: dict[Variable, list[URIRef]] = {}
    for leaf in leaves:
        table = leaf.p if isinstance(leaf, CompValue) and leaf.name == "ToMultiSet" else None
        if isinstance(table, CompValue) and table.name == "values" and table.res:
            rows = table.res
            for var in rows[0]:
                if all(isinstance(row.get(var), URIRef) for row in rows):
                    found[var] = [row[var] for row in rows]
    return found
