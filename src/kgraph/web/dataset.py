"""The dataset as a whole: its VoID/DCAT description at ``/.well-known/void`` and its dumps under ``/dumps/``.

Crawlers and catalogues find a Linked Data set through ``/.well-known/void`` (VoID, section 7.2); the description
says what the data is, under which licence, where to query it and where to download it whole. The dumps are
built from the store being served, once per data version (:mod:`kgraph.web.dumps`), so they always match what
``/sparql`` answers: ``asserted`` is what the source files state, ``inferred`` what inference added, kept apart as in
the store; ``/dumps/`` lists them. The fixed wording is the Turtle file ``dataset.ttl``; only counts, vocabularies
and this server's URLs are computed, as statements added to it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, render_template_string, request
from flask.sansio.blueprints import BlueprintSetupState
from werkzeug.wsgi import wrap_file

from kgraph.config import INFERRED_GRAPH
from kgraph.describe import triple_count, vocabularies
from kgraph.sparql.executor import QueryPool
from kgraph.sparql.formats import negotiate
from kgraph.store import RemoteStore
from kgraph.web import error_response, service
from kgraph.web.dumps import BUILD_SECONDS, FORMATS, Built, DumpJob, Dumps, Spliced, cache_folder, jsonld_head
from kgraph.web.rdf_page import RdfDocument, rdf_document
from kgraph.web.shared import PREFIXES

bp = Blueprint("dataset", __name__)

DUMP_FORMATS = FORMATS
"""Suffix -> (Content-Type, format) of each dump."""

DUMP_WAIT = 10.0
"""Seconds a request for a dump waits for the first build before it is told 503 (try again)."""

_DUMPS_KEY = "kgraph-dumps"

DUMPS = ("asserted", "inferred")
"""The two subsets: what the files state, and what inference added."""

CONTEXT = {**PREFIXES, "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}
"""The JSON-LD ``@context`` the JSON-LD dumps are compacted with and point to: the project's prefixes."""

IANA = "https://www.iana.org/assignments/media-types/"
"""DCAT 3 wants a media type as an IRI: IANA's page for it."""

DATASET_IRI = "https://w3id.org/kgraph/dataset"
"""What the VoID description describes (``dataset.ttl``): first on its page."""

OWN_DESCRIPTION = ".well-known/void#"
"""On a server of one's own data, the dataset and its subsets are named in its description, relative to its URL."""

_STATEMENTS = {
    own: (Path(__file__).parent / ("own-dataset.ttl" if own else "dataset.ttl")).read_bytes() for own in (False, True)
}
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@bp.get("/.well-known/void")
def void() -> Response:
    """The dataset's VoID/DCAT description, in Turtle unless the client asks for another RDF format; a page for a
    browser."""
    document = void_description(request.url_root)
    main, _ = dataset_iris(request.url_root, own_data=service(current_app).settings.own_data)
    page = rdf_document(
        document, "Dataset (VoID)", request.headers.get("Accept"), request.args.getlist("format"), main=main
    )
    if page is not None:
        return page
    fmt = negotiate("graph", request.headers.get("Accept"), request.args.get("format"))
    response = Response(document.serialize(fmt), content_type=fmt.content_type)
    response.vary.add("Accept")
    return response


@bp.get("/dumps/context.jsonld")
def context() -> Response:
    """The published JSON-LD context of the JSON-LD dumps."""
    return Response(json.dumps({"@context": CONTEXT}, indent=2) + "\n", content_type="application/ld+json")


@bp.record_once
def _start_dumps(setup: BlueprintSetupState) -> None:
    """Start building the dumps as soon as the application exists, in a worker process of the query pool."""
    app = setup.app
    state = service(app)
    kg = state.graph

    def job(folder: str) -> DumpJob:
        subsets = {"asserted": list(kg.asserted_graphs()), "inferred": [INFERRED_GRAPH]}
        return DumpJob(folder, subsets, PREFIXES, CONTEXT)

    pool = state.pool

    def runner(built: DumpJob) -> object:
        """In a worker forked for the build; a remote store's in this thread (the queries run on the server), each
        of its requests bound by the build's time rather than a query's (1M triples: 30 s were not enough)."""
        if isinstance(pool, QueryPool):
            return pool.run_job(built, BUILD_SECONDS)
        store = kg.store
        return built.run(store.with_timeout(BUILD_SECONDS) if isinstance(store, RemoteStore) else store)

    dumps = Dumps(cache_folder(state.settings.dumps_dir or state.settings.data_dir / "dumps"), job, runner)
    app.extensions[_DUMPS_KEY] = dumps
    state.on_commit.append(dumps.changed)  # the served data changed: build the dumps of the new version
    state.on_close.append(dumps.close)


@bp.get("/dumps/<name>.<suffix>")
def dump(name: str, suffix: str) -> Response:
    """One subset of the served graph as a file download, from the file built for the current data version."""
    if name not in DUMPS or suffix not in DUMP_FORMATS:
        abort(404)
    built = current_app.extensions[_DUMPS_KEY].get(f"kgraph-{name}.{suffix}", DUMP_WAIT)
    if built is None:
        return _building()
    return _download(built, name, suffix)


@bp.get("/dumps/")
def index() -> Response:
    """The dumps with their formats and sizes: HTML for browsers, JSON when asked for it."""
    files = current_app.extensions[_DUMPS_KEY].listing(DUMP_WAIT)
    if files is None:
        return _building()
    rows = [_row(name, suffix, files[f"kgraph-{name}.{suffix}"]) for name in DUMPS for suffix in DUMP_FORMATS]
    best = request.accept_mimetypes.best_match(["text/html", "application/json"], default="text/html")
    if best == "application/json":
        response = Response(json.dumps({"dumps": rows}, indent=2) + "\n", content_type="application/json")
    else:
        response = Response(render_template_string(_INDEX, rows=rows), content_type="text/html; charset=utf-8")
    response.vary.add("Accept")
    return response


_INDEX = """{% extends "base.html" %}
{% block title %}Dumps · kgraph{% endblock %}
{% block content %}
<h1>Dumps</h1>
<p>The whole graph as files, rebuilt after each change: <code>asserted</code> is what the sources state,
<code>inferred</code> what inference added. Every file is also sent gzip-compressed to clients that accept it.</p>
<table>
  <thead><tr><th>Dump</th><th>Format</th><th>Media type</th><th>Bytes</th><th>Bytes (gzip)</th></tr></thead>
  <tbody>
  {% for row in rows %}
    <tr><td><a href="{{ row.url }}">{{ row.name }}.{{ row.format }}</a></td><td>{{ row.format }}</td>
      <td>{{ row.mediaType }}</td><td>{{ row.bytes }}</td><td>{{ row.gzipBytes }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% endblock %}
"""


def _row(name: str, suffix: str, built: Built) -> dict[str, object]:
    head = len(_head(suffix, gzipped=False))
    return {
        "name": name,
        "format": suffix,
        "mediaType": DUMP_FORMATS[suffix][0].split(";")[0],
        "url": f"{request.url_root}dumps/{name}.{suffix}",
        "bytes": built.size + head,
        "gzipBytes": built.gzip_size + len(_head(suffix, gzipped=True)),
    }


def _building() -> Response:
    """503 with Retry-After: the first build of the dumps is not finished yet."""
    response = error_response(503, "The dumps are being built for the current data; try again in a minute.")
    response.headers["Retry-After"] = "60"
    return response


def _head(suffix: str, *, gzipped: bool) -> bytes:
    """What goes before the built file: a JSON-LD dump's context line, naming this server's URL."""
    if suffix != "jsonld":
        return b""
    head = jsonld_head(request.url_root + "dumps/context.jsonld")
    return gzip.compress(head, mtime=0) if gzipped else head


def _download(built: Built, name: str, suffix: str) -> Response:
    """The file streamed as it is (gzip when the client accepts it), with an ETag of its content."""
    gzipped = request.accept_encodings["gzip"] > 0
    head = _head(suffix, gzipped=gzipped)
    etag = built.digest + ("-gz" if gzipped else "")
    if head:
        etag += "-" + hashlib.sha256(head).hexdigest()[:8]
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        stream = Spliced(head, built.path.with_name(built.path.name + ".gz") if gzipped else built.path)
        response = Response(wrap_file(request.environ, io.BufferedReader(stream)), content_type=DUMP_FORMATS[suffix][0])
        response.direct_passthrough = True
        response.content_length = stream.size
        response.headers["Content-Disposition"] = f'attachment; filename="kgraph-{name}.{suffix}"'
        if gzipped:
            response.headers["Content-Encoding"] = "gzip"
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Accept-Encoding")
    return response


def void_description(root: str) -> RdfDocument:
    """The statements of ``dataset.ttl`` for the server at ``root`` (its URL, with a trailing slash), with the
    computed ones: triple counts, vocabularies, and each dump with its DCAT distribution. A server of one's own data
    describes its files without the project's title, licence and source (``own-dataset.ttl``)."""
    state = service(current_app)
    kg, own = state.graph, state.settings.own_data
    document = RdfDocument.parse(_STATEMENTS[own], base=root)
    dataset_iri, subset_iris = dataset_iris(root, own_data=own)
    dataset = ox.NamedNode(dataset_iri)
    subsets = {name: ox.NamedNode(iri) for name, iri in subset_iris.items()}
    document.add(dataset, VOID + "triples", ox.Literal(triple_count(kg.store, kg.default_graph(True))))
    document.add(subsets["asserted"], VOID + "triples", ox.Literal(triple_count(kg.store, kg.asserted_graphs())))
    document.add(subsets["inferred"], VOID + "triples", ox.Literal(kg.store.count(INFERRED_GRAPH)))
    for namespace in vocabularies(kg.store, kg.default_graph(True)):
        document.add(dataset, VOID + "vocabulary", ox.NamedNode(namespace))
    for name, subset in subsets.items():
        for suffix, (content_type, _) in DUMP_FORMATS.items():
            url = ox.NamedNode(f"{root}dumps/{name}.{suffix}")
            distribution = ox.BlankNode(f"{name}-{suffix}")  # the same bytes at every request: one ETag
            document.add(dataset, VOID + "dataDump", url)
            document.add(subset, VOID + "dataDump", url)
            document.add(dataset, DCAT + "distribution", distribution)
            document.add(distribution, RDF_TYPE, ox.NamedNode(DCAT + "Distribution"))
            document.add(distribution, DCAT + "downloadURL", url)
            document.add(distribution, DCAT + "mediaType", ox.NamedNode(IANA + content_type.split(";")[0]))
    return document


def dataset_iris(root: str, *, own_data: bool) -> tuple[str, dict[str, str]]:
    """The IRI the VoID description is about and those of its subsets: the project's dataset, or on a server of
    one's own data, IRIs in this server's description (``own-dataset.ttl`` names them the same)."""
    if own_data:
        return root + OWN_DESCRIPTION + "dataset", {name: root + OWN_DESCRIPTION + name for name in DUMPS}
    return DATASET_IRI, {name: f"{DATASET_IRI}/{name}" for name in DUMPS}
