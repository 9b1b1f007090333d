"""``/sparql``: the SPARQL 1.1 Protocol endpoint, a thin view over :mod:`kgraph.sparql`.

The view only moves data: the protocol module reads the request, the guard vets the query, the pool
evaluates and serialises it, and any :class:`~kgraph.sparql.errors.SparqlError` on the way is
answered by the application's error handler. A request without a query gets the SPARQL 1.1 Service
Description, filled in from a Turtle template (a browser gets it as a readable page).

An answer larger than :data:`~kgraph.sparql.evaluate.STREAM_AFTER` is streamed: sent to the client (chunked) as the
query worker serialises it, the worker held under its time and memory limits until the last byte, the connection cut
(no terminating chunk) should the query fail, pass the time limit or the byte limit midway. Smaller answers are sent
whole and kept in the result cache.

Relative IRIs in a query or an update resolve against the base IRI: the ``--base`` setting, else this endpoint's
URL, as Oxigraph's server does. An unknown graph named in ``default-graph-uri`` or ``named-graph-uri`` is an empty
graph (nothing is ever read or fetched), and each parameter is a set.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, request

from kgraph.config import INFERRED_GRAPH
from kgraph.describe import triple_count
from kgraph.sparql.cache import CachedResult
from kgraph.sparql.evaluate import explain
from kgraph.sparql.executor import QueryRequest, QueryResponse
from kgraph.sparql.formats import GRAPH_FORMATS, SOLUTION_FORMATS, negotiate
from kgraph.sparql.guard import QueryDataset, check_query, check_update
from kgraph.sparql.lexer import with_base
from kgraph.sparql.protocol import FORM, ProtocolError, ProtocolRequest, decode_params, parse_request, read_body
from kgraph.web import error_response
from kgraph.web.auth import authorize, configured_tokens
from kgraph.web.metrics import QueryMetrics, metrics_of
from kgraph.web.rdf_page import RdfDocument, rdf_document, template_text

if TYPE_CHECKING:
    from kgraph.web import Service

bp = Blueprint("sparql", __name__)

UPDATES_DISABLED = "Updates are disabled on this endpoint: it serves the graph read-only."

FORMAT_IRIS = {
    "json": "http://www.w3.org/ns/formats/SPARQL_Results_JSON",
    "xml": "http://www.w3.org/ns/formats/SPARQL_Results_XML",
    "csv": "http://www.w3.org/ns/formats/SPARQL_Results_CSV",
    "tsv": "http://www.w3.org/ns/formats/SPARQL_Results_TSV",
    "turtle": "http://www.w3.org/ns/formats/Turtle",
    "ntriples": "http://www.w3.org/ns/formats/N-Triples",
    "jsonld": "http://www.w3.org/ns/formats/JSON-LD",
    "rdfxml": "http://www.w3.org/ns/formats/RDF_XML",
    "nquads": "http://www.w3.org/ns/formats/N-Quads",
    "trig": "http://www.w3.org/ns/formats/TriG",
}
"""The W3C IRI of each result format (https://www.w3.org/ns/formats/), for ``sd:resultFormat``."""

ARTICLE_LABEL = "kgraph: the battle for Russia's Kursk region, 2024-2025"
OWN_DATA_LABEL = "kgraph: a SPARQL 1.1 server of its user's own data"

_TEMPLATE = Template(template_text(Path(__file__).parent / "service_description.ttl"))


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    """Answer a query, refuse an update, or describe the service when asked nothing."""
    state = current_app.extensions["kgraph"]
    body = read_body(request.stream, request.content_length, state.settings.max_body_bytes)
    try:
        asked = parse_request(request.method, request.query_string, request.headers.get("Content-Type"), body)
    except ProtocolError as error:
        if error.status != 405:
            raise
        refused = error_response(405, error.message)
        refused.headers["Allow"] = "GET, HEAD, POST"
        return refused
    if asked.operation == "update":
        return _update(state, asked, body)
    if asked.operation == "describe":
        return _vary(describe(state, asked))
    sparql = with_base(asked.text, lambda: base_iri(state))
    declared = check_query(
        sparql,
        dataset_graphs=state.dataset_graphs,
        service_allowlist=state.settings.service_allowlist,
        max_bytes=state.settings.max_query_bytes,
    )
    default, named = _dataset(state, asked, declared)
    query = QueryRequest(
        sparql=sparql,
        default_graph=default,
        named_graphs=named,
        accept=request.headers.get("Accept"),
        format=asked.formats,
        plan=state.settings.plan_queries,
        stream=True,
        time_limit=state.settings.timeout,
    )
    if asked.explain:
        return Response(explain(state.graph.store, query), content_type="text/plain; charset=utf-8")
    streamed = passed_through(state, query)
    if streamed is not None:
        return _vary(streamed)
    return _vary(answer(state, query, asked.infer))


def answer(state: Service, query: QueryRequest, infer: bool) -> Response:
    """The answer from the result cache, else from a query worker: whole (then cached) or streamed; counted in the
    metrics either way, a streamed one once its last byte is sent."""
    metrics = metrics_of(current_app)
    started = time.perf_counter()
    key = metrics.cache.key(query, infer)
    cached = metrics.cache.get(key)
    if cached is None:
        try:
            result = state.pool.run(query)
        except Exception:
            metrics.observe(time.perf_counter() - started, False)
            raise
        if result.rest is not None:
            return Response(_streamed(result, metrics, started), content_type=result.media_type)
        cached = CachedResult(result.body, result.media_type)
        metrics.cache.put(key, cached)
    metrics.observe(time.perf_counter() - started, True)
    return Response(cached.body, content_type=cached.media_type)


def _streamed(result: QueryResponse, metrics: QueryMetrics, started: float) -> Iterator[bytes]:
    """The pieces of a streamed answer, counted once the last is sent (as failed if the stream broke off)."""
    ok = False
    try:
        yield result.body
        yield from result.rest or ()
        ok = True
    finally:
        metrics.observe(time.perf_counter() - started, ok)


def passed_through(state: Service, query: QueryRequest) -> Response | None:
    """A remote store's answer sent on as it arrives, without being read whole first (issue 16), when no result
    cache is to keep it (``KGRAPH_CACHE_BYTES=0``); None otherwise. Counted in ``/metrics`` like any other query."""
    stream = getattr(state.pool, "stream", None)
    metrics = metrics_of(current_app)
    if stream is None or metrics.cache.max_bytes:
        return None
    started = time.perf_counter()
    ok = False
    try:
        result = stream(query)
        ok = True
    finally:
        metrics.observe(time.perf_counter() - started, ok)
    if isinstance(result, QueryResponse):
        return Response(result.body, content_type=result.media_type)
    return Response(result, content_type=result.media_type)  # the WSGI server closes it, releasing the connection


def base_iri(state: Service) -> str:
    """The IRI relative IRIs resolve against: the ``--base`` setting, else this endpoint's URL."""
    return state.settings.base or request.base_url


def _update(state: Service, asked: ProtocolRequest, body: bytes) -> Response:
    """Apply an update as a validated write (token needed); 403 with UPDATES_DISABLED when writes are off."""
    from kgraph.sparql.update import with_using
    from kgraph.web.writing import perform  # writes only load the writer when asked for one

    who = authorize(state.settings, UPDATES_DISABLED)
    text = with_base(asked.text, lambda: base_iri(state))
    check_update(text, service_allowlist=state.settings.service_allowlist, max_bytes=state.settings.max_query_bytes)
    params = decode_params(request.query_string, "query string")
    if request.mimetype == FORM:
        params += decode_params(body, "request body")
    using = [value for name, value in params if name == "using-graph-uri"]
    named = [value for name, value in params if name == "using-named-graph-uri"]
    sparql = with_using(text, list(dict.fromkeys(using)), list(dict.fromkeys(named)))
    return perform(lambda writer: writer.update(sparql, who=who))


def _dataset(
    state: Service, asked: ProtocolRequest, declared: QueryDataset
) -> tuple[list[str] | None, list[str] | None]:
    """The query's dataset, as SPARQL 1.1 Protocol orders it: the protocol's graph parameters when there are any
    (they then define it whole, so a missing kind is empty), else the query's own FROM / FROM NAMED, else the
    served default graph and every named graph (on a server of one's own data: the union of every graph, the store's
    default graph included)."""
    if asked.default_graph_uris or asked.named_graph_uris:
        return list(asked.default_graph_uris), list(asked.named_graph_uris)
    if declared.declared:
        return list(declared.default_graphs), list(declared.named_graphs)
    if state.settings.own_data:
        return None, None
    return state.default_graphs[asked.infer], None


def _vary(response: Response) -> Response:
    response.vary.add("Accept")
    return response


def describe(state: Service, asked: ProtocolRequest) -> Response:
    """The service description in the RDF format the client accepts (Turtle by default), or a page for a browser."""
    turtle = service_description(state, request.base_url)
    document = RdfDocument.parse(turtle.encode("utf-8"))
    page = rdf_document(
        document, "Service description", request.headers.get("Accept"), asked.formats, main=request.base_url
    )
    if page is not None:
        return page
    fmt = negotiate("graph", request.headers.get("Accept"), asked.formats)
    if fmt.name == "turtle":
        return Response(turtle, content_type=fmt.content_type)
    return Response(document.serialize(fmt), content_type=fmt.content_type)


def service_description(state: Service, endpoint_url: str) -> str:
    """The template filled in: this endpoint, its languages, formats, features, limits and graphs with their sizes."""
    graph, settings = state.graph, state.settings
    formats = [f.name for f in (*SOLUTION_FORMATS, *GRAPH_FORMATS) if f.name in FORMAT_IRIS]
    features = ["sd:UnionDefaultGraph"]
    if settings.service_allowlist:
        features.append("sd:BasicFederatedQuery")
    writable = bool(configured_tokens(settings))
    languages = "sd:SPARQL11Query, sd:SPARQL11Update" if writable else "sd:SPARQL11Query"
    named = "".join(
        f" ;\n    sd:namedGraph [ a sd:NamedGraph ; sd:name <{name}> ;"
        f" sd:graph [ a sd:Graph ; void:triples {graph.store.count(name)} ] ]"
        for name in sorted(state.dataset_graphs | state.empty_graphs)
    )
    return _TEMPLATE.substitute(
        endpoint=endpoint_url,
        base=settings.base or endpoint_url,
        label=OWN_DATA_LABEL if settings.own_data else ARTICLE_LABEL,
        languages=languages,
        writes="with a token (HTTP Bearer or Basic)" if writable else "not at all: no write token is configured",
        timeout=f"{settings.timeout:g}",
        max_result_bytes=settings.max_result_bytes,
        max_body_bytes=settings.max_body_bytes,
        result_formats="\n".join(f"    sd:resultFormat <{FORMAT_IRIS[name]}> ;" for name in dict.fromkeys(formats)),
        features="\n".join(f"    sd:feature {feature} ;" for feature in features),
        inferred_graph=INFERRED_GRAPH,
        default_triples=triple_count(graph.store, graph.default_graph(True)),  # distinct: two files may state one
        named_graphs=named,
    )
