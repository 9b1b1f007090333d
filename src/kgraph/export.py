"""``kgraph export``: the served graph, journaled writes included, as one RDF document.

So that contributions made over HTTP can become a reviewed ``data/ttl/`` file.
"""

from __future__ import annotations

import pyoxigraph as ox

from kgraph.graph import KnowledgeGraph
from kgraph.infer.terms import PREFIXES

EXPORT_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
}
"""``kgraph export`` formats; TriG and JSON-LD keep one graph per source (and per contributor)."""


def export_graph(graph: KnowledgeGraph, fmt: str, *, inferred: bool = False) -> bytes:
    """The current graph, journaled writes included, so HTTP contributions can become a reviewed ``data/ttl/`` file.

    Turtle and N-Triples hold the default graph (each triple once); TriG and JSON-LD keep the named graphs.
    """
    rdf_format = EXPORT_FORMATS[fmt]
    names = graph.default_graph(inferred)
    quads = sorted(
        (q for name in names for q in graph.store.quads(graph=name)), key=lambda q: (str(q.graph_name), str(q))
    )
    if rdf_format.supports_datasets:
        return ox.serialize(quads, format=rdf_format, prefixes=PREFIXES) or b""
    triples = sorted({q.triple for q in quads}, key=str)
    return ox.serialize(triples, format=rdf_format, prefixes=PREFIXES) or b""
