"""A claim's page shows where the article says it: the exact words and their offsets (``_anchor.html``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kgraph.config import Settings

PROJECT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def article_app() -> Iterator[Flask]:
    from kgraph.web import create_app, service

    app = create_app(Settings.from_env(environ={}, project_dir=PROJECT))
    yield app
    service(app).close()


def test_a_claim_page_quotes_the_article_with_offsets(article_app: Flask) -> None:
    web: FlaskClient = article_app.test_client()
    page = web.get("/id/claim/reports-of-russian-push-into-sumy", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    section = re.search(r'<section id="anchors">.*?</section>', html, re.S)
    assert section, "the page has no anchors section"
    assert re.findall(r'<li class="anchor" data-start="(\d+)" data-end="(\d+)">', section.group(0)) == [
        ("4236", "4343")
    ]
    assert (
        '<blockquote class="exact">Russian forces are reportedly pushing into Ukraine\u2019s Sumy region, already '
        "controlling 90 square kilometres.</blockquote>" in section.group(0)
    )
    assert "characters 4236 to 4343 of the article" in section.group(0)


def test_a_place_page_has_no_anchors_section(article_app: Flask) -> None:
    html = article_app.test_client().get("/id/sudzha", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'id="anchors"' not in html
