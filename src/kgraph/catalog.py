"""What the graph holds, found without SPARQL: its resources by class (with counts) and a search of their labels.

The resource index (``/id/``) and the label search (``/search``) are for people who do not write SPARQL: an analyst
who wants "every settlement" or "the thing called Sudzha". The queries live here, below the web layer, so tests and
scripts can call them. Labels are matched in Python, not in SPARQL, because accent- and case-insensitive prefix
matching needs Unicode normalisation (``Sudža`` must match ``sudz``), which SPARQL does not offer.
"""

from __future__ import annotations

import array
import bisect
import heapq
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from kgraph.config import INFERRED_GRAPH, ONTOLOGY_NS, RESOURCE_NS
from kgraph.describe import RDF_TYPE, RDFS_LABEL, Node, _ref, explain_query, labels_of, to_node
from kgraph.store import Store
from kgraph.store.results import solutions

SKOS_ALT_LABEL = "http://www.w3.org/2004/02/skos/core#altLabel"

MAX_LISTED = 1000
"""Most resources one class listing shows (the page says when there are more)."""

MAX_RESULTS = 50
"""Most search results one answer holds."""


@dataclass(frozen=True)
class ClassCount:
    """A class and how many of the dataset's resources (IRIs under ``/id/``) are of it."""

    cls: Node
    count: int


@dataclass(frozen=True)
class Hit:
    """One search result: the resource, the label or alternative label that matched, and its types."""

    resource: Node
    matched: str
    types: tuple[Node, ...]

    def to_dict(self) -> dict[str, object]:
        """The JSON form: IRI, label, where this server serves it (None outside the project), the matched text and
        the type IRIs."""
        return {
            "iri": self.resource.iri,
            "label": self.resource.text,
            "path": None if self.resource.local is None else "/" + self.resource.local,
            "matched": self.matched,
            "types": [t.iri for t in self.types],
        }


def classes(store: Store, graphs: Sequence[str]) -> list[ClassCount]:
    """Every class with resources of the dataset, with their number, the largest first."""
    query = f"""SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{
        ?s <{RDF_TYPE}> ?class FILTER(isIRI(?class) && STRSTARTS(STR(?s), "{RESOURCE_NS}"))
    }} GROUP BY ?class"""
    rows = [(row["class"], int(row["n"].value)) for row in solutions(store.query(query, default_graph=graphs))]
    labels = labels_of(store, [cls for cls, _ in rows], graphs)
    counts = [ClassCount(to_node(cls, labels), n) for cls, n in rows]
    return sorted(counts, key=lambda c: (-c.count, c.cls.text.lower(), c.cls.iri or ""))


def instances(store: Store, cls: str, graphs: Sequence[str]) -> tuple[list[tuple[Node, str]], bool]:
    """The dataset's resources of class ``cls``, by label (at most :data:`MAX_LISTED`), each with the ``/explain``
    query of its type when only inference gives it ("" when stated), and whether there are more."""
    query = f"""SELECT DISTINCT ?s WHERE {{
        ?s <{RDF_TYPE}> {_ref(cls)} FILTER(STRSTARTS(STR(?s), "{RESOURCE_NS}"))
    }} ORDER BY ?s LIMIT {MAX_LISTED + 1}"""
    found = [row["s"] for row in solutions(store.query(query, default_graph=graphs))][: MAX_LISTED + 1]
    listed = found[:MAX_LISTED]
    labels = labels_of(store, listed, graphs)
    stated = _stated(store, cls, listed, [g for g in graphs if g != INFERRED_GRAPH])
    rdf_type, klass = ox.NamedNode(RDF_TYPE), ox.NamedNode(cls)
    nodes = [
        (to_node(s, labels), "" if s.value in stated else explain_query(ox.Triple(s, rdf_type, klass))) for s in listed
    ]
    nodes.sort(key=lambda pair: (pair[0].text.lower(), pair[0].iri or ""))
    return nodes, len(found) > MAX_LISTED


def _stated(store: Store, cls: str, resources: list[ox.NamedNode], graphs: Sequence[str]) -> set[str]:
    """Those of ``resources`` that ``graphs`` (the asserted ones) say are of class ``cls``."""
    if not resources:
        return set()
    values = " ".join(_ref(r.value) for r in resources)
    query = f"SELECT ?s WHERE {{ VALUES ?s {{ {values} }} ?s <{RDF_TYPE}> {_ref(cls)} }}"
    return {row["s"].value for row in solutions(store.query(query, default_graph=graphs))}


def fold(text: str) -> str:
    """Text as search compares it: accents removed (NFKD, combining marks dropped), case folded, and split into words
    on anything that is not a letter or digit ("Kursk-Oblast" and "kursk oblast" fold alike), joined by spaces."""
    if text.isascii():  # most labels: nothing to decompose
        bare = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(_NOT_ALPHANUMERIC.sub(" ", bare).split())


_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")
"""Anything :meth:`str.isalnum` says no to: ``\\w`` is the alphanumeric characters and the underscore."""


def search(
    store: Store, text: str, graphs: Sequence[str], limit: int = MAX_RESULTS, index: LabelIndex | None = None
) -> list[Hit]:
    """The resources whose ``rdfs:label`` or ``skos:altLabel`` has a word starting with ``text`` (accents and case
    ignored), best match first: the whole label, then its start, then a later word; ties by the name matched. Of one
    resource's matching names, the best-ranked is kept, its label before an alternative label. ``index``: the
    dataset's :class:`LabelIndex`, when the caller keeps one (else one is built for this search)."""
    query = fold(text)
    if not query:
        return []
    best = (index or LabelIndex(store, graphs)).matches(query)
    ordered = heapq.nsmallest(limit, best, key=lambda iri: (best[iri][0], best[iri][2].lower(), iri))
    labels = labels_of(store, [ox.NamedNode(iri) for iri in ordered], graphs)
    types = _types(store, ordered, [g for g in graphs if g != INFERRED_GRAPH])
    return [Hit(to_node(ox.NamedNode(iri), labels), best[iri][2], tuple(types.get(iri, ()))) for iri in ordered]


class LabelIndex:
    """Every label and alternative label of a dataset, folded, with the place where each of its words starts, sorted
    by the rest of the label from there: a search is a binary search rather than a pass over every label. Build one
    per data version: at 1M triples a pass took 3 s, for each search. A word is kept as (label, offset) in one
    integer, not as its text: 56 MiB kept at 1M triples (162k labels, 672k words), where the texts took 195 MiB."""

    def __init__(self, store: Store, graphs: Sequence[str]) -> None:
        sparql = f"""SELECT ?s ?p ?l WHERE {{
            VALUES ?p {{ <{RDFS_LABEL}> <{SKOS_ALT_LABEL}> }} ?s ?p ?l FILTER(isIRI(?s) && isLiteral(?l)) }}"""
        self._names: list[tuple[str, bool, str]] = []
        """Per label: the resource's IRI, whether it is an alternative label, the label."""
        self._folded: list[str] = []
        words: list[int] = []
        for row in solutions(store.query(sparql, default_graph=graphs)):
            label, folded = row["l"].value, fold(row["l"].value)
            number = len(self._folded)
            self._names.append((row["s"].value, row["p"].value == SKOS_ALT_LABEL, label))
            self._folded.append(folded)
            words += [number << _OFFSET_BITS | at for at in _word_starts(folded) if at < 1 << _OFFSET_BITS]
        words.sort(key=self._rest)
        self._words = array.array("q", words)

    def _rest(self, word: int) -> str:
        """The folded label from the word on (what the words are sorted by)."""
        return self._folded[word >> _OFFSET_BITS][word & _OFFSET_MASK :]

    def matches(self, query: str) -> dict[str, tuple[int, bool, str]]:
        """The resources with a name matching a folded query, each with its best (rank, is an alternative label,
        label): rank 0 the whole label, 1 its start, 2 the start of a later word."""
        best: dict[str, tuple[int, bool, str]] = {}
        at = bisect.bisect_left(self._words, query, key=self._rest)
        while at < len(self._words):
            number, offset = self._words[at] >> _OFFSET_BITS, self._words[at] & _OFFSET_MASK
            folded = self._folded[number]
            if not folded.startswith(query, offset):
                break
            iri, alternative, label = self._names[number]
            found = (2 if offset else 0 if folded == query else 1, alternative, label)
            if iri not in best or found < best[iri]:
                best[iri] = found
            at += 1
        return best


_OFFSET_BITS = 20
"""Bits of a word's offset in its folded label: words past the first MiB of a label are not indexed."""
_OFFSET_MASK = (1 << _OFFSET_BITS) - 1


def _word_starts(folded: str) -> list[int]:
    """Where each word of a folded label starts (words are separated by one space)."""
    return [0, *(at + 1 for at, char in enumerate(folded) if char == " ")] if folded else []


def _types(store: Store, iris: list[str], graphs: Sequence[str]) -> dict[str, list[Node]]:
    """The ontology's classes of each IRI stated in ``graphs`` (the asserted ones: the most specific, and no
    inferred statement is shown unmarked), by label, for showing what each result is."""
    if not iris:
        return {}
    values = " ".join(_ref(iri) for iri in iris)
    query = f"""SELECT ?s ?t WHERE {{ VALUES ?s {{ {values} }}
        ?s <{RDF_TYPE}> ?t FILTER(STRSTARTS(STR(?t), "{ONTOLOGY_NS}")) }}"""
    rows = [(row["s"].value, row["t"]) for row in solutions(store.query(query, default_graph=graphs))]
    labels = labels_of(store, [t for _, t in rows], graphs)
    found: dict[str, list[Node]] = {}
    for iri, cls in rows:
        found.setdefault(iri, []).append(to_node(cls, labels))
    return {iri: sorted(nodes, key=lambda n: (n.text.lower(), n.iri or "")) for iri, nodes in found.items()}
