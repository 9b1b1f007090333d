"""Tests of ``kgraph.link.search`` as plain functions: the resources worth linking, the batch query, the answers
attached to candidates, and the endpoint's failures worded (``kgraph link`` end to end is in ``tests/test_link.py``)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pyoxigraph as ox
import pytest

from conftest import free_port
from kgraph.config import RESOURCE_NS
from kgraph.link.search import (
    CANDIDATE_NS,
    USER_AGENT,
    WIKIDATA_ENTITY,
    Candidate,
    EndpointError,
    Entity,
    LinkOptions,
    ask,
    class_labels,
    collect,
    linkable_entities,
    search_query,
)
from kgraph.store import EmbeddedStore

SETTLEMENT = WIKIDATA_ENTITY + "Q486972"
REGION = WIKIDATA_ENTITY + "Q10864048"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
DATA = f"""
PREFIX kg: <https://w3id.org/kgraph/ontology#>
PREFIX kgr: <{RESOURCE_NS}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX wd: <{WIKIDATA_ENTITY}>
kg:Place kg:wikidataClass wd:Q486972 . wd:Q486972 rdfs:label "human settlement" .
kg:Settlement rdfs:subClassOf kg:Place .
kg:Person rdfs:label "person" .
kgr:sudzha a kg:Settlement ; rdfs:label "Sudzha" ; skos:altLabel "Sudzha town"@en .
kgr:korenevo a kg:Place ; rdfs:label "Korenevo"@en ; skos:exactMatch wd:Q1 .
kgr:syrskyi a kg:Person ; rdfs:label "Oleksandr Syrskyi" .
"""


def en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


def entity(name: str, *names: str, classes: tuple[str, ...] = (SETTLEMENT,)) -> Entity:
    return Entity(RESOURCE_NS + name, en(names[0]), tuple(en(n) for n in names), classes, False)


def row(name: str, item: str, via: str = LABEL, cls: str = SETTLEMENT, label: str | None = None) -> dict:
    found = {
        "name": {"type": "literal", "value": name, "xml:lang": "en"},
        "class": {"type": "uri", "value": cls},
        "item": {"type": "uri", "value": WIKIDATA_ENTITY + item},
        "via": {"type": "uri", "value": via},
    }
    if label is not None:
        found["itemLabel"] = {"type": "literal", "value": label, "xml:lang": "en"}
    return found


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    store = EmbeddedStore()
    store.add(ox.Quad(q.subject, q.predicate, q.object) for q in ox.parse(DATA, ox.RdfFormat.TURTLE))
    return store


def test_linkable_entities_are_those_of_a_mapped_kind_with_their_english_names(store: EmbeddedStore) -> None:
    assert linkable_entities(store) == [
        Entity(RESOURCE_NS + "korenevo", en("Korenevo"), (en("Korenevo"),), (SETTLEMENT,), True),
        Entity(RESOURCE_NS + "sudzha", en("Sudzha"), (en("Sudzha"), en("Sudzha town")), (SETTLEMENT,), False),
    ]


def test_class_labels_name_the_mapped_classes(store: EmbeddedStore) -> None:
    assert class_labels(store) == {SETTLEMENT: "human settlement"}
    assert linkable_entities(EmbeddedStore()) == []


def test_the_batch_query_asks_each_name_with_each_class_once() -> None:
    batch = [entity("sudzha", "Sudzha", classes=(SETTLEMENT, REGION)), entity("also-sudzha", "Sudzha")]
    query = search_query(batch)
    assert query.count("VALUES (?name ?class)") == 1
    values = query.split("VALUES (?name ?class) {\n", 1)[1].split("\n  }", 1)[0]
    assert values.splitlines() == [f'    ("Sudzha"@en <{REGION}>)', f'    ("Sudzha"@en <{SETTLEMENT}>)']
    assert "SERVICE" not in query and "wikibase:label" not in query


def test_answers_become_candidates_of_every_resource_with_that_name_and_class() -> None:
    sudzha = entity("sudzha", "Sudzha", "Sudzha town")
    other = entity("sudzha-river", "Sudzha", classes=(REGION,))
    found: dict[tuple[str, str], Candidate] = {}
    collect(
        [sudzha, other],
        [
            row("Sudzha", "Q1", label="Sudzha"),
            row("Sudzha town", "Q1", via=ALT),
            row("Sudzha town", "Q2", via=ALT),
            {"name": {"type": "literal", "value": "Sudzha"}, "item": {"type": "bnode", "value": "b0"}},
        ],
        found,
    )
    assert sorted(found) == [(sudzha.iri, WIKIDATA_ENTITY + "Q1"), (sudzha.iri, WIKIDATA_ENTITY + "Q2")]
    q1, q2 = found[(sudzha.iri, WIKIDATA_ENTITY + "Q1")], found[(sudzha.iri, WIKIDATA_ENTITY + "Q2")]
    assert (q1.item_label, q1.exact, q1.matched_label()) == ("Sudzha", True, en("Sudzha"))
    assert q1.labels == {(en("Sudzha"), "label"), (en("Sudzha town"), "alias")}
    assert (q2.item_label, q2.exact, q2.matched_label()) == (None, False, en("Sudzha town"))
    assert q1.iri == CANDIDATE_NS + "sudzha-Q1"


def test_a_candidate_iri_hashes_what_is_not_a_safe_local_name() -> None:
    odd = Candidate(Entity("https://example.org/x y", en("X"), (en("X"),), (), False), "https://example.org/Q 1", None)
    digests = [hashlib.sha256(iri.encode()).hexdigest()[:16] for iri in (odd.entity.iri, odd.item)]
    assert odd.iri == CANDIDATE_NS + "-".join(digests)
    assert odd.iri == Candidate(odd.entity, odd.item, "another label").iri


class _Endpoint(BaseHTTPRequestHandler):
    """Answers each POST with the next (status, body) of ``replies``, recording the requests."""

    replies: ClassVar[list[tuple[int, bytes]]] = []
    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(dict(self.headers))
        status, body = self.replies.pop(0)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if status == 503:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Endpoint.replies.clear()
    _Endpoint.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()
    server.server_close()


def test_ask_answers_the_bindings_and_says_who_is_asking(endpoint: str) -> None:
    _Endpoint.replies.append((200, b'{"head": {"vars": []}, "results": {"bindings": [{"x": {"type": "uri"}}]}}'))
    assert ask("SELECT * {}", LinkOptions(endpoint=endpoint)) == [{"x": {"type": "uri"}}]
    assert _Endpoint.seen[0]["User-Agent"] == USER_AGENT
    assert _Endpoint.seen[0]["Accept"] == "application/sparql-results+json"


def test_a_busy_endpoint_is_asked_again_then_answers(endpoint: str) -> None:
    _Endpoint.replies += [(503, b"busy"), (200, b'{"results": {"bindings": []}}')]
    assert ask("SELECT * {}", LinkOptions(endpoint=endpoint, retries=1, pause=0)) == []
    assert len(_Endpoint.seen) == 2


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ((400, b"Parse error: line 1\nmore"), "{endpoint} answered HTTP 400 Bad Request: Parse error: line 1"),
        ((500, b""), "{endpoint} answered HTTP 500 Internal Server Error"),
        ((200, b"<html>not json</html>"), "{endpoint} did not answer with SPARQL JSON results"),
        ((200, b'{"boolean": true}'), "{endpoint} did not answer with SPARQL JSON results"),
    ],
)
def test_an_endpoints_failure_is_one_line(endpoint: str, reply: tuple[int, bytes], message: str) -> None:
    _Endpoint.replies.append(reply)
    with pytest.raises(EndpointError) as raised:
        ask("SELECT * {}", LinkOptions(endpoint=endpoint, retries=0))
    assert str(raised.value) == message.format(endpoint=endpoint)


def test_an_unreachable_endpoint_is_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    with pytest.raises(EndpointError) as raised:
        ask("SELECT * {}", LinkOptions(endpoint=url, retries=0))
    assert str(raised.value) == f"cannot reach {url}: Connection refused"
