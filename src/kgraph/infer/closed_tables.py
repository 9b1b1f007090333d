"""The one-premise rules of the compiled schema (sub-classes, domains, ranges, sub-properties, inverses) closed under
composition, so that one round over a triple concludes what rounds of single steps would.

In the store (:mod:`kgraph.infer.in_store`) each round is a set of SPARQL updates, and at 1M generated triples the
second round of single steps matched the first round's 580k conclusions only to find the superclasses of the classes
it had just concluded, the domains of the properties it had just implied: about a quarter of the inference time.
With the tables closed, every type and every implied link of a triple comes from one table look-up; only what the
joined rules (transitive properties, chains) conclude is matched against the tables again.

A path through a link turned around (an inverse) whose subject would be a literal is followed all the same, as the
native engine follows it (it keeps such triples in memory and never outputs them); only conclusions about a literal
are left out, by the queries. When a property implies ``rdf:type`` (or is implied by it), types and links feed each
other within a round, so the tables are left as compiled (``closed`` is false) and every round matches them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kgraph.infer.native import TYPE, Schema

Pairs = frozenset[tuple[str, str]]
"""Rows of a table: (premise, conclusion), as N-Triples terms."""


@dataclass(frozen=True)
class OnePremiseTables:
    """What one triple concludes alone: a class's other classes (``types``), the classes of a link's subject and
    object (``subject_types``, ``object_types``), the links it implies the same way (``forward``) or turned around
    (``backward``); each keyed by the premise's class or property."""

    types: Pairs
    subject_types: Pairs
    object_types: Pairs
    forward: Pairs
    backward: Pairs
    closed: bool

    def matching(self, predicates: Iterable[str], classes: Iterable[str]) -> OnePremiseTables:
        """The rows a delta holding triples of only these predicates, and types of only these classes, can match:
        a round over a small delta then sends Virtuoso a table of a few rows, not one of every property, each of
        which it looks up among every graph's triples of that property (a round over the 60k conclusions of the
        project's rules at 1M generated triples: 0.5 to 3.5 s, for three properties). With no class, the rows a round
        after the first needs: the links transitive properties and chains concluded, the rest of its delta concluded
        by these closed tables already."""
        links, kinds = set(predicates), set(classes)

        def only(pairs: Pairs, keep: set[str]) -> Pairs:
            return frozenset(pair for pair in pairs if pair[0] in keep)

        return OnePremiseTables(
            only(self.types, kinds),
            only(self.subject_types, links),
            only(self.object_types, links),
            only(self.forward, links),
            only(self.backward, links),
            self.closed,
        )


def one_premise_tables(schema: Schema) -> OnePremiseTables:
    """The schema's one-premise tables, closed under composition unless a property implies or is implied by
    ``rdf:type`` (then as compiled)."""
    if not _closable(schema):
        return OnePremiseTables(
            _rows(schema.types),
            _rows(schema.domains),
            _rows(schema.ranges),
            _rows(schema.properties),
            _rows(schema.inverses),
            closed=False,
        )
    subject_types: set[tuple[str, str]] = set()
    object_types: set[tuple[str, str]] = set()
    forward: set[tuple[str, str]] = set()
    backward: set[tuple[str, str]] = set()
    for premise in {*schema.domains, *schema.ranges, *schema.properties, *schema.inverses}:
        for link, turned in _links(premise, schema):
            if (link, turned) != (premise, False):
                (backward if turned else forward).add((premise, link))
            of_subject, of_object = schema.domains.get(link, set()), schema.ranges.get(link, set())
            if turned:
                of_subject, of_object = of_object, of_subject
            subject_types |= {(premise, c) for c in _with_superclasses(of_subject, schema)}
            object_types |= {(premise, c) for c in _with_superclasses(of_object, schema)}
    types = {(c, d) for c in schema.types for d in _with_superclasses({c}, schema) if d != c}
    return OnePremiseTables(
        frozenset(types),
        frozenset(subject_types),
        frozenset(object_types),
        frozenset(forward),
        frozenset(backward),
        closed=True,
    )


def _closable(schema: Schema) -> bool:
    implied = {q for table in (schema.properties, schema.inverses) for qs in table.values() for q in qs}
    premises = {*schema.domains, *schema.ranges, *schema.properties, *schema.inverses}
    return TYPE not in implied | premises | schema.transitive | set(schema.chains)


def _links(premise: str, schema: Schema) -> set[tuple[str, bool]]:
    """Every link a triple by ``premise`` implies, with whether it is turned around (itself included, not turned)."""
    found = {(premise, False)}
    pending = [(premise, False)]
    while pending:
        link, turned = pending.pop()
        for implied in (
            *((q, turned) for q in schema.properties.get(link, ())),
            *((q, not turned) for q in schema.inverses.get(link, ())),
        ):
            if implied not in found:
                found.add(implied)
                pending.append(implied)
    return found


def _with_superclasses(classes: set[str], schema: Schema) -> set[str]:
    found = set(classes)
    pending = list(classes)
    while pending:
        for superclass in schema.types.get(pending.pop(), ()):
            if superclass not in found:
                found.add(superclass)
                pending.append(superclass)
    return found


def _rows(table: dict[str, set[str]]) -> Pairs:
    return frozenset((key, value) for key, values in table.items() for value in values)
