"""Contradictions between the data and the ontology, worded for the person who has to fix them.

owlrl notices some inconsistencies but reports them as loose strings without the triples involved;
these checks ask the store directly, over asserted and inferred triples, for each OWL 2 RL rule
whose conclusion is ``false`` (cax-dw, cax-adc, cls-nothing2, prp-pdw, prp-asyp, prp-irp, prp-fp on
literals, eq-diff1).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import pyoxigraph as ox

from kgraph.config import GRAPH_NS
from kgraph.infer.terms import PREFIXES, shorten
from kgraph.store import Store
from kgraph.store.results import solutions


@dataclass(frozen=True)
class Inconsistency:
    """One contradiction: a sentence, and the triples that together cannot all be true."""

    message: str
    triples: list[ox.Triple] = field(default_factory=list)


_PROLOGUE = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("rdf", "owl"))

_Word = Callable[[dict], tuple[str, list[tuple]]]
_Query = str | Callable[[Store, list[str] | None], str]
"""A check's SELECT, or what writes it from the store (from a first, smaller query)."""
_CHECKS: list[tuple[str, _Query, _Word]] = []


def _check(query: _Query) -> Callable[[_Word], _Word]:
    """Register a check: a SELECT (or what writes it), and a function wording one solution with its triples."""

    def register(word: _Word) -> _Word:
        _CHECKS.append((word.__name__, _PROLOGUE + query if isinstance(query, str) else query, word))
        return word

    return register


@_check("""SELECT ?x ?c1 ?c2 ?axiom WHERE {
  { SELECT DISTINCT ?c1 ?c2 ?axiom WHERE {
      { ?c1 owl:disjointWith ?c2 . BIND(?c1 AS ?axiom) }
      UNION
      { ?axiom a owl:AllDisjointClasses ; owl:members ?list .
        ?list rdf:rest*/rdf:first ?c1 . ?list rdf:rest*/rdf:first ?c2 .
        FILTER(STR(?c1) < STR(?c2)) }
  } }
  ?x a ?c1 . ?x a ?c2 .
}""")
def disjoint_classes(row: dict) -> tuple[str, list[tuple]]:
    """cax-dw, cax-adc: a member of two disjoint classes."""
    x, c1, c2 = row["x"], row["c1"], row["c2"]
    message = f"{shorten(x)} is both a {shorten(c1)} and a {shorten(c2)}, which are disjoint"
    return message, [(x, _RDF_TYPE, c1), (x, _RDF_TYPE, c2)]


def _members_of_nothing(store: Store, graphs: list[str] | None) -> str:
    """The nothing check's SELECT: the members of owl:Nothing and of the named classes that are subclasses of it, or
    equivalent to it, at any depth (:func:`_empty_classes`)."""
    values = " ".join(sorted(str(c) for c in _empty_classes(store, graphs)))
    return _PROLOGUE + f"SELECT ?x ?c WHERE {{ VALUES ?c {{ {values} }} ?x a ?c }}"


@_check(_members_of_nothing)
def nothing(row: dict) -> tuple[str, list[tuple]]:
    """cls-nothing2: a member of the empty class, or of a class that is (the closure would type it owl:Nothing,
    which the inferred graph leaves out with the other statements about OWL's own vocabulary)."""
    x, c = row["x"], row["c"]
    if c == _OWL_NOTHING:
        return f"{shorten(x)} is a member of owl:Nothing", [(x, _RDF_TYPE, _OWL_NOTHING)]
    return f"{shorten(x)} is a member of owl:Nothing as a {shorten(c)}, a subclass of it", [(x, _RDF_TYPE, c)]


@_check("""SELECT ?x ?y ?p1 ?p2 WHERE {
  ?p1 owl:propertyDisjointWith ?p2 . ?x ?p1 ?y . ?x ?p2 ?y .
}""")
def disjoint_properties(row: dict) -> tuple[str, list[tuple]]:
    """prp-pdw: two disjoint properties linking the same pair."""
    x, y, p1, p2 = row["x"], row["y"], row["p1"], row["p2"]
    message = (
        f"{shorten(x)} is linked to {shorten(y)} by both {shorten(p1)} and {shorten(p2)}, which are disjoint properties"
    )
    return message, [(x, p1, y), (x, p2, y)]


@_check("""SELECT ?x ?y ?p WHERE {
  ?p a owl:AsymmetricProperty . ?x ?p ?y . ?y ?p ?x . FILTER(STR(?x) <= STR(?y))
}""")
def asymmetric(row: dict) -> tuple[str, list[tuple]]:
    """prp-asyp: an asymmetric property used both ways."""
    x, y, p = row["x"], row["y"], row["p"]
    message = f"{shorten(p)} is asymmetric but links {shorten(x)} and {shorten(y)} both ways"
    return message, [(x, p, y), (y, p, x)]


@_check("SELECT ?x ?p WHERE { ?p a owl:IrreflexiveProperty . ?x ?p ?x . }")
def irreflexive(row: dict) -> tuple[str, list[tuple]]:
    """prp-irp: an irreflexive property linking a thing to itself."""
    x, p = row["x"], row["p"]
    return f"{shorten(p)} is irreflexive but links {shorten(x)} to itself", [(x, p, x)]


@_check("""SELECT ?x ?p ?v1 ?v2 WHERE {
  ?p a owl:FunctionalProperty . ?x ?p ?v1 , ?v2 .
  FILTER(isLiteral(?v1) && isLiteral(?v2) && STR(?v1) < STR(?v2))
}""")
def functional_values(row: dict) -> tuple[str, list[tuple]]:
    """prp-fp on literals: a functional property with two different values."""
    x, p, v1, v2 = row["x"], row["p"], row["v1"], row["v2"]
    message = f"{shorten(p)} is functional but {shorten(x)} has two values: {shorten(v1)} and {shorten(v2)}"
    return message, [(x, p, v1), (x, p, v2)]


@_check("""SELECT ?x ?y WHERE {
  ?x owl:sameAs ?y . { ?x owl:differentFrom ?y } UNION { ?y owl:differentFrom ?x }
  FILTER(STR(?x) < STR(?y))
}""")
def same_and_different(row: dict) -> tuple[str, list[tuple]]:
    """eq-diff1: two things said to be the same and different."""
    x, y = row["x"], row["y"]
    message = f"{shorten(x)} and {shorten(y)} are said to be both the same and different"
    return message, [(x, _OWL_SAME_AS, y)]


_RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
_OWL_NOTHING = ox.NamedNode(PREFIXES["owl"] + "Nothing")
_OWL_SAME_AS = ox.NamedNode(PREFIXES["owl"] + "sameAs")
_AXIOM_PREDICATES = {
    "disjoint_classes": [
        ox.NamedNode(PREFIXES["owl"] + "disjointWith"),
        ox.NamedNode(PREFIXES["owl"] + "members"),
    ],
    "disjoint_properties": [ox.NamedNode(PREFIXES["owl"] + "propertyDisjointWith")],
}
_CHARACTERISTICS = {
    "asymmetric": ox.NamedNode(PREFIXES["owl"] + "AsymmetricProperty"),
    "irreflexive": ox.NamedNode(PREFIXES["owl"] + "IrreflexiveProperty"),
    "functional_values": ox.NamedNode(PREFIXES["owl"] + "FunctionalProperty"),
}
"""The property characteristic each check violates: the file named is the one stating it, not any typing of p."""


def find_inconsistencies(
    store: Store, graphs: list[str] | None, focus: Collection[ox.NamedNode] | None = None
) -> list[Inconsistency]:
    """Every contradiction in the union of the given graphs (None: the whole store), sorted by message; with
    ``focus``, only those with a focus node as their ``?x`` or ``?y`` (each check's data triples have one of them for
    subject, so after triples are added the new contradictions are among those about the new triples' subjects)."""
    found: dict[str, Inconsistency] = {}
    for name, check, word in _CHECKS:
        query = check if isinstance(check, str) else check(store, graphs)
        split = _disjoint_pairs(store, graphs) if name == "disjoint_classes" else None
        for text in _focused(query if split is None else _members_of(split), focus):
            result = solutions(store.query(text, default_graph=graphs))
            names = [v.value for v in result.variables]
            for solution in result:
                found_row = {name: solution[name] for name in names if solution[name] is not None}
                for row in _with_axioms(found_row, split):
                    message, triples = word(row)
                    where = _axiom_source(store, name, row)
                    if where:
                        message += f" ({where})"
                    found.setdefault(message, Inconsistency(message, [ox.Triple(*t) for t in triples]))
    return [found[m] for m in sorted(found)]


_DISJOINT_PAIRS = (
    _PROLOGUE
    + """SELECT DISTINCT ?c1 ?c2 ?axiom WHERE {
  { ?c1 owl:disjointWith ?c2 . BIND(?c1 AS ?axiom) }
  UNION
  { ?axiom a owl:AllDisjointClasses ; owl:members ?list .
    ?list rdf:rest*/rdf:first ?c1 . ?list rdf:rest*/rdf:first ?c2 .
    FILTER(STR(?c1) < STR(?c2)) }
}"""
)
"""The disjoint_classes check's subquery alone: the pairs of disjoint classes, each with the axiom saying so."""

_Pairs = dict[tuple[ox.NamedNode, ox.NamedNode], list[ox.NamedNode | ox.BlankNode]]


def _disjoint_pairs(store: Store, graphs: list[str] | None) -> _Pairs | None:
    """The disjoint_classes check in two steps, the pairs first (few, from the ontology): its members are then found
    by a query without a property path, which a remote store plans far better (Virtuoso 7.2 is given every graph
    for a path, and joined the types across them: 1.8 s instead of 0.15 s on 100k triples). None when a class is a
    blank node (an anonymous class expression), which a query cannot name: then the check runs whole."""
    pairs: _Pairs = {}
    for row in solutions(store.query(_DISJOINT_PAIRS, default_graph=graphs)):
        c1, c2, axiom = row["c1"], row["c2"], row["axiom"]
        if not isinstance(c1, ox.NamedNode) or not isinstance(c2, ox.NamedNode):
            return None
        pairs.setdefault((c1, c2), []).append(axiom)
    return pairs


_CLASS_LINKS = (
    _PROLOGUE
    + """SELECT ?c ?d WHERE {
  { ?c <http://www.w3.org/2000/01/rdf-schema#subClassOf> ?d } UNION { ?c owl:equivalentClass ?d }
  UNION { ?d owl:equivalentClass ?c }
}"""
)
"""Each class with a class it is a subclass of, or equivalent to (both ways): the ontology's few."""


def _empty_classes(store: Store, graphs: list[str] | None) -> set[ox.NamedNode]:
    """owl:Nothing and the named classes from which subclass and equivalence links lead to it. Walked here, from the
    links, rather than with a property path: a remote store may evaluate paths its own way (see "Paths as sets" in the
    README); a class that is a blank node (an anonymous class expression) cannot be named in the check's query."""
    below: dict[ox.NamedNode | ox.BlankNode, set[ox.NamedNode | ox.BlankNode]] = {}
    for row in solutions(store.query(_CLASS_LINKS, default_graph=graphs)):
        below.setdefault(row["d"], set()).add(row["c"])
    found: set[ox.NamedNode | ox.BlankNode] = {_OWL_NOTHING}
    todo: list[ox.NamedNode | ox.BlankNode] = [_OWL_NOTHING]
    while todo:
        for subclass in below.get(todo.pop(), set()) - found:
            found.add(subclass)
            todo.append(subclass)
    return {c for c in found if isinstance(c, ox.NamedNode)}


def _members_of(pairs: _Pairs) -> str:
    """The members of both classes of a pair; with no pair, a query that finds nothing."""
    values = " ".join(f"({c1} {c2})" for c1, c2 in pairs)
    return _PROLOGUE + f"SELECT ?x ?c1 ?c2 WHERE {{ VALUES (?c1 ?c2) {{ {values} }} ?x a ?c1 . ?x a ?c2 . }}"


def _with_axioms(row: dict, pairs: _Pairs | None) -> list[dict]:
    """A solution of the split check joined back with the axioms of its pair (as the whole check would find it)."""
    if pairs is None:
        return [row]
    return [{**row, "axiom": axiom} for axiom in pairs[(row["c1"], row["c2"])]]


def _focused(query: str, focus: Collection[ox.NamedNode] | None) -> list[str]:
    """The check's query as it is (no focus), or once per focus variable it selects, restricted by VALUES."""
    if focus is None:
        return [query]
    if not focus:
        return []
    values = " ".join(str(node) for node in focus)
    head, where, body = query.partition("WHERE {")
    return [f"{head}{where} VALUES ?{var} {{ {values} }}{body}" for var in ("x", "y") if f"?{var} " in head]


_CHECKED_BY_OWLRL_TOO = (
    "Disjoint classes",
    "Irreflexive property",
    "Erroneous usage of asymmetric",
    "Erroneous usage of disjoint properties",
    "'sameAs' and 'differentFrom'",
)


_NOTHING_BY_OWLRL = " is defined of type 'Nothing'"
"""The end of owlrl's words for a member of owl:Nothing (cls-nothing2), which the nothing check finds too."""


def owlrl_inconsistencies(errors: list[str]) -> list[Inconsistency]:
    """owlrl's findings the checks above miss (cardinality, complement, negative assertions)."""
    return [
        Inconsistency(f"OWL 2 RL: {error}")
        for error in sorted(set(errors))
        if not error.startswith(_CHECKED_BY_OWLRL_TOO) and not error.endswith(_NOTHING_BY_OWLRL)
    ]


def _axiom_source(store: Store, check: str, row: dict) -> str | None:
    """The file (relative graph name) that states the axiom a contradiction violates."""
    subject = row.get("axiom") or row.get("p1") or row.get("p")
    if subject is None:
        return None
    predicates = _AXIOM_PREDICATES.get(check, [_RDF_TYPE])
    for predicate in predicates:
        for quad in store.quads(subject, predicate, _CHARACTERISTICS.get(check), None):
            graph = quad.graph_name
            if isinstance(graph, ox.NamedNode) and graph.value.startswith(GRAPH_NS):
                return graph.value[len(GRAPH_NS) :]
    return None
