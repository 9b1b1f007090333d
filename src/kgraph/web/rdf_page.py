"""RDF documents the server writes about itself (the service description, the VoID description): their statements
(:class:`RdfDocument`), served in the RDF format a client asks for, and a readable page of them for a browser.

Their fixed wording is in Turtle data files whose ``#`` comment lines are notes for the people who edit them; those
are dropped before serving (a parser drops them anyway), so no developer note reaches a client. A browser that opens
the document from the navigation bar
(its Accept rates HTML above every RDF format) gets the same statements as an HTML page, grouped by subject, with
links; an RDF client still gets RDF.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from flask import Response, render_template

from kgraph.infer.terms import shorten
from kgraph.sparql.formats import ResultFormat
from kgraph.store.base import Term
from kgraph.store.results import serialized
from kgraph.web.shared import wants_html

_COMMENT_LINE = re.compile(r"^[ \t]*#.*\n", re.MULTILINE)
_LOCAL = re.compile(r"^[\w-]+$")


def template_text(path: Path) -> str:
    """A Turtle template without its comment lines (notes for its editors, not for clients)."""
    return _COMMENT_LINE.sub("", path.read_text(encoding="utf-8"))


@dataclass
class RdfDocument:
    """An RDF document's statements and the prefixes it is written and shown with."""

    triples: list[ox.Triple]
    prefixes: dict[str, str]

    @classmethod
    def parse(cls, turtle: bytes, base: str | None = None) -> RdfDocument:
        """The statements of a Turtle text, relative IRIs resolved against ``base``, with the prefixes it declares."""
        parser = ox.parse(turtle, format=ox.RdfFormat.TURTLE, base_iri=base)
        triples = [quad.triple for quad in parser]
        return cls(triples, dict(parser.prefixes))

    def add(self, subject: ox.NamedNode | ox.BlankNode, predicate: str, obj: Term) -> None:
        """One more statement (``predicate`` an IRI)."""
        self.triples.append(ox.Triple(subject, ox.NamedNode(predicate), obj))

    def serialize(self, fmt: ResultFormat) -> bytes:
        """The document in a negotiated graph format, with its prefixes where the format has them; each subject's
        statements together, subjects in the order they first appear."""
        first: dict[str, int] = {}
        for triple in self.triples:
            first.setdefault(str(triple.subject), len(first))
        grouped = sorted(self.triples, key=lambda triple: first[str(triple.subject)])
        return serialized(ox.serialize(grouped, format=fmt.rdf_format, prefixes=self.prefixes))


@dataclass(frozen=True)
class Shown:
    """A term as the page shows it: its text, the link it is (an IRI, or a blank node's anchor) and its language."""

    text: str
    href: str | None = None
    language: str | None = None


@dataclass
class Subject:
    """One subject of the document and its statements, as the page shows them."""

    term: Shown
    anchor: str
    statements: list[tuple[Shown, Shown]] = field(default_factory=list)


def shown(term: object, prefixes: dict[str, str]) -> Shown:
    """What the page shows for a term: a prefixed name (the document's own prefixes first) linking to its IRI, a blank
    node linking to its section, or a literal's text."""
    if isinstance(term, ox.NamedNode):
        for prefix, namespace in prefixes.items():
            local = term.value[len(namespace) :]
            if term.value.startswith(namespace) and _LOCAL.match(local):
                return Shown(f"{prefix}:{local}", term.value)
        return Shown(shorten(term), term.value)
    if isinstance(term, ox.BlankNode):
        return Shown(f"_:{term.value}", f"#{term.value}")
    if isinstance(term, ox.Literal):
        return Shown(term.value, None, term.language)
    return Shown(str(term))


def rdf_document(
    document: RdfDocument, title: str, accept: str | None, hints: Sequence[str] = (), *, main: str = ""
) -> Response | None:
    """The document as an HTML page when a browser asks (and no format hint asks for RDF), else None; the ``main``
    subject (what the document describes) comes first, then the others by name, blank nodes last."""
    if hints or not wants_html(accept):
        return None
    prefixes = document.prefixes
    subjects: dict[str, Subject] = {}
    for triple in document.triples:
        subject = triple.subject
        anchor = str(subject) if isinstance(subject, ox.Triple) else subject.value
        entry = subjects.setdefault(str(subject), Subject(shown(subject, prefixes), anchor))
        entry.statements.append((shown(triple.predicate, prefixes), shown(triple.object, prefixes)))
    ordered = sorted(subjects.values(), key=lambda s: (s.anchor != main, s.term.text.startswith("_:"), s.term.text))
    page = render_template("rdf_document.html", title=title, subjects=ordered)
    response = Response(page, content_type="text/html; charset=utf-8")
    response.vary.add("Accept")
    return response
