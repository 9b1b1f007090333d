"""Security headers on every answer: a page of this server runs only this server's scripts.

Labels and literals come from anyone holding a write token, so a page must never run script that arrives as data.
The templates and the browser code treat data as text; the Content-Security-Policy is the second wall: no inline
script, no ``eval``, scripts, styles, images and connections from this origin only, and no framing by another site
(clickjacking). ``nosniff`` stops a browser from running a served Turtle or JSON body as script, and the referrer
policy keeps query text (which may hold private terms) out of other sites' logs. One ``after_request`` hook sets them
all, so no view can forget them.
"""

from __future__ import annotations

from flask import Flask, Response, request

YASR_TABLE_STYLE = "'sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk='"
"""The one inline style the query page needs, allowed by its hash (not by ``'unsafe-inline'``): YASR's result table
always builds a column resizer, which adds a fixed ``<style>`` element (``.grip-resizable{table-layout:fixed;}...``)
to the page's head. A hash admits that exact text and nothing else; a new YASGUI version that changes the text shows
as a console error in the browser tests. YASGUI needs no ``eval`` (its JSON polyfill only runs without ``JSON``)."""

QUERY_PAGE = "ui.index"
"""The endpoint whose pages carry :data:`YASR_TABLE_STYLE`; every other page has no inline style at all."""


def content_security_policy(extra_styles: str = "") -> str:
    """The policy: this origin only, plus the hashed styles given (a space-separated CSP source list)."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'self' {extra_styles}".strip(),
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()
"""Every page but the query page: this origin only; ``data:`` images for the empty favicon and the editor's icons."""

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
"""Sent with every response; ``X-Frame-Options`` says ``frame-ancestors`` to browsers that predate it."""


def add_security_headers(response: Response) -> Response:
    """Set :data:`SECURITY_HEADERS` on a response (every response: errors and static files included)."""
    response.headers.update(SECURITY_HEADERS)
    if request.endpoint == QUERY_PAGE:
        response.headers["Content-Security-Policy"] = content_security_policy(YASR_TABLE_STYLE)
    return response


def install(app: Flask) -> None:
    """Send the security headers with every answer of ``app``."""
    app.after_request(add_security_headers)
