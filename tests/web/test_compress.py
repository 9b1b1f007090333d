"""Tests of ``kgraph.web.compress``: which responses are gzipped, for which clients, and the weak ETag and the cache
of static files that come with it. A small Flask app with only this blueprint, so each case is one route."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response, send_file
from flask.testing import FlaskClient

from kgraph.web import compress
from kgraph.web.compress import MIN_BYTES, accepts_gzip

BIG = "kursk " * 400
"""2,400 bytes: worth compressing."""
GZIP = {"Accept-Encoding": "gzip"}
XFL = 8
"""Where a gzip header keeps its extra flags (RFC 1952): 4 when zlib's fastest level wrote it, 2 for its best."""


@pytest.fixture
def client(tmp_path: Path) -> Iterator[FlaskClient]:
    asset = tmp_path / "app.js"
    asset.write_text("const x = 1;\n" * 200)
    app = Flask(__name__)
    app.register_blueprint(compress.bp)

    @app.route("/text/<int:size>")
    def text(size: int) -> Response:
        return Response("k" * size, mimetype="text/plain")

    @app.route("/typed/<path:media_type>")
    def typed(media_type: str) -> Response:
        return Response(BIG, mimetype=media_type)

    @app.route("/tagged")
    def tagged() -> Response:
        response = Response(BIG, mimetype="application/json")
        response.set_etag("v1")
        return response

    @app.route("/streamed")
    def streamed() -> Response:
        return Response(iter([BIG, BIG]), mimetype="text/plain")

    @app.route("/encoded")
    def encoded() -> Response:
        return Response(BIG, mimetype="text/plain", headers={"Content-Encoding": "br"})

    @app.route("/empty")
    def empty() -> Response:
        return Response(status=204)

    @app.route("/asset")
    def static_asset() -> Response:
        return send_file(asset, mimetype="application/javascript")

    compress._cache.clear()
    yield app.test_client()
    compress._cache.clear()


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("GZIP", True),
        ("deflate, gzip;q=0.5", True),
        ("br;q=1.0, *;q=0.1", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        (None, False),
        (" , ;;, gzip;q=nonsense", False),
    ],
)
def test_accepts_gzip(header: str | None, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_an_explicit_refusal_of_gzip_wins_over_a_wildcard() -> None:
    assert accepts_gzip("gzip;q=0, *") is False


def test_a_large_text_body_is_gzipped_for_a_client_that_accepts_it(client: FlaskClient) -> None:
    response = client.get(f"/text/{MIN_BYTES}", headers=GZIP)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(response.data) == b"k" * MIN_BYTES
    assert response.headers["Content-Length"] == str(len(response.data))


def test_nothing_is_compressed_below_the_minimum_or_without_accept_encoding(client: FlaskClient) -> None:
    small = client.get(f"/text/{MIN_BYTES - 1}", headers=GZIP)
    assert "Content-Encoding" not in small.headers
    assert small.data == b"k" * (MIN_BYTES - 1)
    plain = client.get("/text/5000")
    assert "Content-Encoding" not in plain.headers
    assert plain.headers["Vary"] == "Accept-Encoding"
    assert len(plain.data) == 5000


@pytest.mark.parametrize(
    ("media_type", "compressed"),
    [
        ("application/sparql-results+json", True),
        ("application/n-triples", True),
        ("application/trig", True),
        ("application/sparql-query", True),
        ("image/svg+xml", True),
        ("text/csv", True),
        ("image/png", False),
        ("application/octet-stream", False),
    ],
)
def test_only_textual_media_types_are_compressed(client: FlaskClient, media_type: str, compressed: bool) -> None:
    response = client.get(f"/typed/{media_type}", headers=GZIP)
    assert (response.headers.get("Content-Encoding") == "gzip") is compressed


def test_a_compressed_bodys_etag_is_weak(client: FlaskClient) -> None:
    response = client.get("/tagged", headers=GZIP)
    assert response.headers["ETag"] == 'W/"v1"'
    assert client.get("/tagged").headers["ETag"] == '"v1"'


def test_head_204_and_already_encoded_responses_are_left_alone(client: FlaskClient) -> None:
    head = client.head(f"/text/{MIN_BYTES * 2}", headers=GZIP)
    assert "Content-Encoding" not in head.headers
    assert client.get("/empty", headers=GZIP).status_code == 204
    encoded = client.get("/encoded", headers=GZIP)
    assert encoded.headers["Content-Encoding"] == "br"
    assert encoded.data == BIG.encode()


def test_a_static_file_is_compressed_once_per_version_and_kept(client: FlaskClient) -> None:
    first = client.get("/asset", headers=GZIP)
    assert first.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(first.data) == b"const x = 1;\n" * 200
    assert first.headers["ETag"].startswith('W/"')
    [(path, etag)] = list(compress._cache)
    assert path == "/asset"
    assert first.headers["ETag"] == f'W/"{etag}"'
    assert client.get("/asset", headers=GZIP).data == first.data
    compress._cache[(path, etag)] = gzip.compress(b"kept")
    assert gzip.decompress(client.get("/asset", headers=GZIP).data) == b"kept"
    assert len(compress._cache) == 1


def test_answers_are_compressed_at_the_fastest_level_and_static_files_at_the_best(client: FlaskClient) -> None:
    answer = client.get(f"/text/{MIN_BYTES}", headers=GZIP).data
    streamed = client.get("/streamed", headers=GZIP).data
    asset = client.get("/asset", headers=GZIP).data
    assert (answer[XFL], streamed[XFL], asset[XFL]) == (4, 4, 2)
    assert gzip.decompress(streamed) == (BIG * 2).encode()
