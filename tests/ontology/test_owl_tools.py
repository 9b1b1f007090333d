"""The ontology and the data read the same in standard OWL tools as in kgraph.

The OWL API (Protege, ROBOT, HermiT, Pellet) reports no OWL 2 DL or RL profile violation and drops no
triple; HermiT finds the ontology with the data consistent, and still catches a deliberate mistake
(a place typed as a person, which the ontology's disjointness forbids).
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.slow


def test_the_ontology_is_in_owl2_rl_and_dl_for_the_owl_api(owlapi, merged) -> None:
    findings = owlapi(merged(data=False))
    assert findings == {"OWL 2 DL": [], "OWL 2 RL": [], "UNPARSED": []}


# The only OWL 2 RL findings on the data: literals of the datatypes OWL-Time and GeoSPARQL define for dates and
# geometries, kept as annotation values (see ontology/external.ttl). OWL 2 DL accepts them there; the RL profile lists
# a smaller set of datatypes and reports every literal outside it, annotations included.
GEO = r"<http://www\.opengis\.net/ont/geosparql#"
TIME = r"<http://www\.w3\.org/2006/time#"
KNOWN_RL = re.compile(
    rf"Use of data range not in profile: (xsd:date|xsd:gYear|xsd:gMonth|{GEO}wktLiteral>) "
    rf" \[AnnotationAssertion\(({TIME}(inXSDDate|year|month)>|{GEO}asWKT>) "
)


def test_the_ontology_with_the_data_is_in_owl2_dl_and_nothing_is_dropped(owlapi, merged) -> None:
    findings = owlapi(merged(data=True))
    assert findings["OWL 2 DL"] == []
    assert findings["UNPARSED"] == []
    assert [v for v in findings["OWL 2 RL"] if not KNOWN_RL.match(v)] == []
    assert len(findings["OWL 2 RL"]) == 7


def test_hermit_finds_the_ontology_with_the_data_consistent(hermit, merged) -> None:
    answer = hermit(merged(data=True))
    assert answer == "consistent"


def test_hermit_finds_a_place_typed_as_a_person_inconsistent(hermit, merged) -> None:
    wrong = "<https://w3id.org/kgraph/id/sudzha> a <https://w3id.org/kgraph/ontology#Person> ."
    answer = hermit(merged(data=True, extra=wrong))
    assert answer == "inconsistent"
