"""``/id/<path>``: resolvable resource IRIs over the article data, as pages and as RDF."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from flask import Flask
from flask.testing import FlaskClient
from rdflib import RDFS, Literal, URIRef

from kgraph.config import Settings
from kgraph.web.resources import split_suffix, wants_html

PROJECT = Path(__file__).parents[2]
KGR = "https://w3id.org/kgraph/id/"
KG = "https://w3id.org/kgraph/ontology#"
SUDZHA = URIRef(KGR + "sudzha")
LOCATED_IN = URIRef(KG + "locatedIn")
KURSK = URIRef(KGR + "kursk-oblast")
INFILTRATION = URIRef(KGR + "sudzha-pipeline-infiltration")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
RDFLIB_FORMATS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}


@pytest.fixture(scope="module")
def article_app() -> Iterator[Flask]:
    """The application over the project's own article data (the page assertions name its resources)."""
    from kgraph.web import create_app, service

    application = create_app(Settings.from_env(environ={}, project_dir=PROJECT))
    yield application
    service(application).close()


@pytest.fixture
def web(article_app: Flask) -> FlaskClient:
    return article_app.test_client()


def parse(body: bytes, media_type: str) -> rdflib.Graph:
    """The body parsed by rdflib, an independent parser (its JSON-LD plugin warns about its own deprecations)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return rdflib.Graph().parse(data=body, format=RDFLIB_FORMATS[media_type])


def test_a_browser_gets_the_page(web: FlaskClient) -> None:
    response = web.get("/id/sudzha", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert "Accept" in response.vary
    html = response.text
    assert '<h1 id="label">Sudzha</h1>' in html
    assert (
        '<td><a href="/ontology#locatedIn" title="https://w3id.org/kgraph/ontology#locatedIn">located in</a></td>'
        '<td><a href="/id/kursk-oblast" title="https://w3id.org/kgraph/id/kursk-oblast">Kursk Oblast</a></td>'
    ) in html
    assert (
        '<a href="/id/sudzha-pipeline-infiltration" title="https://w3id.org/kgraph/id/sudzha-pipeline-infiltration">'
        "Russian infiltration through a natural gas pipeline near Sudzha (March 2025)</a>"
    ) in html
    assert (
        '<li class="point" data-lat="51.19139" data-lon="35.27056" data-label="Sudzha">'
        '<span class="latlon">51.19139° N, 35.27056° E</span> '
        '(WKT, longitude first: <code class="wkt">POINT(35.27056 51.19139)</code>)</li>'
    ) in html
    assert '<div id="map" class="map" hidden role="img" aria-label="Map of Sudzha"' in html
    assert '<a href="/ontology#Settlement" title="https://w3id.org/kgraph/ontology#Settlement">settlement</a>' in html
    assert re.findall(r'<script src="([^"]+)"', html) == [
        "/assets/vendor/leaflet/leaflet.js",
        "/assets/vendor/topojson-client.min.js",
        "/assets/map.js",
    ]


def test_the_page_links_external_iris_out_and_shows_claims_and_source(web: FlaskClient) -> None:
    html = web.get("/id/kursk-oblast", headers={"Accept": BROWSER}).text
    assert '<table id="claims">' in html
    assert (
        '<td><a href="/id/claim/russia-claims-full-control-of-kursk" '
        'title="https://w3id.org/kgraph/id/claim/russia-claims-full-control-of-kursk">'
        "Russia claims full control over the Kursk region</a></td>"
    ) in html
    assert '<a href="/ontology#stanceClaims" title="https://w3id.org/kgraph/ontology#stanceClaims">claims</a>' in html
    page = web.get("/id/sudzha-pipeline-infiltration", headers={"Accept": "text/html"}).text
    assert '<p id="sources">Source: <a href="/id/source/kursk-article"' in page


def test_wikidata_links_go_out(web: FlaskClient) -> None:
    html = web.get("/id/ukraine", headers={"Accept": "text/html"}).text
    assert re.search(r'<a class="external" href="http://www\.wikidata\.org/entity/Q\d+"', html)


@pytest.mark.parametrize("media_type", list(RDFLIB_FORMATS))
def test_an_rdf_client_gets_the_description_by_accept(web: FlaskClient, media_type: str) -> None:
    response = web.get("/id/sudzha", headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.mimetype == media_type
    graph = parse(response.data, media_type)
    assert (SUDZHA, RDFS.label, Literal("Sudzha", lang="en")) in graph
    assert (SUDZHA, LOCATED_IN, KURSK) in graph
    assert (INFILTRATION, URIRef(KG + "near"), SUDZHA) in graph


@pytest.mark.parametrize(
    ("suffix", "media_type"),
    [
        ("ttl", "text/turtle"),
        ("nt", "application/n-triples"),
        ("jsonld", "application/ld+json"),
        ("rdf", "application/rdf+xml"),
    ],
)
def test_a_suffix_picks_the_format_whatever_the_accept(web: FlaskClient, suffix: str, media_type: str) -> None:
    response = web.get(f"/id/sudzha.{suffix}", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert (SUDZHA, LOCATED_IN, KURSK) in parse(response.data, media_type)


def test_no_accept_gets_turtle(web: FlaskClient) -> None:
    response = web.get("/id/sudzha")
    assert response.content_type == "text/turtle; charset=utf-8"


def test_infer_false_leaves_out_inferred_triples(web: FlaskClient) -> None:
    russia = URIRef(KGR + "russia")
    inferred = parse(web.get("/id/sudzha.ttl").data, "text/turtle")
    asserted = parse(web.get("/id/sudzha.ttl?infer=false").data, "text/turtle")
    assert (SUDZHA, LOCATED_IN, russia) in inferred
    assert (SUDZHA, LOCATED_IN, russia) not in asserted
    assert (SUDZHA, LOCATED_IN, KURSK) in asserted


def test_a_bad_infer_value_is_a_400(web: FlaskClient) -> None:
    response = web.get("/id/sudzha?infer=maybe")
    assert response.status_code == 400
    assert response.text == "The 'infer' parameter must be 'true' or 'false', not 'maybe'.\n"


def test_an_unknown_resource_is_a_404(web: FlaskClient) -> None:
    response = web.get("/id/atlantis")
    assert response.status_code == 404
    assert response.text == "Not found: no resource https://w3id.org/kgraph/id/atlantis in this graph.\n"
    page = web.get("/id/atlantis", headers={"Accept": BROWSER})
    assert page.status_code == 404
    assert page.content_type == "text/html; charset=utf-8"
    assert '<p id="message">Not found: no resource https://w3id.org/kgraph/id/atlantis in this graph.</p>' in page.text


def test_an_unacceptable_type_is_a_406(web: FlaskClient) -> None:
    assert web.get("/id/sudzha", headers={"Accept": "image/png"}).status_code == 406


@pytest.mark.parametrize(
    "path",
    [
        "/id/../sudzha",
        "/id/%2e%2e/sudzha",
        "/id/%2E%2E/%2E%2E/pyproject.toml",
        "/id/a/..%2fsudzha",
        "/id/.%2e/x",
        "/id/..%2F..%2Fetc%2Fpasswd",
        "/id/%252e%252e/sudzha",
    ],
)
def test_path_traversal_is_refused(web: FlaskClient, path: str) -> None:
    response = web.get(path)
    assert response.status_code == 404
    assert response.content_type == "text/plain; charset=utf-8"


def test_the_iri_comes_from_the_namespace_not_the_host(web: FlaskClient) -> None:
    response = web.get("/id/sudzha.nt", base_url="http://mirror.example:9000")
    assert (SUDZHA, LOCATED_IN, KURSK) in parse(response.data, "application/n-triples")
    assert b"mirror.example" not in response.data


def test_a_resource_resolves_over_real_http(live_server) -> None:
    response = requests.get(live_server.url + "/id/sudzha", headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 200
    assert (SUDZHA, LOCATED_IN, KURSK) in parse(response.content, "text/turtle")
    page = requests.get(live_server.url + "/id/sudzha", headers={"Accept": BROWSER}, timeout=10)
    assert '<h1 id="label">Sudzha</h1>' in page.text


def test_the_ontology_iri_serves_a_reference_page(web: FlaskClient) -> None:
    response = web.get("/ontology", headers={"Accept": BROWSER})
    assert response.status_code == 200
    html = response.text
    term = html[html.index('<div class="term" id="locatedIn">') :]
    term = term[: term.index("</div>")]
    assert "<h3>located in <code>kg:locatedIn</code></h3>" in term
    assert (
        '<dt>Domain</dt><dd class="domain"><a href="/ontology#Place" '
        'title="https://w3id.org/kgraph/ontology#Place">place</a></dd>'
    ) in term
    assert '<dd class="parents"><a class="external" href="https://schema.org/containedInPlace"' in term
    assert '<div class="term" id="Settlement">' in html
    assert '<div class="term" id="stanceClaims">' in html


@pytest.mark.parametrize("media_type", list(RDFLIB_FORMATS))
def test_the_ontology_iri_serves_rdf_by_accept(web: FlaskClient, media_type: str) -> None:
    response = web.get("/ontology", headers={"Accept": media_type})
    assert response.mimetype == media_type
    graph = parse(response.data, media_type)
    assert (URIRef(KG + "locatedIn"), RDFS.range, URIRef(KG + "Place")) in graph
    assert (URIRef("https://w3id.org/kgraph/ontology"), RDFS.label, Literal("kgraph ontology", lang="en")) in graph
    assert (SUDZHA, None, None) not in graph


def test_the_ontology_by_suffix_and_an_unknown_suffix(web: FlaskClient) -> None:
    graph = parse(web.get("/ontology.nt", headers={"Accept": BROWSER}).data, "application/n-triples")
    assert (URIRef(KG + "Settlement"), RDFS.subClassOf, URIRef(KG + "Place")) in graph
    response = web.get("/ontology.exe")
    assert response.status_code == 404
    assert response.text == "Not found: no format '.exe'; use .ttl, .nt, .jsonld or .rdf.\n"


def test_every_resource_resolves_and_every_link_on_its_page_too(article_app: Flask, web: FlaskClient) -> None:
    from kgraph.web import service

    store = service(article_app).graph.store
    names = {
        term.value[len(KGR) :]
        for quad in store.quads()
        for term in (quad.subject, quad.object)
        if isinstance(term, ox.NamedNode) and term.value.startswith(KGR)
    }
    assert "sudzha" in names
    anchors = set(
        re.findall(r'<div class="term" id="([^"]+)">', web.get("/ontology", headers={"Accept": BROWSER}).text)
    )
    links: set[str] = set()
    for name in sorted(names):
        response = web.get(f"/id/{name}", headers={"Accept": BROWSER})
        assert response.status_code == 200, name
        links |= set(re.findall(r'href="(/id/[^"]+)"', response.text))
        assert set(re.findall(r'href="/ontology#([^"]+)"', response.text)) <= anchors, name
    assert [link for link in sorted(links) if web.get(link).status_code != 200] == []


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("application/xhtml+xml", True),
        ("text/turtle, text/html;q=0.5", False),
        ("text/html;q=0.9, text/turtle;q=0.9", True),
        ("*/*", False),
        (None, False),
        ("application/ld+json", False),
    ],
)
def test_wants_html_when_html_is_rated_at_least_as_high_as_rdf(accept: str | None, html: bool) -> None:
    assert wants_html(accept) is html


@pytest.mark.parametrize(
    ("path", "name", "suffix"),
    [
        ("sudzha.ttl", "sudzha", "turtle"),
        ("sudzha", "sudzha", None),
        ("a.b.rdf", "a.b", "rdfxml"),
        (".ttl", ".ttl", None),
    ],
)
def test_split_suffix(path: str, name: str, suffix: str | None) -> None:
    found, fmt = split_suffix(path)
    assert (found, fmt.name if fmt else None) == (name, suffix)


# --- map points, timelines and the ontology diagram ---


def test_a_region_lists_the_points_of_the_places_in_it(web: FlaskClient) -> None:
    html = web.get("/id/kursk-oblast", headers={"Accept": BROWSER}).text
    assert (
        '<li class="point" data-lat="51.19139" data-lon="35.27056" data-label="Sudzha">'
        '<a href="/id/sudzha" title="https://w3id.org/kgraph/id/sudzha">Sudzha</a>: '
        '<span class="latlon">51.19139° N, 35.27056° E</span>'
    ) in html


def test_a_page_without_coordinates_has_no_map_and_no_script(web: FlaskClient) -> None:
    html = web.get("/id/putin-visit-to-kursk", headers={"Accept": BROWSER}).text
    assert 'id="map"' not in html
    assert 'id="points"' not in html
    assert "<script" not in html


def test_without_the_map_assets_the_coordinates_stay_as_text(web: FlaskClient, monkeypatch) -> None:
    monkeypatch.setattr("kgraph.web.resources.MAP_FILES", ("no-such-file.js",))
    html = web.get("/id/sudzha", headers={"Accept": BROWSER}).text
    assert 'id="map"' not in html
    assert "<script" not in html
    assert '<span class="latlon">51.19139° N, 35.27056° E</span>' in html


def _when(html: str) -> list[str]:
    """Each timeline row's time as written: its ``datetime`` at the data's precision and its words."""
    return re.findall(r'<span class="when">(.*?)</span>\n', html)


def test_an_event_page_shows_its_place_on_the_timeline(web: FlaskClient) -> None:
    html = web.get("/id/sudzha-pipeline-infiltration", headers={"Accept": BROWSER}).text
    assert '<section id="timeline">' in html
    assert _when(html)[:3] == [
        '<span class="relation">began</span> <time datetime="2024-08-06">6 August 2024</time>',
        '<time datetime="2025-03">March 2025</time>',
        '<span class="relation">by</span> <time datetime="2025-04">April 2025</time>',
    ]
    current = html.split('<li class="moment current">')[1].split("</li>\n    </ul>")[0]
    assert '<time datetime="2025-03">March 2025</time>' in current
    assert '<li class="here" aria-current="true"><a href="/id/sudzha-pipeline-infiltration"' in current
    assert "Putin&#39;s visit to Kursk (March 2025)" in current


def test_vague_times_keep_their_words_and_are_never_dated(web: FlaskClient) -> None:
    html = web.get("/id/north-korean-deployment-kursk", headers={"Accept": BROWSER}).text
    bounded, unordered = html.split('<ol class="vague-times bounded">')[1].split('<ol class="vague-times unordered">')
    assert '<span class="relation">by</span> <span class="vague">fall 2024</span>' in unordered
    assert '<span class="vague">as winter approached</span>' in bounded
    assert '<small class="order">(after 6 August 2024)</small>' in bounded
    assert "At times the source gives only in words, unordered</h3>" in html
    assert "<time" not in bounded + unordered
    current = html.split('<li class="moment current">')[1]
    assert current.startswith('\n    <span class="when"><span class="relation">by</span> <span class="vague">fall 2024')


def test_a_time_page_marks_the_things_at_that_time(web: FlaskClient) -> None:
    html = web.get("/id/time/2025-04", headers={"Accept": BROWSER}).text
    current = html.split('<li class="moment current">')[1]
    assert current.startswith('\n    <span class="when"><span class="relation">by</span> <time datetime="2025-04">')
    assert html.count('<li class="moment current">') == 1


def test_an_undated_resource_has_no_timeline(web: FlaskClient) -> None:
    assert '<section id="timeline">' not in web.get("/id/sudzha", headers={"Accept": BROWSER}).text


def test_the_timeline_page_lists_every_dated_thing(web: FlaskClient) -> None:
    response = web.get("/timeline")
    assert response.status_code == 200
    html = response.text
    assert [w for w in _when(html) if "<time" in w] == [
        '<span class="relation">began</span> <time datetime="2024-08-06">6 August 2024</time>',
        '<time datetime="2025-03">March 2025</time>',
        '<span class="relation">by</span> <time datetime="2025-04">April 2025</time>',
    ]
    assert html.count('<li class="moment') == 11
    assert 'class="moment current"' not in html
    assert '<a href="/timeline">Timeline</a>' in html
    assert "<script" not in html


def test_the_ontology_page_has_its_diagram(web: FlaskClient) -> None:
    html = web.get("/ontology", headers={"Accept": BROWSER}).text
    svg = html.split('<svg id="ontology-diagram"')[1].split("</svg>")[0]
    assert svg.count('<g class="class"') == html.count('<div class="term"', 0, html.index('<section id="properties">'))
    assert (
        '<g class="class" data-iri="https://w3id.org/kgraph/ontology#Settlement"><a href="/ontology#Settlement">'
    ) in svg
    assert '<g class="property" data-property="https://w3id.org/kgraph/ontology#partOfEvent">' in svg
    assert "<title>kg:locatedIn: place → place</title>" in svg


ALLIED_EXPLAIN = (
    "/explain?s=%3Chttps%3A%2F%2Fw3id.org%2Fkgraph%2Fid%2Fnorth-korea%3E"
    "&amp;p=%3Chttps%3A%2F%2Fw3id.org%2Fkgraph%2Fontology%23alliedWith%3E"
    "&amp;o=%3Chttps%3A%2F%2Fw3id.org%2Fkgraph%2Fid%2Frussia%3E"
)


def test_an_inferred_statement_is_marked_and_linked_to_its_explanation(web: FlaskClient) -> None:
    html = web.get("/id/north-korea", headers={"Accept": BROWSER}).text
    assert (
        '<tr class="inferred"><td><a href="/ontology#alliedWith" title="https://w3id.org/kgraph/ontology#alliedWith">'
        'allied with</a></td><td><a href="/id/russia" title="https://w3id.org/kgraph/id/russia">Russia</a> '
        f'<a class="inferred" href="{ALLIED_EXPLAIN}" title="Inferred, not stated by a source: see why">inferred</a>'
        "</td></tr>"
    ) in html
    assert '<tr><td><a class="external" href="http://www.w3.org/2000/01/rdf-schema#label"' in html  # asserted


def test_inferred_types_and_incoming_links_are_marked_too(web: FlaskClient) -> None:
    html = web.get("/id/russia", headers={"Accept": BROWSER}).text
    types = re.search(r'<p id="types">(.*?)</p>', html, re.S)
    assert types is not None and 'class="inferred"' in types.group(1)
    incoming = re.search(r'<table id="incoming">(.*?)</table>', html, re.S)
    assert incoming is not None
    assert "p=%3Chttps%3A%2F%2Fw3id.org%2Fkgraph%2Fontology%23alliedWith%3E" in incoming.group(1)


def test_without_inference_nothing_is_marked(web: FlaskClient) -> None:
    html = web.get("/id/north-korea?infer=false", headers={"Accept": BROWSER}).text
    assert 'class="inferred"' not in html
    assert "/explain?" not in html


def test_every_explanation_link_of_a_page_answers_its_proof_tree(web: FlaskClient) -> None:
    html = web.get("/id/north-korea", headers={"Accept": BROWSER}).text
    links = sorted(set(re.findall(r'<a class="inferred" href="(/explain\?[^"]+)"', html)))
    assert len(links) > 5
    for link in links:
        response = web.get(link.replace("&amp;", "&"), headers={"Accept": BROWSER})
        assert (link, response.status_code, response.content_type) == (link, 200, "text/html; charset=utf-8")
        assert '<ul class="proof" id="proof"><li class="step ' in response.text


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def test_a_claim_page_shows_what_is_claimed_by_whom_and_in_which_words(web: FlaskClient) -> None:
    html = web.get("/id/claim/ukraine-confirms-north-korean-troops", headers={"Accept": BROWSER}).text
    section = re.search(r'<section id="claim">(.*?)</section>', html, re.S)
    assert section is not None
    assert _text(section.group(1)) == (
        "The claim Ukraine confirms: Approximately 10,000 to 12,000 North Korean soldiers had been sent to bolster "
        "Russian efforts in Kursk. clauseNorth Korea sends troops to Kursk in support of Russia / deployed force / "
        "North Korean troops in KurskclauseNorth Korea sends troops to Kursk in support of Russia / in support of / "
        "RussiaclauseNorth Korea sends troops to Kursk in support of Russia / has place / Kursk OblastclauseNorth "
        "Korean troops in Kursk / person count / approximately 10,000 to 12,000 soldiers By fall 2024, Ukraine, the "
        "United States, and South Korea confirmed that approximately 10,000 to 12,000 North Korean soldiers had been "
        "sent to bolster Russian efforts in Kursk."
    )
    assert '<blockquote class="quote">By fall 2024, Ukraine' in section.group(1)


def test_claims_about_a_resource_show_their_proposition_and_quote(web: FlaskClient) -> None:
    html = web.get("/id/north-korean-deployment-kursk", headers={"Accept": BROWSER}).text
    table = re.search(r'<table id="claims">(.*?)</table>', html, re.S)
    assert table is not None
    contents = re.findall(r'<tr class="claim-content">(.*?)</tr>', table.group(1), re.S)
    assert len(contents) == table.group(1).count('<tr><td><a href="/id/claim/')
    ukraine = next(c for c in contents if "confirmed that approximately" in c and "/id/clause/" in c)
    assert '<dt><a href="/ontology#clause" title="https://w3id.org/kgraph/ontology#clause">clause</a></dt>' in ukraine
    assert '<blockquote class="quote">By fall 2024, Ukraine, the United States, and South Korea confirmed' in ukraine


def test_a_resource_that_is_not_a_claim_has_no_claim_section(web: FlaskClient) -> None:
    assert '<section id="claim">' not in web.get("/id/sudzha", headers={"Accept": BROWSER}).text
