"""Access: every way to write, read files or make the server fetch a URL that it refuses, over real HTTP.

One ``kgraph serve`` with a write token and an empty SERVICE allow-list, and a canary listener
(``tests/listener.py``) that every SSRF attempt points at: each test checks the exact status and message, that
nothing was written, and that the canary was never called. Each would fail if its protection were removed: the
write would land, the file would be served, or the canary would record a request.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from conftest import LiveServer, start_server
from kgraph.config import setting_help
from kgraph.load import RdfSyntaxError, load_paths
from kgraph.store import EmbeddedStore
from listener import Listener

PROJECT = Path(__file__).parents[1] / "fixtures" / "writes"
TOKEN = "access-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KEPT = "http://example.org/kept"
"""A graph written once with the token; every refused write below targets it and must leave it as it was."""
KEPT_BODY = '<https://w3id.org/kgraph/id/a> <http://example.org/p> "kept" .\n'
NEW = '<https://w3id.org/kgraph/id/b> <http://example.org/p> "new" .\n'
INSERT = (
    'INSERT DATA { GRAPH <http://example.org/kept> { <https://w3id.org/kgraph/id/b> <http://example.org/p> "new" } }'
)
RDF_XML = (
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">'
    '<rdf:Description rdf:about="https://w3id.org/kgraph/id/b"><ex:p>&x;</ex:p></rdf:Description></rdf:RDF>'
)

NEEDS_TOKEN = (
    "This write needs a token: send the header 'Authorization: Bearer <token>', "
    "or HTTP Basic with the token's name as user and the token as password.\n"
)
WRONG_TOKEN = "The token is not valid for writes on this server.\n"
TOKEN_IN_URL = (
    "A token in the URL is refused (URLs are logged): send it in the header 'Authorization: Bearer <token>'.\n"
)
NEVER_READS = "this endpoint never reads files or fetches graphs"
LOAD_REFUSED = (
    "LOAD would make the server read files or fetch URLs; it is not allowed. "
    "Send the data itself in an INSERT DATA update.\n"
)
NO_FEDERATION = "federated queries are off on this endpoint (its --service-allowlist is empty)"
NO_REMOTE_CONTEXT = "No LoadDocumentCallback has been set to load remote contexts"
NO_EXTERNAL_ENTITY = "<!ENTITY values should be enclosed in double quotes"


@dataclass
class Site:
    """The server under test and the canary every forged request is aimed at."""

    server: LiveServer
    canary: Listener

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        """One request to the server, redirects not followed (a redirect is an answer to check too)."""
        return requests.request(method, self.server.url + path, timeout=30, allow_redirects=False, **kwargs)

    def kept(self) -> str:
        """The kept graph as N-Triples: unchanged by every refused write."""
        response = self.request("GET", "/store", params={"graph": KEPT}, headers={"Accept": "application/n-triples"})
        assert response.status_code == 200, response.text
        return response.text


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The server with a token and no allow-list, its kept graph written once, and the canary."""
    env = {
        "KGRAPH_PROJECT_DIR": str(PROJECT),
        "KGRAPH_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "KGRAPH_TOKEN": TOKEN,
        "KGRAPH_TOKEN_FILE": "",
        "KGRAPH_SERVICE_ALLOWLIST": "",
    }
    with Listener() as canary:
        server = start_server([], env)
        try:
            written = requests.put(
                server.url + "/store",
                params={"graph": KEPT},
                data=KEPT_BODY,
                headers={**AUTH, "Content-Type": "application/n-triples"},
                timeout=30,
            )
            assert written.status_code == 201, written.text
            yield Site(server, canary)
        finally:
            server.stop()


@pytest.fixture
def canary(site: Site) -> Iterator[Listener]:
    """The canary, checked after the test: no request may have reached it."""
    site.canary.hits.clear()
    yield site.canary
    assert site.canary.hits == []


# --- writes: the token ---

WRITES = {
    "update (form)": ("POST", "/sparql", {"data": {"update": INSERT}}),
    "update (direct)": (
        "POST",
        "/sparql",
        {"data": INSERT, "headers": {"Content-Type": "application/sparql-update"}},
    ),
    "store PUT": ("PUT", f"/store?graph={KEPT}", {"data": NEW, "headers": {"Content-Type": "application/n-triples"}}),
    "store POST": ("POST", f"/store?graph={KEPT}", {"data": NEW, "headers": {"Content-Type": "application/n-triples"}}),
    "store DELETE": ("DELETE", f"/store?graph={KEPT}", {}),
}
"""Every write path, each aimed at the kept graph: adding to it, replacing it or deleting it."""


def _write(site: Site, name: str, authorization: str | None, query: str = "") -> requests.Response:
    """The named write with the given Authorization header (None: no header) and query string."""
    method, path, kwargs = WRITES[name]
    headers = dict(kwargs.get("headers", {}))
    if authorization is not None:
        headers["Authorization"] = authorization
    separator = "&" if "?" in path else "?"
    return site.request(method, path + (separator + query if query else ""), data=kwargs.get("data"), headers=headers)


@pytest.mark.parametrize("name", WRITES)
@pytest.mark.parametrize(
    ("authorization", "status", "message"),
    [
        (None, 401, NEEDS_TOKEN),
        ("", 401, NEEDS_TOKEN),
        ("Bearer", 401, NEEDS_TOKEN),
        (f"Basic {TOKEN}", 401, NEEDS_TOKEN),
        (f"Token {TOKEN}", 401, NEEDS_TOKEN),
        ("Bearer wrong", 403, WRONG_TOKEN),
        (f"Bearer {TOKEN[:-1]}", 403, WRONG_TOKEN),
        (f"Bearer {TOKEN}x", 403, WRONG_TOKEN),
        (f"Bearer {TOKEN.upper()}", 403, WRONG_TOKEN),
    ],
)
def test_a_write_without_the_right_token_is_refused(
    site: Site, name: str, authorization: str | None, status: int, message: str
) -> None:
    response = _write(site, name, authorization)
    assert (response.status_code, response.text) == (status, message)
    if status == 401:
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="kgraph", Basic realm="kgraph", charset="UTF-8"'
    assert site.kept() == KEPT_BODY


@pytest.mark.parametrize("name", WRITES)
@pytest.mark.parametrize("query", [f"access_token={TOKEN}", f"token={TOKEN}", "access_token=wrong"])
def test_a_token_in_the_url_is_refused_even_with_the_right_header(site: Site, name: str, query: str) -> None:
    response = _write(site, name, AUTH["Authorization"], query)
    assert (response.status_code, response.text) == (400, TOKEN_IN_URL)
    assert site.kept() == KEPT_BODY


def test_the_right_token_writes(site: Site) -> None:
    """The control: the refusals above are the token's doing, not a broken write path."""
    graph = "http://example.org/control"
    response = site.request(
        "PUT", "/store", params={"graph": graph}, data=NEW, headers={**AUTH, "Content-Type": "application/n-triples"}
    )
    assert response.status_code == 201, response.text
    assert site.request("DELETE", "/store", params={"graph": graph}, headers=AUTH).status_code == 200


# --- CORS ---

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type, Accept, Authorization",
    "Access-Control-Max-Age": "86400",
}
ROUTE_METHODS = {"/sparql": "GET, HEAD, POST, OPTIONS", "/store": "GET, HEAD, POST, PUT, DELETE, OPTIONS"}
"""What a preflight is told each route takes: /sparql has no PUT or DELETE."""
ORIGIN = "https://elsewhere.example"


@pytest.mark.parametrize("path", ["/sparql", f"/store?graph={KEPT}"])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_a_preflight_gets_the_documented_answer_and_changes_nothing(site: Site, path: str, method: str) -> None:
    response = site.request(
        "OPTIONS",
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert (response.status_code, response.content) == (200, b"")
    assert {name: response.headers.get(name) for name in CORS} == CORS
    assert response.headers["Access-Control-Allow-Methods"] == ROUTE_METHODS[path.split("?")[0]]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert site.kept() == KEPT_BODY


def test_a_cross_origin_write_needs_the_token_like_any_other(site: Site) -> None:
    """No cookie, no credentials: a page from another origin writes only with a token it holds itself."""
    headers = {"Origin": ORIGIN, "Content-Type": "application/n-triples"}
    refused = site.request("POST", "/store", params={"graph": KEPT}, data=NEW, headers=headers)
    assert (refused.status_code, refused.text) == (401, NEEDS_TOKEN)
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in refused.headers
    graph = "http://example.org/cross-origin"
    allowed = site.request("PUT", "/store", params={"graph": graph}, data=NEW, headers={**headers, **AUTH})
    assert allowed.status_code == 201, allowed.text
    assert allowed.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    assert "Set-Cookie" not in allowed.headers
    assert site.request("DELETE", "/store", params={"graph": graph}, headers=AUTH).status_code == 200


# --- path traversal ---

LEAKS = ("root:x:0:0", "def create_app", "[project]", "KGRAPH_TIMEOUT", "import ")
"""Text of /etc/passwd, src/kgraph/web/__init__.py, pyproject.toml and src/kgraph/config.py: none may be served."""

TRAVERSALS = [
    "/static/../__init__.py",
    "/static/..%2f__init__.py",
    "/static/..%2F..%2Fconfig.py",
    "/static/%2e%2e/__init__.py",
    "/static/%2e%2e%2f__init__.py",
    "/static/%252e%252e%252f__init__.py",
    "/static/..\\__init__.py",
    "/static/..%5c__init__.py",
    "/static/vendor/../../__init__.py",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static//etc/passwd",
    "/assets/..%2f__init__.py",
    "/assets/%2e%2e%2f%2e%2e%2fconfig.py",
    "/assets/..%5c__init__.py",
    "/id/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/id/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/id/%252e%252e%252fpyproject.toml",
    "/id/..\\..\\pyproject.toml",
    "/id/%2fetc%2fpasswd",
    "/dumps/..%2f..%2fpyproject.toml",
    "/dumps/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/dumps/%252e%252e%252fasserted.ttl",
    "/dumps/..%5c..%5cpyproject.toml",
    "/dumps/asserted.ttl/../../../pyproject.toml",
    "/queries/..%2f..%2f..%2fpyproject.rq",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_a_404_and_leaks_nothing(site: Site, path: str) -> None:
    status, headers, body = _raw_get(site.server, path)
    if status == 308:  # werkzeug merges repeated slashes: a redirect to the same server, which then says 404
        location = urlsplit(headers["Location"])
        assert f"{location.scheme}://{location.netloc}" == site.server.url
        status, headers, body = _raw_get(site.server, location.path)
    assert status == 404
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert not [leak for leak in LEAKS if leak in body]


def _raw_get(server: LiveServer, path: str) -> tuple[int, dict[str, str], str]:
    """GET the path exactly as written: requests would resolve the dot segments before sending it."""
    connection = http.client.HTTPConnection(*urlsplit(server.url).netloc.split(":"), timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8", "replace")
    finally:
        connection.close()


# --- SSRF: SERVICE, FROM, protocol dataset, LOAD ---


def _query(site: Site, query: str, **params: str) -> requests.Response:
    return site.request("GET", "/sparql", params={"query": query, **params})


def test_service_is_refused_wherever_it_points(site: Site, canary: Listener) -> None:
    target = canary.url + "/sparql"
    for query in (
        f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
        f"PREFIX c: <{canary.url}/> SELECT * WHERE {{ service c:sparql {{ ?s ?p ?o }} }}",
        f"BASE <{canary.url}/> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <\\u0068ttp://{target[7:]}> {{ ?s ?p ?o }} }}",
    ):
        response = _query(site, query)
        assert (response.status_code, response.text) == (400, f"SERVICE <{target}> is not allowed: {NO_FEDERATION}.\n")


def test_service_through_a_variable_is_refused(site: Site, canary: Listener) -> None:
    query = f"SELECT * WHERE {{ VALUES ?where {{ <{canary.url}/sparql> }} SERVICE ?where {{ ?s ?p ?o }} }}"
    response = _query(site, query)
    assert (response.status_code, response.text) == (
        400,
        "SERVICE ?where is not allowed: the endpoint to call must be written as an IRI "
        "that is on the server's allow-list (--service-allowlist).\n",
    )


def test_service_in_an_update_is_refused_even_with_the_token(site: Site, canary: Listener) -> None:
    target = canary.url + "/sparql"
    update = f"INSERT {{ GRAPH <{KEPT}> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"
    response = site.request("POST", "/sparql", data={"update": update}, headers=AUTH)
    assert (response.status_code, response.text) == (400, f"SERVICE <{target}> is not allowed: {NO_FEDERATION}.\n")
    assert site.kept() == KEPT_BODY


@pytest.mark.parametrize("clause", ["FROM", "FROM NAMED"])
@pytest.mark.parametrize("iri", ["{canary}/graph", "file:///etc/passwd", "file:///proc/self/environ"])
def test_from_a_url_or_a_file_is_refused(site: Site, canary: Listener, clause: str, iri: str) -> None:
    iri = iri.format(canary=canary.url)
    response = _query(site, f"SELECT * {clause} <{iri}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}")
    assert (response.status_code, response.text) == (
        400,
        f"{clause} <{iri}> names a graph that is not in this dataset; {NEVER_READS}. "
        "Name one of the graphs listed in the service description, or leave the clause out.\n",
    )


@pytest.mark.parametrize("param", ["default-graph-uri", "named-graph-uri"])
@pytest.mark.parametrize("iri", ["{canary}/graph", "file:///etc/passwd"])
def test_protocol_graphs_of_a_url_or_a_file_are_empty(site: Site, canary: Listener, param: str, iri: str) -> None:
    iri = iri.format(canary=canary.url)
    response = _query(site, "SELECT * WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }", **{param: iri})
    assert (response.status_code, response.json()["results"]["bindings"]) == (200, [])


@pytest.mark.parametrize(
    "update",
    [
        "LOAD <{canary}/data.ttl>",
        "LOAD SILENT <{canary}/data.ttl> INTO GRAPH <http://example.org/kept>",
        "load <file:///etc/passwd>",
        "INSERT DATA { <http://a> <http://b> <http://c> } ;\nLOAD <{canary}/data.ttl>",
    ],
)
@pytest.mark.parametrize("direct", [False, True])
def test_load_is_refused_even_with_the_token(site: Site, canary: Listener, update: str, direct: bool) -> None:
    text = update.replace("{canary}", canary.url)
    if direct:
        headers = {**AUTH, "Content-Type": "application/sparql-update"}
        response = site.request("POST", "/sparql", data=text, headers=headers)
    else:
        response = site.request("POST", "/sparql", data={"update": text}, headers=AUTH)
    assert (response.status_code, response.text) == (400, LOAD_REFUSED)
    assert site.kept() == KEPT_BODY


def test_load_in_a_query_is_a_syntax_error(site: Site, canary: Listener) -> None:
    response = _query(site, f"LOAD <{canary.url}/data.ttl>")
    assert response.status_code == 400
    assert response.text.startswith("Syntax error at line 1, column ")


# --- SSRF and file reads through the parsers: JSON-LD contexts, XML entities ---

JSONLD_CONTEXTS = ['"{url}"', '["{url}"]', '{{"@import": "{url}"}}', '[{{"@vocab": "http://x/"}}, "{url}"]']


@pytest.mark.parametrize("context", JSONLD_CONTEXTS)
def test_a_remote_jsonld_context_in_a_body_is_never_fetched(site: Site, canary: Listener, context: str) -> None:
    body = _jsonld(context.format(url=canary.url + "/context.jsonld"))
    _assert_body_refused(site, "application/ld+json", body, f": {NO_REMOTE_CONTEXT}")


@pytest.mark.parametrize("context", JSONLD_CONTEXTS)
def test_a_remote_jsonld_context_in_a_data_file_is_never_fetched(
    canary: Listener, tmp_path: Path, context: str
) -> None:
    path = tmp_path / "remote.jsonld"
    path.write_text(_jsonld(context.format(url=canary.url + "/context.jsonld")), encoding="utf-8")
    with pytest.raises(RdfSyntaxError) as refused:
        load_paths(EmbeddedStore(), [path], root=tmp_path)
    assert str(refused.value) == f"{path}: {NO_REMOTE_CONTEXT}"


def _jsonld(context: str) -> str:
    return '{"@context": ' + context + ', "@id": "https://w3id.org/kgraph/id/b", "http://example.org/p": "v"}'


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file an external entity points at; its text must never come back or be stored."""
    path = tmp_path / "secret.txt"
    path.write_text("the-secret-text", encoding="utf-8")
    return path


ENTITIES = [
    '<!ENTITY x SYSTEM "{file}">',
    '<!ENTITY x SYSTEM "{url}">',
    '<!ENTITY x PUBLIC "-//kgraph//x" "{url}">',
    '<!ENTITY % x SYSTEM "{url}"> %x;',
    '<!ENTITY x SYSTEM "file:///etc/passwd">',
]


@pytest.mark.parametrize("declaration", ENTITIES)
def test_an_external_xml_entity_in_a_body_is_never_read(
    site: Site, canary: Listener, secret: Path, declaration: str
) -> None:
    body = _xml(declaration.format(file=secret.as_uri(), url=canary.url + "/entity"))
    _assert_body_refused(site, "application/rdf+xml", body, f": {NO_EXTERNAL_ENTITY}")


@pytest.mark.parametrize("declaration", ENTITIES)
def test_an_external_xml_entity_in_a_data_file_is_never_read(
    canary: Listener, secret: Path, tmp_path: Path, declaration: str
) -> None:
    path = tmp_path / "entity.rdf"
    path.write_text(_xml(declaration.format(file=secret.as_uri(), url=canary.url + "/entity")), encoding="utf-8")
    with pytest.raises(RdfSyntaxError) as refused:
        load_paths(EmbeddedStore(), [path], root=tmp_path)
    assert str(refused.value) == f"{path}: {NO_EXTERNAL_ENTITY}"


def test_an_entity_expansion_bomb_in_a_body_is_refused_before_it_expands(site: Site) -> None:
    """Eight levels would expand to 30 MB in the server process; expat's amplification limit stops it first."""
    entities = ['<!ENTITY e0 "lol">'] + [f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 8)]
    body = _xml("".join(entities)).replace("&x;", "&e7;")
    bomb = " at line 1, column 606: XML entities expand too much (an entity expansion bomb)"
    _assert_body_refused(site, "application/rdf+xml", body, bomb)


def _assert_body_refused(site: Site, media_type: str, body: str, problem: str) -> None:
    """A write of ``body`` is refused with 400 and the parser's words, and the graph it aimed at is unchanged."""
    headers = {**AUTH, "Content-Type": media_type}
    response = site.request("POST", "/store", params={"graph": KEPT}, data=body, headers=headers)
    assert (response.status_code, response.text) == (400, f"The {media_type} body does not parse{problem}\n")
    assert site.kept() == KEPT_BODY


def _xml(declarations: str) -> str:
    return f'<?xml version="1.0"?><!DOCTYPE rdf:RDF [{declarations}]>' + RDF_XML


# --- behind a reverse proxy ---


def test_behind_a_proxy_urls_follow_the_forwarded_host_and_scheme(site: Site) -> None:
    """The server trusts ``X-Forwarded-Proto`` from loopback (waitress's ``trusted_proxy``), where the proxy runs."""
    headers = {"Host": "kgraph.example", "X-Forwarded-Proto": "https"}
    description = site.request("GET", "/sparql", headers=headers).text
    assert "sd:endpoint <https://kgraph.example/sparql>" in description
    void = site.request("GET", "/.well-known/void", headers=headers).text
    assert "void:sparqlEndpoint <https://kgraph.example/sparql>" in void


def test_a_query_too_long_for_a_get_is_refused_and_can_be_posted(site: Site) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } #" + "x" * 70_000
    assert _query(site, query).status_code == 414
    posted = site.request("POST", "/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert posted.status_code == 200


# --- the README says what the server promises, with the real settings ---

README = Path(__file__).parents[2] / "README.md"
LIMITS = [
    "timeout",
    "query_workers",
    "http_threads",
    "max_result_bytes",
    "max_body_bytes",
    "token",
    "token_file",
    "max_query_bytes",
    "max_header_bytes",
    "header_timeout",
    "body_timeout",
    "idle_timeout",
    "max_connections",
]


@pytest.mark.parametrize("name", LIMITS)
def test_the_security_section_gives_each_limit_its_variable_and_default(name: str) -> None:
    section = README.read_text(encoding="utf-8").split("### Security")[1].split("\n### ")[0]
    env, _, default = setting_help()[name]
    written = _as_written(default)
    assert f"`{env}`, {written})" in section or f"`{env}` ({written})" in section


def _as_written(default: object) -> str:
    """A default as the README writes it: seconds, MiB, a count, or none."""
    if default is None:
        return "none"
    if isinstance(default, float):
        return f"{default:g} s"
    if isinstance(default, int) and default >= 2**20:
        return f"{default // 2**20} MiB"
    if isinstance(default, int) and default >= 2**10 and default % 2**10 == 0:
        return f"{default // 2**10} KiB"
    return str(default)
