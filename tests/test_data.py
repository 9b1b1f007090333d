"""The ontology and the article data hold together.

They parse, every term they use is declared and described, every resource has a name, every event
and claim traces to the source, and contested content is never a fact: the checks a reviewer would
otherwise do by eye on each change to ``ontology/`` or ``data/ttl/``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.config import ONTOLOGY_NS, RESOURCE_NS
from kgraph.project import ProjectFiles

FILES = ProjectFiles.locate()
ONTOLOGY_FILES = sorted(FILES.ontology.glob("*.ttl"))
DATA_FILES = sorted(FILES.data.glob("*.ttl"))
RULES = sorted(FILES.rules.glob("*.rq"))
SOURCE = RESOURCE_NS + "source/kursk-article"
INFER_AVAILABLE = importlib.util.find_spec("kgraph.infer") is not None

PREFIXES = """
PREFIX kg: <https://w3id.org/kgraph/ontology#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


def load(paths: list[Path]) -> ox.Store:
    """A store with the given files, each in its own named graph."""
    store = ox.Store()
    for path in paths:
        store.load(path=str(path), to_graph=ox.NamedNode(path.as_uri()))
    return store


def select(store: ox.Store, where: str) -> list[tuple[str, ...]]:
    """The values of a SELECT over the union of the store's graphs, as strings."""
    solutions = store.query(PREFIXES + where, use_default_graph_as_union=True)
    return [tuple(term.value for term in row) for row in solutions]


@pytest.fixture(scope="module")
def ontology() -> ox.Store:
    return load(ONTOLOGY_FILES)


@pytest.fixture(scope="module")
def everything() -> ox.Store:
    return load([*ONTOLOGY_FILES, *DATA_FILES])


def terms_used(store: ox.Store, namespace: str) -> set[str]:
    """Every IRI in the namespace that appears anywhere in the store."""
    used = set()
    for quad in store:
        for term in (quad.subject, quad.predicate, quad.object):
            if isinstance(term, ox.NamedNode) and term.value.startswith(namespace):
                used.add(term.value)
    return used


@pytest.mark.parametrize("path", [*ONTOLOGY_FILES, *DATA_FILES], ids=lambda p: p.name)
def test_file_parses(path: Path) -> None:
    assert list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))


def test_data_is_split_by_topic() -> None:
    assert {p.name for p in DATA_FILES} >= {
        "actors.ttl",
        "places.ttl",
        "incursion.ttl",
        "russian-response.ttl",
        "north-korea.ttl",
        "reclaiming-kursk.ttl",
        "aid-freeze.ttl",
        "security-zone-and-sumy.ttl",
        "analysis.ttl",
        "photo.ttl",
        "source.ttl",
    }


def test_every_ontology_term_used_in_data_is_declared(ontology: ox.Store) -> None:
    data = load(DATA_FILES)
    declared = {s for (s,) in select(ontology, "SELECT DISTINCT ?s { ?s ?p ?o }")}
    assert terms_used(data, ONTOLOGY_NS) - declared == set()


def test_every_ontology_term_has_a_label_and_a_comment(ontology: ox.Store) -> None:
    undescribed = select(
        ontology,
        f"""SELECT DISTINCT ?term {{
              ?term ?p ?o .
              FILTER (STRSTARTS(STR(?term), "{ONTOLOGY_NS}"))
              FILTER (NOT EXISTS {{ ?term rdfs:label ?label }}
                      || NOT EXISTS {{ ?term rdfs:comment ?comment }})
            }}""",
    )
    assert undescribed == []


def test_ontology_header_is_complete(ontology: ox.Store) -> None:
    found = select(
        ontology,
        """SELECT ?version ?license ?title ?description ?creator {
             <https://w3id.org/kgraph/ontology> a owl:Ontology ;
               owl:versionInfo ?version ;
               <http://purl.org/dc/terms/license> ?license ;
               <http://purl.org/dc/terms/title> ?title ;
               <http://purl.org/dc/terms/description> ?description ;
               <http://purl.org/dc/terms/creator> ?creator .
           }""",
    )
    assert [row[1] for row in found] == ["https://creativecommons.org/licenses/by/4.0/"]


def test_every_resource_has_an_english_label(everything: ox.Store) -> None:
    labelled = {
        s
        for (s,) in select(
            everything,
            'SELECT DISTINCT ?s { ?s rdfs:label ?l FILTER (LANGMATCHES(LANG(?l), "en")) }',
        )
    }
    assert terms_used(everything, RESOURCE_NS) - labelled == set()


def test_every_event_claim_proposition_and_aim_traces_to_the_article(everything: ox.Store) -> None:
    untraced = select(
        everything,
        f"""SELECT DISTINCT ?thing {{
              VALUES ?kind {{ kg:Event kg:Claim kg:Proposition kg:Aim }}
              ?thing rdf:type/rdfs:subClassOf* ?kind .
              FILTER NOT EXISTS {{ ?thing prov:wasDerivedFrom <{SOURCE}> }}
            }}""",
    )
    assert untraced == []


def test_every_claim_has_a_claimant_a_stance_and_a_quote(everything: ox.Store) -> None:
    incomplete = select(
        everything,
        """SELECT DISTINCT ?claim {
             ?claim rdf:type/rdfs:subClassOf* kg:Claim .
             FILTER (NOT EXISTS { ?claim kg:claimant ?who } || NOT EXISTS { ?claim kg:stance ?s }
                     || NOT EXISTS { ?claim kg:quote ?q })
           }""",
    )
    assert incomplete == []


def test_wikidata_links_are_exact_matches_never_same_as(everything: ox.Store) -> None:
    assert select(everything, "SELECT ?s ?o { ?s owl:sameAs ?o }") == []
    links = select(
        everything,
        """SELECT ?s ?o { ?s <http://www.w3.org/2004/02/skos/core#exactMatch> ?o
                           FILTER (STRSTARTS(STR(?o), "http://www.wikidata.org/entity/")) }""",
    )
    assert len(links) == 13


def test_only_places_with_referenced_coordinates_have_a_geometry(everything: ox.Store) -> None:
    located = select(
        everything,
        """SELECT ?place ?wkt {
             ?place <http://www.opengis.net/ont/geosparql#hasGeometry>
                    / <http://www.opengis.net/ont/geosparql#asWKT> ?wkt }""",
    )
    assert located == [(RESOURCE_NS + "sudzha", "POINT(35.27056 51.19139)")]


CONTESTED_CONTENT = (
    PREFIXES
    + """
SELECT DISTINCT ?s ?p ?o {
  { ?dispute kg:disputes ?claim } UNION { ?claim kg:disputedBy ?dispute }
  ?claim kg:statement/kg:clause ?clause .
  ?clause kg:propSubject ?s ; kg:propPredicate ?p ; kg:propObject ?o .
}"""
)
"""What disputed claims claim: the subject, predicate and object of their propositions' clauses."""


def as_fact(s: str, p: str, o: str) -> str:
    """An ASK for the triple, or the same relation through a super-property or an inverse."""
    return f"""{PREFIXES} ASK {{
        <{p}> rdfs:subPropertyOf* ?q .
        {{ <{s}> ?q <{o}> }} UNION {{ ?q owl:inverseOf ?inv . <{o}> ?inv <{s}> }}
        UNION {{ ?inv owl:inverseOf ?q . <{o}> ?inv <{s}> }}
    }}"""


def test_contested_full_control_is_only_claimed(everything: ox.Store) -> None:
    content = [
        tuple(t.value for t in row) for row in everything.query(CONTESTED_CONTENT, use_default_graph_as_union=True)
    ]
    assert content == [(RESOURCE_NS + "russia", ONTOLOGY_NS + "fullyControls", RESOURCE_NS + "kursk-oblast")]
    assert not everything.query(as_fact(*content[0]), use_default_graph_as_union=True)


@pytest.mark.skipif(not INFER_AVAILABLE, reason="kgraph.infer is not importable yet")
def test_inference_never_turns_contested_content_into_fact() -> None:
    from kgraph.config import Settings
    from kgraph.graph import build

    served = build(Settings.from_env({}))
    graphs = served.default_graph(infer=True)
    content = [tuple(t.value for t in row) for row in served.store.query(CONTESTED_CONTENT, default_graph=graphs)]
    assert content
    assert [c for c in content if served.store.query(as_fact(*c), default_graph=graphs)] == []


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.stem)
def test_rule_is_one_documented_construct(rule: Path) -> None:
    text = rule.read_text(encoding="utf-8")
    assert re.match(r"# rule: .+\n(# meaning: .+\n)+", text)
    assert re.search(r"^CONSTRUCT\b", text, re.MULTILINE)
    assert list(ox.Store().query(text)) == []


def test_every_claim_states_its_content_as_clauses(everything: ox.Store) -> None:
    opaque = select(
        everything,
        """SELECT DISTINCT ?claim {
             ?claim rdf:type/rdfs:subClassOf* kg:Claim .
             FILTER NOT EXISTS { ?claim kg:statement/kg:clause/kg:propSubject ?s }
           }""",
    )
    assert opaque == []
    clauses = select(everything, "SELECT DISTINCT ?c { ?c kg:propSubject ?s ; kg:propPredicate ?p }")
    assert len(clauses) == 35


ARTICLE_PATH = Path("shared", "sources", "kursk-article.txt")
ARTICLE = next(
    (folder / ARTICLE_PATH for folder in FILES.root.parents if (folder / ARTICLE_PATH).is_file()),
    FILES.root.parent / ARTICLE_PATH,
)
"""The article, in the ``shared/`` folder beside the clone (``../shared`` in CI, higher up for a git worktree); the
anchors' offsets count in its text. The repository refers to it (data/ttl/source.ttl) but does not hold it."""


@pytest.fixture(scope="module")
def article() -> str:
    if not ARTICLE.is_file():
        pytest.skip(f"the source article is not at {ARTICLE} (CI puts shared/ beside the clone)")
    return ARTICLE.read_text(encoding="utf-8")


ANCHORS = """SELECT ?thing ?exact ?start ?end {
  ?thing kg:textAnchor ?anchor .
  ?anchor <http://www.w3.org/ns/oa#exact> ?exact ; <http://www.w3.org/ns/oa#start> ?start ;
          <http://www.w3.org/ns/oa#end> ?end .
}"""


def test_every_anchor_holds_its_words_at_its_offsets(everything: ox.Store, article: str) -> None:
    anchors = select(everything, ANCHORS)
    assert len(anchors) == 88
    misplaced = [(thing, exact) for thing, exact, start, end in anchors if article[int(start) : int(end)] != exact]
    assert misplaced == []


def test_every_quote_and_fact_bearing_resource_is_anchored(everything: ox.Store) -> None:
    unanchored_quotes = select(
        everything,
        """SELECT DISTINCT ?thing ?quote {
             ?thing kg:quote|kg:caption ?quote
             FILTER NOT EXISTS { ?thing kg:textAnchor/<http://www.w3.org/ns/oa#exact> ?quote }
           }""",
    )
    assert unanchored_quotes == []
    unanchored = select(
        everything,
        """SELECT DISTINCT ?thing {
             VALUES ?kind { kg:Claim kg:Event kg:Aim kg:Territory kg:Quantity kg:UnnamedGroup }
             ?thing rdf:type/rdfs:subClassOf* ?kind
             FILTER NOT EXISTS { ?thing kg:textAnchor ?anchor }
           }""",
    )
    assert unanchored == []


HEDGES = re.compile(r"\b(reportedly|reports indicated|reported|claimed|If confirmed)\b")
"""The article's words that report or condition a statement rather than vouch for it."""

GOVERNED = """SELECT DISTINCT ?claim ?clause ?s ?p ?o ?confirmed {
  ?claim kg:textAnchor ?anchor ; kg:statement ?proposition .
  ?anchor <http://www.w3.org/ns/oa#start> ?start ; <http://www.w3.org/ns/oa#end> ?end .
  FILTER (?start <= %d && %d <= ?end)
  ?proposition kg:clause ?clause .
  ?clause kg:propSubject ?s ; kg:propPredicate ?p .
  OPTIONAL { ?clause kg:propObject ?object }
  OPTIONAL { ?clause kg:propValue ?value }
  BIND (COALESCE(?object, ?value) AS ?o)
  FILTER NOT EXISTS { ?clause kg:negated true }
  BIND (EXISTS { ?confirmation kg:statement ?proposition ; kg:stance ?stance .
                 FILTER (?stance IN (kg:stanceConfirms, kg:stanceAcknowledges)) } AS ?confirmed)
}"""


@pytest.mark.skipif(not INFER_AVAILABLE, reason="kgraph.infer is not importable yet")
def test_no_hedged_statement_is_a_plain_fact(article: str) -> None:
    """Each hedge word governs a claim anchored around it; what that claim says is no fact, asserted or inferred,
    unless other parties later confirmed it (the 'reported involvement' of North Korean troops)."""
    from kgraph.config import Settings
    from kgraph.graph import build

    served = build(Settings.from_env({}))
    graphs = served.default_graph(infer=True)
    hedges = [(m.group(0), m.start()) for m in HEDGES.finditer(article)]
    assert [word for word, _ in hedges] == ["claimed", "reported", "reports indicated", "claimed", "If confirmed",
                                            "reportedly"]  # fmt: skip
    for word, offset in hedges:
        governed = list(served.store.query(PREFIXES + GOVERNED % (offset, offset), default_graph=graphs))
        assert governed, f"no claim is anchored around {word!r} at {offset}"
        for row in governed:
            s, p, o = row["s"], row["p"], row["o"]
            if row["confirmed"].value == "true":
                continue
            literal = isinstance(o, ox.Literal)
            as_asserted = f"ASK {{ {s} {p} {o} }}" if literal else as_fact(s.value, p.value, o.value)
            assert not served.store.query(as_asserted, default_graph=graphs), f"{word!r} at {offset}: {s} {p} {o}"
