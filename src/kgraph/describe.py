"""What the graph says about one resource: the facts a resource page and its RDF description are made of.

Resolvable IRIs make every ``https://w3id.org/kgraph/id/...`` IRI answer with its description. The queries live
here, not in the web layer, so that the CLI and tests can call them and the views stay thin. Every query is bounded
(``MAX_STATEMENTS``): a resource with thousands of links must not turn a page view into a dump.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from kgraph.config import NAMESPACE, ONTOLOGY_NS, RESOURCE_NS
from kgraph.store import Store

MAX_STATEMENTS = 2000
"""Most outgoing (and, separately, incoming) statements one description holds."""

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"

_SEGMENT = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*")


@dataclass(frozen=True)
class Node:
    """A term as a page shows it: its text, and where it links (``local`` is a path under the server's root)."""

    text: str
    iri: str | None = None
    local: str | None = None
    note: str = ""

    @property
    def external(self) -> bool:
        """An IRI outside the project: a page links out to it."""
        return self.iri is not None and self.local is None


@dataclass(frozen=True)
class ClaimRef:
    """A claim that mentions the resource: who says it, with which stance."""

    claim: Node
    claimant: Node | None
    stance: Node | None


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
    coordinates: list[str] = field(default_factory=list)


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
    if iri == NAMESPACE + "ontology":
        return "ontology"
    return None


def exists(store: Store, iri: str, graphs: Sequence[str]) -> bool:
    """Whether the graph mentions the resource as subject or object."""
    query = f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}"
    return bool(store.query(query, default_graph=graphs))


def description_triples(store: Store, iri: str, graphs: Sequence[str]) -> list[ox.Triple]:
    """The resource's outgoing and incoming triples: its RDF description for machines."""
    query = f"""CONSTRUCT {{ <{iri}> ?p ?o . ?s ?q <{iri}> }} WHERE {{
        {{ SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }} LIMIT {MAX_STATEMENTS} }}
        UNION {{ SELECT ?s ?q WHERE {{ ?s ?q <{iri}> }} LIMIT {MAX_STATEMENTS} }} }}"""
    return list(store.query(query, default_graph=graphs))


def describe(store: Store, iri: str, graphs: Sequence[str]) -> Description:
    """The resource's page content: label, types, statements, incoming links, claims, sources, coordinates."""
    triples = description_triples(store, iri, graphs)
    subject = ox.NamedNode(iri)
    outgoing = [t for t in triples if t.subject == subject]
    incoming = [t for t in triples if t.subject != subject]
    claims = _claims(store, iri, graphs)
    mentioned = [*_terms(outgoing, incoming), *(term for row in claims for term in row if term is not None)]
    labels = labels_of(store, [subject, *mentioned], graphs)

    def node(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
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
        claims=[ClaimRef(node(c), s and node(s), st and node(st)) for c, s, st in claims],
        sources=[node(t.object) for t in outgoing if t.predicate.value == PROV_DERIVED],
        coordinates=coordinates(store, iri, graphs),
    )


def labels_of(store: Store, terms: Iterable[object], graphs: Sequence[str]) -> dict[str, str]:
    """IRI -> label for those of ``terms`` that have an ``rdfs:label`` (English preferred, then untagged)."""
    iris = sorted({term.value for term in terms if isinstance(term, ox.NamedNode)})
    if not iris:
        return {}
    values = " ".join(f"<{iri}>" for iri in iris)
    query = f"SELECT ?x ?l WHERE {{ VALUES ?x {{ {values} }} ?x <{RDFS_LABEL}> ?l }}"
    ranked: dict[str, tuple[int, str]] = {}
    for row in store.query(query, default_graph=graphs):
        label = row["l"]
        rank = {"en": 0, None: 1}.get(label.language, 2)
        key = row["x"].value
        if key not in ranked or (rank, label.value) < ranked[key]:
            ranked[key] = (rank, label.value)
    return {iri: label for iri, (_, label) in ranked.items()}


def to_node(term: ox.NamedNode | ox.BlankNode | ox.Literal, labels: dict[str, str]) -> Node:
    """A term for display: IRIs with their label and link, literals with their language or datatype."""
    if isinstance(term, ox.NamedNode):
        return Node(labels.get(term.value, _short(term.value)), term.value, local_path(term.value))
    if isinstance(term, ox.BlankNode):
        return Node(f"_:{term.value}")
    note = f"@{term.language}" if term.language else _short(term.datatype.value)
    return Node(term.value, note="" if note == "xsd:string" else note)


def coordinates(store: Store, iri: str, graphs: Sequence[str]) -> list[str]:
    """The WKT of the resource's geometry (``geo:hasGeometry/geo:asWKT``, or its own ``geo:asWKT``)."""
    geo = "http://www.opengis.net/ont/geosparql#"
    query = f"SELECT DISTINCT ?wkt WHERE {{ <{iri}> <{geo}hasGeometry>?/<{geo}asWKT> ?wkt }} ORDER BY ?wkt"
    return [row["wkt"].value for row in store.query(query, default_graph=graphs)]


def _claims(store: Store, iri: str, graphs: Sequence[str]) -> list[tuple[ox.NamedNode, object, object]]:
    """Claims about the resource (``kg:about``) or whose proposition has it as subject, predicate or object."""
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    query = f"""SELECT DISTINCT ?claim ?claimant ?stance WHERE {{
        {{ ?claim <{ONTOLOGY_NS}about> <{iri}> }}
        UNION {{ ?claim <{ONTOLOGY_NS}statement> ?p . ?p <{rdf}subject>|<{rdf}predicate>|<{rdf}object> <{iri}> }}
        OPTIONAL {{ ?claim <{ONTOLOGY_NS}claimant> ?claimant }}
        OPTIONAL {{ ?claim <{ONTOLOGY_NS}stance> ?stance }}
    }} ORDER BY ?claim ?claimant ?stance LIMIT {MAX_STATEMENTS}"""
    return [(row["claim"], row["claimant"], row["stance"]) for row in store.query(query, default_graph=graphs)]


def _terms(outgoing: list[ox.Triple], incoming: list[ox.Triple]) -> list[object]:
    return [*(t.predicate for t in outgoing), *(t.object for t in outgoing), *(t.subject for t in incoming)] + [
        t.predicate for t in incoming
    ]


def _first_literal(triples: list[ox.Triple], predicate: str) -> str:
    values = sorted(t.object.value for t in triples if t.predicate.value == predicate)
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
