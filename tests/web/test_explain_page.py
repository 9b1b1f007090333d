"""``/explain`` for browsers: the proof tree as HTML, its terms labelled and linked to their pages."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from test_resources import BROWSER, article_app, web  # noqa: F401 - the application over the article data

ALLIANCE = {
    "s": "<https://w3id.org/kgraph/id/north-korea>",
    "p": "kg:alliedWith",
    "o": "kgr:russia",
}


def _steps(html: str) -> list[str]:
    """Each step's kind and triple text, in document order."""
    found = re.findall(r'<li class="step ([a-z-]+)">\s*<span class="triple">(.*?)</span>\s*<div', html, re.S)
    return [f"{kind}: {re.sub(r'<[^>]+>', '', triple)}" for kind, triple in found]


def test_a_browser_gets_the_proof_tree(web: FlaskClient) -> None:  # noqa: F811 - the imported fixture
    response = web.get("/explain", query_string=ALLIANCE, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert _steps(response.text) == [
        "rule: North Korea allied with Russia",
        "asserted: North Korea sends troops to Kursk in support of Russia rdf:type deployment",
        "asserted: North Korea sends troops to Kursk in support of Russia in support of Russia",
        "asserted: Russia rdf:type state",
        "asserted: North Korea sends troops to Kursk in support of Russia deployed force North Korean troops in Kursk",
        "asserted: North Korean troops in Kursk force of North Korea",
    ]
    html = response.text
    assert '<span class="kind">rule</span> <code>allied-by-deployment</code>' in html
    asserted = '<span class="kind">asserted</span> in <code>data/ttl/north-korea.ttl</code>; source <a href="/id/'
    assert asserted in html
    assert '<a href="/id/north-korea" title="https://w3id.org/kgraph/id/north-korea">North Korea</a>' in html


def test_format_html_and_the_other_formats_stay(web: FlaskClient) -> None:  # noqa: F811 - the imported fixture
    html = web.get("/explain", query_string={**ALLIANCE, "format": "html"})
    assert html.content_type == "text/html; charset=utf-8"
    text = web.get("/explain", query_string=ALLIANCE)
    assert text.content_type == "text/plain; charset=utf-8"
    assert text.text.startswith("kgr:north-korea kg:alliedWith kgr:russia\n  <- rule allied-by-deployment")
    assert web.get("/explain", query_string={**ALLIANCE, "format": "json"}).json["rule"] == "allied-by-deployment"


def test_the_page_links_its_text_and_json_forms(web: FlaskClient) -> None:  # noqa: F811 - the imported fixture
    html = web.get("/explain", query_string={**ALLIANCE, "format": "html"}).text
    links = re.findall(r'href="(/explain\?[^"]+)"', html)
    assert [link.rsplit("format=", 1)[1] for link in links] == ["text", "json"]
    for link in links:
        assert web.get(link.replace("&amp;", "&")).status_code == 200


def test_a_browser_asking_for_a_missing_triple_gets_a_404(web: FlaskClient) -> None:  # noqa: F811 - the imported fixture
    response = web.get("/explain", query_string={**ALLIANCE, "o": "kgr:ukraine"}, headers={"Accept": BROWSER})
    assert response.status_code == 404
