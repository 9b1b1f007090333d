"""The W3C SPARQL 1.1 Protocol and Graph Store Protocol test cases, each sent as its manifest sends it.

Every case of ``sparql/sparql11/protocol/manifest.ttl`` and ``sparql/sparql11/http-rdf-update/manifest.ttl`` (in the
W3C ``rdf-tests`` repository) is a test here: the same method, path, headers and body, and the outcome the manifest
expects. Each runs against two real ``kgraph serve`` processes with a write token: one serving one's own data
(``--own-data``, every graph writable), where every case passes as written; and the article server (the fixture
project), where the cases that would change the project's read-only graphs (CLEAR ALL, DROP ALL, PUT of the default
graph) are refused with 403 naming the graph, and every other case passes as written.

The manifests' example graphs are loaded with the Graph Store Protocol first (``ut:graphData``). Graph Store cases that
follow one another in the manifest (a PUT, then a GET of it) repeat the earlier requests, each under its own graph
path, so that each test stands alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import rdflib
import requests
from rdflib.compare import isomorphic

from conftest import FIXTURE_PROJECT, LiveServer, start_server

TOKEN = "w3c-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KASEI = "http://kasei.us/2009/09/sparql/data/"
DATA = {
    n: f"<{KASEI}data{n}.rdf> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://xmlns.com/foaf/0.1/Document> ."
    for n in (1, 2, 3)
}
TABULAR = ("application/sparql-results+xml", "application/sparql-results+json", "text/csv", "text/tab-separated-values")
BOOLEAN = ("application/sparql-results+xml", "application/sparql-results+json")
RDF = ("application/rdf+xml", "text/turtle", "application/n-triples")
READ_ONLY = "The write would change <https://w3id.org/kgraph/graph/"
FOAF_V = "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n@prefix v: <http://www.w3.org/2006/vcard/ns#> .\n"


@pytest.fixture(scope="module", params=["own-data", "article"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``kgraph serve`` with a write token: over one's own data (no project files), or over the fixture project."""
    data_dir: Path = tmp_path_factory.mktemp("w3c-" + request.param)
    env = {"KGRAPH_TOKEN": TOKEN, "KGRAPH_TOKEN_FILE": "", "KGRAPH_DATA_DIR": str(data_dir)}
    if request.param == "own-data":
        started = start_server(["--own-data"], env)
    else:
        started = start_server([], {**env, "KGRAPH_PROJECT_DIR": str(FIXTURE_PROJECT)})
    started.mode = request.param  # type: ignore[attr-defined]
    yield started
    started.stop()


def own(server: LiveServer) -> bool:
    return server.mode == "own-data"  # type: ignore[attr-defined]


def load_graph_data(server: LiveServer, *numbers: int) -> None:
    """``ut:graphData``: each example graph ``dataN.rdf`` holds its one triple (a PUT: the same state each time)."""
    for n in numbers:
        response = requests.put(
            server.url + "/store",
            params={"graph": f"{KASEI}data{n}.rdf"},
            data=DATA[n],
            headers={**AUTH, "Content-Type": "application/n-triples"},
            timeout=30,
        )
        assert response.status_code in (200, 201), response.text


def send(
    server: LiveServer, method: str, path: str, *, body: str | bytes | None = None, **headers: str
) -> requests.Response:
    """One manifest request: the manifest's ``/sparql/`` prefix is replaced by this server's endpoint, as it says."""
    url = server.endpoint + path.removeprefix("/")
    return requests.request(
        method, url, data=body, headers={k.replace("_", "-"): v for k, v in headers.items()}, timeout=30
    )


def media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip()


def boolean(response: requests.Response) -> bool:
    """The answer of an ASK result (``mf:expectedFormat "boolean"``), from JSON or XML."""
    assert response.status_code == 200, response.text
    assert media_type(response) in BOOLEAN
    if media_type(response).endswith("json"):
        return response.json()["boolean"]
    return "<boolean>true</boolean>" in response.text


# --- protocol: queries ---

ASK_DATA12 = f"ASK {{ <{KASEI}data1.rdf> a ?type . <{KASEI}data2.rdf> a ?type . }}"
ASK_NAMED12 = f"ASK {{ GRAPH ?g1 {{ <{KASEI}data1.rdf> a ?type }} GRAPH ?g2 {{ <{KASEI}data2.rdf> a ?type }} }}"
DATA0 = f"default-graph-uri={KASEI}data0.rdf"


def test_query_post_form(server: LiveServer) -> None:
    response = send(
        server, "POST", "/?" + DATA0, body="query=ASK%20%7B%7D", content_type="application/x-www-form-urlencoded"
    )
    assert boolean(response) is True


@pytest.mark.parametrize(
    ("method", "param", "query"),
    [
        ("GET", "default-graph-uri", ASK_DATA12),
        ("POST", "default-graph-uri", ASK_DATA12),
        ("POST", "named-graph-uri", ASK_NAMED12),
        ("GET", "named-graph-uri", ASK_NAMED12),
    ],
    ids=[
        "query_dataset_default_graphs_get",
        "query_dataset_default_graphs_post",
        "query_dataset_named_graphs_post",
        "query_dataset_named_graphs_get",
    ],
)
def test_query_dataset_graphs(server: LiveServer, method: str, param: str, query: str) -> None:
    load_graph_data(server, 1, 2)
    path = f"/?{param}={quote(KASEI, safe='')}data1.rdf&{param}={quote(KASEI, safe='')}data2.rdf"
    if method == "GET":
        response = send(server, "GET", f"{path}&query={quote(query, safe='')}")
    else:
        response = send(server, "POST", path, body=query, content_type="application/sparql-query")
    assert boolean(response) is True


def test_query_dataset_full(server: LiveServer) -> None:
    load_graph_data(server, 1, 2, 3)
    path = f"/?default-graph-uri={KASEI}data3.rdf&named-graph-uri={KASEI}data1.rdf&named-graph-uri={KASEI}data2.rdf"
    query = (
        f"ASK {{\n  <{KASEI}data3.rdf> a ?type\n  GRAPH ?g1 {{ <{KASEI}data1.rdf> a ?type }}\n"
        f"  GRAPH ?g2 {{ <{KASEI}data2.rdf> a ?type }}\n}}"
    )
    assert boolean(send(server, "POST", path, body=query, content_type="application/sparql-query")) is True


def test_query_multiple_dataset(server: LiveServer) -> None:
    load_graph_data(server, 1, 2, 3)
    path = f"/?named-graph-uri={KASEI}data1.rdf&named-graph-uri={KASEI}data2.rdf"
    query = ASK_NAMED12.replace("ASK {", f"ASK FROM <{KASEI}data3.rdf> {{", 1)
    assert boolean(send(server, "POST", path, body=query, content_type="application/sparql-query")) is True


def test_query_get(server: LiveServer) -> None:
    assert boolean(send(server, "GET", "/?query=ASK%20%7B%7D&" + DATA0)) is True


@pytest.mark.parametrize(
    ("query", "formats"),
    [
        ("SELECT (1 AS ?value) {}", TABULAR),
        ("ASK {}", BOOLEAN),
        ("DESCRIBE <http://example.org/>", RDF),
        ("CONSTRUCT { <s> <p> 1 } WHERE {}", RDF),
    ],
    ids=["select", "ask", "describe", "construct"],
)
def test_query_content_type(server: LiveServer, query: str, formats: tuple[str, ...]) -> None:
    response = send(server, "POST", "/?" + DATA0, body=query, content_type="application/sparql-query")
    assert response.status_code == 200, response.text
    assert media_type(response) in formats


def test_query_post_direct(server: LiveServer) -> None:
    assert boolean(send(server, "POST", "/", body="ASK {}", content_type="application/sparql-query")) is True


# --- protocol: updates ---

UPDATE_PREFIXES = "PREFIX dc: <http://purl.org/dc/terms/>\nPREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"
INSERT_123 = (
    "INSERT DATA {\n"
    + "".join(f"    GRAPH <{KASEI}data{n}.rdf> {{ <{KASEI}data{n}.rdf> a foaf:Document }}\n" for n in (1, 2, 3))
    + "} ;\n"
)


def _update_then_ask(server: LiveServer, using: str, update: str, ask: str) -> None:
    """A dataset update case: the update (with ``using``) then the ASK; refused with 403 on the article server."""
    done = send(server, "POST", "/?" + using, body=update, content_type="application/sparql-update", **AUTH)
    if own(server):
        assert done.status_code == 200, done.text
        assert boolean(send(server, "POST", "/", body=ask, content_type="application/sparql-query")) is True
    else:
        assert done.status_code == 403
        assert done.text.startswith(READ_ONLY)


def test_update_dataset_default_graph(server: LiveServer) -> None:
    update = (
        UPDATE_PREFIXES
        + f"CLEAR ALL ;\nINSERT DATA {{\n    GRAPH <{KASEI}data1.rdf> {{\n        <{KASEI}data1.rdf> a foaf:Document\n"
        "    }\n} ;\nINSERT {\n    GRAPH <http://example.org/protocol-update-dataset-test/> {\n"
        "        ?s a dc:BibliographicResource\n    }\n}\nWHERE {\n    ?s a foaf:Document\n}"
    )
    ask = (
        "ASK {\n    GRAPH <http://example.org/protocol-update-dataset-test/> {\n"
        f"        <{KASEI}data1.rdf> a <http://purl.org/dc/terms/BibliographicResource>\n    }}\n}}"
    )
    _update_then_ask(server, f"using-graph-uri={KASEI}data1.rdf", update, ask)


def _ask_12_not_3(graph: str, third: str) -> str:
    bib = "a <http://purl.org/dc/terms/BibliographicResource>"
    return (
        f"ASK {{\n    GRAPH <{graph}> {{\n        <{KASEI}data1.rdf> {bib} .\n"
        f"        <{KASEI}data2.rdf> {bib} .\n    }}\n"
        f"    FILTER NOT EXISTS {{\n        GRAPH <{graph}> {{\n            {third}\n        }}\n    }}\n}}"
    )


@pytest.mark.parametrize(
    ("graph", "using", "where"),
    [
        (
            "http://example.org/protocol-update-dataset-graphs-test/",
            f"using-graph-uri={KASEI}data1.rdf&using-graph-uri={KASEI}data2.rdf",
            "WHERE {\n    ?s a foaf:Document\n}",
        ),
        (
            "http://example.org/protocol-update-dataset-named-graphs-test/",
            f"using-named-graph-uri={KASEI}data1.rdf&using-named-graph-uri={KASEI}data2.rdf",
            "WHERE {\n    GRAPH ?g {\n        ?s a foaf:Document\n    }\n}",
        ),
    ],
    ids=["update_dataset_default_graphs", "update_dataset_named_graphs"],
)
def test_update_dataset_graphs(server: LiveServer, graph: str, using: str, where: str) -> None:
    update = (
        UPDATE_PREFIXES
        + "DROP ALL ;\n"
        + INSERT_123
        + f"INSERT {{\n    GRAPH <{graph}> {{\n        ?s a dc:BibliographicResource\n    }}\n}}\n"
        + where
    )
    third = f"<{KASEI}data3.rdf> a <http://purl.org/dc/terms/BibliographicResource> ."
    _update_then_ask(server, using, update, _ask_12_not_3(graph, third))


def test_update_dataset_full(server: LiveServer) -> None:
    graph = "http://example.org/protocol-update-dataset-full-test/"
    update = (
        UPDATE_PREFIXES
        + "DROP ALL ;\n"
        + INSERT_123
        + f"INSERT {{\n    GRAPH <{graph}> {{\n        ?s <http://example.org/in> ?in\n    }}\n}}\n"
        "WHERE {\n    {\n        GRAPH ?g { ?s a foaf:Document }\n        BIND(?g AS ?in)\n    }\n    UNION\n"
        '    {\n        ?s a foaf:Document .\n        BIND("default" AS ?in)\n    }\n}'
    )
    ask = (
        f'ASK {{\n    GRAPH <{graph}> {{\n        <{KASEI}data1.rdf> <http://example.org/in> "default" .\n'
        f"        <{KASEI}data2.rdf> <http://example.org/in> <{KASEI}data2.rdf> .\n    }}\n"
        f"    FILTER NOT EXISTS {{\n        GRAPH <{graph}> {{\n"
        f"            <{KASEI}data3.rdf> ?p ?o\n        }}\n    }}\n}}"
    )
    _update_then_ask(server, f"using-graph-uri={KASEI}data1.rdf&using-named-graph-uri={KASEI}data2.rdf", update, ask)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/x-www-form-urlencoded", "update=CLEAR+ALL"), ("application/sparql-update", "CLEAR ALL")],
    ids=["form", "direct"],
)
def test_update_post(server: LiveServer, content_type: str, body: str) -> None:
    load_graph_data(server, 1)
    response = send(server, "POST", "/", body=body, content_type=content_type, **AUTH)
    if own(server):
        assert response.status_code == 200, response.text
        assert boolean(send(server, "GET", "/?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D")) is False
    else:
        assert response.status_code == 403
        assert response.text.startswith(READ_ONLY)
        assert boolean(send(server, "GET", "/?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D")) is True


def test_update_base_uri(server: LiveServer) -> None:
    update = (
        "CLEAR SILENT GRAPH <http://example.org/protocol-base-test/> ;\n"
        "INSERT DATA { GRAPH <http://example.org/protocol-base-test/> "
        "{ <http://example.org/s> <http://example.org/p> <test> } }"
    )
    done = send(server, "POST", "/", body=update, content_type="application/sparql-update", **AUTH)
    assert done.status_code == 200, done.text
    ask = (
        "ASK {\n    GRAPH <http://example.org/protocol-base-test/> {\n"
        "        <http://example.org/s> <http://example.org/p> ?o\n"
        '        FILTER (isIRI(?o) && STR(?o) != "test")\n    }\n}'
    )
    assert boolean(send(server, "POST", "/", body=ask, content_type="application/sparql-query")) is True
    stored = requests.get(server.url + "/store", params={"graph": "http://example.org/protocol-base-test/"}, timeout=30)
    assert f"<{server.url}/test>" in stored.text


# --- protocol: bad requests (each 4xx, and nothing written) ---


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status"),
    [
        ("PUT", "/?query=ASK%20%7B%7D&" + DATA0, {"Content-Type": "application/x-www-form-urlencoded"}, None, 405),
        ("GET", "/?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D", {}, None, 400),
        ("POST", "/", {"Content-Type": "text/plain"}, "ASK {}", 415),
        ("POST", "/", {}, "query=ASK%20%7B%7D", 415),
        ("POST", "/", {}, "ASK {}", 415),
        ("POST", "/", {"Content-Type": "application/sparql-query; charset=UTF-16"}, "ASK {}", 415),
        ("GET", "/?query=ASK%20%7B", {}, None, 400),
        ("GET", "/?update=CLEAR%20ALL", AUTH, None, 405),
        (
            "POST",
            "/",
            {**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
            "update=CLEAR%20NAMED&update=CLEAR%20DEFAULT",
            400,
        ),
        ("POST", "/", {**AUTH, "Content-Type": "text/plain"}, "CLEAR NAMED", 415),
        ("POST", "/", AUTH, "update=CLEAR%20NAMED", 415),
        ("POST", "/", {**AUTH, "Content-Type": "application/sparql-update; charset=UTF-16"}, "CLEAR NAMED", 415),
        ("POST", "/", {**AUTH, "Content-Type": "application/x-www-form-urlencoded"}, "update=CLEAR%20XYZ", 400),
        (
            "POST",
            "/?using-named-graph-uri=http%3A%2F%2Fexample%2Fpeople",
            {**AUTH, "Content-Type": "application/sparql-update"},
            "PREFIX foaf:  <http://xmlns.com/foaf/0.1/>\nWITH <http://example/addresses>\n"
            "DELETE { ?person foaf:givenName 'Bill' }\nINSERT { ?person foaf:givenName 'William' }\n"
            "WHERE {\n    ?person foaf:givenName 'Bill'\n}",
            400,
        ),
    ],
    ids=[
        "bad_query_method",
        "bad_multiple_queries",
        "bad_query_wrong_media_type",
        "bad_query_missing_form_type",
        "bad_query_missing_direct_type",
        "bad_query_non_utf8",
        "bad_query_syntax",
        "bad_update_get",
        "bad_multiple_updates",
        "bad_update_wrong_media_type",
        "bad_update_missing_form_type",
        "bad_update_non_utf8",
        "bad_update_syntax",
        "bad_update_dataset_conflict",
    ],
)
def test_bad_requests(
    server: LiveServer, method: str, path: str, headers: dict[str, str], body: str | None, status: int
) -> None:
    load_graph_data(server, 1)
    response = requests.request(
        method, server.endpoint + path.removeprefix("/"), data=body, headers=headers, timeout=30
    )
    assert response.status_code == status, response.text
    still = requests.get(
        server.url + "/store",
        params={"graph": f"{KASEI}data1.rdf"},
        headers={"Accept": "application/n-triples"},
        timeout=30,
    )
    assert still.text == DATA[1] + "\n"


# --- Graph Store Protocol ---

JOHN = (
    FOAF_V + '<{person}> a foaf:Person;\n    foaf:businessCard [\n        a v:VCard;\n        v:fn "John Doe"\n    ].\n'
)
JANE = JOHN.replace("John Doe", "Jane Doe")
ALICE = (
    FOAF_V + '[]  a foaf:Person;\n    foaf:businessCard [\n        a v:VCard;\n        v:given-name "Alice"\n    ] .\n'
)
TURTLE = {"Content-Type": "text/turtle; charset=utf-8"}


def person(server: LiveServer, n: int) -> str:
    """A direct graph URL of its own for one test: ``$GRAPHSTORE$/<test>/person/<n>.ttl``."""
    return f"{server.url}/store/{uuid.uuid4().hex[:8]}/person/{n}.ttl"


def same_graph(response: requests.Response, expected: str) -> None:
    assert response.status_code == 200, response.text
    assert media_type(response) == "text/turtle"
    assert isomorphic(
        rdflib.Graph().parse(data=response.text, format="turtle"), rdflib.Graph().parse(data=expected, format="turtle")
    )


def test_put_initial_state_and_get_of_it(server: LiveServer) -> None:
    graph = person(server, 1)
    created = requests.put(
        graph, data=JOHN.format(person=graph.removesuffix(".ttl")), headers={**AUTH, **TURTLE}, timeout=30
    )
    assert created.status_code == 201, created.text
    got = requests.get(server.url + "/store", params={"graph": graph}, headers={"Accept": "text/turtle"}, timeout=30)
    same_graph(got, JOHN.format(person=graph.removesuffix(".ttl")))


def test_put_graph_already_in_store_and_get_of_it(server: LiveServer) -> None:
    graph = person(server, 1)
    subject = graph.removesuffix(".ttl")
    requests.put(graph, data=JOHN.format(person=subject), headers={**AUTH, **TURTLE}, timeout=30)
    replaced = requests.put(graph, data=JANE.format(person=subject), headers={**AUTH, **TURTLE}, timeout=30)
    assert replaced.status_code in (200, 204), replaced.text
    same_graph(requests.get(graph, headers={"Accept": "text/turtle"}, timeout=30), JANE.format(person=subject))


def test_put_default_graph_and_get_of_it(server: LiveServer) -> None:
    put = requests.put(server.url + "/store?default", data=ALICE, headers={**AUTH, **TURTLE}, timeout=30)
    got = requests.get(server.url + "/store?default", headers={"Accept": "text/turtle"}, timeout=30)
    if own(server):
        assert put.status_code in (200, 201), put.text
        same_graph(got, ALICE)
    else:
        assert put.status_code == 403
        assert put.text.startswith("PUT ?default would replace the default graph, the union of the graphs loaded")
        assert got.status_code == 200
        assert "Alice" not in got.text


def test_delete_existing_graph_then_get_and_delete_again(server: LiveServer) -> None:
    graph = person(server, 2)
    requests.put(graph, data=JOHN.format(person=graph), headers={**AUTH, **TURTLE}, timeout=30)
    assert requests.delete(graph, headers=AUTH, timeout=30).status_code == 200
    assert requests.get(graph, timeout=30).status_code == 404
    assert requests.delete(graph, headers=AUTH, timeout=30).status_code == 404


def test_post_existing_graph_then_multipart_and_get_of_them(server: LiveServer) -> None:
    graph = person(server, 1)
    subject = graph.removesuffix(".ttl")
    requests.put(graph, data=JANE.format(person=subject), headers={**AUTH, **TURTLE}, timeout=30)
    name = f'@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n<{subject}> foaf:name "Jane Doe"\n'
    assert requests.post(graph, data=name, headers={**AUTH, **TURTLE}, timeout=30).status_code == 200
    boundary = "a6fe4cd636164618814be9f8d3d1a0de"
    parts = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}.ttl"; filename="{field}.ttl"\r\n'
            f"Content-Type: text/turtle; charset=utf-8\r\n\r\n@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
            f'<{subject}> foaf:{prop} "{value}"\r\n'
            for field, prop, value in (("lastName", "familyName", "Doe"), ("firstName", "givenName", "Jane"))
        )
        + f"--{boundary}--\r\n"
    )
    multipart = requests.post(
        graph,
        data=parts.encode(),
        headers={**AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=30,
    )
    assert multipart.status_code == 200, multipart.text
    expected = FOAF_V + (
        f'<{subject}> a foaf:Person;\n    foaf:name "Jane Doe";\n    foaf:givenName "Jane";\n'
        '    foaf:familyName "Doe";\n'
        '    foaf:businessCard [\n        a v:VCard;\n        v:fn "Jane Doe"\n    ] .\n'
    )
    same_graph(requests.get(graph, timeout=30), expected)


def test_post_create_new_graph_and_get_of_it(server: LiveServer) -> None:
    created = requests.post(server.url + "/store", data=ALICE, headers={**AUTH, **TURTLE}, timeout=30)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert location.startswith(server.url + "/store/")
    same_graph(requests.get(location, headers={"Accept": "text/turtle"}, timeout=30), ALICE)
    same_graph(requests.get(location, headers={"Accept": "text/turtle"}, timeout=30), ALICE)  # after a no-op


def test_head_on_an_existing_and_a_missing_graph(server: LiveServer) -> None:
    graph = person(server, 1)
    requests.put(graph, data=JOHN.format(person=graph), headers={**AUTH, **TURTLE}, timeout=30)
    head = requests.head(graph, timeout=30)
    assert (head.status_code, head.headers["Content-Type"], head.text) == (200, "text/turtle; charset=utf-8", "")
    assert int(head.headers["Content-Length"]) > 0
    assert requests.head(person(server, 4), timeout=30).status_code == 404
