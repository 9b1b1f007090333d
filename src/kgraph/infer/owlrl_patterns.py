"""The OWL 2 RL rules behind the triples analysts ask about, as patterns explanations replay.

Names and conditions follow the W3C's tables (OWL 2 Profiles, section 4.3,
https://www.w3.org/TR/owl2-profiles/#Reasoning_in_OWL_2_RL_and_RDF_Graphs_using_Rules). Each pattern
binds the triple to explain as ``?s ?p ?o`` and finds the premises that entail it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from kgraph.infer.terms import PREFIXES, RDF_TYPE, shorten
from kgraph.store import Store

_PROLOGUE = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("rdf", "rdfs", "owl"))


@dataclass(frozen=True)
class Pattern:
    """One OWL 2 RL rule: when it applies, what it needs, and which triples are its premises."""

    name: str
    title: str
    where: str
    premises: list[tuple[str, str, str]]
    """Premises: ``?name`` for a variable of the WHERE clause, else a prefixed name or <IRI>."""
    typing: bool

    def applies_to(self, triple: ox.Triple) -> bool:
        """Typing rules conclude ``rdf:type`` triples; the others conclude anything else."""
        return (triple.predicate == RDF_TYPE) == self.typing

    def query(self, triple: ox.Triple) -> str:
        """The SELECT finding the premises for the triple (blank nodes are matched after)."""
        bound = [(v, t) for v, t in zip("spo", triple, strict=True) if not isinstance(t, ox.BlankNode)]
        names = " ".join(f"?{v}" for v, _ in bound)
        values = " ".join(str(t) for _, t in bound)
        return f"{_PROLOGUE}SELECT * WHERE {{ {self.where} }}\nVALUES ({names}) {{ ({values}) }}"

    def premise_triples(self, row: dict) -> list[ox.Triple]:
        """The premises with the solution's values."""
        found = []
        for premise in self.premises:
            subject, predicate, obj = (_term(t, row) for t in premise)
            if isinstance(subject, ox.Literal) or not isinstance(predicate, ox.NamedNode):
                raise ValueError(f"{self.name}: the premise {premise} is not a triple with {row}")
            found.append(ox.Triple(subject, predicate, obj))
        return found


def _term(text: str, row: dict) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if text.startswith("?"):
        return row[text[1:]]
    if text.startswith("<"):
        return ox.NamedNode(text[1:-1])
    prefix, _, local = text.partition(":")
    return ox.NamedNode(PREFIXES[prefix] + local)


PATTERNS = [
    Pattern(
        "cax-sco",
        "rdfs:subClassOf",
        "?s a ?c . ?c rdfs:subClassOf ?o . FILTER(?c != ?o)",
        [("?s", "rdf:type", "?c"), ("?c", "rdfs:subClassOf", "?o")],
        typing=True,
    ),
    Pattern(
        "cax-eqc1",
        "owl:equivalentClass",
        "?s a ?c . ?c owl:equivalentClass ?o . FILTER(?c != ?o)",
        [("?s", "rdf:type", "?c"), ("?c", "owl:equivalentClass", "?o")],
        typing=True,
    ),
    Pattern(
        "cax-eqc2",
        "owl:equivalentClass",
        "?s a ?c . ?o owl:equivalentClass ?c . FILTER(?c != ?o)",
        [("?s", "rdf:type", "?c"), ("?o", "owl:equivalentClass", "?c")],
        typing=True,
    ),
    Pattern(
        "prp-dom",
        "rdfs:domain",
        "?s ?q ?x . ?q rdfs:domain ?o .",
        [("?s", "?q", "?x"), ("?q", "rdfs:domain", "?o")],
        typing=True,
    ),
    Pattern(
        "prp-rng",
        "rdfs:range",
        "?x ?q ?s . ?q rdfs:range ?o .",
        [("?x", "?q", "?s"), ("?q", "rdfs:range", "?o")],
        typing=True,
    ),
    Pattern(
        "cls-hv2",
        "owl:hasValue",
        "?o owl:hasValue ?v ; owl:onProperty ?q . ?s ?q ?v .",
        [("?s", "?q", "?v"), ("?o", "owl:hasValue", "?v"), ("?o", "owl:onProperty", "?q")],
        typing=True,
    ),
    Pattern(
        "cls-svf1",
        "owl:someValuesFrom",
        "?o owl:someValuesFrom ?d ; owl:onProperty ?q . ?s ?q ?y . ?y a ?d .",
        [
            ("?s", "?q", "?y"),
            ("?y", "rdf:type", "?d"),
            ("?o", "owl:someValuesFrom", "?d"),
            ("?o", "owl:onProperty", "?q"),
        ],
        typing=True,
    ),
    Pattern(
        "prp-spo1",
        "rdfs:subPropertyOf",
        "?s ?q ?o . ?q rdfs:subPropertyOf ?p . FILTER(?q != ?p)",
        [("?s", "?q", "?o"), ("?q", "rdfs:subPropertyOf", "?p")],
        typing=False,
    ),
    Pattern(
        "prp-eqp1",
        "owl:equivalentProperty",
        "?s ?q ?o . ?q owl:equivalentProperty ?p . FILTER(?q != ?p)",
        [("?s", "?q", "?o"), ("?q", "owl:equivalentProperty", "?p")],
        typing=False,
    ),
    Pattern(
        "prp-eqp2",
        "owl:equivalentProperty",
        "?s ?q ?o . ?p owl:equivalentProperty ?q . FILTER(?q != ?p)",
        [("?s", "?q", "?o"), ("?p", "owl:equivalentProperty", "?q")],
        typing=False,
    ),
    Pattern(
        "prp-inv1",
        "owl:inverseOf",
        "?o ?q ?s . ?p owl:inverseOf ?q .",
        [("?o", "?q", "?s"), ("?p", "owl:inverseOf", "?q")],
        typing=False,
    ),
    Pattern(
        "prp-inv2",
        "owl:inverseOf",
        "?o ?q ?s . ?q owl:inverseOf ?p .",
        [("?o", "?q", "?s"), ("?q", "owl:inverseOf", "?p")],
        typing=False,
    ),
    Pattern(
        "prp-symp",
        "owl:SymmetricProperty",
        "?p a owl:SymmetricProperty . ?o ?p ?s .",
        [("?o", "?p", "?s"), ("?p", "rdf:type", "owl:SymmetricProperty")],
        typing=False,
    ),
    Pattern(
        "prp-trp",
        "owl:TransitiveProperty",
        "?p a owl:TransitiveProperty . ?s ?p ?m . ?m ?p ?o . FILTER(?m != ?s && ?m != ?o)",
        [("?s", "?p", "?m"), ("?m", "?p", "?o"), ("?p", "rdf:type", "owl:TransitiveProperty")],
        typing=False,
    ),
]
"""The replayed rules; owlrl applies more (equality...): their results stay unexplained."""


def chain_patterns(store: Store, predicate: ox.NamedNode) -> list[Pattern]:
    """prp-spo2: one pattern per property chain axiom of the predicate (``?s p1 ?m . ?m p2 ?o``)."""
    axiom = ox.NamedNode(PREFIXES["owl"] + "propertyChainAxiom")
    patterns = []
    for quad in store.quads(predicate, axiom, None):
        if not isinstance(quad.object, ox.NamedNode | ox.BlankNode):
            continue  # not a list: no chain
        chain = _rdf_list(store, quad.object)
        if not chain:
            continue
        nodes = ["?s", *(f"?m{i}" for i in range(1, len(chain))), "?o"]
        links = [(nodes[i], str(chain[i]), nodes[i + 1]) for i in range(len(chain))]
        where = " . ".join(" ".join(link) for link in links)
        title = "owl:propertyChainAxiom (" + " ".join(shorten(p) for p in chain) + ")"
        patterns.append(Pattern("prp-spo2", title, where, links, typing=False))
    return patterns


def _rdf_list(store: Store, head: ox.NamedNode | ox.BlankNode) -> list[ox.NamedNode]:
    """The members of an RDF collection, in order (empty if it is malformed)."""
    first = ox.NamedNode(PREFIXES["rdf"] + "first")
    rest = ox.NamedNode(PREFIXES["rdf"] + "rest")
    nil = ox.NamedNode(PREFIXES["rdf"] + "nil")
    members: list[ox.NamedNode] = []
    node = head
    while node != nil and len(members) < 100:
        firsts = [q.object for q in store.quads(node, first, None)]
        rests = [q.object for q in store.quads(node, rest, None)]
        if len(firsts) != 1 or len(rests) != 1 or not isinstance(firsts[0], ox.NamedNode):
            return []
        if not isinstance(rests[0], ox.NamedNode | ox.BlankNode):
            return []
        members.append(firsts[0])
        node = rests[0]
    return members
