"""The ``kgraph`` command: thin commands over plain functions that tests call directly.

Each subcommand parses options into :class:`kgraph.config.Settings` and calls one function of the package.
Exit codes are shared by every command: 0 success, 1 the answer is "no" (violations, absent triple), 2 bad input.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import NoReturn

import click
import pyoxigraph as ox

from kgraph import __version__
from kgraph.config import LOG_LEVELS, ReasonerName, SettingError, Settings, setting_help
from kgraph.infer.explain import TripleNotFound
from kgraph.infer.explain import explain as explain_triple
from kgraph.infer.terms import TermSyntaxError, parse_triple, shorten
from kgraph.link import LinkOptions
from kgraph.sparql.errors import QuerySyntaxError
from kgraph.store import QueryResult
from kgraph.store.results import serialized


class _Commands(click.Group):
    """The command group: a setting that cannot be used, or project or ``--data`` files that cannot be loaded, end any
    command with one line and exit 2."""

    def invoke(self, ctx: click.Context) -> object:
        from kgraph.load import RdfSyntaxError, UnreadableInput

        try:
            return super().invoke(ctx)
        except SettingError as error:
            click.echo(f"kgraph: {error}", err=True)
            ctx.exit(2)
        except (RdfSyntaxError, UnreadableInput, FileNotFoundError) as error:
            click.echo(f"kgraph: cannot load the graph: {error}", err=True)
            ctx.exit(2)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--explain", "show_plan", is_flag=True, help="Print the query as planned and the statistics used.")
def query(query_or_file: str, infer: bool, fmt: str, show_plan: bool) -> None:
    """Run a SPARQL query (text, or a .rq file) over the project graph and print the result.

    Exits 2 when the file cannot be read, the query does not parse or the format does not fit its form.
    """
    sparql = _query_text(query_or_file)
    from kgraph.graph import build  # loading the graph pulls in every layer: only when needed
    from kgraph.sparql.evaluate import QueryRequest, run_query  # and numpy, for the columns: only for queries
    from kgraph.sparql.evaluate import explain as explain_plan

    settings = Settings.from_env()
    with _Progress("query") as progress:
        graph = build(settings, progress=progress)
    asked = QueryRequest(
        sparql, default_graph=graph.default_graph(infer), plan=settings.plan_queries, time_limit=settings.timeout
    )
    source = "the query" if sparql == query_or_file else query_or_file
    if show_plan:
        try:
            click.echo(explain_plan(graph.store, asked), nl=False)
        except QuerySyntaxError as error:
            _fail(f"{source}: {error}")
        return
    try:
        result = run_query(graph.store, asked)
    except SyntaxError as error:
        _fail(f"{source}: {QuerySyntaxError.from_pyoxigraph(error, sparql)}")
    _require_fitting_format(result, fmt)
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


class _Progress:
    """What a long run (loading, inference, validation) is doing, on stderr: on a terminal, each step once the run has
    taken ``STEPS_AFTER`` seconds; elsewhere (CI logs, pipes) one summary line at the end of a run that took
    ``SUMMARY_AFTER`` seconds or more. Short runs print nothing."""

    STEPS_AFTER = 3.0
    SUMMARY_AFTER = 30.0

    def __init__(self, command: str) -> None:
        self.command = command
        self.started = time.monotonic()
        self.terminal = sys.stderr.isatty()
        self.steps = 0
        self.last = "starting"

    def __call__(self, message: str) -> None:
        self.steps += 1
        self.last = message
        if self.terminal and time.monotonic() - self.started >= self.STEPS_AFTER:
            click.echo(f"kgraph {self.command}: {message}", err=True)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *_: object) -> None:
        seconds = time.monotonic() - self.started
        if not self.terminal and seconds >= self.SUMMARY_AFTER:
            summary = f"{self.steps} steps in {seconds:.0f} s, the last one: {self.last}"
            click.echo(f"kgraph {self.command}: {summary}", err=True)


def _fail(message: str) -> NoReturn:
    """One line on stderr and exit 2: the input cannot be used."""
    click.echo(f"kgraph: {message}", err=True)
    raise SystemExit(2)


def _query_text(argument: str) -> str:
    """The query the argument is: its own text, or the text of the file it names.

    An argument without spaces or braces that ends in .rq, .sparql or .ru, or names something that exists, is a file
    name, so a typo in it is "no such file" rather than a confusing SPARQL syntax error.
    """
    path = Path(argument)
    looks_like_a_file = not any(c.isspace() or c in "{}" for c in argument) and (
        path.suffix.lower() in (".rq", ".sparql", ".ru") or os.sep in argument
    )
    if not (looks_like_a_file or path.exists() or path.is_symlink()):
        return argument
    if not path.exists():
        _fail(f"{argument}: no such file")
    if path.is_dir():
        _fail(f"{argument}: a folder, not a query file")
    if not path.is_file():
        _fail(f"{argument}: not a regular file (a named pipe or a device): give a query file or the query's text")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        _fail(f"{argument}: not UTF-8 text (byte {error.start + 1})")
    except OSError as error:
        _fail(f"{argument}: cannot be read ({error.strerror})")


def _require_fitting_format(result: QueryResult, fmt: str) -> None:
    """Refuse a --format that the query's form cannot be written in, naming those it can."""
    graph = isinstance(result, ox.QueryTriples)
    fitting = ["table", *(_GRAPH_FORMATS if graph else _SOLUTION_FORMATS)]
    if fmt not in fitting:
        form = "CONSTRUCT or DESCRIBE" if graph else "ASK" if isinstance(result, ox.QueryBoolean) else "SELECT"
        article = "an" if form == "ASK" else "a"
        _fail(f"--format {fmt} does not fit {article} {form} query; use one of: {', '.join(fitting)}")


def _render(result: QueryResult, fmt: str) -> str:
    """A query result in the requested format; ``table`` is for people, the others for programs."""
    if isinstance(result, ox.QueryTriples):
        chosen = _GRAPH_FORMATS.get(fmt, ox.RdfFormat.TURTLE)
        return serialized(result.serialize(format=chosen)).decode("utf-8")
    if fmt in _SOLUTION_FORMATS:
        return serialized(result.serialize(format=_SOLUTION_FORMATS[fmt])).decode("utf-8")
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


_ENVIRONMENT_ONLY = ("token", "project_dir", "cache_dir", "plan_queries", "cache_bytes")
"""Settings without a serve option: a token on the command line would show in ``ps``; the project rarely changes;
the cache folder is ``kgraph validate``'s; the planner and the result cache are tuned, rarely switched."""


def _environment_only() -> str:
    """The epilog of ``serve --help``: the settings only the environment sets, from the settings table."""
    lines = ["\b", "Settings from the environment only:"]
    for name in _ENVIRONMENT_ONLY:
        env, text, default = setting_help()[name]
        shown = f" (default {default})" if default not in (None, ()) else ""
        lines.append(f"  {env}: {text}{shown}")
    return "\n".join(lines)


@main.command(epilog=_environment_only())
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
@click.option("--http-threads", type=int, default=None, help=_help("http_threads"))
@click.option("--max-nesting", type=int, default=None, help=_help("max_nesting"))
@click.option("--service-allowlist", multiple=True, help=_help("service_allowlist") + " Repeatable.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help=_help("data_dir"))
@click.option("--dumps-dir", type=click.Path(path_type=Path), default=None, help=_help("dumps_dir"))
@click.option("--token-file", type=click.Path(path_type=Path), default=None, help=_help("token_file"))
@click.option("--reasoner", type=click.Choice([r.value for r in ReasonerName]), default=None, help=_help("reasoner"))
@click.option("--base", default=None, help=_help("base"))
@click.option("--own-data", is_flag=True, default=None, help=_help("own_data"))
@click.option("--max-query-bytes", type=int, default=None, help=_help("max_query_bytes"))
@click.option("--max-header-bytes", type=int, default=None, help=_help("max_header_bytes"))
@click.option("--query-memory", type=int, default=None, help=_help("query_memory"))
@click.option("--header-timeout", type=float, default=None, help=_help("header_timeout"))
@click.option("--body-timeout", type=float, default=None, help=_help("body_timeout"))
@click.option("--idle-timeout", type=float, default=None, help=_help("idle_timeout"))
@click.option("--max-connections", type=int, default=None, help=_help("max_connections"))
@click.option("--write-timeout", type=float, default=None, help=_help("write_timeout"))
@click.option("--max-write-inferred", type=int, default=None, help=_help("max_write_inferred"))
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default=None, help=_help("log_level"))
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
    http_threads: int | None,
    max_nesting: int | None,
    service_allowlist: tuple[str, ...],
    data_dir: Path | None,
    token_file: Path | None,
    reasoner: str | None,
    base: str | None,
    own_data: bool | None,
    write_timeout: float | None,
    max_write_inferred: int | None,
    log_level: str | None,
    **limits: float | None,
) -> None:
    """Serve the graph over the SPARQL 1.1 Protocol at http://HOST:PORT/sparql (Ctrl-C stops it)."""
    from kgraph.web.server import serve as run_server  # waitress and Flask only when serving

    settings = Settings.from_env(
        None,
        host=host,
        port=port,
        data=data or None,
        timeout=timeout,
        store=store,
        store_load_dir=store_load_dir,
        max_result_bytes=max_result_bytes,
        max_body_bytes=max_body_bytes,
        query_workers=query_workers,
        http_threads=http_threads,
        max_nesting=max_nesting,
        service_allowlist=service_allowlist or None,
        data_dir=data_dir,
        token_file=token_file,
        reasoner=ReasonerName(reasoner) if reasoner else None,
        base=base,
        own_data=own_data or None,
        write_timeout=write_timeout,
        max_write_inferred=max_write_inferred,
        log_level=log_level.upper() if log_level else None,
        **limits,
    )
    _require_writable_data_dir(settings)
    _check_data(settings)
    run_server(settings)


def _check_data(settings: Settings) -> None:
    """Refuse, before the server starts, ``--data`` that cannot be loaded or names the project's graphs: one line and
    exit 2 here, rather than a failed worker in the server's log."""
    from kgraph.load import refuse_project_graphs
    from kgraph.project import ProjectFiles

    root = ProjectFiles.locate(settings.project_dir).root
    refuse_project_graphs(settings.data, root=root, max_nesting=settings.max_nesting)


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
    from kgraph.export import export_graph
    from kgraph.graph import build

    with _Progress("export") as progress:
        data = export_graph(build(Settings.from_env(), progress=progress), fmt, inferred=inferred)
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
    type=click.Choice(["text", "json", "github", "sarif"]),
    default="text",
    help="text for people, json for programs, github for annotations on a pull request, sarif (2.1.0) for GitHub "
    "code scanning.",
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
@click.option("--no-cache", is_flag=True, help="Check everything from scratch, without the cached project state.")
def validate(paths: tuple[Path, ...], fmt: str, shapes: Path | None, no_project_data: bool, no_cache: bool) -> None:
    """Check RDF files (default: the project's data) with the ontology, the data and the shapes.

    The project's checked state is cached (KGRAPH_CACHE_DIR), so only what the files change is checked again; the
    answers are those of a check from scratch. Exits 0 if they conform, 1 for violations, contradictions or
    undeclared kg: terms, 2 if a file cannot be read.
    """
    from kgraph.project import ProjectFiles
    from kgraph.validate import FORMATTERS, validate_paths
    from kgraph.validate.literals import quiet_rdflib

    settings = Settings.from_env()
    project = ProjectFiles.locate(settings.project_dir)
    with quiet_rdflib(), _Progress("validate") as progress:
        report = validate_paths(
            list(paths),
            project=project,
            shapes=shapes,
            project_data=not no_project_data,
            max_nesting=settings.max_nesting,
            cache_dir=None if no_cache else settings.cache_dir,
            reasoner=settings.reasoner,
            progress=progress,
        )
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
