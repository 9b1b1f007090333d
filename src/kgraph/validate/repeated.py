"""Triples a checked file states that another file states too: a warning, not an error.

RDF merges the two statements into one, but the served default graph is the union of the files' graphs, and
pyoxigraph 0.5 counts a triple held by two of them twice (oxigraph/oxigraph#1919): a plain ``SELECT`` lists it
twice and a ``COUNT`` counts it twice. A contributor repeating ``kgr:sudzha a kg:Settlement`` in a new file would
change the answers of every query that counts settlements, so ``kgraph validate`` says where, and in which other
file the triple already is. A triple with a blank node cannot repeat another file's: each file has its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from kgraph.infer.terms import shorten
from kgraph.load import LoadedFile
from kgraph.store import Store
from kgraph.store.results import solutions
from kgraph.validate.locate import SourceFile
from kgraph.validate.report import Violation

RULE = "kgraph:RepeatedTriple"
"""What a repeated triple's warning names as its shape and constraint (the SARIF rule, GitHub's annotation)."""

_OTHER_GRAPHS = """
SELECT ?s ?p ?o ?other WHERE {{
  GRAPH <{graph}> {{ ?s ?p ?o }}
  GRAPH ?other {{ ?s ?p ?o }}
  FILTER (?other != <{graph}> && !isBlank(?s) && !isBlank(?o))
}}"""


def repeated_triples(
    store: Store, checked: list[LoadedFile], files: dict[str, LoadedFile], display: Callable[[Path], str]
) -> list[Violation]:
    """A warning for each triple of a ``checked`` file that another of ``files`` (by graph) states too, located in
    the checked file. When both files are checked, the warning goes to the one whose path sorts last, once."""
    checked_graphs = {file.graph for file in checked}
    warnings = []
    for file in checked:
        source = SourceFile(file.path, file.prefixes)
        for row in solutions(store.query(_OTHER_GRAPHS.format(graph=file.graph))):
            other = files.get(str(row["other"].value))
            if other is None or (other.graph in checked_graphs and str(other.path) > str(file.path)):
                continue
            warnings.append(_warning(file, other, row["s"], row["p"], row["o"], source, display))
    return warnings


def _warning(
    file: LoadedFile,
    other: LoadedFile,
    subject: ox.NamedNode,
    predicate: ox.NamedNode,
    obj: ox.NamedNode | ox.Literal,
    source: SourceFile,
    display: Callable[[Path], str],
) -> Violation:
    line, column = source.find_triple(subject, predicate) or (None, None)
    return Violation(
        focus=shorten(subject),
        path=shorten(predicate),
        message=(
            f"{shorten(obj)} is stated in {display(other.path)} too: queries over the default graph count the triple "
            "twice; state it in one file"
        ),
        severity="Warning",
        constraint=RULE,
        shape=RULE,
        value=shorten(obj),
        file=display(file.path),
        line=line,
        column=column,
    )
