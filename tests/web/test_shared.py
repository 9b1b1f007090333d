"""What several blueprints' views share (``web/shared.py``), called as plain functions."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kgraph.sparql.protocol import ProtocolError
from kgraph.web.shared import MAP_FILES, STATIC, infer_flag, serialize, vendored, wants_html


@pytest.mark.parametrize(("value", "infer"), [(None, True), ("true", True), ("TRUE", True), ("false", False)])
def test_the_infer_parameter_is_on_unless_false(value: str | None, infer: bool) -> None:
    assert infer_flag(value) is infer


def test_another_infer_value_is_refused_with_its_words() -> None:
    with pytest.raises(ProtocolError) as refused:
        infer_flag("yes")
    assert refused.value.message == "The 'infer' parameter must be 'true' or 'false', not 'yes'."


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", True),
        ("*/*", False),
        ("text/turtle, text/html;q=0.5", False),
    ],
)
def test_a_page_goes_to_clients_that_rate_html_highest(accept: str, html: bool) -> None:
    assert wants_html(accept) is html


def test_the_map_assets_are_there_exactly_when_make_assets_put_them() -> None:
    assert vendored(MAP_FILES) is all((STATIC / "vendor" / name).is_file() for name in MAP_FILES)
    assert vendored(("no-such-file.js",)) is False


def test_rdf_is_written_with_the_project_prefixes() -> None:
    triple = ox.Triple(
        ox.NamedNode("https://w3id.org/kgraph/id/sudzha"),
        ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
        ox.Literal("Sudzha", language="en"),
    )
    assert serialize([triple], ox.RdfFormat.TURTLE).decode().endswith('kgr:sudzha rdfs:label "Sudzha"@en .\n')
