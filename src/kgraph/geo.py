"""Where a resource is: the points a page's map draws and states in words.

A place's coordinates are GeoSPARQL WKT literals (``POINT(35.27056 51.19139)``, longitude first). A page shows them
as text, readable without JavaScript, and hands the map numbers it need not parse. A region with no point of its
own shows the points of the places located in it, so Kursk Oblast's page still shows where Sudzha is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from kgraph.config import ONTOLOGY_NS
from kgraph.store import Store
from kgraph.store.results import solutions

GEO = "http://www.opengis.net/ont/geosparql#"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
"""GeoSPARQL's default reference system: WGS 84 with longitude first. Another CRS may swap the axes."""

MAX_POINTS = 500
"""Most points one map shows: a country's page must not draw every village it holds."""

_POINT = re.compile(
    r"\s*(?:<(?P<crs>[^>]*)>\s*)?POINT\s*\(\s*(?P<lon>[-+]?\d+(?:\.\d+)?)\s+(?P<lat>[-+]?\d+(?:\.\d+)?)\s*\)\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LatLon:
    """A WGS 84 position in decimal degrees."""

    lat: float
    lon: float

    def text(self) -> str:
        """The position as people read it: ``51.19139° N, 35.27056° E`` (the shortest decimals that round-trip)."""
        return f"{_degrees(self.lat, 'N', 'S')}, {_degrees(self.lon, 'E', 'W')}"


@dataclass(frozen=True)
class Located:
    """A place and one of its geometries: the WKT as written, and its position when it is a plain point."""

    place: str
    wkt: str
    position: LatLon | None


def parse_point(wkt: str) -> LatLon | None:
    """The position of a WKT ``POINT`` in CRS84 (the default), or None for another shape or reference system."""
    match = _POINT.fullmatch(wkt)
    if match is None or match["crs"] not in (None, CRS84):
        return None
    lat, lon = float(match["lat"]), float(match["lon"])
    return LatLon(lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def points(store: Store, iri: str, graphs: Sequence[str]) -> list[Located]:
    """The resource's own geometries, or else those of the places located in it (``kg:locatedIn``, transitively)."""
    ref = ox.NamedNode(iri)
    own = _query(store, f"VALUES ?place {{ {ref} }} ?place <{GEO}hasGeometry>?/<{GEO}asWKT> ?wkt", graphs)
    if own:
        return own
    located = f"?place <{ONTOLOGY_NS}locatedIn>+ {ref} . ?place <{GEO}hasGeometry>?/<{GEO}asWKT> ?wkt"
    return _query(store, located, graphs)


def _query(store: Store, pattern: str, graphs: Sequence[str]) -> list[Located]:
    query = f"SELECT DISTINCT ?place ?wkt WHERE {{ {pattern} }} ORDER BY ?place ?wkt LIMIT {MAX_POINTS}"
    rows = solutions(store.query(query, default_graph=graphs))
    return [Located(row["place"].value, row["wkt"].value, parse_point(row["wkt"].value)) for row in rows]


def _degrees(value: float, positive: str, negative: str) -> str:
    return f"{abs(value)!r}° {positive if value >= 0 else negative}"
