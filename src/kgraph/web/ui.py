"""The query page at ``/``: a SPARQL editor with the project's example queries one click away.

The page must work on a machine with no internet access, so the editor (YASGUI) is served from
``static/vendor/`` (filled by ``make assets``), never from a CDN, and it is configured to call
nothing but this server's ``/sparql``. It must also be useful without JavaScript: the examples and
a plain form are server-rendered. The example queries are the files of ``queries/``; the page only
reads them, it never evaluates anything itself.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for

from kgraph.config import NAMESPACE, ONTOLOGY_NS, RESOURCE_NS
from kgraph.sparql.formats import GRAPH_FORMATS, SOLUTION_FORMATS
from kgraph.web import service
from kgraph.web.shared import MAP_FILES, PREFIXES, vendored

bp = Blueprint(
    "ui",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)


@bp.app_context_processor
def _served_data() -> dict[str, bool]:
    """Whether the pages serve one's own data (``--own-data``) rather than the article's graph: the header then says
    so instead of naming the battle."""
    return {"own_data": service(current_app).settings.own_data}


VENDOR_FILES = ("yasgui.min.js", "yasgui.min.css")
"""What ``make assets`` puts in ``static/vendor/``; without them the page offers the plain form."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_HEADER = re.compile(r"#\s*(title|description|infer)\s*:\s*(.*)", re.IGNORECASE)


@dataclass(frozen=True)
class ExampleQuery:
    """One file of ``queries/``: the competency question it answers and its SPARQL text."""

    name: str
    title: str
    description: str
    infer: bool
    text: str


def parse_example(name: str, text: str) -> ExampleQuery:
    """Read the ``# title:``, ``# description:`` and ``# infer:`` comments heading an example query.

    A comment line without a key continues the previous key's value, so a long description can wrap.
    """
    values = {"title": "", "description": "", "infer": ""}
    key = None
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.fullmatch(line.strip())
        if match:
            key = match.group(1).lower()
            values[key] = match.group(2).strip()
        elif key:
            values[key] = f"{values[key]} {line.lstrip('#').strip()}".strip()
    return ExampleQuery(
        name=name,
        title=values["title"] or name,
        description=values["description"],
        infer=values["infer"].lower() == "true",
        text=text,
    )


def read_examples(folder: Path) -> list[ExampleQuery]:
    """Every ``NAME.rq`` of the folder with a safe name, by name; none if the folder is missing."""
    if not folder.is_dir():
        return []
    return [
        parse_example(path.stem, path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.rq"))
        if _NAME.fullmatch(path.stem)
    ]


def queries_dir() -> Path:
    """The served project's ``queries/`` folder: the app's knowledge graph knows its files."""
    return service(current_app).graph.files.queries


def vendor_installed() -> bool:
    """Whether ``make assets`` has put the editor's files in place."""
    return vendored(VENDOR_FILES)


def default_query() -> str:
    """What a new editor tab holds: the project's prefixes and a query that shows some triples."""
    declarations = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
    return f"{declarations}\nSELECT ?s ?p ?o WHERE {{\n  ?s ?p ?o\n}} LIMIT 10\n"


def local_links(root: str) -> list[tuple[str, str, bool]]:
    """(namespace, this server's path for it, whether a longer IRI continues the path): how the query page turns
    result IRIs of this dataset into links to this server's pages, as :func:`kgraph.describe.local_path` does."""
    return [
        (RESOURCE_NS, f"{root}/id/", True),
        (ONTOLOGY_NS, f"{root}/ontology#", True),
        (NAMESPACE + "ontology", f"{root}/ontology", False),
    ]


@bp.get("/")
def index() -> str:
    """The query page."""
    return render_template(
        "ui/index.html",
        examples=read_examples(queries_dir()),
        vendor=vendor_installed(),
        endpoint=request.script_root + "/sparql",
        prefixes=PREFIXES,
        default_query=default_query(),
        local=local_links(request.script_root),
        resource_ns=RESOURCE_NS,
        map_assets=vendored(MAP_FILES),
        outlines=url_for("ui.static", filename="vendor/countries-50m.json"),
        format_groups=(
            ("SELECT and ASK", SOLUTION_FORMATS),
            ("CONSTRUCT and DESCRIBE", GRAPH_FORMATS),
        ),
    )


@bp.get("/queries.json")
def examples_json() -> Response:
    """The example queries as data, for scripts and other front ends."""
    return jsonify([asdict(example) for example in read_examples(queries_dir())])


@bp.get("/queries/<name>.rq")
def example_text(name: str) -> Response:
    """One example query's raw text.

    Only names listed in ``queries/`` are served, so no request path can reach another file.
    """
    examples = {example.name: example for example in read_examples(queries_dir())}
    if name not in examples:
        abort(404)
    return Response(examples[name].text, content_type="application/sparql-query; charset=utf-8")
