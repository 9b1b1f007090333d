"""The closed one-premise tables conclude in one pass what the compiled tables conclude in rounds, as the native
engine applies them: for random schemas and data, including links to literals turned around by inverses."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.infer.closed_tables import OnePremiseTables, one_premise_tables
from kgraph.infer.native import TYPE, Schema

CLASSES = [f"<urn:c{i}>" for i in range(5)]
PROPERTIES = [f"<urn:p{i}>" for i in range(5)]
NODES = ["<urn:a>", "<urn:b>", "_:c", '"a literal"']

Triple = tuple[str, str, str]


def _table(keys: list[str], values: list[str]) -> st.SearchStrategy[dict[str, set[str]]]:
    return st.dictionaries(st.sampled_from(keys), st.sets(st.sampled_from(values), min_size=1, max_size=3), max_size=4)


schemas = st.builds(
    lambda types, domains, ranges, properties, inverses: Schema(
        types=defaultdict(set, types),
        domains=defaultdict(set, domains),
        ranges=defaultdict(set, ranges),
        properties=defaultdict(set, properties),
        inverses=defaultdict(set, inverses),
    ),
    _table(CLASSES, CLASSES),
    _table(PROPERTIES, CLASSES),
    _table(PROPERTIES, CLASSES),
    _table(PROPERTIES, PROPERTIES),
    _table(PROPERTIES, PROPERTIES),
)
data = st.sets(
    st.one_of(
        st.tuples(st.sampled_from(NODES[:3]), st.sampled_from(PROPERTIES), st.sampled_from(NODES)),
        st.tuples(st.sampled_from(NODES[:3]), st.just(TYPE), st.sampled_from(CLASSES)),
    ),
    max_size=8,
)


def _step(schema: Schema, triple: Triple) -> set[Triple]:
    """One rule application to one triple, as the native engine makes it (literal subjects kept in memory)."""
    s, p, o = triple
    if p == TYPE:
        return {(s, TYPE, c) for c in schema.types.get(o, ())}
    return {
        *((s, TYPE, c) for c in schema.domains.get(p, ())),
        *((o, TYPE, c) for c in schema.ranges.get(p, ())),
        *((s, q, o) for q in schema.properties.get(p, ())),
        *((o, q, s) for q in schema.inverses.get(p, ())),
    }


def _in_rounds(schema: Schema, triples: set[Triple]) -> set[Triple]:
    known, delta = set(triples), set(triples)
    while delta:
        delta = {c for t in delta for c in _step(schema, t)} - known
        known |= delta
    return {t for t in known - triples if not t[0].startswith('"')}


def _in_one_pass(schema: Schema, triples: set[Triple], tables: OnePremiseTables | None = None) -> set[Triple]:
    """What the in-store selections of the closed tables (or of ``tables``) find: literals never made subjects."""
    tables = tables or one_premise_tables(schema)
    found: set[Triple] = set()
    for s, p, o in triples:
        literal = o.startswith('"')
        if p == TYPE:
            found |= {(s, TYPE, d) for c, d in tables.types if c == o}
        found |= {(s, TYPE, d) for q, d in tables.subject_types if q == p}
        found |= {(s, q, o) for k, q in tables.forward if k == p}
        if not literal:
            found |= {(o, TYPE, d) for q, d in tables.object_types if q == p}
            found |= {(o, q, s) for k, q in tables.backward if k == p}
    return found - triples


@settings(max_examples=400, deadline=None)
@given(schemas, data)
def test_one_pass_over_the_closed_tables_concludes_what_rounds_over_the_compiled_ones_do(
    schema: Schema, triples: set[Triple]
) -> None:
    assert one_premise_tables(schema).closed
    assert _in_one_pass(schema, triples) == _in_rounds(schema, triples)


@settings(max_examples=300, deadline=None)
@given(schemas, data)
def test_the_rows_a_delta_can_match_conclude_what_every_row_does(schema: Schema, triples: set[Triple]) -> None:
    predicates = {p for _, p, _ in triples}
    classes = {o for _, p, o in triples if p == TYPE}
    matching = one_premise_tables(schema).matching(predicates, classes)
    assert _in_one_pass(schema, triples, matching) == _in_one_pass(schema, triples)


def test_the_rows_a_delta_can_match_are_those_of_its_predicates_and_classes() -> None:
    schema = Schema(
        types=defaultdict(set, {"<urn:C>": {"<urn:D>"}, "<urn:E>": {"<urn:D>"}}),
        domains=defaultdict(set, {"<urn:p>": {"<urn:C>"}, "<urn:q>": {"<urn:E>"}}),
    )
    matching = one_premise_tables(schema).matching({"<urn:p>"}, {"<urn:E>"})
    assert matching.subject_types == {("<urn:p>", "<urn:C>"), ("<urn:p>", "<urn:D>")}
    assert matching.types == {("<urn:E>", "<urn:D>")}
    assert matching.object_types == matching.forward == matching.backward == frozenset()


def test_a_link_to_a_literal_turned_around_types_its_subject_by_the_inverse_range() -> None:
    # (a p "x"), p inverse q, q range C: the native engine holds ("x" q a) in memory and types a as a C
    schema = Schema(
        inverses=defaultdict(set, {"<urn:p>": {"<urn:q>"}}), ranges=defaultdict(set, {"<urn:q>": {"<urn:C>"}})
    )
    tables = one_premise_tables(schema)
    assert tables.subject_types == {("<urn:p>", "<urn:C>")}
    assert tables.backward == {("<urn:p>", "<urn:q>")}
    assert tables.object_types == {("<urn:q>", "<urn:C>")}  # q's own links type their objects


def test_tables_stay_as_compiled_when_a_property_implies_rdf_type() -> None:
    schema = Schema(properties=defaultdict(set, {"<urn:p>": {TYPE}}), types=defaultdict(set, {"<urn:C>": {"<urn:D>"}}))
    tables = one_premise_tables(schema)
    assert not tables.closed
    assert tables.forward == {("<urn:p>", TYPE)}
    assert tables.types == {("<urn:C>", "<urn:D>")}


def test_rounds_after_the_first_match_only_the_links_the_joined_rules_conclude() -> None:
    schema = Schema(
        types=defaultdict(set, {"<urn:C>": {"<urn:D>"}}),
        domains=defaultdict(set, {"<urn:within>": {"<urn:C>"}, "<urn:near>": {"<urn:C>"}}),
        properties=defaultdict(set, {"<urn:within>": {"<urn:near>"}}),
    )
    joined = one_premise_tables(schema).matching({"<urn:within>"}, ())
    assert joined.types == frozenset()
    assert joined.subject_types == {("<urn:within>", "<urn:C>"), ("<urn:within>", "<urn:D>")}
    assert joined.forward == {("<urn:within>", "<urn:near>")}
