"""The dumps over real HTTP: built once per data version into files, served with their ETag, gzip when accepted,
listed at ``/dumps/``, rebuilt after a write.

One ``kgraph serve`` over the writes fixture project with a token and a temporary data directory (where the dump
files are written). Each test names what it guards: without the cache the files would not exist and the ETag would
not survive a rebuild, without the gzip copies there would be no Content-Encoding, without the hook a write would
leave the dumps stale.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from conftest import LiveServer
from kgraph.store import EmbeddedStore
from kgraph.web.dumps import DumpJob

WRITES = Path(__file__).parents[1] / "fixtures" / "writes"
TOKEN = "dump-test-token"
NEW = (
    "PREFIX kg: <https://w3id.org/kgraph/ontology#>\nPREFIX kgr: <https://w3id.org/kgraph/id/>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    'INSERT DATA { kgr:lgov a kg:Settlement ; rdfs:label "lgov" ; kg:locatedIn kgr:kursk-oblast }'
)
NAMES = [f"{name}.{suffix}" for name in ("asserted", "inferred") for suffix in ("ttl", "nt", "trig", "jsonld")]
PLAIN = {"Accept-Encoding": "identity"}


@pytest.fixture
def server(serve: Callable[[list[str], dict[str, str]], LiveServer], tmp_path: Path) -> LiveServer:
    env = {
        "KGRAPH_PROJECT_DIR": str(WRITES),
        "KGRAPH_DATA_DIR": str(tmp_path),
        "KGRAPH_TOKEN": TOKEN,
        "KGRAPH_TOKEN_FILE": "",
    }
    return serve([], env)


def _get(server: LiveServer, path: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.get(server.url + path, headers=headers or PLAIN, timeout=60)


def test_dumps_are_files_served_with_a_stable_etag(server: LiveServer, tmp_path: Path) -> None:
    """Guards the build-once cache: the dump is a file in the data directory, two downloads carry the same ETag and
    a revalidation gets an empty 304."""
    first = _get(server, "/dumps/asserted.nt")
    second = _get(server, "/dumps/asserted.nt")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.headers["ETag"] == second.headers["ETag"]
    [built] = list(tmp_path.glob("dumps/*/*/kgraph-asserted.nt"))
    assert built.read_bytes() == first.content
    revalidated = _get(server, "/dumps/asserted.nt", {**PLAIN, "If-None-Match": first.headers["ETag"]})
    assert (revalidated.status_code, revalidated.content) == (304, b"")


def test_the_dumps_are_built_in_the_dumps_folder_setting_not_the_data_directory(
    serve: Callable[[list[str], dict[str, str]], LiveServer], tmp_path: Path
) -> None:
    data_dir, dumps_dir = tmp_path / "data", tmp_path / "elsewhere" / "dumps"
    server = serve(
        ["--dumps-dir", str(dumps_dir)],
        {"KGRAPH_PROJECT_DIR": str(WRITES), "KGRAPH_DATA_DIR": str(data_dir), "KGRAPH_TOKEN": TOKEN},
    )
    downloaded = _get(server, "/dumps/inferred.ttl")
    assert downloaded.status_code == 200
    [built] = list(dumps_dir.glob("*/*/kgraph-inferred.ttl"))
    assert built.read_bytes() == downloaded.content
    assert not (data_dir / "dumps").exists()


@pytest.mark.parametrize("name", NAMES)
def test_gzip_is_sent_to_clients_that_accept_it(server: LiveServer, name: str) -> None:
    """Guards the precompressed copies: Content-Encoding gzip, the same bytes once decompressed, another ETag."""
    plain = _get(server, f"/dumps/{name}")
    raw = requests.get(server.url + f"/dumps/{name}", headers={"Accept-Encoding": "gzip"}, timeout=60, stream=True)
    body = raw.raw.read(decode_content=False)
    assert raw.headers["Content-Encoding"] == "gzip"
    assert raw.headers["Vary"] == "Accept-Encoding"
    assert int(raw.headers["Content-Length"]) == len(body)
    assert gzip.decompress(body) == plain.content
    assert raw.headers["ETag"] != plain.headers["ETag"]
    assert "Content-Encoding" not in plain.headers


def test_the_jsonld_dump_names_the_context_of_the_server_asked(server: LiveServer) -> None:
    """Guards the per-request context line spliced before the built JSON-LD file."""
    document = json.loads(_get(server, "/dumps/asserted.jsonld").content)
    assert document["@context"] == server.url + "/dumps/context.jsonld"
    proxied = _get(server, "/dumps/asserted.jsonld", {**PLAIN, "Host": "kgraph.example", "X-Forwarded-Proto": "https"})
    assert json.loads(proxied.content)["@context"] == "https://kgraph.example/dumps/context.jsonld"
    assert proxied.headers["ETag"] != _get(server, "/dumps/asserted.jsonld").headers["ETag"]


def test_the_dumps_folder_lists_every_dump_with_its_size(server: LiveServer) -> None:
    """Guards ``/dumps/``: JSON when asked for (sizes as downloaded), HTML for browsers, instead of 404."""
    listed = _get(server, "/dumps/", {"Accept": "application/json"})
    assert listed.status_code == 200
    rows = listed.json()["dumps"]
    assert [f"{row['name']}.{row['format']}" for row in rows] == NAMES
    for row in rows:
        assert row["url"] == f"{server.url}/dumps/{row['name']}.{row['format']}"
        assert row["bytes"] == len(_get(server, f"/dumps/{row['name']}.{row['format']}").content)
    page = _get(server, "/dumps/", {"Accept": "text/html"})
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert f'<a href="{server.url}/dumps/inferred.trig">inferred.trig</a>' in page.text


def test_a_write_rebuilds_the_dumps(server: LiveServer) -> None:
    """Guards the rebuild after a write: the new triple is in the next dump, under a new ETag."""
    before = _get(server, "/dumps/asserted.nt")
    written = requests.post(
        server.endpoint, data={"update": NEW}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    assert written.status_code == 200, written.text
    label = b'<https://w3id.org/kgraph/id/lgov> <http://www.w3.org/2000/01/rdf-schema#label> "lgov" .'
    deadline = time.monotonic() + 60
    after = _get(server, "/dumps/asserted.nt")
    while label not in after.content and time.monotonic() < deadline:
        time.sleep(0.2)
        after = _get(server, "/dumps/asserted.nt")
    assert label in after.content
    assert after.headers["ETag"] != before.headers["ETag"]
    triples = set(ox.parse(after.content, format=ox.RdfFormat.N_TRIPLES))
    assert set(ox.parse(before.content, format=ox.RdfFormat.N_TRIPLES)) < triples


def test_a_graph_with_a_triple_term_is_refused_by_the_jsonld_dump_with_a_message(tmp_path: Path) -> None:
    """JSON-LD 1.1 has no RDF 1.2 triple terms: the build says so (it was an AssertionError)."""
    store = EmbeddedStore()
    graph = "https://w3id.org/kgraph/graph/x"
    store.update(f'VERSION "1.2" INSERT DATA {{ GRAPH <{graph}> {{ <urn:r> <urn:p> <<( <urn:s> <urn:p> "o" )>> }} }}')
    job = DumpJob(str(tmp_path / "1"), {"asserted": [graph]}, {}, {})
    status, message = job.run(store)
    assert (status, message) == (
        "error",
        'JSON-LD cannot hold the RDF 1.2 triple term <<( <urn:s> <urn:p> "o" )>>',
    )
