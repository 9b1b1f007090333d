"""RDF terms as people read and type them, and as the two engines (pyoxigraph, rdflib) hold them.

Inference runs owlrl on rdflib graphs but the store speaks pyoxigraph; explanations and error
messages are read by people, who expect the project's prefixed names (``kgr:sudzha``) rather than
full IRIs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeGuard

import pyoxigraph as ox
import rdflib

from kgraph.config import GRAPH_NS, ONTOLOGY_NS, RESOURCE_NS

PREFIXES: dict[str, str] = {
    "kg": ONTOLOGY_NS,
    "kgr": RESOURCE_NS,
    "kgg": GRAPH_NS,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "prov": "http://www.w3.org/ns/prov#",
    "time": "http://www.w3.org/2006/time#",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "wd": "http://www.wikidata.org/entity/",
}
"""The project's prefixes, to write and read terms in messages, explanations, the CLI."""

BUILT_IN_NAMESPACES = (
    PREFIXES["rdf"],
    PREFIXES["rdfs"],
    PREFIXES["owl"],
    PREFIXES["xsd"],
)
"""The vocabulary OWL is written in: facts about it are the reasoner's business, not ours."""

RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")

Term = ox.NamedNode | ox.BlankNode | ox.Literal


class TermSyntaxError(ValueError):
    """A term typed by a person that is not an IRI, a prefixed name or a Turtle literal."""


NTriple = tuple[str, str, str]
"""A triple as three terms in N-Triples syntax (``<iri>``, ``_:id``, ``"text"@en``): the engine's working form, far
cheaper than a term object per triple when hundreds of thousands of them pass through."""


def split_ntriples(data: bytes) -> Iterator[NTriple]:
    """The triples of an N-Triples document as the store serialises it (one per line, single spaces)."""
    intern = sys.intern  # the same terms recur on many lines: keep one copy of each
    for line in data.decode("utf-8").splitlines():
        s, p, o = line[:-2].split(" ", 2)
        yield intern(s), intern(p), intern(o)


def parse_ntriples(triples: Iterable[NTriple]) -> list[ox.Triple]:
    """The term objects of triples in N-Triples syntax, parsed in one go."""
    text = "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
    return [quad.triple for quad in ox.parse(input=text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)]


def is_built_in(term: Term | ox.Triple) -> TypeGuard[ox.NamedNode]:
    """True for the IRIs of RDF, RDFS, OWL and XSD themselves."""
    return isinstance(term, ox.NamedNode) and term.value.startswith(BUILT_IN_NAMESPACES)


def to_rdflib(term: Term) -> rdflib.term.Identifier:
    """The rdflib twin of a pyoxigraph term."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def to_oxigraph(term: rdflib.term.Identifier) -> Term:
    """The pyoxigraph twin of an rdflib term."""
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    assert isinstance(term, rdflib.Literal)
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


def shorten(term: Term | ox.Triple) -> str:
    """A term as Turtle writes it with our prefixes (``kgr:sudzha``, ``"12"^^xsd:integer``)."""
    if isinstance(term, ox.NamedNode):
        for prefix, namespace in PREFIXES.items():
            local = term.value[len(namespace) :]
            if term.value.startswith(namespace) and local and _is_local_name(local):
                return f"{prefix}:{local}"
        return str(term)
    if isinstance(term, ox.Literal) and not term.language:
        datatype = term.datatype.value
        if datatype == PREFIXES["xsd"] + "string":
            return _quoted(term)
        return f"{_quoted(term)}^^{shorten(term.datatype)}"
    return str(term)


def shorten_triple(triple: ox.Triple) -> str:
    """A triple on one line, with prefixed names."""
    return " ".join(shorten(t) for t in (triple.subject, triple.predicate, triple.object))


def parse_term(text: str) -> Term:
    """Read a term typed by a person: ``<iri>``, a bare IRI, a prefixed name, or a Turtle literal.

    Raises :class:`TermSyntaxError` with a sentence saying what is wrong.
    """
    text = text.strip()
    if not text:
        raise TermSyntaxError("empty term")
    if text.startswith(('"', "'")) or _is_number(text) or text in {"true", "false"}:
        return _parse_literal(text)
    if text.startswith("_:"):
        return ox.BlankNode(text[2:])
    if text.startswith("<") and text.endswith(">"):
        return _named_node(text[1:-1], text)
    if "://" in text or text.startswith("urn:"):
        return _named_node(text, text)
    prefix, sep, local = text.partition(":")
    if not sep:
        raise TermSyntaxError(f"not an IRI, prefixed name or literal: {text}")
    if prefix not in PREFIXES:
        known = ", ".join(f"{p}:" for p in PREFIXES)
        raise TermSyntaxError(f"unknown prefix {prefix}: in {text} (known: {known})")
    return _named_node(PREFIXES[prefix] + local, text)


def _named_node(iri: str, text: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(iri)
    except ValueError as error:
        raise TermSyntaxError(f"not a valid IRI: {text} ({error})") from None


def _parse_literal(text: str) -> ox.Literal:
    """Parse a Turtle literal by parsing a one-triple Turtle document with the project's
    prefixes."""
    prologue = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items())
    document = f"{prologue}<urn:s> <urn:p> {text} ."
    try:
        triples = list(ox.parse(document, format=ox.RdfFormat.TURTLE))
    except SyntaxError as error:
        raise TermSyntaxError(f"not a valid Turtle literal: {text} ({error})") from None
    if len(triples) != 1 or not isinstance(triples[0].object, ox.Literal):
        raise TermSyntaxError(f"not a valid Turtle literal: {text}")
    return triples[0].object


def _is_number(text: str) -> bool:
    return text[0].isdigit() or (text[0] in "+-." and len(text) > 1)


def _is_local_name(local: str) -> bool:
    """Turtle's local names, plus ``/`` (``kgr:claim/russia-denies``): :func:`parse_term` reads
    them back, and they are far easier to read than full IRIs, though not strict Turtle."""
    return all(c.isalnum() or c in "_-./" for c in local) and not local.endswith((".", "/"))


def _quoted(literal: ox.Literal) -> str:
    escaped = literal.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def parse_triple(subject: str, predicate: str, obj: str) -> ox.Triple:
    """Read a triple typed as three terms: only the object may be a literal, never the predicate."""
    s, p, o = parse_term(subject), parse_term(predicate), parse_term(obj)
    if isinstance(s, ox.Literal):
        raise TermSyntaxError(f"a literal cannot be a subject: {subject}")
    if not isinstance(p, ox.NamedNode):
        raise TermSyntaxError(f"a literal cannot be a predicate: {predicate}")
    return ox.Triple(s, p, o)
