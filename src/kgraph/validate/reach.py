"""How far the shapes look from a focus node, so that a change is re-validated only where it can matter.

A shape validates a focus node by reading triples along chains that start at the node: forward along its paths
(``kg:startTime`` then ``time:hasDateTimeDescription``), backward along inverse paths and SPARQL patterns that
reach the node by their object (``?claim kg:statement $this``). A changed triple can change the result of exactly
the focus nodes whose chains reach it, so the nodes to validate again are found by walking back from each changed
triple: from its subject to the nodes pointing at it (any predicate), or on along the predicates read backward,
as many steps as the longest chain (:attr:`Reach.depth`); predicates read under ``+`` or ``*`` take any number of
steps. The shapes are read once (their hash keys the cache), SPARQL constraints through rdflib's parser.

A SPARQL pattern not connected to ``$this`` reads the whole graph: a change to its predicate means validating
every node (:attr:`Reach.everywhere`).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kgraph.store import Store

if TYPE_CHECKING:
    import rdflib
    from rdflib.term import Node as RdflibNode

SH = "http://www.w3.org/ns/shacl#"
ANY = "*"
"""A predicate position that a variable (or a negated path) fills: any predicate."""
Node = ox.NamedNode | ox.BlankNode


@dataclass
class Reach:
    """Which predicates the shapes read, and how many steps from a focus node."""

    forward: dict[str, int] = field(default_factory=dict)
    """Predicate (or ANY) -> the most steps from a focus node to the subject of a triple read with it."""
    backward: dict[str, int] = field(default_factory=dict)
    """Predicate (or ANY) -> the most steps from a focus node to the object of a triple read from its object
    (inverse paths, SPARQL patterns met by their object)."""
    unbounded: set[str] = field(default_factory=set)
    """Predicates followed any number of times (``+``, ``*``)."""
    everywhere: set[str] = field(default_factory=set)
    """Predicates read by patterns connected to no focus node: a change to one means validating everything."""
    via: dict[str, list[str]] = field(default_factory=dict)
    _chain: set[str] | None = field(default=None, repr=False, compare=False)
    """Predicate (``^`` before it when read backward) -> the last steps by which a shape reaches the node it reads
    it at: ``q`` (the node is the object of a ``q`` triple), ``^q`` (its subject), ANY (any step)."""

    def to_dict(self) -> dict:
        """For the cache (JSON)."""
        return {
            "forward": self.forward,
            "backward": self.backward,
            "unbounded": sorted(self.unbounded),
            "everywhere": sorted(self.everywhere),
            "via": self.via,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Reach:
        return cls(
            dict(data["forward"]),
            dict(data["backward"]),
            set(data["unbounded"]),
            set(data["everywhere"]),
            {key: list(value) for key, value in data["via"].items()},
        )

    def read(self, predicate: str, steps: int, *, backward: bool = False, via: Iterable[str] = (ANY,)) -> None:
        """Note that a shape reads ``predicate`` ``steps`` steps away from its focus node, reaching that node by
        one of the steps ``via``."""
        reads = self.backward if backward else self.forward
        reads[predicate] = max(reads.get(predicate, 0), steps)
        if steps:
            key = ("^" if backward else "") + predicate
            self.via[key] = sorted(set(self.via.get(key, [])) | set(via))
            self._chain = None

    def chain_steps(self) -> set[str]:
        """Every step a shape takes on its way to a node it reads at."""
        if self._chain is None:
            self._chain = set().union(*self.via.values()) if self.via else set()
        return self._chain

    def first_steps(self, predicate: str, *, backward: bool = False) -> set[str]:
        """The steps by which a shape can reach the node it reads ``predicate`` at."""
        prefix = "^" if backward else ""
        return set(self.via.get(prefix + predicate, [])) | set(self.via.get(prefix + ANY, []))

    def needs_everything(self, changed: Iterable[ox.Triple]) -> bool:
        """Whether a changed triple is read by a pattern connected to no focus node."""
        if ANY in self.everywhere:
            return True
        return any(t.predicate.value in self.everywhere for t in changed)

    def steps(self, predicate: str, *, backward: bool = False) -> int:
        """The most steps at which ``predicate`` is read (-1: never)."""
        reads = self.backward if backward else self.forward
        return max(reads.get(predicate, -1), reads.get(ANY, -1))


def affected(store: Store, changed: Iterable[ox.Triple], reach: Reach) -> set[Node]:
    """The nodes whose validation can read one of the changed triples, found in the store holding the new state."""
    found: dict[Node, int] = {}
    for triple in changed:
        predicate = triple.predicate.value
        if not isinstance(triple.subject, ox.NamedNode | ox.BlankNode):
            continue  # a triple term as subject: no shape targets it
        starts = [triple.subject]
        if predicate in reach.unbounded:
            starts = _chain_back(store, triple.subject, triple.predicate)
        first = reach.first_steps(predicate)
        for start in starts:
            _walk_back(store, start, reach.steps(predicate), reach, found, first)
        if isinstance(triple.object, ox.NamedNode | ox.BlankNode):
            first = reach.first_steps(predicate, backward=True)
            _walk_back(store, triple.object, reach.steps(predicate, backward=True), reach, found, first)
    return set(found)


def _chain_back(store: Store, node: Node, predicate: ox.NamedNode) -> list[Node]:
    """The node and every node reaching it through a chain of ``predicate``."""
    seen = {node}
    todo = [node]
    while todo:
        for quad in store.quads(None, predicate, todo.pop()):
            if isinstance(quad.subject, ox.NamedNode | ox.BlankNode) and quad.subject not in seen:
                seen.add(quad.subject)
                todo.append(quad.subject)
    return list(seen)


def _walk_back(store: Store, start: Node, budget: int, reach: Reach, found: dict[Node, int], first: set[str]) -> None:
    """Add ``start`` and every node up to ``budget`` read steps back of it to ``found`` (node -> steps left); the
    first step is one of ``first``."""
    found.setdefault(start, 0)
    if budget <= 0:
        return
    queue = deque([(neighbour, budget - 1) for neighbour in _steps_back(store, start, reach, first)])
    while queue:
        node, left = queue.popleft()
        if found.get(node, -1) >= left:
            continue
        found[node] = left
        queue.extend((neighbour, left - 1) for neighbour in _steps_back(store, node, reach) if left > 0)


def _steps_back(store: Store, node: Node, reach: Reach, allowed: set[str] | None = None) -> Iterator[Node]:
    """The nodes one step before ``node`` on a shape's way to it: those pointing at it by a step the shapes take
    forward, and those it points at by a step they take backward (only the ``allowed`` steps, when given)."""
    allowed = reach.chain_steps() if allowed is None else allowed
    for quad in store.quads(None, None, node):
        if (ANY in allowed or quad.predicate.value in allowed) and isinstance(
            quad.subject, ox.NamedNode | ox.BlankNode
        ):
            yield quad.subject
    for quad in store.quads(node, None, None):
        if isinstance(quad.object, ox.NamedNode | ox.BlankNode) and (
            ANY in allowed or "^" + quad.predicate.value in allowed
        ):
            yield quad.object


def neighbourhood(store: Store, focus: Iterable[Node], reach: Reach, skip: set[str]) -> set[ox.Triple]:
    """The statements validating the focus nodes can read: those along the shapes' chains from them, as far as the
    shapes look (one step further, for the types a ``sh:class`` reads), outside the graphs to ``skip``.

    Forward, every statement of a node reached is kept; backward, only those whose predicate the shapes read
    backward; along a predicate the shapes follow any number of times (``+``, ``*``), the whole chain. A data graph
    of this size, not the store, is what SHACL then runs over.
    """
    depth = max([*reach.forward.values(), *reach.backward.values(), 0]) + 1
    backward = set(reach.backward)
    triples: set[ox.Triple] = set()
    seen: dict[Node, int] = {}
    queue = deque((node, depth) for node in focus)
    while queue:
        node, left = queue.popleft()
        if seen.get(node, -1) >= left:
            continue
        seen[node] = left
        for quad in store.quads(subject=node):
            if _kept(quad, skip, triples) and isinstance(quad.object, ox.NamedNode | ox.BlankNode):
                endless = quad.predicate.value in reach.unbounded
                if left > 0 or endless:
                    queue.append((quad.object, left if endless else left - 1))
        if left <= 0:
            continue
        for quad in _pointing_at(store, node, backward | reach.unbounded):
            predicate = quad.predicate.value
            if isinstance(quad.subject, ox.NamedNode | ox.BlankNode) and _kept(quad, skip, triples):
                queue.append((quad.subject, left if predicate in reach.unbounded else left - 1))
    return triples


def _pointing_at(store: Store, node: Node, predicates: set[str]) -> Iterator[ox.Quad]:
    """The statements about ``node`` as object by one of the predicates (ANY: by any): looked up per predicate, so
    that a node many others point at by a predicate the shapes do not read back (a country every place is located
    in) costs nothing."""
    if ANY in predicates:
        yield from store.quads(obj=node)
        return
    for predicate in sorted(predicates):
        yield from store.quads(None, ox.NamedNode(predicate), node)


def _kept(quad: ox.Quad, skip: set[str], triples: set[ox.Triple]) -> bool:
    """Add the quad's triple unless its graph is skipped; whether it was added."""
    if isinstance(quad.graph_name, ox.NamedNode) and quad.graph_name.value in skip:
        return False
    triples.add(quad.triple)
    return True


def analyse(shapes: rdflib.Graph) -> Reach:
    """The reach of the shapes in an rdflib graph: targets, paths and nesting of the core constraints, SPARQL."""
    import rdflib

    sh = rdflib.Namespace(SH)
    reach = Reach()
    reach.read(_RDF_TYPE, 0)  # class targets, sh:class
    for name, backward in (("targetSubjectsOf", False), ("targetObjectsOf", True)):
        for predicate in shapes.objects(None, sh[name]):
            reach.read(str(predicate), 0, backward=backward)
    shapes_found = set(shapes.subjects(rdflib.RDF.type, sh.NodeShape)) | set(shapes.subjects(sh.property, None))
    shapes_found |= set(shapes.subjects(sh.path, None))
    for shape in shapes_found:
        _shape_reads(shapes, shape, reach, 0, 0, set())
    return reach


_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_NESTED = ("node", "qualifiedValueShape", "property")
_LISTS = ("or", "and", "xone")
_COMPARED = ("equals", "disjoint", "lessThan", "lessThanOrEquals")


def _shape_reads(
    shapes: rdflib.Graph, shape: RdflibNode, reach: Reach, offset: int, nesting: int, arrive: set[str]
) -> None:
    """Note what a shape reads when its focus is ``offset`` steps from the focus node, reached by one of the steps
    ``arrive``: its path, then its value nodes' checks, recursively."""
    import rdflib

    sh = rdflib.Namespace(SH)
    if nesting > 8:
        reach.everywhere.add(ANY)
        return
    path = shapes.value(shape, sh.path)
    inner, last = offset, arrive
    if path is not None:
        length, last = _path_reads(shapes, path, reach, offset, arrive)
        inner = offset + length
        reach.read(_RDF_TYPE, inner, via=last)  # sh:class on the value nodes
        for name in _COMPARED:
            for other in shapes.objects(shape, sh[name]):
                reach.read(str(other), offset, via=arrive)
    if (shape, sh.closed, rdflib.Literal(True)) in shapes:
        reach.read(ANY, offset, via=arrive)
    nested = [o for name in _NESTED for o in shapes.objects(shape, sh[name])]
    nested += [o for name in _LISTS for head in shapes.objects(shape, sh[name]) for o in _items(shapes, head)]
    nested += list(shapes.objects(shape, sh["not"]))
    for child in nested:
        _shape_reads(shapes, child, reach, inner, nesting + 1, last)
    for constraint in shapes.objects(shape, sh.sparql):
        for select in shapes.objects(constraint, sh.select):
            _sparql_reads(shapes, str(select), reach, inner, last)


def _path_reads(
    shapes: rdflib.Graph, path: RdflibNode, reach: Reach, offset: int, arrive: set[str], backward: bool = False
) -> tuple[int, set[str]]:
    """Note the predicates of a SHACL path read from ``offset`` steps on, from a node reached by ``arrive``; return
    the path's length in steps and the steps by which its value nodes are reached."""
    import rdflib

    sh = rdflib.Namespace(SH)
    if isinstance(path, rdflib.URIRef):
        reach.read(str(path), offset, backward=backward, via=arrive)
        return 1, {("^" if backward else "") + str(path)}
    if shapes.value(path, rdflib.RDF.first) is not None:
        length, last, repeated = 0, arrive, False
        for step in _items(shapes, path):
            if repeated:
                reach.everywhere.add(ANY)  # a step after a repetition is any number of steps away
            repeated = any((step, sh[name], None) in shapes for name in ("zeroOrMorePath", "oneOrMorePath"))
            steps, last = _path_reads(shapes, step, reach, offset + length, last, backward)
            length += steps
        return length, last
    alternatives = shapes.value(path, sh.alternativePath)
    if alternatives is not None:
        found = [_path_reads(shapes, step, reach, offset, arrive, backward) for step in _items(shapes, alternatives)]
        return max(length for length, _ in found), set().union(*(last for _, last in found))
    inverse = shapes.value(path, sh.inversePath)
    if inverse is not None:
        return _path_reads(shapes, inverse, reach, offset, arrive, not backward)
    for name in ("zeroOrMorePath", "oneOrMorePath", "zeroOrOnePath"):
        inner = shapes.value(path, sh[name])
        if inner is not None:
            if name != "zeroOrOnePath":
                reach.unbounded |= _predicates(shapes, inner)
            length, last = _path_reads(shapes, inner, reach, offset, arrive, backward)
            return length, last | arrive  # zero steps too
    reach.everywhere.add(ANY)
    return 1, {ANY}


def _predicates(shapes: rdflib.Graph, path: RdflibNode) -> set[str]:
    import rdflib

    if isinstance(path, rdflib.URIRef):
        return {str(path)}
    return {str(o) for o in _all_objects(shapes, path) if isinstance(o, rdflib.URIRef) and not str(o).startswith(SH)}


def _all_objects(shapes: rdflib.Graph, node: RdflibNode) -> list[RdflibNode]:
    """Every node reachable from a blank path node (the IRIs inside a complex path)."""
    import rdflib

    found: list[RdflibNode] = []
    todo, seen = [node], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for _, obj in shapes.predicate_objects(current):
            found.append(obj)
            if isinstance(obj, rdflib.BNode):
                todo.append(obj)
    return found


def _items(shapes: rdflib.Graph, head: RdflibNode) -> list[RdflibNode]:
    from rdflib.collection import Collection

    return list(Collection(shapes, head))


def _sparql_reads(shapes: rdflib.Graph, select: str, reach: Reach, offset: int, arrive: set[str]) -> None:
    """Note the patterns of a SPARQL constraint: how far each is from ``$this``, read forward or backward."""
    from kgraph.validate.shacl import prepared_query

    try:
        algebra = prepared_query(_prefixes(shapes) + select).algebra
    except Exception:
        reach.everywhere.add(ANY)
        return
    patterns = list(_patterns(algebra))
    if any(len(pattern) != 3 for pattern in patterns):  # a shape this reading does not follow: assume it reads all
        reach.everywhere.add(ANY)
        return
    edges: list[tuple[object, str, object]] = []
    for subject, predicate, obj in patterns:
        _path_edges(subject, predicate, obj, edges, reach)
    levels = _levels(edges)
    for subject, predicate, obj in edges:
        if subject not in levels or obj not in levels:
            reach.everywhere.add(predicate)
        elif levels[obj] < levels[subject]:
            via = _arrivals(obj, edges, levels) if levels[obj] else arrive
            reach.read(predicate, offset + levels[obj], backward=True, via=via)
        else:
            via = _arrivals(subject, edges, levels) if levels[subject] else arrive
            reach.read(predicate, offset + levels[subject], via=via)


def _arrivals(term: object, edges: list[tuple[object, str, object]], levels: dict[object, int]) -> set[str]:
    """The steps by which a query reaches ``term`` from the terms one level nearer ``$this``: ``q`` along an edge
    ``(x q term)``, ``^q`` against an edge ``(term q x)``; ANY for a variable predicate."""
    steps = set()
    for subject, predicate, obj in edges:
        if obj == term and levels.get(subject) == levels[term] - 1:
            steps.add(predicate)
        if subject == term and levels.get(obj) == levels[term] - 1:
            steps.add(ANY if predicate == ANY else "^" + predicate)
    return steps


def _prefixes(shapes: rdflib.Graph) -> str:
    """Every prefix the shapes declare (``sh:declare``), as the SPARQL prologue pySHACL gives the constraints."""
    import rdflib

    sh = rdflib.Namespace(SH)
    lines = [
        f"PREFIX {shapes.value(d, sh.prefix)}: <{shapes.value(d, sh.namespace)}>"
        for d in shapes.objects(None, sh.declare)
    ]
    return "\n".join(sorted(set(lines))) + "\n"


def _patterns(node: object) -> Iterable[tuple]:
    """Every triple pattern in a query's algebra, in filters (EXISTS) and sub-queries too."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "triples":  # triples, or (inside EXISTS) runs of several triples as one flat sequence
                runs = value if value and isinstance(value[0], list | tuple) else [value]
                yield from (tuple(run[i : i + 3]) for run in runs for i in range(0, len(run), 3))
            else:
                yield from _patterns(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _patterns(item)


def _path_edges(
    subject: object, predicate: object, obj: object, edges: list[tuple[object, str, object]], reach: Reach
) -> None:
    """One pattern as edges between terms; a property path becomes its steps, through fresh nodes."""
    from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath
    from rdflib.term import URIRef

    if isinstance(predicate, URIRef):
        edges.append((subject, str(predicate), obj))
    elif isinstance(predicate, InvPath):
        _path_edges(obj, predicate.arg, subject, edges, reach)
    elif isinstance(predicate, SequencePath):
        nodes = [subject, *(object() for _ in predicate.args[1:]), obj]
        for step, (start, end) in zip(predicate.args, itertools.pairwise(nodes), strict=True):
            _path_edges(start, step, end, edges, reach)
    elif isinstance(predicate, AlternativePath):
        for step in predicate.args:
            _path_edges(subject, step, obj, edges, reach)
    elif isinstance(predicate, MulPath):
        before = len(edges)
        _path_edges(subject, predicate.path, obj, edges, reach)
        if predicate.mod != "?":
            reach.unbounded |= {edge[1] for edge in edges[before:]}
    elif isinstance(predicate, NegatedPath):
        edges.append((subject, ANY, obj))
        edges.append((obj, ANY, subject))
    else:  # a variable
        edges.append((subject, ANY, obj))


def _levels(edges: list[tuple[object, str, object]]) -> dict[object, int]:
    """Steps from ``$this`` to each term of the patterns, in either direction."""
    from rdflib.term import Variable

    this = Variable("this")
    neighbours: dict[object, set] = {}
    for subject, _, obj in edges:
        neighbours.setdefault(subject, set()).add(obj)
        neighbours.setdefault(obj, set()).add(subject)
    levels: dict[object, int] = {this: 0}
    queue = deque([this])
    while queue:
        term = queue.popleft()
        for other in neighbours.get(term, ()):
            if other not in levels:
                levels[other] = levels[term] + 1
                queue.append(other)
    return levels
