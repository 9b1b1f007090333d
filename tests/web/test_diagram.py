"""The ontology diagram drawn from terms: boxes for classes in subclass order, lanes for object properties."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from kgraph.describe import OWL, Node, Ontology, OntologyTerm
from kgraph.web.diagram import ontology_diagram

KG = "https://w3id.org/kgraph/ontology#"
SVG = "{http://www.w3.org/2000/svg}"


def kg(name: str, label: str) -> Node:
    return Node(label, KG + name, "ontology#" + name)


def term(name: str, label: str, **kwargs: list[Node]) -> OntologyTerm:
    return OntologyTerm(name=name, iri=KG + name, label=label, **kwargs)


PLACE, REGION, EVENT = kg("Place", "place"), kg("Region", "region"), kg("Event", "event <&>")
INSTANT = Node("time:Instant", "http://www.w3.org/2006/time#Instant")
OBJECT, DATATYPE = Node("owl:ObjectProperty", OWL + "ObjectProperty"), Node("x", OWL + "DatatypeProperty")
ONTOLOGY = Ontology(
    header=[],
    classes=[
        term("Event", "event <&>", parents=[Node("sem:Event", "http://semanticweb.cs.vu.nl/2009/11/sem/Event")]),
        term("Place", "place"),
        term("Region", "region", parents=[PLACE]),
    ],
    properties=[
        term("locatedIn", "located in", types=[OBJECT], domain=[PLACE], range=[PLACE]),
        term("hasPlace", "has place", types=[OBJECT], domain=[EVENT], range=[PLACE]),
        term("hasTime", "has time", types=[OBJECT], range=[INSTANT]),  # no domain: no lane
        term("area", "area", types=[DATATYPE], domain=[REGION], range=[INSTANT]),  # not an object property
        term("at", "at", types=[OBJECT], domain=[EVENT], range=[INSTANT]),
    ],
    individuals=[],
)


def test_the_diagram_is_well_formed_svg_with_a_box_per_class() -> None:
    svg = ET.fromstring(str(ontology_diagram(ONTOLOGY, root="/kg")))
    assert svg.get("id") == "ontology-diagram"
    classes = [g for g in svg.iter(SVG + "g") if g.get("class") == "class"]
    assert [g.get("data-iri") for g in classes] == [KG + "Event", KG + "Place", KG + "Region"]
    links = [a.get("href") for g in classes for a in g.iter(SVG + "a")]
    assert links == ["/kg/ontology#Event", "/kg/ontology#Place", "/kg/ontology#Region"]
    texts = [t.text for g in classes for t in g.iter(SVG + "text")]
    assert texts == ["event <&>", "⊑ sem:Event", "place", "region"]
    outside = [g for g in svg.iter(SVG + "g") if g.get("class") == "external-class"]
    assert [g.find(SVG + "title").text for g in outside] == ["http://www.w3.org/2006/time#Instant"]


def test_a_subclass_sits_under_its_superclass() -> None:
    svg = str(ontology_diagram(ONTOLOGY))
    rows = {m[2]: float(m[1]) for m in re.finditer(r'<rect x="([\d.]+)"[^>]*/><text[^>]*>([^<]+)</text>', svg)}
    assert rows["region"] == rows["place"] + 18
    assert svg.count('<path class="subclass"') == 1


def test_a_lane_per_object_property_with_a_domain_and_a_range() -> None:
    svg = ET.fromstring(str(ontology_diagram(ONTOLOGY)))
    lanes = [g for g in svg.iter(SVG + "g") if g.get("class") == "property"]
    assert sorted(g.find(SVG + "title").text for g in lanes) == [
        "kg:at: event <&> → time:Instant",
        "kg:hasPlace: event <&> → place",
        "kg:locatedIn: place → place",
    ]
