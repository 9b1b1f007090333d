"""Propose Wikidata items for resources without a verified identifier, as candidates for a person to review.

Issue 6 wants every named entity linked to its external identifier, but a wrong identifier is worse than none, and
a match by name is a guess. So nothing here writes a link. :func:`propose_links` asks an external SPARQL endpoint
(Wikidata's query service by default) for items whose English label or alias equals one of a resource's names and
whose type fits the resource's kind (``link/wikidata-classes.ttl``), and writes each answer as a
``kg:LinkCandidate`` to a file outside ``data/ttl/``, which the server does not load. A person promotes a candidate
by writing ``skos:exactMatch`` into the data; the next run then skips that resource.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kgraph.link.output import previous_verdicts, write_candidates
from kgraph.link.search import (
    USER_AGENT,
    WIKIDATA_ENDPOINT,
    Candidate,
    EndpointError,
    LinkOptions,
    ask,
    class_labels,
    collect,
    linkable_entities,
    request,
    search_query,
)
from kgraph.load import load_paths
from kgraph.project import ProjectFiles
from kgraph.store import EmbeddedStore

__all__ = ["USER_AGENT", "WIKIDATA_ENDPOINT", "EndpointError", "LinkOptions", "LinkReport", "propose_links", "request"]


@dataclass
class LinkReport:
    """What one run did, for the command's summary line."""

    output: Path
    searched: int
    skipped: int
    queries: int
    candidates: list[Candidate]
    new: int

    def summary(self) -> str:
        """One line: what was asked, what was skipped, what was written."""
        return (
            f"{self.searched} resources without a Wikidata link searched in {self.queries} "
            f"quer{'y' if self.queries == 1 else 'ies'}, {self.skipped} already linked skipped; "
            f"{len(self.candidates)} candidates ({self.new} new) written to {self.output}"
        )


def propose_links(
    paths: Sequence[Path],
    *,
    project: ProjectFiles,
    output: Path,
    classes: Path | None = None,
    options: LinkOptions | None = None,
) -> LinkReport:
    """Ask the endpoint about every unlinked resource of ``paths`` (default: the project's data); write candidates.

    Re-running is idempotent: a candidate found again keeps its review status, its comments and the time it was
    first proposed, so only new answers change the file. Raises :class:`EndpointError` before writing anything
    if a query fails, and :class:`kgraph.load.RdfSyntaxError` for an unreadable input or previous output.
    """
    options = options or LinkOptions()
    previous = previous_verdicts(output)  # an unreadable previous file stops the run before any query
    store = EmbeddedStore()
    mapping = classes or project.link / "wikidata-classes.ttl"
    load_paths(store, [project.ontology, mapping, *(paths or [project.data])], root=project.root)
    entities = linkable_entities(store)
    unlinked = [e for e in entities if not e.linked]
    batches = [unlinked[i : i + options.batch_size] for i in range(0, len(unlinked), options.batch_size)]
    found: dict[tuple[str, str], Candidate] = {}
    for number, batch in enumerate(batches):
        if number:
            time.sleep(options.pause)
        collect(batch, ask(search_query(batch), options), found)
    candidates = sorted(found.values(), key=lambda c: (c.entity.iri, c.item))
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_candidates(output, candidates, previous, options.endpoint, stamp, class_labels(store))
    new = sum(c.iri not in previous for c in candidates)
    return LinkReport(output, len(unlinked), len(entities) - len(unlinked), len(batches), candidates, new)
