"""No script from data runs on any page: a hostile label and a ``javascript:`` IRI written with a token through the
real write path (SPARQL Update over HTTP), then every page that shows them driven in Chromium.

The pages are visited with the Content-Security-Policy bypassed, so these tests prove that the templates and the
browser code treat data as text on their own; the policy itself is tested in ``test_headers.py``. A page that
rendered a label as HTML would set ``window.pwned`` (the labels' handlers do), show an ``<img>`` or a ``<script>``
element, or offer a ``javascript:`` link.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser
from test_ui_browser import Visit, _stay_local, browser  # noqa: F401 - the shared Chromium fixture

from conftest import PROJECT, LiveServer, start_server

pytestmark = pytest.mark.browser

TOKEN = "hostile-test-token"
MAP_LABEL = "<img src=x onerror=\"window.pwned='map'\">"
NOTE_LABEL = "<script>window.pwned='timeline'</script><img src=x onerror=\"window.pwned='timeline-img'\">"
SCRIPT_IRI = "javascript:window.pwned='link'"
UPDATE = """PREFIX kg: <https://w3id.org/kgraph/ontology#>
PREFIX kgr: <https://w3id.org/kgraph/id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX t: <https://w3id.org/kgraph/id/time/>
INSERT DATA {
  kgr:evil-place a kg:Settlement ; rdfs:label %(map)s@en ; kg:locatedIn kgr:kursk-oblast ;
    rdfs:seeAlso <%(iri)s> ; geo:hasGeometry kgr:evil-place-geometry .
  kgr:evil-place-geometry a geo:Geometry ; rdfs:label "point"@en ; geo:asWKT "POINT(35.5 51.4)"^^geo:wktLiteral .
  kgr:evil-note rdfs:label %(note)s@en ; kg:hasTime t:2025-03 .
}"""


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The project served with a token over a fresh data directory, the hostile data written through /sparql."""
    data_dir: Path = tmp_path_factory.mktemp("hostile-data")
    env = {
        "KGRAPH_PROJECT_DIR": str(PROJECT),
        "KGRAPH_DATA_DIR": str(data_dir),
        "KGRAPH_TOKEN": TOKEN,
        "KGRAPH_TOKEN_FILE": "",
    }
    server = start_server([], env)
    text = UPDATE % {"map": _literal(MAP_LABEL), "note": _literal(NOTE_LABEL), "iri": SCRIPT_IRI}
    response = requests.post(
        server.endpoint, data={"update": text}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
    )
    assert response.status_code == 200, response.text
    yield server
    server.stop()


@pytest.fixture
def visit(browser: Browser) -> Iterator[Visit]:  # noqa: F811 - uses the imported fixture
    """A page with JavaScript on and the CSP bypassed: only the pages' own care stands between data and script."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    opened = Visit(page)
    page.on("request", lambda request: opened.requests.append(request.url))
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("dialog", lambda dialog: opened.errors.append(f"dialog: {dialog.message}"))
    context.route("**/*", _stay_local)
    yield opened
    context.close()


def _no_script_ran(visit: Visit) -> None:
    page = visit.page
    page.wait_for_timeout(300)  # an <img src=x> fails within milliseconds: give its handler the time to run
    assert page.evaluate("window.pwned") is None
    assert page.locator("main img, main script, .leaflet-tooltip img").count() == 0
    assert page.locator("a[href^='javascript' i]").count() == 0
    assert visit.errors == []
    assert visit.foreign() == []


def test_the_map_shows_a_place_label_as_text(visit: Visit, hostile_server: LiveServer) -> None:
    page = visit.page
    page.goto(hostile_server.url + "/id/kursk-oblast")
    page.wait_for_selector('#map[data-state="ready"]')
    places = page.locator("#map .leaflet-tooltip:not(.country-label)").all_inner_texts()
    assert sorted(places) == sorted(["Sudzha", MAP_LABEL])
    _no_script_ran(visit)


def test_the_resource_page_shows_label_and_iri_as_text(visit: Visit, hostile_server: LiveServer) -> None:
    page = visit.page
    page.goto(hostile_server.url + "/id/evil-place")
    page.wait_for_selector('#map[data-state="ready"]')
    assert page.locator("h1#label").inner_text() == MAP_LABEL
    assert page.title() == f"{MAP_LABEL} - kgraph"
    assert page.locator(f'#statements span.iri[title="{SCRIPT_IRI}"]').inner_text() == SCRIPT_IRI
    _no_script_ran(visit)


@pytest.mark.parametrize("path", ["/timeline", "/id/evil-note"])
def test_the_timeline_shows_a_label_as_text(visit: Visit, hostile_server: LiveServer, path: str) -> None:
    page = visit.page
    page.goto(hostile_server.url + path)
    assert NOTE_LABEL in page.locator("#timeline .calendar").inner_text()
    _no_script_ran(visit)


def _query(visit: Visit, server: LiveServer, query: str) -> None:
    """Open the query page, run ``query`` and wait for its result table."""
    visit.page.goto(server.url + "/")
    visit.page.wait_for_selector(".yasqe .CodeMirror")
    visit.page.evaluate("q => { const tab = window.kgraphYasgui.getTab(); tab.setQuery(q); tab.query(); }", query)
    visit.page.wait_for_selector(".yasr table.dataTable tbody tr td .rowNumber")


def test_query_results_show_labels_and_iris_as_text(visit: Visit, hostile_server: LiveServer) -> None:
    page = visit.page
    query = (
        "SELECT ?x ?l ?see WHERE { VALUES ?x { <https://w3id.org/kgraph/id/evil-place> "
        "<https://w3id.org/kgraph/id/evil-note> } ?x <http://www.w3.org/2000/01/rdf-schema#label> ?l "
        "OPTIONAL { ?x <http://www.w3.org/2000/01/rdf-schema#seeAlso> ?see } } ORDER BY ?x"
    )
    _query(visit, hostile_server, query)
    cells = page.locator(".yasr table.dataTable tbody td span.nonIri").all_inner_texts()
    assert cells == [f'"{NOTE_LABEL}"@en', f'"{MAP_LABEL}"@en']
    assert SCRIPT_IRI in page.locator(".yasr table.dataTable tbody").inner_text()
    _no_script_ran(visit)


@pytest.mark.parametrize(
    "path",
    [
        "/search?q=img",
        "/search?q=script",
        "/id/?class=https%3A%2F%2Fw3id.org%2Fkgraph%2Fontology%23Settlement",
        "/explain?s=kgr:evil-place&p=rdf:type&o=kg:Place&format=html",
        "/id/time/2025-03",
    ],
)
def test_lists_and_explanations_show_labels_as_text(visit: Visit, hostile_server: LiveServer, path: str) -> None:
    page = visit.page
    page.goto(hostile_server.url + path)
    texts = page.locator("main a[href^='/id/evil']").all_inner_texts()
    assert MAP_LABEL in texts or NOTE_LABEL in texts
    _no_script_ran(visit)


def test_the_query_pages_map_and_timeline_views_show_labels_as_text(visit: Visit, hostile_server: LiveServer) -> None:
    page = visit.page
    query = (
        "SELECT ?l ?wkt ?d WHERE { <https://w3id.org/kgraph/id/evil-place> "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?l ; <http://www.opengis.net/ont/geosparql#hasGeometry>/"
        "<http://www.opengis.net/ont/geosparql#asWKT> ?wkt "
        'BIND("2025-03"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> AS ?d) }'
    )
    _query(visit, hostile_server, query)
    page.click(".yasr button.select_kgraphMap")
    page.wait_for_selector('.yasr .result-map[data-state="ready"]')
    assert page.locator(".result-map .leaflet-tooltip:not(.country-label)").all_inner_texts() == [MAP_LABEL]
    page.click(".yasr button.select_kgraphTimeline")
    assert page.locator(".yasr .result-timeline .events").inner_text().startswith(MAP_LABEL)
    _no_script_ran(visit)
