"""The dataset as a whole: its VoID/DCAT description at ``/.well-known/void`` and its dumps under ``/dumps/``.

Crawlers and catalogues find a Linked Data set through ``/.well-known/void`` (VoID, section 7.2); the description
says what the data is, under which licence, where to query it and where to download it whole. The dumps are
generated from the store being served, so they always match what ``/sparql`` answers: ``asserted`` is what the
source files state, ``inferred`` what inference added, kept apart as in the store. The fixed wording is the Turtle
template ``dataset.ttl``; only counts, vocabularies and this server's URLs are computed.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

import pyoxigraph as ox
import rdflib
from flask import Blueprint, Response, abort, current_app, request

from kgraph.config import INFERRED_GRAPH
from kgraph.describe import triple_count, vocabularies
from kgraph.sparql.formats import ResultFormat, negotiate
from kgraph.web import service
from kgraph.web.rdf_page import rdf_document, template_text
from kgraph.web.resources import serialize
from kgraph.web.ui import PREFIXES

bp = Blueprint("dataset", __name__)

DUMP_FORMATS: dict[str, tuple[str, ox.RdfFormat]] = {
    "ttl": ("text/turtle; charset=utf-8", ox.RdfFormat.TURTLE),
    "nt": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    "trig": ("application/trig; charset=utf-8", ox.RdfFormat.TRIG),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD),
}
"""Suffix -> (Content-Type, format) of each dump. TriG keeps the named graphs (one per source file); the others hold
the union of the subset's triples."""

DUMPS = ("asserted", "inferred")
"""The two subsets: what the files state, and what inference added."""

CONTEXT = {**PREFIXES, "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}
"""The JSON-LD ``@context`` the JSON-LD dumps are compacted with and point to: the project's prefixes."""

IANA = "https://www.iana.org/assignments/media-types/"

DATASET_IRI = "https://w3id.org/kgraph/dataset"
"""What the VoID description describes (``dataset.ttl``): first on its page."""
"""DCAT 3 wants a media type as an IRI: IANA's page for it."""

_TEMPLATE = Template(template_text(Path(__file__).parent / "dataset.ttl"))


@bp.get("/.well-known/void")
def void() -> Response:
    """The dataset's VoID/DCAT description, in Turtle unless the client asks for another RDF format; a page for a
    browser."""
    turtle = void_description(request.url_root)
    page = rdf_document(
        turtle, "Dataset (VoID)", request.headers.get("Accept"), request.args.getlist("format"), main=DATASET_IRI
    )
    if page is not None:
        return page
    fmt = negotiate("graph", request.headers.get("Accept"), request.args.get("format"))
    response = Response(_reserialize(turtle, fmt), content_type=fmt.content_type)
    response.vary.add("Accept")
    return response


@bp.get("/dumps/context.jsonld")
def context() -> Response:
    """The published JSON-LD context of the JSON-LD dumps."""
    return Response(json.dumps({"@context": CONTEXT}, indent=2) + "\n", content_type="application/ld+json")


@bp.get("/dumps/<name>.<suffix>")
def dump(name: str, suffix: str) -> Response:
    """One subset of the served graph as a file download."""
    if name not in DUMPS or suffix not in DUMP_FORMATS:
        abort(404)
    content_type, fmt = DUMP_FORMATS[suffix]
    quads = _quads(name)
    if fmt is ox.RdfFormat.JSON_LD:
        body = jsonld_dump(quads, request.url_root + "dumps/context.jsonld")
    elif fmt is ox.RdfFormat.TRIG:
        body = serialize(quads, fmt)
    else:
        body = serialize(sorted({q.triple for q in quads}, key=str), fmt)
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="kgraph-{name}.{suffix}"'
    return response


def void_description(root: str) -> str:
    """The template filled in for the server at ``root`` (its URL, with a trailing slash)."""
    kg = service(current_app).graph
    dumps = [f"{root}dumps/{name}.{suffix}" for name in DUMPS for suffix in DUMP_FORMATS]
    return _TEMPLATE.substitute(
        endpoint=root + "sparql",
        triples=triple_count(kg.store, kg.default_graph(True)),
        asserted_triples=triple_count(kg.store, kg.asserted_graphs()),
        inferred_triples=kg.store.count(INFERRED_GRAPH),
        vocabularies=_lines("void:vocabulary", [f"<{ns}>" for ns in vocabularies(kg.store, kg.default_graph(True))]),
        dumps=_lines("void:dataDump", [f"<{url}>" for url in dumps]),
        distributions=_lines("dcat:distribution", [_distribution(url) for url in dumps]),
        asserted_dumps=_objects("void:dataDump", [f"<{url}>" for url in dumps if "/asserted." in url]),
        inferred_dumps=_objects("void:dataDump", [f"<{url}>" for url in dumps if "/inferred." in url]),
    )


def jsonld_dump(quads: list[ox.Quad], context_url: str) -> bytes:
    """The quads' triples as JSON-LD compacted with :data:`CONTEXT`, which it names by URL rather than inlines."""
    graph = rdflib.Graph()
    graph.parse(data=serialize(sorted({q.triple for q in quads}, key=str), ox.RdfFormat.N_TRIPLES), format="nt")
    document = json.loads(graph.serialize(format="json-ld", context=CONTEXT, auto_compact=True))
    document["@context"] = context_url
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _quads(name: str) -> list[ox.Quad]:
    """The quads of one subset, in a stable order so that two downloads are byte-identical."""
    kg = service(current_app).graph
    graphs = kg.asserted_graphs() if name == "asserted" else [INFERRED_GRAPH]
    return sorted((q for g in graphs for q in kg.store.quads(graph=g)), key=str)


def _distribution(url: str) -> str:
    suffix = url.rpartition(".")[2]
    media_type = DUMP_FORMATS[suffix][0].split(";")[0]
    return f"[ a dcat:Distribution ; dcat:downloadURL <{url}> ; dcat:mediaType <{IANA}{media_type}> ]"


def _lines(predicate: str, objects: list[str]) -> str:
    return "\n".join(f"    {predicate} {obj} ;" for obj in objects)


def _objects(predicate: str, objects: list[str]) -> str:
    return f"    {predicate} " + " ,\n        ".join(objects)


def _reserialize(turtle: str, fmt: ResultFormat) -> bytes:
    """The description in the negotiated format (it is written as Turtle)."""
    if fmt.name == "turtle":
        return turtle.encode("utf-8")
    return serialize(ox.parse(turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE), fmt.serializer)
