"""The ontology page's diagram: an SVG drawn here, from the same terms the page lists, with no tool run at serve time.

A general graph layout needs an external engine and gives a different picture at each change; this layout is fixed
and readable instead. The classes form an indented tree by ``rdfs:subClassOf`` (a superclass outside the ontology is
written after the class), and each object property with a domain and a range is a lane to the right: a bracket
from its domain's row (a dot) to its range's row (an arrow), named along the lane. Every box and name links to the
term's entry on the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from kgraph.config import ONTOLOGY_NS
from kgraph.describe import OWL, Ontology, OntologyTerm

ROW = 24
"""Height of one class row, in pixels."""
INDENT = 18
"""How far a subclass sits right of its superclass."""
LANE = 16
"""Width of one property lane."""
CHAR = 6.6
"""Approximate width of one character of the 12 px labels: boxes and lanes are sized from it."""
TOP = 28
"""Room above the first row for the legend."""


@dataclass
class _Box:
    iri: str
    text: str
    anchor: str | None
    depth: int = 0
    row: int = 0
    note: str = ""
    children: list[_Box] = field(default_factory=list)

    @property
    def left(self) -> float:
        return 8 + self.depth * INDENT

    @property
    def right(self) -> float:
        return self.left + len(self.text) * CHAR + 12

    @property
    def end(self) -> float:
        """Where the row's text ends (the box and its note): property lines start and end here."""
        return self.right + (len(self.note) * CHAR * 0.9 + 8 if self.note else 2)

    @property
    def y(self) -> float:
        return TOP + self.row * ROW + ROW / 2


@dataclass(frozen=True)
class _Edge:
    name: str
    domain: str
    range: str


def ontology_diagram(ontology: Ontology, root: str = "") -> Markup:
    """The SVG of the ontology's classes, subclass tree and object properties (domain -> range), ready to inline."""
    boxes = _boxes(ontology)
    order = _rows(boxes)
    edges = _edges(ontology, boxes)
    lanes_x = max((b.end for b in order), default=0) + 24
    width = lanes_x + LANE * len(edges) + 16
    height = TOP + ROW * len(order) + 8
    parts = [
        f'<svg id="ontology-diagram" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}"'
        f' viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-labelledby="ontology-diagram-title">',
        '<title id="ontology-diagram-title">Classes of the kgraph ontology by subclass, and its object properties'
        " from domain to range</title>",
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7"'
        ' orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#1f5fa8"/></marker></defs>',
        '<text x="8" y="16" font-size="11" fill="#5b6475">Boxes: classes, indented under their superclass.'
        " Lanes: object properties, from the domain (dot) to the range (arrow).</text>",
        *(_tree_line(parent, child) for parent in order for child in parent.children),
        *(_lane(edge, boxes, lanes_x + LANE * i + LANE / 2, height, root) for i, edge in enumerate(edges)),
        *(_box(b, root) for b in order),
        "</svg>",
    ]
    return Markup("\n".join(parts))


def _boxes(ontology: Ontology) -> dict[str, _Box]:
    """A box per class of the ontology, and per outside class an object property names as domain or range."""
    boxes = {c.iri: _Box(c.iri, c.label, c.name) for c in ontology.classes}
    for prop in _object_properties(ontology):
        for node in (*prop.domain, *prop.range):
            if node.iri and node.iri not in boxes:
                boxes[node.iri] = _Box(node.iri, node.text, None)
    for c in ontology.classes:
        inside = [p for p in c.parents if p.iri in boxes and p.iri != c.iri]
        outside = [p.text for p in c.parents if p.iri not in boxes]
        if inside:
            parent = inside[0].iri
            assert parent is not None  # a key of boxes
            boxes[parent].children.append(boxes[c.iri])
        boxes[c.iri].note = f"⊑ {', '.join(outside)}" if outside else ""
        if len(inside) > 1:
            also = ", ".join(p.text for p in inside[1:])
            boxes[c.iri].note = f"{boxes[c.iri].note}; also ⊑ {also}".lstrip("; ")
    return boxes


def _rows(boxes: dict[str, _Box]) -> list[_Box]:
    """The boxes in tree order (depth first, by label), ontology classes first, each with its row and depth."""
    children = {id(child) for b in boxes.values() for child in b.children}
    roots = sorted((b for b in boxes.values() if id(b) not in children), key=lambda b: (b.anchor is None, b.text))
    order: list[_Box] = []

    def visit(box: _Box, depth: int) -> None:
        box.depth, box.row = depth, len(order)
        order.append(box)
        for child in sorted(box.children, key=lambda b: b.text):
            visit(child, depth + 1)

    for box in roots:
        visit(box, 0)
    return order


def _object_properties(ontology: Ontology) -> list[OntologyTerm]:
    return [p for p in ontology.properties if any(t.iri == OWL + "ObjectProperty" for t in p.types)]


def _edges(ontology: Ontology, boxes: dict[str, _Box]) -> list[_Edge]:
    """One edge per (object property, domain, range), ordered by where it starts and how far it goes."""
    edges = [
        _Edge(p.name, d.iri, r.iri)
        for p in _object_properties(ontology)
        for d in p.domain
        for r in p.range
        if d.iri in boxes and r.iri in boxes
    ]
    return sorted(edges, key=lambda e: (min(boxes[e.domain].row, boxes[e.range].row), _span(e, boxes), e.name))


def _span(edge: _Edge, boxes: dict[str, _Box]) -> int:
    return abs(boxes[edge.domain].row - boxes[edge.range].row)


def _box(box: _Box, root: str) -> str:
    text = escape(box.text)
    rect = (
        f'<rect x="{box.left:.1f}" y="{box.y - 9:.1f}" width="{box.right - box.left:.1f}" height="18" rx="3"'
        f' fill="{"#e6eefb" if box.anchor else "#f6f7f9"}" stroke="{"#1f5fa8" if box.anchor else "#8a93a3"}"/>'
        f'<text x="{box.left + 6:.1f}" y="{box.y + 4:.1f}" font-size="12" fill="#1d2330">{text}</text>'
    )
    note = (
        f'<text x="{box.right + 6:.1f}" y="{box.y + 4:.1f}" font-size="11" fill="#5b6475"'
        f' paint-order="stroke" stroke="#fff" stroke-width="3">{escape(box.note)}</text>'
        if box.note
        else ""
    )
    if box.anchor is None:
        return f'<g class="external-class"><title>{escape(box.iri)}</title>{rect}{note}</g>'
    href = escape(f"{root}/ontology#{box.anchor}")
    return f'<g class="class" data-iri="{escape(box.iri)}"><a href="{href}">{rect}</a>{note}</g>'


def _tree_line(parent: _Box, child: _Box) -> str:
    x = parent.left + 8
    return (
        f'<path class="subclass" d="M{x:.1f},{parent.y + 9:.1f} V{child.y:.1f} H{child.left:.1f}"'
        ' fill="none" stroke="#8a93a3"/>'
    )


def _lane(edge: _Edge, boxes: dict[str, _Box], x: float, height: float, root: str) -> str:
    domain, range_ = boxes[edge.domain], boxes[edge.range]
    y1, y2 = domain.y, range_.y
    if y1 == y2:
        y1, y2 = y1 - 4, y2 + 4
    name = escape(edge.name)
    href = escape(f"{root}/ontology#{edge.name}")
    half = len(edge.name) * 3 + 4
    mid = min(max((y1 + y2) / 2, TOP + half), height - half)
    return (
        f'<g class="property" data-property="{escape(ONTOLOGY_NS + edge.name)}">'
        f"<title>kg:{name}: {escape(domain.text)} → {escape(range_.text)}</title>"
        f'<path d="M{domain.end:.1f},{y1:.1f} H{x:.1f} V{y2:.1f} H{range_.end:.1f}" fill="none"'
        ' stroke="#1f5fa8" stroke-opacity="0.55" marker-end="url(#arrow)"/>'
        f'<circle cx="{domain.end:.1f}" cy="{y1:.1f}" r="2.5" fill="#1f5fa8"/>'
        f'<a href="{href}"><text transform="translate({x - 3:.1f},{mid:.1f}) rotate(-90)" text-anchor="middle"'
        f' font-size="10" fill="#1f5fa8" paint-order="stroke" stroke="#fff" stroke-width="3">{name}</text></a></g>'
    )
