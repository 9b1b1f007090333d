"""WKT points read for the map and written for people: only plain CRS84 points, digits as the data gives them."""

from __future__ import annotations

import pytest

from kgraph.geo import LatLon, parse_point


@pytest.mark.parametrize(
    ("wkt", "expected"),
    [
        ("POINT(35.27056 51.19139)", LatLon(51.19139, 35.27056)),
        (" point ( -77.0369 38.9072 ) ", LatLon(38.9072, -77.0369)),
        ("<http://www.opengis.net/def/crs/OGC/1.3/CRS84> POINT(35.27056 51.19139)", LatLon(51.19139, 35.27056)),
    ],
)
def test_points_are_read_longitude_first(wkt: str, expected: LatLon) -> None:
    assert parse_point(wkt) == expected


@pytest.mark.parametrize(
    "wkt",
    [
        "<http://www.opengis.net/def/crs/EPSG/0/4326> POINT(51.19139 35.27056)",  # latitude first: not drawn
        "LINESTRING(30 10, 10 30)",
        "POINT(35.27056)",
        "POINT(200 10)",
        "POINT EMPTY",
    ],
)
def test_anything_else_is_left_as_text(wkt: str) -> None:
    assert parse_point(wkt) is None


@pytest.mark.parametrize(
    ("point", "text"),
    [(LatLon(51.19139, 35.27056), "51.19139° N, 35.27056° E"), (LatLon(-33.5, -70.25), "33.5° S, 70.25° W")],
)
def test_positions_read_as_hemispheres(point: LatLon, text: str) -> None:
    assert point.text() == text
