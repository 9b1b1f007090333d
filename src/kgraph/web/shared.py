"""What the views of several blueprints use, so that no blueprint module imports another: the project's prefixes,
the choice between a page and RDF, the ``infer`` parameter and the default graph it selects, RDF responses, and the
vendored assets (``make assets``) a page may rely on.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import cast

import pyoxigraph as ox
from flask import Response, current_app

from kgraph.config import ONTOLOGY_NS, RESOURCE_NS
from kgraph.sparql.formats import GRAPH_FORMATS, ResultFormat, parse_accept
from kgraph.sparql.protocol import ProtocolError
from kgraph.store.results import serialized
from kgraph.web import service

PREFIXES: dict[str, str] = {
    "kg": ONTOLOGY_NS,
    "kgr": RESOURCE_NS,
    "prov": "http://www.w3.org/ns/prov#",
    "time": "http://www.w3.org/2006/time#",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
}
"""The prefixes the editor declares and the result table abbreviates with (the ontology's)."""

MAP_FILES = ("leaflet/leaflet.js", "leaflet/leaflet.css", "topojson-client.min.js", "countries-50m.json")
"""What ``make assets`` puts in ``static/vendor/`` for maps; without them a resource page shows its coordinates as
text and the query page offers no Map view."""

STATIC = Path(__file__).parent / "static"
"""The folder served under ``/assets`` (the ``ui`` blueprint's static folder)."""

HTML_TYPES = ("text/html", "application/xhtml+xml")


def vendored(names: tuple[str, ...]) -> bool:
    """Whether ``make assets`` has put all these files in ``static/vendor/`` (one check for the editor and the map)."""
    vendor = STATIC / "vendor"
    return all((vendor / name).is_file() for name in names)


def wants_html(accept: str | None) -> bool:
    """Whether the client rates HTML at least as high as every RDF format it names (browsers do; ``*/*`` does not)."""
    ranges = parse_accept(accept)
    html = max((q for media_range, q in ranges if media_range in HTML_TYPES), default=0.0)
    rdf_types = {t for fmt in GRAPH_FORMATS for t in fmt.media_types}
    rdf = max((q for media_range, q in ranges if media_range in rdf_types), default=0.0)
    return html > 0 and html >= rdf


def infer_flag(value: str | None) -> bool:
    """The ``infer`` parameter, as ``/sparql`` reads it: on unless ``false``."""
    if value is None or value.lower() == "true":
        return True
    if value.lower() == "false":
        return False
    raise ProtocolError(f"The 'infer' parameter must be 'true' or 'false', not '{value}'.")


def graphs_for(infer: bool) -> list[str]:
    """The served default graph, with or without the inferred graph."""
    return service(current_app).default_graphs[infer]


def rdf_response(data: Iterable[ox.Triple] | Iterable[ox.Quad], fmt: ResultFormat) -> Response:
    """Triples (or quads) serialised in one RDF format, with the project's prefixes where the format has them."""
    body = serialize(data, fmt.rdf_format)
    return Response(body, content_type=fmt.content_type)


def serialize(data: Iterable[ox.Triple] | Iterable[ox.Quad], format: ox.RdfFormat) -> bytes:
    """Triples or quads as bytes in ``format``, abbreviated with the project's prefixes."""
    # list() of either kind of iterable is typed list[object]; it holds what was given, all triples or all quads
    listed = cast("list[ox.Triple] | list[ox.Quad]", list(data))
    return serialized(ox.serialize(listed, format=format, prefixes=PREFIXES))
