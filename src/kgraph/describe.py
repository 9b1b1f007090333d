"""What the graph says about one resource: the facts a resource page and its RDF description are made of.

Resolvable IRIs make every ``https://w3id.org/kgraph/id/...`` IRI answer with its description. The queries live
here, not in the web layer, so that the CLI and tests can call them and the views stay thin. Every query is bounded
(``MAX_STATEMENTS``): a resource with thousands of links must not turn a page view into a dump.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pyoxigraph as ox

from kgraph.config import INFERRED_GRAPH, NAMESPACE, ONTOLOGY_NS, RESOURCE_NS
from kgraph.geo import Located, points
from kgraph.store import Store
from kgraph.store.base import Term
from kgraph.store.results import solutions, triples

MAX_STATEMENTS = 2000
"""Most outgoing (and, separately, incoming) statements one description holds."""

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
RDF_TYPE = RDF + "type"
RDFS_LABEL = RDFS + "label"
RDFS_COMMENT = RDFS + "comment"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
OA = "http://www.w3.org/ns/oa#"
ONTOLOGY_IRI = NAMESPACE + "ontology"

LINK_SCHEMES = ("http://", "https://")
"""The only schemes an IRI of the data may have to become a clickable link."""

_SEGMENT = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*")

Value = Term | ox.Triple
"""What a statement's object may be: a term or, in RDF 1.2, a triple term (``<<( s p o )>>``)."""


@dataclass(frozen=True)
class Node:
    """A term as a page shows it: its text, and where it links (``local`` is a path under the server's root)."""

    text: str
    iri: str | None = None
    local: str | None = None
    note: str = ""

    @property
    def external(self) -> bool:
        """An http(s) IRI outside the project: a page links out to it. Any other scheme (``javascript:``,
        ``data:``, ``file:``...) is shown as text: a label or IRI written by a client must never become script."""
        return self.iri is not None and self.local is None and self.iri.lower().startswith(LINK_SCHEMES)


@dataclass(frozen=True)
class ClaimRef:
    """A claim that mentions the resource: who says it, with which stance, what it states (its ``kg:statement``
    proposition, with every property of that proposition, whichever vocabulary models it) and the source's words."""

    claim: Node
    claimant: Node | None
    stance: Node | None
    proposition: Node | None = None
    content: tuple[tuple[Node, Node], ...] = ()
    quote: str = ""


@dataclass(frozen=True)
class Anchor:
    """Where the source article says something: its exact words and their character offsets (end excluded)."""

    exact: str
    start: int
    end: int


@dataclass
class Description:
    """Everything a resource page shows."""

    iri: str
    label: str
    comment: str = ""
    types: list[Node] = field(default_factory=list)
    statements: list[tuple[Node, Node]] = field(default_factory=list)
    incoming: list[tuple[Node, Node]] = field(default_factory=list)
    claims: list[ClaimRef] = field(default_factory=list)
    sources: list[Node] = field(default_factory=list)
    points: list[tuple[Node, Located]] = field(default_factory=list)
    """What the map draws: the resource's own geometries, or those of the places located in it."""
    node: Node | None = None
    """The resource itself as a term of its statements."""
    claim: ClaimRef | None = None
    """When the resource is a claim: what it states, who says it, with which stance, in which words."""
    inferred: dict[tuple[Node, Node, Node], str] = field(default_factory=dict)
    """(subject, predicate, object) -> the ``/explain`` query string, for each statement only inference gives."""
    anchors: list[Anchor] = field(default_factory=list)
    """Where the article says it (``kg:textAnchor``), in the article's order."""

    def why(self, predicate: Node, obj: Node | None = None, subject: Node | None = None) -> str:
        """The explain query of an inferred statement about the resource (``subject`` for an incoming one, else
        ``obj``), or "" for an asserted one: a page marks the first kind and links it to its explanation."""
        key = (subject or self.node, predicate, obj or self.node)
        return self.inferred.get(key, "")  # type: ignore[arg-type]

    def why_type(self, cls: Node) -> str:
        """The explain query of the resource's type ``cls`` when only inference gives it, else ""."""
        found = (q for (s, p, o), q in self.inferred.items() if s == self.node and p.iri == RDF_TYPE and o == cls)
        return next(found, "")


def resource_iri(path: str) -> str | None:
    """The resource IRI a request path under ``/id/`` names, or None when the path is not a plain, safe name.

    Only IRIs inside RESOURCE_NS can come out: empty, ``.`` and ``..`` segments and any character outside the
    unreserved set are refused, so no path can step outside the namespace.
    """
    segments = path.split("/")
    if not all(_SEGMENT.fullmatch(s) and s not in {".", ".."} for s in segments):
        return None
    return RESOURCE_NS + path


def local_path(iri: str) -> str | None:
    """Where this server serves an IRI of the project (relative to its root), or None for an external IRI."""
    if iri.startswith(RESOURCE_NS):
        return "id/" + iri[len(RESOURCE_NS) :]
    if iri.startswith(ONTOLOGY_NS):
        return "ontology#" + iri[len(ONTOLOGY_NS) :]
    if iri == ONTOLOGY_IRI:
        return "ontology"
    return None


def exists(store: Store, iri: str, graphs: Sequence[str]) -> bool:
    """Whether the graph mentions the resource as subject or object."""
    ref = _ref(iri)
    query = f"ASK {{ {{ {ref} ?p ?o }} UNION {{ ?s ?p {ref} }} }}"
    return bool(store.query(query, default_graph=graphs))


def description_triples(store: Store, iri: str, graphs: Sequence[str]) -> list[ox.Triple]:
    """The resource's outgoing and incoming triples: its RDF description for machines."""
    ref = _ref(iri)
    query = f"""CONSTRUCT {{ {ref} ?p ?o . ?s ?q {ref} }} WHERE {{
        {{ SELECT ?p ?o WHERE {{ {ref} ?p ?o }} LIMIT {MAX_STATEMENTS} }}
        UNION {{ SELECT ?s ?q WHERE {{ ?s ?q {ref} }} LIMIT {MAX_STATEMENTS} }} }}"""
    return list(triples(store.query(query, default_graph=graphs)))


def describe(store: Store, iri: str, graphs: Sequence[str]) -> Description:
    """The resource's page content: label, types, statements, incoming links, claims, sources, map points."""
    triples = description_triples(store, iri, graphs)
    subject = ox.NamedNode(iri)
    outgoing = [t for t in triples if t.subject == subject]
    incoming = [t for t in triples if t.subject != subject]
    claims = _claims(store, iri, graphs)
    located = points(store, iri, graphs)
    inferred = inferred_among(store, iri, graphs, triples)
    is_claim = any(t.predicate.value in (ONTOLOGY_NS + "statement", ONTOLOGY_NS + "quote") for t in outgoing)
    stated = claim_content(store, [c for c, _, _ in claims] + ([subject] if is_claim else []), graphs)
    mentioned = [
        *(term for t in triples for term in (t.subject, t.predicate, t.object)),
        *(t for r in claims for t in r),
        *(ox.NamedNode(p.place) for p in located),
        *(prop for prop, _, _ in stated.values()),
        *(term for _, content, _ in stated.values() for pair in content for term in pair),
    ]
    labels = labels_of(store, mentioned, graphs)

    def node(term: Value) -> Node:
        return to_node(term, labels)

    return Description(
        iri=iri,
        label=labels.get(iri, iri[len(RESOURCE_NS) :]),
        comment=_first_literal(outgoing, RDFS_COMMENT),
        types=sorted({node(t.object) for t in outgoing if t.predicate.value == RDF_TYPE}, key=_order),
        statements=sorted(
            ((node(t.predicate), node(t.object)) for t in outgoing), key=lambda p: (_order(p[0]), _order(p[1]))
        ),
        incoming=sorted(((node(t.subject), node(t.predicate)) for t in incoming), key=lambda pair: _order(pair[0])),
        claims=[_claim_ref(node, c, s, st, stated.get(c.value)) for c, s, st in claims],
        sources=[node(t.object) for t in outgoing if t.predicate.value == PROV_DERIVED],
        points=[(node(ox.NamedNode(p.place)), p) for p in located],
        node=node(subject),
        claim=_claim_ref(node, subject, _first(outgoing, "claimant"), _first(outgoing, "stance"), stated.get(iri))
        if is_claim
        else None,
        inferred={(node(t.subject), node(t.predicate), node(t.object)): explain_query(t) for t in inferred},
        anchors=anchors(store, iri, graphs),
    )


def inferred_among(store: Store, iri: str, graphs: Sequence[str], triples: list[ox.Triple]) -> list[ox.Triple]:
    """Those of the resource's ``triples`` that no asserted graph states: what only inference gives."""
    if INFERRED_GRAPH not in graphs:
        return []
    asserted = set(description_triples(store, iri, [g for g in graphs if g != INFERRED_GRAPH]))
    return [t for t in triples if t not in asserted]


def explain_query(triple: ox.Triple) -> str:
    """The query string of ``/explain`` for a triple: its terms in N-Triples syntax."""
    return urlencode({"s": str(triple.subject), "p": str(triple.predicate), "o": str(triple.object)})


def anchors(store: Store, iri: str, graphs: Sequence[str]) -> list[Anchor]:
    """The spans of the source article that state the resource (W3C Web Annotation quote and position), so its page
    shows the very words it comes from; offsets that are not integers are left out rather than guessed."""
    query = f"""SELECT DISTINCT ?exact ?start ?end WHERE {{
        {_ref(iri)} <{ONTOLOGY_NS}textAnchor> ?anchor .
        ?anchor <{OA}exact> ?exact ; <{OA}start> ?start ; <{OA}end> ?end .
        FILTER (isNumeric(?start) && isNumeric(?end))
    }} ORDER BY ?start ?end ?exact LIMIT {MAX_STATEMENTS}"""
    rows = solutions(store.query(query, default_graph=graphs))
    return [Anchor(row["exact"].value, int(row["start"].value), int(row["end"].value)) for row in rows]


def labels_of(store: Store, terms: Iterable[Value | None], graphs: Sequence[str]) -> dict[str, str]:
    """IRI -> label for those of ``terms`` that have an ``rdfs:label`` (English preferred, then untagged)."""
    iris = sorted({term.value for term in terms if isinstance(term, ox.NamedNode)})
    if not iris:
        return {}
    values = " ".join(_ref(iri) for iri in iris)
    query = f"SELECT ?x ?l WHERE {{ VALUES ?x {{ {values} }} ?x <{RDFS_LABEL}> ?l }}"
    ranked: dict[str, tuple[int, str]] = {}
    for row in solutions(store.query(query, default_graph=graphs)):
        label = row["l"]
        rank = {"en": 0, None: 1}.get(label.language, 2)
        key = row["x"].value
        if key not in ranked or (rank, label.value) < ranked[key]:
            ranked[key] = (rank, label.value)
    return {iri: label for iri, (_, label) in ranked.items()}


def to_node(term: Value, labels: dict[str, str]) -> Node:
    """A term for display: IRIs with their label and link, literals with their language or datatype, a triple term
    as its three terms' texts between ``<<(`` and ``)>>``."""
    if isinstance(term, ox.NamedNode):
        return Node(labels.get(term.value, _short(term.value)), term.value, local_path(term.value))
    if isinstance(term, ox.BlankNode):
        return Node(f"_:{term.value}")
    if isinstance(term, ox.Triple):
        parts = (
            f'"{part.value}"' if isinstance(part, ox.Literal) else to_node(part, labels).text
            for part in (term.subject, term.predicate, term.object)
        )
        return Node(f"<<( {' '.join(parts)} )>>")
    note = f"@{term.language}" if term.language else _short(term.datatype.value)
    return Node(term.value, note="" if note == "xsd:string" else note)


def _claims(store: Store, iri: str, graphs: Sequence[str]) -> list[tuple[ox.NamedNode, Value | None, Value | None]]:
    """Claims about the resource (``kg:about``) or whose proposition has a clause with it as subject, predicate or
    object."""
    ref = _ref(iri)
    query = f"""SELECT DISTINCT ?claim ?claimant ?stance WHERE {{
        {{ ?claim <{ONTOLOGY_NS}about> {ref} }}
        UNION {{ ?claim <{ONTOLOGY_NS}statement>/<{ONTOLOGY_NS}clause> ?c .
                 ?c <{ONTOLOGY_NS}propSubject>|<{ONTOLOGY_NS}propPredicate>|<{ONTOLOGY_NS}propObject> {ref} }}
        OPTIONAL {{ ?claim <{ONTOLOGY_NS}claimant> ?claimant }}
        OPTIONAL {{ ?claim <{ONTOLOGY_NS}stance> ?stance }}
    }} ORDER BY ?claim ?claimant ?stance LIMIT {MAX_STATEMENTS}"""
    return [
        (row["claim"], row["claimant"], row["stance"]) for row in solutions(store.query(query, default_graph=graphs))
    ]


Content = tuple[ox.NamedNode | None, list[tuple[Term, Term]], str]
"""A claim's proposition, that proposition's (property, value) pairs, and the claim's quote."""

PROPOSITION_META = {RDF_TYPE, RDFS_LABEL, PROV_DERIVED}
"""Properties of a proposition that say what it is, not what it states: its label is shown as its text instead."""


def claim_content(store: Store, claims: Sequence[ox.NamedNode], graphs: Sequence[str]) -> dict[str, Content]:
    """For each claim: its ``kg:statement`` proposition with all that proposition's properties (rendered
    generically, so ``rdf:subject``... and ``kg:propSubject``... both show), and its ``kg:quote``."""
    if not claims:
        return {}
    values = " ".join(_ref(c.value) for c in claims)
    query = f"""SELECT ?claim ?prop ?quote WHERE {{ VALUES ?claim {{ {values} }}
        OPTIONAL {{ ?claim <{ONTOLOGY_NS}statement> ?prop FILTER(isIRI(?prop)) }}
        OPTIONAL {{ ?claim <{ONTOLOGY_NS}quote> ?quote }} }} ORDER BY ?claim ?prop ?quote"""
    found: dict[str, Content] = {}
    for row in solutions(store.query(query, default_graph=graphs)):
        key = row["claim"].value
        if key not in found:
            found[key] = (row["prop"], [], row["quote"].value if row["quote"] is not None else "")
    props = sorted({prop.value for prop, _, _ in found.values() if prop is not None})
    pairs = _properties(store, props, graphs)
    return {k: (prop, pairs.get(prop.value, []) if prop else [], quote) for k, (prop, _, quote) in found.items()}


def _properties(store: Store, iris: list[str], graphs: Sequence[str]) -> dict[str, list[tuple[Term, Term]]]:
    """Each IRI's (property, value) pairs but the descriptive ones (:data:`PROPOSITION_META`), bounded."""
    if not iris:
        return {}
    values = " ".join(_ref(iri) for iri in iris)
    query = f"SELECT ?x ?p ?o WHERE {{ VALUES ?x {{ {values} }} ?x ?p ?o }} ORDER BY ?x ?p ?o LIMIT {MAX_STATEMENTS}"
    found: dict[str, list[tuple[Term, Term]]] = {}
    for row in solutions(store.query(query, default_graph=graphs)):
        if row["p"].value not in PROPOSITION_META:
            found.setdefault(row["x"].value, []).append((row["p"], row["o"]))
    return {iri: sorted(pairs, key=_statement_order) for iri, pairs in found.items()}


_ROLES = ("subject", "predicate", "object")


def _statement_order(pair: tuple[Term, Term]) -> tuple[int, str, str]:
    """Subject, predicate, object first (``rdf:subject`` or ``kg:propSubject`` alike), then the rest by IRI."""
    name = pair[0].value.rsplit("#", 1)[-1].rsplit("/", 1)[-1].lower()
    rank = next((i for i, role in enumerate(_ROLES) if name.endswith(role)), len(_ROLES))
    return rank, pair[0].value, str(pair[1])


def _claim_ref(
    node: Callable[[Value], Node], claim: Term, claimant: Value | None, stance: Value | None, content: Content | None
) -> ClaimRef:
    """A claim for display, with its proposition and quote when it has them."""
    prop, pairs, quote = content or (None, [], "")
    return ClaimRef(
        node(claim),
        node(claimant) if claimant is not None else None,
        node(stance) if stance is not None else None,
        node(prop) if prop is not None else None,
        tuple((node(p), node(o)) for p, o in pairs),
        quote,
    )


def _ref(iri: str) -> str:
    """The IRI as a SPARQL term; pyoxigraph refuses an IRI with a character that could break out of ``<...>``."""
    return str(ox.NamedNode(iri))


def _first(triples: list[ox.Triple], name: str) -> Value | None:
    """The first (by value) object of the ontology property ``kg:<name>`` among ``triples``."""
    values = sorted((t.object for t in triples if t.predicate.value == ONTOLOGY_NS + name), key=str)
    return values[0] if values else None


def _first_literal(triples: list[ox.Triple], predicate: str) -> str:
    """The first (by value) literal or IRI object of ``predicate`` among ``triples`` (a triple term has no value)."""
    objects = (t.object for t in triples if t.predicate.value == predicate)
    values = sorted(o.value for o in objects if not isinstance(o, ox.Triple))
    return values[0] if values else ""


def _order(node: Node) -> tuple[str, str]:
    return (node.text.lower(), node.iri or "")


_PREFIXES = {
    "kg:": ONTOLOGY_NS,
    "kgr:": RESOURCE_NS,
    "rdf:": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs:": "http://www.w3.org/2000/01/rdf-schema#",
    "owl:": "http://www.w3.org/2002/07/owl#",
    "xsd:": "http://www.w3.org/2001/XMLSchema#",
    "skos:": "http://www.w3.org/2004/02/skos/core#",
    "prov:": "http://www.w3.org/ns/prov#",
    "geo:": "http://www.opengis.net/ont/geosparql#",
    "time:": "http://www.w3.org/2006/time#",
    "dcterms:": "http://purl.org/dc/terms/",
    "wd:": "http://www.wikidata.org/entity/",
    "schema:": "https://schema.org/",
    "sem:": "http://semanticweb.cs.vu.nl/2009/11/sem/",
}


def _short(iri: str) -> str:
    """A prefixed name for an IRI without a label, so a page never shows a bare long IRI where a short one exists."""
    for prefix, namespace in _PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return prefix + iri[len(namespace) :]
    return iri


def triple_count(store: Store, graphs: Sequence[str]) -> int:
    """Distinct triples in the union of ``graphs`` (two files may state the same triple)."""
    result = solutions(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", default_graph=graphs))
    return int(next(iter(result))["n"].value)


def vocabularies(store: Store, graphs: Sequence[str]) -> list[str]:
    """Namespaces of the properties and classes the data uses, sorted: what VoID calls its vocabularies."""
    query = f"SELECT DISTINCT ?t WHERE {{ {{ ?s ?t ?o }} UNION {{ ?s <{RDF_TYPE}> ?t FILTER(isIRI(?t)) }} }}"
    return sorted({_namespace(row["t"].value) for row in solutions(store.query(query, default_graph=graphs))})


def _namespace(iri: str) -> str:
    """The IRI up to its last ``#`` or ``/``: the vocabulary a term belongs to."""
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


_CLASS_TYPES = {OWL + "Class", RDFS + "Class"}
_PROPERTY_TYPES = {
    OWL + "ObjectProperty",
    OWL + "DatatypeProperty",
    OWL + "AnnotationProperty",
    RDF + "Property",
}


@dataclass
class OntologyTerm:
    """One term of the ontology as its reference page shows it."""

    name: str
    iri: str
    label: str
    comment: str = ""
    types: list[Node] = field(default_factory=list)
    parents: list[Node] = field(default_factory=list)
    domain: list[Node] = field(default_factory=list)
    range: list[Node] = field(default_factory=list)


@dataclass
class Ontology:
    """The ontology's header (title, description, licence, version) and its terms by kind."""

    header: list[tuple[Node, Node]]
    classes: list[OntologyTerm]
    properties: list[OntologyTerm]
    individuals: list[OntologyTerm]


def ontology(store: Store, graphs: Sequence[str]) -> Ontology:
    """The reference of the ontology held in ``graphs`` (the ontology files' graphs, without inference)."""
    by_subject: dict[str, list[ox.Quad]] = {}
    for graph in graphs:
        for quad in store.quads(graph=graph):
            if isinstance(quad.subject, ox.NamedNode):
                by_subject.setdefault(quad.subject.value, []).append(quad)
    mentioned = [t for quads in by_subject.values() for q in quads for t in (q.subject, q.predicate, q.object)]
    labels = labels_of(store, mentioned, graphs)
    terms = [_term(iri, by_subject[iri], labels) for iri in sorted(by_subject) if iri.startswith(ONTOLOGY_NS)]
    kinds = {t.iri: {n.iri for n in t.types} for t in terms}
    header = sorted(
        {(to_node(q.predicate, labels), to_node(q.object, labels)) for q in by_subject.get(ONTOLOGY_IRI, [])},
        key=lambda pair: (_order(pair[0]), _order(pair[1])),
    )
    return Ontology(
        header=header,
        classes=[t for t in terms if kinds[t.iri] & _CLASS_TYPES],
        properties=[t for t in terms if kinds[t.iri] & _PROPERTY_TYPES],
        individuals=[t for t in terms if not kinds[t.iri] & (_CLASS_TYPES | _PROPERTY_TYPES)],
    )


def _term(iri: str, quads: list[ox.Quad], labels: dict[str, str]) -> OntologyTerm:
    def objects(*predicates: str) -> list[Node]:
        found = {to_node(q.object, labels) for q in quads if q.predicate.value in predicates}
        return sorted(found, key=_order)

    return OntologyTerm(
        name=iri[len(ONTOLOGY_NS) :],
        iri=iri,
        label=labels.get(iri, iri[len(ONTOLOGY_NS) :]),
        comment=_first_literal([q.triple for q in quads], RDFS_COMMENT),
        types=objects(RDF_TYPE),
        parents=objects(RDFS + "subClassOf", RDFS + "subPropertyOf"),
        domain=objects(RDFS + "domain"),
        range=objects(RDFS + "range"),
    )
