"""The ``kgraph`` command: thin commands over plain functions that tests call directly.

Each subcommand parses options into :class:`kgraph.config.Settings` and calls one function of the package.
Exit codes are shared by every command: 0 success, 1 the answer is "no" (violations, absent triple), 2 bad input.
"""

from __future__ import annotations

import click

from kgraph import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kgraph")
def main() -> None:
    """kgraph: the Kursk knowledge graph, its validator and its SPARQL endpoint."""
