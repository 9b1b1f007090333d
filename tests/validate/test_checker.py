"""``check()``, the one check of validation and writes, on an in-memory candidate store, and the shapes' reach."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.config import INFERRED_GRAPH
from kgraph.load import load_paths, parse_file
from kgraph.store import EmbeddedStore
from kgraph.validate import Baseline, CheckContext, check
from kgraph.validate.checker import Shapes
from kgraph.validate.reach import ANY, analyse

FIXTURE = Path(__file__).parents[1] / "fixtures" / "validate" / "project"
PROJECT = Path(__file__).parents[2]
KG = "https://w3id.org/kgraph/ontology#"
KGR = "https://w3id.org/kgraph/id/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
CONTRIB = ox.NamedNode("https://w3id.org/kgraph/graph/contrib/alice")


def shapes(folder: Path) -> Shapes:
    return Shapes([q.triple for f in sorted(folder.glob("*.ttl")) for q in parse_file(f, "urn:shapes")[0]])


@pytest.fixture
def live() -> tuple[EmbeddedStore, CheckContext]:
    """The fixture project, loaded and checked: what a server holds before a write."""
    store = EmbeddedStore()
    loaded = load_paths(store, [FIXTURE / "ontology", FIXTURE / "data"], root=FIXTURE)
    ontology = {f.graph for f in loaded if "ontology" in f.graph}
    context = CheckContext(FIXTURE / "rules", shapes(FIXTURE / "shapes"), ontology)
    assert check(store, None, context=context).results == []
    return store, context


def candidate_with(store: EmbeddedStore, quads: list[ox.Quad]) -> EmbeddedStore:
    candidate = EmbeddedStore()
    candidate.add(store.quads())
    candidate.add(quads)
    return candidate


def test_a_write_is_checked_on_the_nodes_it_reaches(live):
    store, context = live
    martynovka = ox.NamedNode(KGR + "martynovka")
    added = [
        ox.Quad(martynovka, RDF_TYPE, ox.NamedNode(KG + "Settlement"), CONTRIB),
        ox.Quad(martynovka, ox.NamedNode(KG + "locatedIn"), ox.NamedNode(KGR + "kursk-oblast"), CONTRIB),
    ]
    baseline = Baseline({q.triple for q in store.quads(graph=INFERRED_GRAPH)})
    findings = check(candidate_with(store, added), added, context=context, baseline=baseline, terms_of=[CONTRIB.value])
    assert [(r.focus, r.path, r.constraint) for r in findings.results] == [
        (martynovka, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), "sh:MinCountConstraintComponent")
    ]
    assert martynovka in findings.validated
    assert findings.undeclared == []
    assert findings.inference.inconsistencies == []


def test_an_undeclared_term_of_the_checked_graph(live):
    store, context = live
    typo = [ox.Quad(ox.NamedNode(KGR + "x"), ox.NamedNode(KG + "locatedInn"), ox.NamedNode(KGR + "y"), CONTRIB)]
    findings = check(candidate_with(store, typo), typo, context=context, terms_of=[CONTRIB.value])
    assert findings.undeclared == [(CONTRIB.value, KG + "locatedInn")]


def test_the_schema_guard_validates_every_node(live):
    store, context = live
    axiom = [
        ox.Quad(
            ox.NamedNode(KG + "Hamlet"),
            ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
            ox.NamedNode(KG + "Place"),
            CONTRIB,
        )
    ]
    baseline = Baseline({q.triple for q in store.quads(graph=INFERRED_GRAPH)})
    assert check(candidate_with(store, axiom), axiom, context=context, baseline=baseline).validated is None


def test_no_change_validates_nothing(live):
    store, context = live
    baseline = Baseline({q.triple for q in store.quads(graph=INFERRED_GRAPH)}, [])
    findings = check(candidate_with(store, []), [], context=context, baseline=baseline)
    assert (findings.validated, findings.results) == (set(), [])


def test_the_reach_of_the_project_shapes():
    reach = analyse(shapes(PROJECT / "shapes").graph)
    assert reach.unbounded == {KG + "locatedIn", KG + "partOfEvent"}
    assert reach.everywhere == set()
    # the not-asserted constraint of propositions reads any triple of the statement's kg:propSubject, one step away
    assert (reach.forward[ANY], reach.via[ANY]) == (1, [KG + "propSubject"])
    # Claim-notSelfDisputed reads the disputed claim's claimant, reached by kg:disputes or ^kg:disputedBy
    assert reach.via[KG + "claimant"] == ["^" + KG + "disputedBy", KG + "disputes"]
    # a clause's shape reads its claim two steps back: ?proposition kg:clause $this . ?claim kg:statement ?proposition
    assert reach.backward[KG + "statement"] == 1


def test_a_focus_node_is_validated_as_in_a_validation_of_every_node():
    """Nested shapes run on the focus node's values too: pySHACL's own focus option skipped them, so a string passed
    ``sh:or ([sh:datatype xsd:decimal] [sh:datatype xsd:integer])``."""
    store = EmbeddedStore()
    loaded = load_paths(store, [PROJECT / "ontology", PROJECT / "data"], root=PROJECT)
    number = ox.NamedNode(KGR + "patch/number")
    store.add(
        [
            ox.Quad(number, RDF_TYPE, ox.NamedNode(KG + "Quantity"), CONTRIB),
            ox.Quad(number, ox.NamedNode(KG + "maxValue"), ox.Literal("about forty"), CONTRIB),
        ]
    )
    ontology = {f.graph for f in loaded if "ontology" in f.graph}
    context = CheckContext(PROJECT / "rules", shapes(PROJECT / "shapes"), ontology)
    everywhere = check(store, None, context=context).results
    added = [ox.Quad(number, RDF_TYPE, ox.NamedNode(KG + "Quantity"), CONTRIB)]
    focused = check(store, added, context=context, baseline=Baseline(set())).results
    expected = sorted(r.shape for r in everywhere if r.focus == number)
    assert "kgsh:Quantity-decimal" in expected
    assert sorted(r.shape for r in focused if r.focus == number) == expected
