"""The ``kgraph`` command: thin commands over plain functions that tests call directly.

Each subcommand parses options into :class:`kgraph.config.Settings` and calls one function of the package.
Exit codes are shared by every command: 0 success, 1 the answer is "no" (violations, absent triple), 2 bad input.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pyoxigraph as ox

from kgraph import __version__
from kgraph.config import Settings, setting_help
from kgraph.infer.engine import REASONERS
from kgraph.infer.explain import TripleNotFound
from kgraph.infer.explain import explain as explain_triple
from kgraph.infer.terms import TermSyntaxError, parse_triple, shorten
from kgraph.link import LinkOptions
from kgraph.store import QueryResult


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kgraph")
def main() -> None:
    """kgraph: the Kursk knowledge graph, its validator and its SPARQL endpoint."""


# --- query and explain ---

_SOLUTION_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
_GRAPH_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}


@main.command()
@click.argument("query_or_file")
@click.option("--infer/--no-infer", default=True, help="Include the inferred graph (default: yes).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", *_SOLUTION_FORMATS, *_GRAPH_FORMATS]),
    default="table",
    help="Output format; a table by default (Turtle for CONSTRUCT and DESCRIBE).",
)
def query(query_or_file: str, infer: bool, fmt: str) -> None:
    """Run a SPARQL query (text, or a .rq file) over the project graph and print the result."""
    path = Path(query_or_file)
    sparql = path.read_text(encoding="utf-8") if path.is_file() else query_or_file
    from kgraph.graph import build  # loading the graph pulls in every layer: only when needed

    graph = build(Settings.from_env())
    try:
        result = graph.store.query(sparql, default_graph=graph.default_graph(infer))
    except SyntaxError as error:
        raise click.BadParameter(str(error), param_hint="QUERY_OR_FILE") from None
    output = _render(result, fmt)
    click.echo(output, nl=not output.endswith("\n"))


@main.command()
@click.argument("subject")
@click.argument("predicate")
@click.argument("obj", metavar="OBJECT")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def explain(subject: str, predicate: str, obj: str, fmt: str) -> None:
    """Say why a triple is in the graph, down to the asserted triples and their sources.

    Terms are <full IRIs>, bare IRIs, prefixed names (kg:, kgr:, rdf:, ...) or Turtle literals
    ("12"^^xsd:integer).
    Exits 1 if the triple is not in the graph.
    """
    try:
        triple = parse_triple(subject, predicate, obj)
    except TermSyntaxError as error:
        raise click.UsageError(str(error)) from None
    from kgraph.graph import build

    graph = build(Settings.from_env())
    try:
        tree = explain_triple(graph.store, triple, rules_dir=graph.files.rules)
    except TripleNotFound as error:
        click.echo(str(error), err=True)
        raise SystemExit(1) from None
    click.echo(json.dumps(tree.to_dict(), indent=2) if fmt == "json" else tree.to_text())


def _render(result: QueryResult, fmt: str) -> str:
    """A query result in the requested format; ``table`` is for people, the others for programs."""
    if isinstance(result, ox.QueryTriples):
        chosen = _GRAPH_FORMATS.get(fmt, ox.RdfFormat.TURTLE)
        return result.serialize(format=chosen).decode("utf-8")
    if fmt in _SOLUTION_FORMATS:
        return result.serialize(format=_SOLUTION_FORMATS[fmt]).decode("utf-8")
    if isinstance(result, ox.QueryBoolean):
        return f"{str(bool(result)).lower()}\n"
    return _table(result)


def _table(solutions: ox.QuerySolutions) -> str:
    """Solutions as aligned columns with prefixed names, and a row count."""
    names = [v.value for v in solutions.variables]
    rows = [[shorten(s[n]) if s[n] is not None else "" for n in names] for s in solutions]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    lines = [" | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(line.rstrip() for line in lines) + "\n"


# --- serve ---


def _help(name: str) -> str:
    """An option's help from its setting: the text, the default and the environment variable."""
    env, text, default = setting_help()[name]
    shown = f"default {default}; " if default not in (None, ()) else ""
    return f"{text} ({shown}{env})"


@main.command()
@click.option("--host", default=None, help=_help("host"))
@click.option("--port", type=int, default=None, help=_help("port"))
@click.option(
    "--data",
    "data",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help=_help("data") + " Repeatable.",
)
@click.option("--timeout", type=float, default=None, help=_help("timeout"))
@click.option("--store", default=None, help=_help("store"))
@click.option("--store-load-dir", type=click.Path(path_type=Path), default=None, help=_help("store_load_dir"))
@click.option("--max-result-bytes", type=int, default=None, help=_help("max_result_bytes"))
@click.option("--max-body-bytes", type=int, default=None, help=_help("max_body_bytes"))
@click.option("--query-workers", type=int, default=None, help=_help("query_workers"))
@click.option("--service-allowlist", multiple=True, help=_help("service_allowlist") + " Repeatable.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help=_help("data_dir"))
@click.option("--token-file", type=click.Path(exists=True, path_type=Path), default=None, help=_help("token_file"))
@click.option("--reasoner", type=click.Choice(REASONERS), default=None, help=_help("reasoner"))
@click.option("--base", default=None, help=_help("base"))
@click.option("--own-data", is_flag=True, default=None, help=_help("own_data"))
def serve(
    host: str | None,
    port: int | None,
    data: tuple[Path, ...],
    timeout: float | None,
    store: str | None,
    store_load_dir: Path | None,
    max_result_bytes: int | None,
    max_body_bytes: int | None,
    query_workers: int | None,
    service_allowlist: tuple[str, ...],
    data_dir: Path | None,
    token_file: Path | None,
    reasoner: str | None,
    base: str | None,
    own_data: bool | None,
) -> None:
    """Serve the graph over the SPARQL 1.1 Protocol at http://HOST:PORT/sparql (Ctrl-C stops it)."""
    from kgraph.web.server import serve as run_server  # gunicorn and Flask only when serving

    settings = Settings.from_env(
        host=host,
        port=port,
        data=data or None,
        timeout=timeout,
        store=store,
        store_load_dir=store_load_dir,
        max_result_bytes=max_result_bytes,
        max_body_bytes=max_body_bytes,
        query_workers=query_workers,
        service_allowlist=service_allowlist or None,
        data_dir=data_dir,
        token_file=token_file,
        reasoner=reasoner,
        base=base,
        own_data=own_data or None,
    )
    _require_writable_data_dir(settings)
    run_server(settings)


def _require_writable_data_dir(settings: Settings) -> None:
    """With writes on, a data directory that cannot take the journal stops the start (exit 2) rather than every write
    later; with writes off, the journal is only read, so a read-only data directory is fine."""
    from kgraph.journal import Journal
    from kgraph.web.auth import configured_tokens

    if not configured_tokens(settings):
        return
    try:
        Journal(settings.data_dir).ensure_writable()
    except OSError as error:
        click.echo(
            f"kgraph: writes are on but cannot be recorded in {settings.data_dir}: {error.strerror or error} "
            "(make it writable, or serve read-only without a token)",
            err=True,
        )
        raise SystemExit(2) from None


# --- export ---


@main.command()
@click.option("--inferred", is_flag=True, help="Include the inferred triples (default: asserted only).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["turtle", "ntriples", "trig", "jsonld"]),
    default="turtle",
    help="Output format; TriG and JSON-LD keep one graph per source file and per contributor.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout)."
)
def export(inferred: bool, fmt: str, output: Path | None) -> None:
    """Write the current graph, including writes made over HTTP (the journal in KGRAPH_DATA_DIR)."""
    from kgraph.graph import build
    from kgraph.writes import export_graph

    data = export_graph(build(Settings.from_env()), fmt, inferred=inferred)
    if output:
        output.write_bytes(data)
    else:
        click.echo(data.decode("utf-8"), nl=False)


# --- validate ---


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    help="text for people, json for programs, github for annotations on a pull request.",
)
@click.option(
    "--shapes",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of SHACL shapes (default: the project's shapes/).",
)
@click.option(
    "--no-project-data",
    is_flag=True,
    help="Check PATHS with the ontology only, without the project's existing data.",
)
def validate(paths: tuple[Path, ...], fmt: str, shapes: Path | None, no_project_data: bool) -> None:
    """Check RDF files (default: the project's data) with the ontology, the data and the shapes.

    Exits 0 if they conform, 1 for violations, contradictions or undeclared kg: terms, 2 if a file
    cannot be read.
    """
    from kgraph.project import ProjectFiles
    from kgraph.validate import FORMATTERS, validate_paths

    project = ProjectFiles.locate(Settings.from_env().project_dir)
    report = validate_paths(list(paths), project=project, shapes=shapes, project_data=not no_project_data)
    click.echo(FORMATTERS[fmt](report), nl=False)
    raise SystemExit(report.exit_code)


# --- link ---

_LINK_DEFAULTS = LinkOptions()


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--endpoint", default=_LINK_DEFAULTS.endpoint, show_default=True, help="SPARQL endpoint to ask.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Turtle file of candidates (default: candidates/wikidata.ttl in the project, which is not served).",
)
@click.option(
    "--classes",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Mapping of kg: classes to Wikidata classes (default: the project's link/wikidata-classes.ttl).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=_LINK_DEFAULTS.timeout,
    show_default=True,
    help="Seconds to wait for one answer.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=_LINK_DEFAULTS.batch_size,
    show_default=True,
    help="Resources per query.",
)
@click.option(
    "--pause",
    type=click.FloatRange(min=0),
    default=_LINK_DEFAULTS.pause,
    show_default=True,
    help="Seconds between two queries.",
)
def link(
    paths: tuple[Path, ...],
    endpoint: str,
    output: Path | None,
    classes: Path | None,
    timeout: float,
    batch_size: int,
    pause: float,
) -> None:
    """Propose Wikidata items for resources without a Wikidata link, as candidates to review (never as links).

    Searches PATHS (default: the project's data) for resources whose kind link/wikidata-classes.ttl maps, and
    asks the endpoint for items of a matching class whose English label or alias is one of their names.
    Exits 0 when the candidates are written, 2 when the endpoint cannot answer or a file cannot be read.
    """
    from kgraph.link import EndpointError, propose_links
    from kgraph.load import RdfSyntaxError
    from kgraph.project import ProjectFiles

    project = ProjectFiles.locate(Settings.from_env().project_dir)
    options = LinkOptions(endpoint=endpoint, timeout=timeout, batch_size=batch_size, pause=pause)
    try:
        report = propose_links(
            list(paths),
            project=project,
            output=output or project.candidates / "wikidata.ttl",
            classes=classes,
            options=options,
        )
    except (EndpointError, RdfSyntaxError) as error:
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(2) from None
    click.echo(report.summary())
