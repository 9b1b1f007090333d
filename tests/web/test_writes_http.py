"""Writes over real HTTP against ``kgraph serve``: token, validation gate, Graph Store Protocol, durability.

Each test starts its own server over ``tests/fixtures/writes`` with a token and a temporary data directory, so a
restart (or a ``kill -9``) over the same directory shows what survives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from processes import kill_9

if TYPE_CHECKING:
    from conftest import LiveServer

PROJECT = Path(__file__).parents[1] / "fixtures" / "writes"
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PREFIXES = (
    "PREFIX kg: <https://w3id.org/kgraph/ontology#>\n"
    "PREFIX kgr: <https://w3id.org/kgraph/id/>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)
CONTRIB = "https://w3id.org/kgraph/graph/contrib/contributor"
REFUSED = (
    "The write was refused; nothing was changed.\n"
    "kgr:x rdfs:label: A place needs a name (rdfs:label). (expected at least 1 value(s), found 0)\n"
    "1 problem found\n"
)

Serve = Callable[[list[str], dict[str, str]], "LiveServer"]


def place(name: str) -> str:
    """An update adding a valid settlement (3 asserted triples, 2 inferred)."""
    return (
        PREFIXES + f'INSERT DATA {{ kgr:{name} a kg:Settlement ; rdfs:label "{name}" ; kg:locatedIn kgr:kursk-oblast }}'
    )


def env(data_dir: Path, token: str | None = TOKEN) -> dict[str, str]:
    return {
        "KGRAPH_PROJECT_DIR": str(PROJECT),
        "KGRAPH_DATA_DIR": str(data_dir),
        "KGRAPH_TOKEN": token or "",
        "KGRAPH_TOKEN_FILE": "",
    }


def update(server: LiveServer, text: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(server.endpoint, data={"update": text}, headers=headers or AUTH, timeout=30)


def select(server: LiveServer, query: str, infer: bool = True) -> list[str]:
    """The rows of a one-variable SELECT, as CSV lines without the header."""
    params = {} if infer else {"infer": "false"}
    response = requests.post(
        server.endpoint, params=params, data={"query": PREFIXES + query}, headers={"Accept": "text/csv"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return sorted(response.text.splitlines()[1:])


def count(server: LiveServer) -> str:
    return select(server, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", infer=False)[0]


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> LiveServer:
    return serve([], env(tmp_path))


def test_writes_are_off_without_a_token(serve: Serve, tmp_path: Path) -> None:
    server = serve([], env(tmp_path, token=None))
    response = update(server, place("lgov"))
    assert (response.status_code, response.text) == (
        403,
        "Updates are disabled on this endpoint: it serves the graph read-only.\n",
    )
    put = requests.put(server.url + "/store?graph=http://example.org/g", data="", headers=AUTH, timeout=30)
    assert put.status_code == 403
    assert put.text.startswith("Writes are disabled on this server")


def test_a_missing_or_wrong_token_is_refused(server: LiveServer) -> None:
    missing = update(server, place("lgov"), headers={"Accept": "text/plain"})
    assert (missing.status_code, missing.headers["WWW-Authenticate"]) == (
        401,
        'Bearer realm="kgraph", Basic realm="kgraph", charset="UTF-8"',
    )
    assert missing.text == (
        "This write needs a token: send the header 'Authorization: Bearer <token>', "
        "or HTTP Basic with the token's name as user and the token as password.\n"
    )
    wrong = update(server, place("lgov"), headers={"Authorization": "Bearer s3cret-tokeN"})
    assert (wrong.status_code, wrong.text) == (403, "The token is not valid for writes on this server.\n")
    in_url = requests.post(server.endpoint + "?access_token=" + TOKEN, data={"update": place("x")}, timeout=30)
    assert in_url.status_code == 400
    assert select(server, "SELECT ?s WHERE { ?s a kg:Settlement }") == ["https://w3id.org/kgraph/id/sudzha"]


def test_an_update_with_a_bracket_of_the_wrong_kind_is_refused_naming_it(server: LiveServer) -> None:
    before = count(server)
    response = update(server, PREFIXES + "INSERT DATA {\n  kgr:lgov kg:locatedIn (kgr:kursk-oblast }")
    assert (response.status_code, response.text) == (
        400,
        f"Syntax error at line {PREFIXES.count(chr(10)) + 2}, column 44 (after ':locatedIn "
        f"(kgr:kursk-oblast }}'): '}}' cannot close the '(' opened at line {PREFIXES.count(chr(10)) + 2}, column 25, "
        "which needs ')'\n",
    )
    assert count(server) == before


def test_an_update_with_a_relative_iri_is_located_in_the_text_as_written(server: LiveServer) -> None:
    # The server resolves <g> against its own URL with a BASE line of its own, which the position leaves out: the
    # same column as with absolute IRIs of the same length ("INSERT DATA { GRAPH <g:> { <s:> <p:> } }").
    before = count(server)
    response = update(server, "INSERT DATA { GRAPH <g> { <s> <p> } }")
    assert (response.status_code, response.text) == (
        400,
        'Syntax error at line 1, column 35 (after \'ERT DATA { GRAPH <g> { <s> <p>\'): expected one of "$", "\'", '
        '"\'\'\'", "(", "+", "-", ".", ":", "<", "<<", "<<(", "?", ", ...\n',
    )
    assert count(server) == before


def test_a_valid_write_is_visible_to_the_next_query_with_its_inferences(server: LiveServer) -> None:
    response = update(server, place("lgov"))
    assert response.status_code == 200
    assert response.text.endswith(": 3 triple(s) added, 0 removed; inference: 2 added, 0 removed\n")
    assert select(server, "SELECT ?p WHERE { kgr:lgov kg:locatedIn ?p }") == [
        "https://w3id.org/kgraph/id/kursk-oblast",
        "https://w3id.org/kgraph/id/russia",
    ]
    assert select(server, "SELECT ?p WHERE { kgr:lgov kg:locatedIn ?p }", infer=False) == [
        "https://w3id.org/kgraph/id/kursk-oblast"
    ]
    assert select(server, f"SELECT ?s WHERE {{ GRAPH <{CONTRIB}> {{ ?s a kg:Settlement }} }}") == [
        "https://w3id.org/kgraph/id/lgov"
    ]
    assert select(
        server, "SELECT ?who WHERE { ?w <http://www.w3.org/ns/prov#wasAssociatedWith> ?who }", infer=False
    ) == ["https://w3id.org/kgraph/agent/contributor"]


def test_an_invalid_write_is_refused_with_the_report_and_the_count_unchanged(server: LiveServer) -> None:
    before = count(server)
    bad = PREFIXES + "INSERT DATA { kgr:x a kg:Settlement ; kg:locatedIn kgr:russia }"
    response = update(server, bad)
    assert (response.status_code, response.text) == (422, REFUSED)
    as_json = update(server, bad, headers={**AUTH, "Accept": "application/json"})
    assert as_json.status_code == 422
    assert as_json.json()["violations"][0]["message"] == (
        "A place needs a name (rdfs:label). (expected at least 1 value(s), found 0)"
    )
    assert count(server) == before
    assert select(server, "SELECT ?s WHERE { ?s a kg:Place }") == [
        "https://w3id.org/kgraph/id/kursk-oblast",
        "https://w3id.org/kgraph/id/russia",
        "https://w3id.org/kgraph/id/sudzha",
    ]


def test_load_and_service_are_refused(server: LiveServer) -> None:
    load = update(server, "LOAD <file:///etc/passwd>")
    assert load.status_code == 400
    assert load.text.startswith("LOAD would make the server read files or fetch URLs; it is not allowed.")
    service = update(server, "INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }")
    assert service.status_code == 400
    assert service.text.startswith("SERVICE <http://127.0.0.1:1/> is not allowed")


def test_graph_store_protocol(server: LiveServer) -> None:
    store, g = server.url + "/store", "http://example.org/g"
    turtle = {**AUTH, "Content-Type": "text/turtle"}
    body = '<https://w3id.org/kgraph/id/a> <http://example.org/p> [ <http://example.org/q> "1" ] .'
    assert requests.get(store, params={"graph": g}, timeout=30).status_code == 404
    assert requests.put(store, params={"graph": g}, data=body, headers=turtle, timeout=30).status_code == 201
    assert requests.put(store, params={"graph": g}, data=body, headers=turtle, timeout=30).status_code == 200
    nt = '<https://w3id.org/kgraph/id/b> <http://example.org/p> "2" .\n'
    posted = requests.post(
        store, params={"graph": g}, data=nt, headers={**AUTH, "Content-Type": "application/n-triples"}, timeout=30
    )
    assert posted.status_code == 200
    got = requests.get(store, params={"graph": g}, headers={"Accept": "application/n-triples"}, timeout=30)
    assert got.status_code == 200
    assert len(got.text.splitlines()) == 3
    assert nt in got.text
    assert requests.head(store, params={"graph": g}, timeout=30).status_code == 200
    default = requests.get(store, params={"default": ""}, headers={"Accept": "application/n-triples"}, timeout=30)
    assert "<https://w3id.org/kgraph/id/b>" in default.text
    assert requests.delete(store, params={"graph": g}, headers=AUTH, timeout=30).status_code == 200
    assert requests.delete(store, params={"graph": g}, headers=AUTH, timeout=30).status_code == 404


def test_graph_store_refusals(server: LiveServer) -> None:
    store = server.url + "/store"
    files = "https://w3id.org/kgraph/graph/data/ttl/places.ttl"
    deleted = requests.delete(store, params={"graph": files}, headers=AUTH, timeout=30)
    assert deleted.status_code == 403
    assert "read-only over HTTP" in deleted.text
    wrong_type = requests.post(
        store, params={"default": ""}, data="x", headers={**AUTH, "Content-Type": "text/html"}, timeout=30
    )
    assert wrong_type.status_code == 415
    broken = requests.post(
        store, params={"default": ""}, data="<a> <b> .", headers={**AUTH, "Content-Type": "text/turtle"}, timeout=30
    )
    assert broken.status_code == 400
    assert requests.get(store, timeout=30).status_code == 400
    assert requests.delete(store, params={"default": ""}, headers=AUTH, timeout=30).status_code == 403


def test_a_write_survives_a_restart(serve: Serve, tmp_path: Path) -> None:
    first = serve([], env(tmp_path))
    assert update(first, place("lgov")).status_code == 200
    first.stop()
    second = serve([], env(tmp_path))
    assert select(second, "SELECT ?p WHERE { kgr:lgov kg:locatedIn ?p }") == [
        "https://w3id.org/kgraph/id/kursk-oblast",
        "https://w3id.org/kgraph/id/russia",
    ]


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_write_and_leaves_no_partial_one(serve: Serve, tmp_path: Path) -> None:
    server = serve([], env(tmp_path))
    acknowledged: list[str] = []
    first_ack = threading.Event()

    def write(number: int) -> None:
        try:
            if update(server, place(f"w{number}")).status_code == 200:
                acknowledged.append(f"w{number}")
                first_ack.set()
        except requests.RequestException:
            pass  # the server was killed while this write was in flight

    with ThreadPoolExecutor(4) as pool:
        for number in range(40):
            pool.submit(write, number)
        assert first_ack.wait(30)
        kill_9(server)
    restarted = serve([], env(tmp_path))
    present = select(restarted, f"SELECT ?s WHERE {{ GRAPH <{CONTRIB}> {{ ?s a kg:Settlement }} }}")
    assert {f"https://w3id.org/kgraph/id/{name}" for name in acknowledged} <= set(present)
    partial = "SELECT ?s WHERE { ?s a kg:Settlement FILTER NOT EXISTS { ?s rdfs:label ?l ; kg:locatedIn ?o } }"
    assert select(restarted, partial) == []


@pytest.mark.slow
def test_concurrent_readers_never_see_a_partial_write(server: LiveServer) -> None:
    partial = (
        "SELECT ?s WHERE { ?s a kg:Settlement "
        "FILTER NOT EXISTS { ?s rdfs:label ?l ; kg:locatedIn kgr:kursk-oblast, kgr:russia ; a kg:Place } }"
    )
    done = threading.Event()
    seen: list[list[str]] = []

    def read() -> None:
        while not done.is_set():
            seen.append(select(server, partial))

    with ThreadPoolExecutor(4) as pool:
        readers = [pool.submit(read) for _ in range(3)]
        for number in range(15):
            assert update(server, place(f"c{number}")).status_code == 200
        done.set()
        for reader in readers:
            reader.result()
    assert seen
    assert all(rows == [] for rows in seen)
    assert len(select(server, f"SELECT ?s WHERE {{ GRAPH <{CONTRIB}> {{ ?s a kg:Settlement }} }}")) == 15


def test_using_graph_uri_and_direct_post(server: LiveServer) -> None:
    tag = PREFIXES + 'INSERT { ?s rdfs:comment "seen" } WHERE { ?s a kg:Settlement }'
    files = "https://w3id.org/kgraph/graph/data/ttl/places.ttl"
    direct = requests.post(
        server.endpoint,
        params={"using-graph-uri": files},
        data=tag.encode(),
        headers={**AUTH, "Content-Type": "application/sparql-update"},
        timeout=30,
    )
    assert direct.status_code == 200
    assert direct.text.endswith(": 1 triple(s) added, 0 removed; inference: 0 added, 0 removed\n")
    form = requests.post(server.endpoint, data={"update": tag, "using-graph-uri": files}, headers=AUTH, timeout=30)
    assert form.text == "nothing to change: the graph already was as the write asks\n"
    assert select(server, f"SELECT ?s WHERE {{ GRAPH <{CONTRIB}> {{ ?s rdfs:comment 'seen' }} }}") == [
        "https://w3id.org/kgraph/id/sudzha"
    ]


ARTICLE_PREFIXES = PREFIXES + (
    "PREFIX prov: <http://www.w3.org/ns/prov#>\nPREFIX src: <https://w3id.org/kgraph/id/source/>\n"
)


@pytest.mark.slow
def test_a_contributor_adds_a_reported_event_to_the_article_graph(serve: Serve, tmp_path: Path) -> None:
    """The issue's "done when": a new event over HTTP, seen at once with its inferences; a bad one refused."""
    server = serve([], {**env(tmp_path), "KGRAPH_PROJECT_DIR": str(Path(__file__).parents[2])})
    event = ARTICLE_PREFIXES + (
        'INSERT DATA { kgr:new-event a kg:Event ; rdfs:label "A new reported event"@en ; kg:hasPlace kgr:sudzha ;'
        " kg:participant kgr:ukrainian-forces ; prov:wasDerivedFrom src:kursk-article }"
    )
    assert update(server, event).status_code == 200
    assert select(server, "SELECT ?p WHERE { kgr:new-event kg:hasPlace|kg:occurredIn ?p }") == [
        "https://w3id.org/kgraph/id/kursk-oblast",
        "https://w3id.org/kgraph/id/russia",
        "https://w3id.org/kgraph/id/sudzha",
    ]
    before = count(server)
    bad = ARTICLE_PREFIXES + (
        'INSERT DATA { kgr:bad-event a kg:Event ; rdfs:label "A bad event"@en ; kg:hasPlace kgr:ukrainian-forces ;'
        " prov:wasDerivedFrom src:kursk-article }"
    )
    refused = update(server, bad)
    assert refused.status_code == 422
    assert refused.text.splitlines()[1:4] == [
        "kgr:ukrainian-forces is both a kg:Organization and a kg:Place, which are disjoint (ontology/kgraph.ttl)",
        "    kgr:ukrainian-forces rdf:type kg:Organization",
        "    kgr:ukrainian-forces rdf:type kg:Place",
    ]
    assert count(server) == before


def test_a_write_changes_the_etag_of_what_it_changes(server: LiveServer) -> None:
    dump = server.url + "/dumps/asserted.nt"
    before = requests.get(dump, timeout=30)
    etag = before.headers["ETag"]
    unchanged = requests.get(dump, headers={"If-None-Match": etag}, timeout=30)
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert update(server, place("lgov")).status_code == 200
    after = requests.get(dump, headers={"If-None-Match": etag}, timeout=30)
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    assert b"<https://w3id.org/kgraph/id/lgov>" in after.content


def test_writes_keep_working_after_one_that_needs_owlrl_also_after_a_restart(serve: Serve, tmp_path: Path) -> None:
    same_as = PREFIXES + (
        "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n"
        'INSERT DATA { kgr:lgov a kg:Settlement ; rdfs:label "Lgov" ; owl:sameAs kgr:sudzha }'
    )
    first = serve([], env(tmp_path))
    assert update(first, same_as).status_code == 200
    assert update(first, place("oboyan")).status_code == 200
    first.stop()
    second = serve([], env(tmp_path))  # replays both writes from the journal
    response = update(second, place("rylsk"))
    assert (
        response.status_code,
        response.text.endswith("3 triple(s) added, 0 removed; inference: 2 added, 0 removed\n"),
    ) == (200, True)
    assert select(second, "SELECT ?p WHERE { kgr:lgov kg:locatedIn ?p }") == [
        "https://w3id.org/kgraph/id/kursk-oblast",
        "https://w3id.org/kgraph/id/russia",
    ]


def test_a_write_that_changes_the_ontologys_meaning_is_refused(server: LiveServer) -> None:
    before = count(server)
    response = update(server, PREFIXES + "INSERT DATA { kgr:alliedWith rdfs:subPropertyOf kg:locatedIn }")
    assert (response.status_code, response.text) == (
        422,
        "The write was refused; nothing was changed.\n"
        "The write adds a schema statement (a rdfs:subPropertyOf axiom): contributions are data, the ontology changes "
        "by pull request to ontology/, checked by kgraph validate\n"
        "    kgr:alliedWith rdfs:subPropertyOf kg:locatedIn\n"
        "1 problem found\n",
    )
    put = requests.put(
        server.url + "/store?graph=http://example.org/g",
        data="<https://w3id.org/kgraph/ontology#Place> <http://www.w3.org/2000/01/rdf-schema#subClassOf> "
        "<https://w3id.org/kgraph/ontology#Person> .",
        headers={**AUTH, "Content-Type": "application/n-triples", "Accept": "application/json"},
        timeout=30,
    )
    assert put.status_code == 422
    assert put.json()["errors"][0]["triples"] == ["kg:Place rdfs:subClassOf kg:Person"]
    assert count(server) == before


def test_the_inferred_graph_cannot_be_laundered_into_an_asserted_one(server: LiveServer) -> None:
    before = count(server)
    response = update(server, "ADD <https://w3id.org/kgraph/graph/inferred> TO <http://example.org/g1>")
    assert response.status_code == 403
    assert response.text.startswith(
        "The update names <https://w3id.org/kgraph/graph/inferred>, the inferred graph: the server derives it, so it "
        "is never the source of a write"
    )
    assert count(server) == before
    assert select(server, "SELECT ?p WHERE { kgr:sudzha kg:locatedIn ?p }", infer=False) == [
        "https://w3id.org/kgraph/id/kursk-oblast"
    ]


def chain(count: int) -> str:
    """An update adding ``count`` named places, each located in the next: the transitive closure is quadratic."""
    places = " ".join(f'kgr:p{i} a kg:Place ; rdfs:label "P{i}" ; kg:locatedIn kgr:p{i + 1} .' for i in range(count))
    return PREFIXES + f'INSERT DATA {{ {places} kgr:p{count} a kg:Place ; rdfs:label "P{count}" }}'


def test_writes_are_bounded_in_time_and_in_inferred_triples(serve: Serve, tmp_path: Path) -> None:
    server = serve(["--write-timeout", "0.3", "--max-write-inferred", "100"], env(tmp_path))
    before = count(server)
    too_many = update(server, chain(20))  # 20 * 21 / 2 - 20 = 190 inferred
    assert too_many.status_code == 422
    assert too_many.text.endswith(
        "inferred triples; one write may add 100 (--max-write-inferred). Nothing was changed; send it in smaller "
        "parts, or propose the data by pull request.\n"
    )
    too_long = update(server, chain(600))
    assert too_long.status_code == 503
    assert "one write may take 0.3 s (--write-timeout)" in too_long.text
    assert count(server) == before
    assert update(server, chain(10)).text.endswith(": 32 triple(s) added, 0 removed; inference: 45 added, 0 removed\n")
