"""The linked-data pages driven for real: Debian's headless Chromium against a running ``kgraph serve``.

What a person sees: a place's page draws its map (Leaflet over the offline country outlines, the place's point as
a marker), an event's page shows where it stands on the timeline, the ontology page shows its diagram, every
``/id/`` link of a page resolves, and no page asks anything of another host or logs a script error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from playwright.sync_api import Browser, ConsoleMessage
from test_ui_browser import Visit, _visit, browser  # noqa: F401 - the shared Chromium fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def visit(browser: Browser) -> Iterator[Visit]:  # noqa: F811 - uses the imported fixture
    """A page with JavaScript, recording console errors as well as uncaught ones."""
    for opened in _visit(browser, javascript=True):
        opened.page.on("console", _console_errors(opened))
        yield opened


@pytest.fixture
def text_visit(browser: Browser) -> Iterator[Visit]:  # noqa: F811 - uses the imported fixture
    """A page with JavaScript off: what a crawler or a text browser gets."""
    yield from _visit(browser, javascript=False)


def _console_errors(visit: Visit) -> Callable[[ConsoleMessage], None]:
    """A listener adding the page's console errors to the visit's errors."""

    def listen(message: ConsoleMessage) -> None:
        if message.type == "error":
            visit.errors.append(f"console: {message.text}")

    return listen


def _clean(visit: Visit) -> None:
    assert visit.errors == []
    assert visit.foreign() == []


def test_a_place_page_draws_its_map(visit: Visit, live_server) -> None:
    page = visit.page
    page.goto(live_server.url + "/id/sudzha")
    page.wait_for_selector('#map[data-state="ready"]')
    assert page.locator("#map").is_visible()
    assert page.locator("#map path.point-marker").count() == 1
    assert page.locator("#map .leaflet-tooltip:not(.country-label)").inner_text() == "Sudzha"
    assert page.locator("#map .leaflet-overlay-pane path").count() > 100  # the country outlines
    assert page.locator("#points .latlon").inner_text() == "51.19139° N, 35.27056° E"
    assert any(url.endswith("/assets/vendor/countries-50m.json") for url in visit.requests)
    _clean(visit)


def test_a_region_maps_the_places_located_in_it(visit: Visit, live_server) -> None:
    page = visit.page
    page.goto(live_server.url + "/id/kursk-oblast")
    page.wait_for_selector('#map[data-state="ready"]')
    assert page.locator("#map .leaflet-tooltip:not(.country-label)").all_inner_texts() == ["Sudzha"]
    _clean(visit)


def test_a_page_without_coordinates_has_no_map(visit: Visit, live_server) -> None:
    visit.page.goto(live_server.url + "/id/putin-visit-to-kursk")
    assert visit.page.locator("#map").count() == 0
    assert not any("leaflet" in url for url in visit.requests)
    _clean(visit)


def test_an_event_page_shows_the_timeline(visit: Visit, live_server) -> None:
    page = visit.page
    page.goto(live_server.url + "/id/sudzha-pipeline-infiltration")
    current = page.locator("#timeline .moment.current")
    assert current.locator("time").get_attribute("datetime") == "2025-03"
    assert current.locator("time").inner_text() == "March 2025"
    assert current.locator(".here").inner_text().startswith("Russian infiltration through a natural gas pipeline")
    assert page.locator("#timeline .calendar time").all_inner_texts() == ["6 August 2024", "March 2025", "April 2025"]
    assert page.locator("#timeline .calendar .moment").first.is_visible()
    _clean(visit)


@pytest.mark.parametrize("path", ["/id/kursk-oblast", "/id/sudzha-pipeline-infiltration"])
def test_every_id_link_of_a_page_resolves(visit: Visit, live_server, path: str) -> None:
    page = visit.page
    page.goto(live_server.url + path)
    hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
    local = sorted({h.split("#")[0] for h in hrefs if urlsplit(h).path.startswith("/id/")})
    assert len(local) > 10
    statuses = {url: requests.get(url, headers={"Accept": "text/html"}, timeout=30).status_code for url in local}
    assert {url: status for url, status in statuses.items() if status != 200} == {}
    link = page.locator("#statements a[href^='/id/']").first
    target = link.get_attribute("href")
    link.click()
    page.wait_for_url(urljoin(live_server.url, target))
    assert page.locator("h1#label").count() == 1
    _clean(visit)


def test_without_javascript_a_place_reads_as_text(text_visit: Visit, live_server) -> None:
    page = text_visit.page
    page.goto(live_server.url + "/id/sudzha")
    assert not page.locator("#map").is_visible()
    assert page.locator("#points").inner_text() == (
        "51.19139° N, 35.27056° E (WKT, longitude first: POINT(35.27056 51.19139))"
    )
    assert text_visit.foreign() == []


def test_the_ontology_page_shows_the_diagram(visit: Visit, live_server) -> None:
    page = visit.page
    page.goto(live_server.url + "/ontology")
    diagram = page.locator("svg#ontology-diagram")
    assert diagram.is_visible()
    box = diagram.bounding_box()
    assert box is not None and box["width"] > 500 and box["height"] > 1000
    assert page.locator("svg#ontology-diagram g.class").count() == page.locator("#classes .term").count()
    assert page.locator('svg#ontology-diagram g.property[data-property$="#partOfEvent"]').count() == 1
    page.locator('svg#ontology-diagram g.class[data-iri$="#Settlement"] a').click()
    page.wait_for_url("**/ontology#Settlement")
    _clean(visit)


def test_the_timeline_page_is_in_the_navigation(visit: Visit, live_server) -> None:
    page = visit.page
    page.goto(live_server.url + "/id/sudzha")
    page.click("header.site nav a:text('Timeline')")
    page.wait_for_url("**/timeline")
    assert page.locator("#timeline .calendar time").first.get_attribute("datetime") == "2024-08-06"
    _clean(visit)


def test_the_map_names_the_countries_in_view_and_says_what_it_shows(visit: Visit, live_server) -> None:
    page = visit.page
    page.goto(live_server.url + "/id/sudzha")
    page.wait_for_selector('#map[data-state="ready"]')
    names = page.locator("#map .country-label").evaluate_all("labels => labels.map(l => l.textContent).sort()")
    assert names == ["Russia", "Ukraine"]
    box = page.locator("#map").bounding_box()
    for label in page.locator("#map .country-label").all():
        spot = label.bounding_box()
        assert box is not None and spot is not None
        assert box["x"] <= spot["x"] and spot["x"] + spot["width"] <= box["x"] + box["width"]  # named in view
    assert page.locator("#map .map-caption").text_content() == "Sudzha, in Kursk Oblast, Russia"
    page.goto(live_server.url + "/id/kursk-oblast")
    page.wait_for_selector('#map[data-state="ready"]')
    assert page.locator("#map .map-caption").text_content() == "Places located in Kursk Oblast"
    _clean(visit)
