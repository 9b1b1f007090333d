"""Large answers streamed over real HTTP: a running ``kgraph serve`` on the fixture project, read by requests.

An answer larger than 64 KiB goes to the client chunked as the query worker writes it; a smaller one is sent whole,
with its length. A stream that passes the byte limit midway is cut off (no terminating chunk), so the client sees
an incomplete answer rather than a short one, and the server goes on answering. A client that accepts gzip gets
the stream compressed piece by piece.
"""

from __future__ import annotations

import gzip
import json
from typing import TYPE_CHECKING

import pytest
import requests

from conftest import FIXTURE_PROJECT

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import LiveServer

ROWS = 3000
LARGE = f"SELECT ?a ?b ?c ?d WHERE {{ ?a ?b ?c . ?d ?e ?f }} ORDER BY ?a ?b ?c ?d LIMIT {ROWS}"
"""About 1 MB of JSON from the fixture's triples (a cross product, cut at ROWS rows)."""
JSON = {"Accept": "application/sparql-results+json"}


def test_a_large_answer_arrives_in_pieces_and_whole(fixture_server: LiveServer) -> None:
    with requests.post(fixture_server.endpoint, data={"query": LARGE}, headers=JSON, stream=True, timeout=60) as got:
        assert got.status_code == 200
        assert got.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in got.headers
        assert got.headers["Content-Type"] == "application/sparql-results+json"
        pieces = list(got.iter_content(chunk_size=None))
    assert len(pieces) > 1
    body = b"".join(pieces)
    assert len(json.loads(body)["results"]["bindings"]) == ROWS
    again = requests.post(fixture_server.endpoint, data={"query": LARGE}, headers=JSON, timeout=60)
    assert again.content == body


def test_a_large_answer_is_gzip_compressed_as_it_streams_for_a_client_that_accepts_it(
    fixture_server: LiveServer,
) -> None:
    plain = requests.get(
        fixture_server.endpoint, params={"query": LARGE}, headers={**JSON, "Accept-Encoding": "identity"}, timeout=60
    )
    assert "Content-Encoding" not in plain.headers
    with requests.get(
        fixture_server.endpoint, params={"query": LARGE}, headers={**JSON, "Accept-Encoding": "gzip"}, stream=True
    ) as got:
        assert got.status_code == 200
        assert (got.headers["Content-Encoding"], got.headers["Transfer-Encoding"]) == ("gzip", "chunked")
        assert got.headers["Cache-Control"] == "no-cache"
        assert "ETag" not in got.headers
        packed = got.raw.read(decode_content=False)
    assert len(packed) < len(plain.content) / 5
    assert gzip.decompress(packed) == plain.content
    assert len(json.loads(plain.content)["results"]["bindings"]) == ROWS


def test_a_small_answer_is_sent_whole_with_its_length(fixture_server: LiveServer) -> None:
    got = requests.post(fixture_server.endpoint, data={"query": "ASK { ?s ?p ?o }"}, headers=JSON, timeout=60)
    assert got.headers["Content-Length"] == str(len(got.content))
    assert "Transfer-Encoding" not in got.headers
    assert got.json()["boolean"] is True


@pytest.mark.slow
def test_a_stream_over_the_byte_limit_is_cut_off_and_the_server_answers_on(
    serve: Callable[[list[str], dict[str, str]], LiveServer],
) -> None:
    server = serve([], {"KGRAPH_PROJECT_DIR": str(FIXTURE_PROJECT), "KGRAPH_MAX_RESULT_BYTES": "200000"})
    with requests.post(server.endpoint, data={"query": LARGE}, headers=JSON, stream=True, timeout=60) as got:
        assert got.status_code == 200
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            b"".join(got.iter_content(chunk_size=None))
    after = requests.post(server.endpoint, data={"query": "ASK { ?s ?p ?o }"}, headers=JSON, timeout=60)
    assert after.status_code == 200 and after.json()["boolean"] is True
    metrics = requests.get(server.url + "/metrics", timeout=60).text
    assert 'kgraph_queries_total{outcome="error"} 1' in metrics.splitlines()
