"""Tests of ``kgraph.link.output``: the candidates file written in a fixed order, byte for byte, and a reviewer's
verdicts, comments and first-proposal times read back and kept by the next run."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kgraph.config import RESOURCE_NS
from kgraph.link.output import PENDING, previous_verdicts, write_candidates
from kgraph.link.search import CANDIDATE_NS, WIKIDATA_ENTITY, Candidate, Entity
from kgraph.load import RdfSyntaxError

SETTLEMENT = WIKIDATA_ENTITY + "Q486972"
ENDPOINT = "http://127.0.0.1:7878/query"
STAMP = "2026-12-02T00:00:00Z"
KG = "https://w3id.org/kgraph/ontology#"


def en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


SUDZHA = Entity(RESOURCE_NS + "sudzha", en("Sudzha"), (en("Sudzha"), en("Sudzha town")), (SETTLEMENT,), False)


def candidates() -> list[Candidate]:
    exact = Candidate(SUDZHA, WIKIDATA_ENTITY + "Q1", "Sudzha", {(en("Sudzha"), "label")}, {SETTLEMENT})
    alias = Candidate(SUDZHA, WIKIDATA_ENTITY + "Q2", None, {(en("Sudzha town"), "alias")}, {SETTLEMENT})
    return [exact, alias]


FIRST_BLOCK = f"""cand:sudzha-Q1
    a kg:LinkCandidate ;
    rdfs:label "Sudzha: Wikidata item Q1 (Sudzha)?"@en ;
    kg:candidateFor kgr:sudzha ;
    kg:candidateMatch wd:Q1 ;
    kg:matchedLabel "Sudzha"@en ;
    kg:matchedClass wd:Q486972 ;
    kg:matchScore 0.50 ;
    kg:matchReason "The resource's label “Sudzha” is the item's English label, and the item is an instance of \
human settlement (wd:Q486972) or of a subclass; one of 2 items proposed for this resource." ;
    kg:queriedEndpoint <{ENDPOINT}> ;
    prov:generatedAtTime "{STAMP}"^^xsd:dateTime ;
    kg:reviewStatus kg:reviewPending .
"""


def write(output: Path, previous: dict | None = None, stamp: str = STAMP) -> str:
    write_candidates(output, candidates(), previous or {}, ENDPOINT, stamp, {SETTLEMENT: "human settlement"})
    return output.read_text(encoding="utf-8")


def test_each_candidate_is_one_block_in_a_fixed_order(tmp_path: Path) -> None:
    text = write(tmp_path / "link" / "candidates.ttl")
    assert text.startswith("# Link candidates proposed by `kgraph link`")
    blocks = text.split("\n\n")
    assert FIRST_BLOCK.rstrip("\n") in blocks
    second = blocks[blocks.index(FIRST_BLOCK.rstrip("\n")) + 1]
    assert second.splitlines()[0:2] == ["cand:sudzha-Q2", "    a kg:LinkCandidate ;"]
    assert '    rdfs:label "Sudzha: Wikidata item http://www.wikidata.org/entity/Q2?"@en ;' in second
    assert "    kg:matchScore 0.40 ;" in second
    assert "The resource's alternative label “Sudzha town” is the item's English alias" in second
    assert not (tmp_path / "link" / "candidates.ttl.partial").exists()


def test_the_file_is_turtle_with_one_pending_status_per_candidate(tmp_path: Path) -> None:
    output = tmp_path / "candidates.ttl"
    write(output)
    quads = list(ox.parse(path=output, format=ox.RdfFormat.TURTLE))
    statuses = sorted((q.subject.value, q.object.value) for q in quads if q.predicate.value == KG + "reviewStatus")
    assert statuses == [(CANDIDATE_NS + "sudzha-Q1", PENDING), (CANDIDATE_NS + "sudzha-Q2", PENDING)]
    assert all(q.predicate.value != "http://www.w3.org/2004/02/skos/core#exactMatch" for q in quads)


def test_a_rerun_with_the_same_answers_writes_the_same_bytes(tmp_path: Path) -> None:
    output = tmp_path / "candidates.ttl"
    first = write(output)
    assert write(output, previous_verdicts(output), stamp="2027-01-01T00:00:00Z") == first


def test_a_reviewers_verdict_and_comment_are_kept_and_the_rest_regenerated(tmp_path: Path) -> None:
    output = tmp_path / "candidates.ttl"
    first = write(output)
    edited = first.replace(
        "    kg:reviewStatus kg:reviewPending .\n\ncand:sudzha-Q2",
        '    kg:reviewStatus kg:reviewRejected ;\n    rdfs:comment "a river, not the town" .\n\ncand:sudzha-Q2',
        1,
    ).replace("kg:matchScore 0.50", "kg:matchScore 0.99")
    output.write_text(edited, encoding="utf-8")
    previous = previous_verdicts(output)
    assert previous[CANDIDATE_NS + "sudzha-Q1"] == {
        "http://www.w3.org/ns/prov#generatedAtTime": [
            ox.Literal(STAMP, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))
        ],
        KG + "reviewStatus": [ox.NamedNode(KG + "reviewRejected")],
        "http://www.w3.org/2000/01/rdf-schema#comment": [ox.Literal("a river, not the town")],
    }
    again = write(output, previous, stamp="2027-01-01T00:00:00Z")
    assert again == edited.replace("kg:matchScore 0.99", "kg:matchScore 0.50")


def test_no_previous_file_means_no_verdicts(tmp_path: Path) -> None:
    assert previous_verdicts(tmp_path / "missing.ttl") == {}
    assert previous_verdicts(tmp_path) == {}


def test_an_unreadable_previous_file_is_an_error(tmp_path: Path) -> None:
    output = tmp_path / "candidates.ttl"
    output.write_text("cand:x kg:reviewStatus .\n")
    with pytest.raises(RdfSyntaxError) as raised:
        previous_verdicts(output)
    assert str(raised.value) == f"{output}:1:1: The prefix cand: has not been declared"


def test_no_candidates_is_the_header_and_prefixes_only(tmp_path: Path) -> None:
    output = tmp_path / "candidates.ttl"
    write_candidates(output, [], {}, ENDPOINT, STAMP, {})
    text = output.read_text(encoding="utf-8")
    assert text.endswith("@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n")
    assert list(ox.parse(path=output, format=ox.RdfFormat.TURTLE)) == []
