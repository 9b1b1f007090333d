"""The service description and the VoID description opened from the navigation bar in Debian's headless Chromium:
a readable page, not raw Turtle, and no developer note (issue 18)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser
from test_ui_browser import Visit, _visit, browser  # noqa: F401 - the shared Chromium fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def visit(browser: Browser) -> Iterator[Visit]:  # noqa: F811 - uses the imported fixture
    yield from _visit(browser, javascript=False)


@pytest.mark.parametrize(
    ("link", "title", "statement"),
    [
        ("Service description", "Service description", "sd:supportedLanguage"),
        ("Dataset (VoID)", "Dataset (VoID)", "void:sparqlEndpoint"),
    ],
)
def test_the_navigation_bar_opens_readable_pages(
    visit: Visit, live_server, link: str, title: str, statement: str
) -> None:
    page = visit.page
    page.goto(live_server.url + "/timeline")
    page.get_by_role("link", name=link, exact=True).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == title
    text = page.locator("main").inner_text()
    assert statement in text
    assert "A template" not in text and "Edit the wording" not in text
    assert page.locator(f'a[href="{live_server.url}/sparql"]').count() >= 1
    assert visit.errors == []
