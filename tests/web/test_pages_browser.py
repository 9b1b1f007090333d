"""The pages that explain the graph, driven in Chromium: inferred statements lead to their proof tree, resources are
listed by class and found by name from the search box every page carries; no request leaves the machine and no
script error is logged."""

from __future__ import annotations

import pytest
from test_resources_browser import _clean, visit  # noqa: F401 - a page recording console errors too
from test_ui_browser import Visit, _stay_local, browser  # noqa: F401 - the shared Chromium fixture

pytestmark = pytest.mark.browser


def test_an_inferred_statement_leads_to_its_proof_tree(visit: Visit, live_server) -> None:  # noqa: F811 - the imported fixture
    page = visit.page
    page.goto(live_server.url + "/id/north-korea")
    row = page.locator("#statements tr.inferred", has=page.locator("a[href='/id/russia']"))
    assert row.locator("td").first.inner_text() == "allied with"
    row.locator("a.inferred").click()
    page.wait_for_url("**/explain?*")
    proof = page.locator("#proof")
    assert proof.locator("> li > .triple").inner_text() == "North Korea allied with Russia"
    assert proof.locator("> li > .why code").inner_text() == "allied-by-deployment"
    assert proof.locator("li.step.asserted").count() == 5
    proof.locator("> li > .triple a", has_text="Russia").click()
    page.wait_for_url("**/id/russia")
    _clean(visit)


def test_the_search_box_finds_a_place_by_the_start_of_its_name(visit: Visit, live_server) -> None:  # noqa: F811 - the imported fixture
    page = visit.page
    page.goto(live_server.url + "/timeline")
    page.fill("#site-search", "SUDZ")
    page.press("#site-search", "Enter")
    page.wait_for_url("**/search?q=SUDZ")
    assert page.locator("#results .hit > a").first.inner_text() == "Sudzha"
    assert page.locator("#site-search").input_value() == "SUDZ"
    page.locator("#results .hit > a").first.click()
    page.wait_for_url("**/id/sudzha")
    _clean(visit)


def test_the_index_lists_a_class_and_leads_to_its_resources(visit: Visit, live_server) -> None:  # noqa: F811 - the imported fixture
    page = visit.page
    page.goto(live_server.url + "/id/sudzha")
    page.click("header.site nav a:text('Resources')")
    page.wait_for_url("**/id/")
    page.locator("table.classes a", has_text="settlement").first.click()
    page.wait_for_url("**/id/?class=*")
    names = page.locator("#instances li a:not(.inferred)").all_inner_texts()
    assert "Sudzha" in names and names == sorted(names, key=str.lower)
    assert page.locator("#instances h2").inner_text() == f"settlement ({len(names)})"
    page.locator("#instances li a", has_text="Sudzha").click()
    page.wait_for_url("**/id/sudzha")
    _clean(visit)


@pytest.mark.parametrize(
    "path",
    [
        "/id/north-korea",
        "/id/claim/ukraine-confirms-north-korean-troops",
        "/timeline",
        "/ontology",
        "/id/",
        "/search?q=k",
        "/explain?s=kgr:north-korea&p=kg:alliedWith&o=kgr:russia&format=html",
    ],
)
def test_every_page_fits_400_px(browser, live_server, path: str) -> None:  # noqa: F811 - the imported fixture
    context = browser.new_context(viewport={"width": 400, "height": 800})
    page = context.new_page()
    context.route("**/*", _stay_local)
    try:
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") == 400
        assert page.locator("#site-search").is_visible()
    finally:
        context.close()
