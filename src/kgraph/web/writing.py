"""A write asked for over HTTP, run and answered: ``/store`` (Graph Store Protocol) and ``/sparql`` (SPARQL Update)
both call :func:`perform` once the request is authorised, with what to do with the application's writer.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, current_app, request

from kgraph.sparql.formats import parse_accept
from kgraph.validate.report import to_json, to_text
from kgraph.web import service
from kgraph.writes import Writer, WriteRejected, WriteResult


def perform(write: Callable[[Writer], WriteResult], *, created: bool = False) -> Response:
    """Run an authorised write and answer: its summary, or the validation report (422)."""
    try:
        result = write(service(current_app).writer())
    except WriteRejected as rejected:
        return _rejected(rejected)
    response = Response(result.summary() + "\n", status=201 if created else 200, content_type="text/plain")
    response.headers["Kgraph-Write"] = result.id
    return response


def _rejected(rejected: WriteRejected) -> Response:
    """The validation report, worded as ``kgraph validate`` words it; its JSON when the client prefers JSON."""
    ranges = parse_accept(request.headers.get("Accept"))
    if ranges and ranges[0][0].endswith(("/json", "+json")):
        return Response(to_json(rejected.report), status=422, content_type="application/json")
    text = "The write was refused; nothing was changed.\n" + to_text(rejected.report)
    return Response(text, status=422, content_type="text/plain; charset=utf-8")
