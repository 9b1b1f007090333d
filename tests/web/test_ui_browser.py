"""The query page driven for real: Debian's headless Chromium against a running ``kgraph serve``.

These are the only tests that run YASGUI's JavaScript, so they check what a user sees: an example
query clicked, run and answered in the result table, the inference switch reaching the endpoint, the
plain form working with JavaScript off, and no request leaving the machine (it must work offline).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright

from kgraph.project import ProjectFiles

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Chromium as root in a container, with every call home switched off."""

EXAMPLE = "north-korea-confirmers"
"""The example clicked: who confirmed the North Korean deployment; its answer is in queries/."""

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
LOCAL_SCHEMES = {"data", "blob", "about"}

# Result-table cells as W3C CSV results write them: IRIs in full, literals as their lexical form.
CELL_VALUES = """rows => rows.map(row => Array.from(row.querySelectorAll("td")).slice(1).map(c => {
  const cell = c;
  const iri = cell.querySelector(":scope > div > span > a.iri");
  if (iri) return iri.dataset.iri || iri.getAttribute("href");
  const literal = cell.querySelector("span.nonIri");
  if (!literal) return "";
  const text = literal.firstChild.textContent;
  return literal.querySelector("sup") ? text.replace(/^"|"$/g, "") : text;
}))"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium with a fresh profile: Playwright gives each launch a new temporary user-data-dir."""
    if not CHROMIUM.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must run the browser tests (make browser)")
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` to install Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield browser
        browser.close()


@dataclass
class Visit:
    """A page plus what it did: every URL it requested and every uncaught script error."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        """Requests that would leave the machine."""
        return [url for url in self.requests if not _is_local(url)]


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOOPBACK


def _visit(browser: Browser, *, javascript: bool) -> Iterator[Visit]:
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    visit = Visit(page)
    page.on("request", lambda request: visit.requests.append(request.url))
    page.on("pageerror", lambda error: visit.errors.append(str(error)))
    context.route("**/*", _stay_local)
    yield visit
    context.close()


def _stay_local(route: Route) -> None:
    """Block anything non-local: a regression shows in ``requests``, never on the network."""
    if _is_local(route.request.url):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def visit(browser: Browser) -> Iterator[Visit]:
    yield from _visit(browser, javascript=True)


@pytest.fixture
def visit_without_js(browser: Browser) -> Iterator[Visit]:
    yield from _visit(browser, javascript=False)


def _expected(name: str) -> tuple[list[str], set[tuple[str, ...]]]:
    """The header and rows of an example's expected answer (W3C SPARQL CSV results)."""
    path = ProjectFiles.locate().queries / f"{name}.expected.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, {tuple(row) for row in rows}


def _open_page(visit: Visit, url: str) -> None:
    visit.page.goto(url + "/")
    visit.page.wait_for_selector(".yasqe .CodeMirror")


def _run_example(visit: Visit, name: str) -> Request:
    """Click an example and wait until its answer is in the table; the request it sent."""
    with visit.page.expect_request(lambda r: r.url.endswith("/sparql")) as request:
        visit.page.click(f'.example[data-name="{name}"] .example-link')
    visit.page.wait_for_selector(".yasr table.dataTable tbody tr td .rowNumber")
    return request.value


def _sent(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.post_data or "")


def test_example_query_answers_in_the_table(visit: Visit, live_server, tmp_path: Path) -> None:
    console = _console(visit)
    _open_page(visit, live_server.url)
    request = _run_example(visit, EXAMPLE)
    page = visit.page
    page.screenshot(path=str(tmp_path / "query-page.png"), full_page=True)
    header, rows = _expected(EXAMPLE)
    columns = page.locator(".yasr table.dataTable thead th").all_inner_texts()
    assert [c.strip() for c in columns[1:]] == header
    shown = page.locator(".yasr table.dataTable tbody tr").evaluate_all(CELL_VALUES)
    assert {tuple(row) for row in shown} == rows
    assert len(shown) == len(rows)
    assert page.locator(".yasr .yasr_response_chip").inner_text().startswith(f"{len(rows)} result")
    assert _sent(request)["query"] == [(ProjectFiles.locate().queries / f"{EXAMPLE}.rq").read_text()]
    assert visit.errors == []
    assert console == []  # the CSP allows all the editor and its table need
    assert visit.foreign() == []


def test_inference_checkbox_sends_infer_false_only_when_unticked(visit: Visit, live_server) -> None:
    _open_page(visit, live_server.url)
    visit.page.uncheck("#infer")
    assert _sent(_run_example(visit, EXAMPLE))["infer"] == ["false"]
    visit.page.check("#infer")
    assert "infer" not in _sent(_run_example(visit, EXAMPLE))
    assert visit.errors == []
    assert visit.foreign() == []


def test_page_requests_only_its_own_server(visit: Visit, live_server) -> None:
    """Autocompletion included: YASGUI's class and property completers ask lov.linkeddata.es."""
    _open_page(visit, live_server.url)
    visit.page.locator(".yasqe .CodeMirror").first.click()
    visit.page.keyboard.press("Control+A")
    visit.page.keyboard.insert_text("PREFIX foaf: <http://xmlns.com/foaf/0.1/>\nSELECT * WHERE { ?s a foaf:Pe")
    visit.page.keyboard.press("Control+Space")
    visit.page.keyboard.insert_text(" . ?s foaf:na")
    visit.page.keyboard.press("Control+Space")
    visit.page.click(".yasgui .addTab")
    visit.page.wait_for_timeout(500)
    hosts = {urlsplit(url).netloc for url in visit.requests if urlsplit(url).scheme == "http"}
    assert hosts == {urlsplit(live_server.url).netloc}
    assert visit.foreign() == []
    assert visit.errors == []


def test_plain_form_works_without_javascript(visit_without_js: Visit, live_server) -> None:
    page = visit_without_js.page
    page.goto(live_server.url + "/")
    assert page.locator("#yasgui").inner_html() == ""
    assert page.locator(f'.example[data-name="{EXAMPLE}"] .example-text').count() == 1
    page.locator("details.plain summary").click()
    page.fill("#plain-query", "ASK { ?s ?p ?o }")
    page.select_option("select[name=format]", "json")
    with page.expect_response(lambda r: r.url.endswith("/sparql")) as response:
        page.click("#plain-form button[type=submit]")
    assert response.value.status == 200
    assert response.value.json() == {"head": {}, "boolean": True}
    assert visit_without_js.foreign() == []


LAST_EXAMPLE = "wikidata-links"
"""The example lowest in the list: clicking it leaves the page scrolled far below the editor."""

SYNTAX_ERROR_QUERY = "SELECT * WHERE {\n  ?s ?p ?o .\n  FILTER(?x = )\n}"


def _console(visit: Visit) -> list[str]:
    """The page's console errors, collected from now on."""
    messages: list[str] = []
    visit.page.on("console", lambda m: messages.append(m.text) if m.type == "error" else None)
    return messages


def _in_view(visit: Visit, selector: str) -> bool:
    box = visit.page.locator(selector).first.bounding_box()
    height = visit.page.viewport_size["height"]
    return box is not None and -1 <= box["y"] < height * 0.5  # scrolled to its top, give or take a subpixel


def test_results_scroll_into_view_after_an_example_low_in_the_list(visit: Visit, live_server) -> None:
    _open_page(visit, live_server.url)
    link = visit.page.locator(f'.example[data-name="{LAST_EXAMPLE}"] .example-link')
    link.scroll_into_view_if_needed()
    assert not _in_view(visit, ".yasr")
    _run_example(visit, LAST_EXAMPLE)
    visit.page.wait_for_function("() => Math.abs(document.querySelector('.yasr').getBoundingClientRect().top) < 1")
    assert _in_view(visit, ".yasr")
    assert visit.errors == []
    assert visit.foreign() == []


def test_an_error_reads_as_text_with_its_place_marked_in_the_editor(visit: Visit, live_server) -> None:
    console = _console(visit)
    _open_page(visit, live_server.url)
    expected = requests.post(live_server.endpoint, data={"query": SYNTAX_ERROR_QUERY}, timeout=30).text.strip()
    assert expected.startswith("Syntax error at line 4, column 2 (after '}'): expected one of")
    visit.page.evaluate("q => { window.kgraphYasgui.getTab().setQuery(q); }", SYNTAX_ERROR_QUERY)
    visit.page.click(".yasqe .yasqe_queryButton")
    message = visit.page.locator(".yasr .query-error .message")
    message.wait_for()
    assert message.inner_text() == expected
    assert visit.page.locator(".yasr .query-error strong").inner_text() == "Error 400"
    assert message.evaluate("e => e.scrollWidth <= e.clientWidth")  # wrapped, not cut off at the right edge
    assert visit.page.locator(".yasqe .query-error-mark").inner_text() == "}"
    marked_line = visit.page.locator(".yasqe .query-error-line").evaluate("bg => bg.parentElement.textContent")
    assert marked_line == "4}"  # the gutter's line number, then the line's text
    visit.page.evaluate("() => { window.kgraphYasgui.getTab().setQuery('ASK {}'); }")
    visit.page.click(".yasqe .yasqe_queryButton")
    visit.page.wait_for_selector(".yasr .query-error", state="detached")
    assert visit.page.locator(".yasqe .query-error-mark").count() == 0
    assert visit.errors == []
    assert console == ["Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"]
    assert visit.foreign() == []


def _run_with_error(visit: Visit, live_server, query: str) -> tuple[str, str, str]:
    """Run a query that does not parse on the query page: the error's text, the character marked as its place and
    the opening bracket marked with it."""
    _open_page(visit, live_server.url)
    visit.page.evaluate("q => { window.kgraphYasgui.getTab().setQuery(q); }", query)
    visit.page.click(".yasqe .yasqe_queryButton")
    message = visit.page.locator(".yasr .query-error .message")
    message.wait_for()
    marks = [visit.page.locator(f".yasqe .query-error-{mark}").inner_text() for mark in ("mark", "opener")]
    return message.inner_text(), *marks


def test_a_bracket_of_the_wrong_kind_is_marked_with_the_one_it_cannot_close(visit: Visit, live_server) -> None:
    assert _run_with_error(visit, live_server, "SELECT ?s WHERE {\n  ?s ?p ?o FILTER (?o > 3 }") == (
        "Syntax error at line 2, column 28 (after '?s ?p ?o FILTER (?o > 3 }'): '}' cannot close the '(' opened at "
        "line 2, column 19, which needs ')'",
        "}",
        "(",
    )
    visit.page.evaluate("() => { window.kgraphYasgui.getTab().setQuery('ASK {}'); }")
    visit.page.click(".yasqe .yasqe_queryButton")
    visit.page.wait_for_selector(".yasr .query-error", state="detached")
    assert visit.page.locator(".yasqe .query-error-opener").count() == 0
    assert visit.errors == []


def test_an_error_in_a_query_with_a_relative_iri_is_marked_where_it_is(visit: Visit, live_server) -> None:
    # The server resolves <test> with a BASE line of its own; the columns on line 1 are the query's as written.
    assert _run_with_error(visit, live_server, "SELECT ?x WHERE { BIND(<test> AS ?x }") == (
        "Syntax error at line 1, column 38 (after '?x WHERE { BIND(<test> AS ?x }'): '}' cannot close the '(' opened "
        "at line 1, column 23, which needs ')'",
        "}",
        "(",
    )
    assert visit.errors == []


def test_a_share_link_restores_the_query_and_its_settings(visit: Visit, browser: Browser, live_server) -> None:
    _open_page(visit, live_server.url)
    visit.page.uncheck("#infer")
    _run_example(visit, EXAMPLE)
    visit.page.click(".yasqe .yasqe_share")
    link = visit.page.locator(".yasqe_sharePopup input").first.input_value()
    assert link.startswith(live_server.url + "/#query=")
    for opened in _visit(browser, javascript=True):
        with opened.page.expect_request(lambda r: r.url.endswith("/sparql")) as sent:
            opened.page.goto(link)
        opened.page.wait_for_selector(".yasr table.dataTable tbody tr td .rowNumber")
        query = (ProjectFiles.locate().queries / f"{EXAMPLE}.rq").read_text()
        assert opened.page.evaluate("() => window.kgraphYasgui.getTab().getQuery()") == query
        assert not opened.page.is_checked("#infer")
        assert _sent(sent.value)["infer"] == ["false"]
        assert _sent(sent.value)["query"] == [query]
        assert opened.page.locator(".yasgui .tabsList .tab.active").inner_text().strip().startswith("Who confirmed")
        assert opened.errors == []
        assert opened.foreign() == []


def test_a_share_link_never_changes_the_endpoint(visit: Visit, live_server) -> None:
    visit.page.goto(live_server.url + "/#query=ASK%20%7B%7D&endpoint=http%3A%2F%2Fexample.org%2Fsparql")
    visit.page.wait_for_selector(".yasr .yasr_response_chip")
    assert visit.page.locator(".yasgui .autocompleteWrapper input").first.input_value() == live_server.endpoint
    assert visit.foreign() == []


def test_result_iris_of_the_dataset_open_this_servers_pages(visit: Visit, live_server) -> None:
    _open_page(visit, live_server.url)
    _run_example(visit, EXAMPLE)
    link = visit.page.locator(".yasr table.dataTable a.iri").first
    assert link.get_attribute("href").startswith("/id/")
    assert link.get_attribute("target") is None
    link.click()
    visit.page.wait_for_url(live_server.url + "/id/**")
    assert visit.page.locator("h1#label").count() == 1
    assert visit.errors == []


def test_the_page_fits_400_px_with_the_editor_first(browser: Browser, live_server) -> None:
    context = browser.new_context(viewport={"width": 400, "height": 800})
    page = context.new_page()
    context.route("**/*", _stay_local)
    try:
        page.goto(live_server.url + "/")
        page.wait_for_selector(".yasqe .CodeMirror")
        assert page.evaluate("document.documentElement.scrollWidth") == 400
        editor = page.locator("#yasgui").bounding_box()
        examples = page.locator("aside.examples").bounding_box()
        assert editor is not None and examples is not None and editor["y"] < examples["y"]
        assert editor["y"] < 800
        page.click(f'.example[data-name="{EXAMPLE}"] .example-link')  # a long tab name, a wide result table
        page.wait_for_selector(".yasr table.dataTable tbody tr td .rowNumber")
        assert page.evaluate("document.documentElement.scrollWidth") == 400
    finally:
        context.close()


def _complete(visit: Visit, text: str) -> list[str]:
    """Type ``text`` in the editor, ask for completion (Ctrl+Space) and read the offered hints."""
    page = visit.page
    page.keyboard.insert_text(text)
    page.keyboard.press("Control+Space")
    hints = page.locator(".CodeMirror-hints li")
    hints.first.wait_for()
    return hints.all_inner_texts()


def test_completion_offers_prefixes_and_the_graphs_own_terms(visit: Visit, live_server) -> None:
    _open_page(visit, live_server.url)
    requests_before = len(visit.requests)
    visit.page.locator(".yasqe .CodeMirror").first.click()
    visit.page.keyboard.press("Control+A")
    assert _complete(visit, "PREFIX kg") == [
        "kg: <https://w3id.org/kgraph/ontology#>",
        "kgr: <https://w3id.org/kgraph/id/>",
    ]
    visit.page.keyboard.press("Enter")
    visit.page.keyboard.insert_text("\nPREFIX kgr: <https://w3id.org/kgraph/id/>\n")
    assert _complete(visit, "SELECT * WHERE { ?s a kg:Sett") == ["kg:Settlement"]
    visit.page.keyboard.press("Enter")
    assert _complete(visit, " ; kg:locat") == ["kg:locatedIn"]
    visit.page.keyboard.press("Enter")
    assert _complete(visit, " kgr:kursk-o") == ["kgr:kursk-oblast"]
    visit.page.keyboard.press("Enter")
    assert visit.page.evaluate("() => window.kgraphYasgui.getTab().getQuery()").endswith(
        "SELECT * WHERE { ?s a kg:Settlement ; kg:locatedIn kgr:kursk-oblast"
    )
    asked = [urlsplit(url) for url in visit.requests[requests_before:]]
    assert {(u.netloc, u.path) for u in asked} == {(urlsplit(live_server.url).netloc, "/sparql")}
    assert len(asked) == 3  # classes, properties, resources: each list fetched once
    assert visit.errors == []
    assert visit.foreign() == []


def _offered(visit: Visit) -> list[str]:
    """The result views YASR offers (its buttons not marked disabled)."""
    buttons = visit.page.locator(".yasr .yasr_btnGroup button:not(.disabled)")
    return [text.split("\n")[-1].strip() for text in buttons.all_inner_texts()]


def _run_query(visit: Visit, query: str) -> None:
    visit.page.evaluate("q => { const tab = window.kgraphYasgui.getTab(); tab.setQuery(q); tab.query(); }", query)
    visit.page.wait_for_selector(".yasr table.dataTable tbody tr td .rowNumber")


def test_the_map_view_draws_the_points_of_a_result(visit: Visit, live_server) -> None:
    console = _console(visit)
    _open_page(visit, live_server.url)
    _run_example(visit, "where-is-sudzha")
    _, rows = _expected("where-is-sudzha")
    assert _offered(visit) == ["Table", "Response", "Map"]  # no dates in this result: no Timeline
    visit.page.click(".yasr button.select_kgraphMap")
    visit.page.wait_for_selector('.yasr .result-map[data-state="ready"]')
    places = visit.page.locator(".result-map .leaflet-tooltip:not(.country-label)").all_inner_texts()
    assert sorted(places) == sorted(label for _, label, _ in rows)
    assert visit.page.locator(".result-map path.point-marker").count() == len(rows)
    assert visit.page.locator(".result-map .country-label").count() >= 2
    assert visit.page.locator(".result-map .map-caption").text_content() == f"{len(rows)} points"
    assert any(url.endswith("/assets/vendor/countries-50m.json") for url in visit.requests)
    assert visit.errors == []
    assert console == []
    assert visit.foreign() == []


def test_the_timeline_view_orders_the_rows_by_their_dates(visit: Visit, live_server) -> None:
    console = _console(visit)
    _open_page(visit, live_server.url)
    _run_query(
        visit,
        "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
        "SELECT ?e ?d ?note WHERE { VALUES (?e ?d ?note) {"
        ' (<https://w3id.org/kgraph/id/sudzha> "2025-03"^^xsd:gYearMonth "later")'
        ' (<https://example.org/elsewhere> "2024-08-06"^^xsd:date "<b>as text</b>")'
        ' (<javascript:window.pwned=2> "2024"^^xsd:gYear "year") } }',
    )
    assert _offered(visit) == ["Table", "Response", "Timeline"]  # no points in this result: no Map
    visit.page.click(".yasr button.select_kgraphTimeline")
    timeline = visit.page.locator(".yasr .result-timeline")
    timeline.wait_for()
    assert timeline.locator("time").evaluate_all("ts => ts.map(t => t.dateTime)") == ["2024", "2024-08-06", "2025-03"]
    assert timeline.locator(".events").all_inner_texts() == [
        "javascript:window.pwned=2 · year",
        "https://example.org/elsewhere · <b>as text</b>",
        "kgr:sudzha · later",
    ]
    assert timeline.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))") == [
        "https://example.org/elsewhere",
        "/id/sudzha",
    ]
    assert visit.page.evaluate("window.pwned") is None
    assert visit.errors == []
    assert console == []
    assert visit.foreign() == []


def test_a_large_answer_arrives_compressed_and_whole_in_the_table(visit: Visit, live_server) -> None:
    """Guards the streamed path: an answer past 64 KiB is sent chunked and gzip-compressed as it is written; the
    browser inflates it and the table has every row."""
    console = _console(visit)
    _open_page(visit, live_server.url)
    large = "SELECT ?a ?b WHERE { ?a ?p ?o . ?b ?q ?r } LIMIT 3000"
    plain = requests.post(live_server.endpoint, data={"query": large}, headers={"Accept-Encoding": "identity"})
    assert len(plain.content) > 1 << 16 and "Content-Encoding" not in plain.headers
    visit.page.evaluate("q => { window.kgraphYasgui.getTab().setQuery(q); }", large)
    with visit.page.expect_response(lambda r: r.url.endswith("/sparql")) as answer:
        visit.page.click(".yasqe .yasqe_queryButton")
    headers = answer.value.all_headers()
    assert (headers.get("content-encoding"), headers.get("transfer-encoding")) == ("gzip", "chunked")
    visit.page.wait_for_selector(".yasr table.dataTable tbody tr td .rowNumber")
    assert visit.page.locator(".yasr .yasr_response_chip").inner_text().startswith("3000 results")
    assert visit.errors == []
    assert console == []
