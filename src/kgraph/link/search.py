"""What to ask the endpoint and what it answers: the resources worth linking, one query per batch, the items found.

Only the questions are here; what is done with the answers is in :mod:`kgraph.link.output`.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pyoxigraph as ox

from kgraph import __version__
from kgraph.config import RESOURCE_NS
from kgraph.store import Store
from kgraph.store.results import solutions

WIKIDATA_ENDPOINT = "https://query.wikidata.org/sparql"
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
CANDIDATE_NS = RESOURCE_NS + "link-candidate/"
USER_AGENT = (
    f"kgraph/{__version__} (https://w3id.org/kgraph/; `kgraph link` proposes Wikidata links for human review) "
    f"Python-urllib/{sys.version_info.major}.{sys.version_info.minor}"
)
"""Wikidata's User-Agent policy asks every client to say what it is and where to find out more."""

MAX_RETRY_AFTER = 60.0
"""Longest wait, in seconds, that a Retry-After header may impose before the next attempt."""

LOCAL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
"""The end of an IRI that can follow a prefix in Turtle, and be part of another IRI, as it is."""
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


@dataclass(frozen=True)
class LinkOptions:
    """Where to ask and how politely: one request at a time, in batches, with a pause between them."""

    endpoint: str = WIKIDATA_ENDPOINT
    timeout: float = 65.0
    """Seconds to wait for one answer; Wikidata's service stops a query itself after 60 s."""
    batch_size: int = 20
    """Resources asked about in one query."""
    pause: float = 1.0
    """Seconds between two queries, and the first back-off when the endpoint says it is busy (429, 503)."""
    retries: int = 2
    """Further attempts after a 429 or 503 answer."""


class EndpointError(RuntimeError):
    """The endpoint could not be reached or did not answer a query: the run stops and writes nothing."""


@dataclass(frozen=True)
class Entity:
    """A resource that may be linked: its names and the Wikidata classes its kinds map to."""

    iri: str
    label: ox.Literal
    names: tuple[ox.Literal, ...]
    classes: tuple[str, ...]
    linked: bool


@dataclass
class Candidate:
    """One item proposed for one resource, with what matched."""

    entity: Entity
    item: str
    item_label: str | None
    labels: set[tuple[ox.Literal, str]] = field(default_factory=set)
    """(the shared name, how the item carries it: "label" or "alias")."""
    classes: set[str] = field(default_factory=set)

    @property
    def iri(self) -> str:
        """Stable across runs, so a reviewer's verdict stays attached to the same candidate."""
        return CANDIDATE_NS + _slug(self.entity.iri, RESOURCE_NS) + "-" + _slug(self.item, WIKIDATA_ENTITY)

    @property
    def exact(self) -> bool:
        """The resource's own label is the item's own label (not an alternative label, not an alias)."""
        return (self.entity.label, "label") in self.labels

    def matched_label(self) -> ox.Literal:
        """The shared name a reviewer sees first: the resource's label when it matched, else the first in order."""
        return self.entity.label if self.exact else min((name for name, _ in self.labels), key=str)


_ENTITIES = """
PREFIX kg: <https://w3id.org/kgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT DISTINCT ?entity ?label ?name ?class ?linked WHERE {
  ?kind kg:wikidataClass ?class .
  ?type rdfs:subClassOf* ?kind .
  ?entity a ?type ; rdfs:label ?label .
  FILTER(isIRI(?entity) && isLITERAL(?label))
  { ?entity rdfs:label ?name } UNION { ?entity skos:altLabel ?name }
  FILTER(isLITERAL(?name))
  BIND(EXISTS {
    ?entity skos:exactMatch|^skos:exactMatch|owl:sameAs|^owl:sameAs ?item
    FILTER(STRSTARTS(STR(?item), "http://www.wikidata.org/entity/"))
  } AS ?linked)
}
"""


def linkable_entities(store: Store) -> list[Entity]:
    """Resources of a kind that the class mapping covers, with every English name they have, sorted by IRI."""
    rows: dict[str, dict] = {}
    for row in solutions(store.query(_ENTITIES)):
        entry = rows.setdefault(row["entity"].value, {"labels": set(), "names": set(), "classes": set()})
        entry["labels"].add(_english(row["label"]))
        entry["names"].add(_english(row["name"]))
        entry["classes"].add(row["class"].value)
        entry["linked"] = row["linked"].value == "true"
    entities = []
    for iri, entry in sorted(rows.items()):
        label = min(entry["labels"], key=str)
        names = (label, *sorted(entry["names"] - {label}, key=str))
        entities.append(Entity(iri, label, names, tuple(sorted(entry["classes"])), entry["linked"]))
    return entities


def _english(name: ox.Literal) -> ox.Literal:
    """A name as the endpoint stores labels: language-tagged; an untagged name is taken to be English."""
    return name if name.language else ox.Literal(name.value, language="en")


def search_query(entities: Sequence[Entity]) -> str:
    """One SELECT for a batch: items with one of the names as label or alias, of one of the mapped classes.

    Only what Wikidata's service answers quickly and any SPARQL 1.1 store can answer too: label and alias lookups
    with predicate and object bound (an index hit), then ``wdt:P31/wdt:P279*`` from each found item to a bound
    class; no ``wikibase:label`` service, no ``mwapi``, no engine-specific hints.
    """
    pairs = sorted({(str(name), f"<{cls}>") for e in entities for name in e.names for cls in e.classes})
    values = "\n".join(f"    ({name} {cls})" for name, cls in pairs)
    return f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
SELECT DISTINCT ?name ?class ?item ?via ?itemLabel WHERE {{
  VALUES (?name ?class) {{
{values}
  }}
  VALUES ?via {{ rdfs:label skos:altLabel }}
  ?item ?via ?name .
  ?item wdt:P31/wdt:P279* ?class .
  OPTIONAL {{ ?item rdfs:label ?itemLabel . FILTER(LANG(?itemLabel) = "en") }}
}}
"""


def request(query: str, endpoint: str) -> Request:
    """The HTTP request for one query: a form POST (batches outgrow a URL) that says who is asking."""
    return Request(
        endpoint,
        data=urlencode({"query": query}).encode("utf-8"),
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "application/sparql-results+json",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


def ask(query: str, options: LinkOptions) -> list[dict[str, dict]]:
    """The bindings of a SELECT, waiting as told when the endpoint is busy; :class:`EndpointError` otherwise."""
    endpoint = options.endpoint
    for attempt in range(options.retries + 1):
        try:
            with urlopen(request(query, endpoint), timeout=options.timeout) as response:
                return json.load(response)["results"]["bindings"]
        except HTTPError as error:
            if error.code in (429, 503) and attempt < options.retries:
                time.sleep(_retry_after(error, options.pause * 2**attempt))
                continue
            raise EndpointError(f"{endpoint} answered HTTP {error.code} {error.reason}{_detail(error)}") from None
        except TimeoutError:
            raise EndpointError(f"{endpoint} did not answer within {options.timeout:g} s") from None
        except URLError as error:
            reason = getattr(error.reason, "strerror", None) or str(error.reason)
            raise EndpointError(f"cannot reach {endpoint}: {reason}") from None
        except (ValueError, KeyError, TypeError):
            raise EndpointError(f"{endpoint} did not answer with SPARQL JSON results") from None
    raise AssertionError("unreachable: the last attempt returns or raises")


def _retry_after(error: HTTPError, default: float) -> float:
    """The wait the endpoint asks for (seconds form of Retry-After), capped; ``default`` when it does not say."""
    value = error.headers.get("Retry-After", "") if error.headers else ""
    return min(float(value), MAX_RETRY_AFTER) if value.strip().isdigit() else default


def _detail(error: HTTPError) -> str:
    """The first line of an error body (a query syntax error, say), so the one-line message is useful."""
    try:
        first = error.read(500).decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return f": {first[0]}" if first else ""


def collect(batch: Sequence[Entity], bindings: list[dict[str, dict]], found: dict[tuple[str, str], Candidate]) -> None:
    """Attach each answer to every resource of the batch that has that name and maps to that class."""
    for row in bindings:
        if row.get("item", {}).get("type") != "uri":
            continue
        name = _literal(row["name"])
        item, cls = row["item"]["value"], row["class"]["value"]
        via = "label" if row["via"]["value"] == _RDFS_LABEL else "alias"
        for entity in batch:
            if cls in entity.classes and name in entity.names:
                label = row.get("itemLabel", {}).get("value")
                candidate = found.setdefault((entity.iri, item), Candidate(entity, item, label))
                candidate.labels.add((name, via))
                candidate.classes.add(cls)


def _literal(binding: dict) -> ox.Literal:
    """A literal of SPARQL JSON results."""
    if "xml:lang" in binding:
        return ox.Literal(binding["value"], language=binding["xml:lang"])
    return ox.Literal(binding["value"])


def class_labels(store: Store) -> dict[str, str]:
    """English labels of the mapped Wikidata classes, for the reasons a reviewer reads."""
    query = """PREFIX kg: <https://w3id.org/kgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?class ?label WHERE { ?kind kg:wikidataClass ?class . ?class rdfs:label ?label }"""
    return {row["class"].value: row["label"].value for row in solutions(store.query(query))}


def _slug(iri: str, namespace: str) -> str:
    """The part of an IRI that names it, when it is safe in another IRI; else a short stable hash."""
    local = iri.removeprefix(namespace)
    if iri.startswith(namespace) and LOCAL_NAME.match(local):
        return local
    return hashlib.sha256(iri.encode("utf-8")).hexdigest()[:16]
