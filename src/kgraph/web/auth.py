"""Who may write: tokens, sent as Bearer or HTTP Basic (the writer itself is the application's: ``Service.writer``).

Reads stay open to anyone; writes are off unless a token is configured (``KGRAPH_TOKEN``, or ``KGRAPH_TOKEN_FILE``
naming a file of ``name token`` lines, one per contributor). A write then needs ``Authorization: Bearer <token>``,
or HTTP Basic with the token's name as user and the token as password (``contributor`` for ``KGRAPH_TOKEN``), since
SPARQLWrapper's ``setCredentials``, rdflib's ``SPARQLUpdateStore(auth=...)`` and Comunica's ``httpAuth`` only send
Basic: none is 401 (its ``WWW-Authenticate`` names both schemes), a wrong one 403. Tokens are compared with
:func:`hmac.compare_digest` against every configured token, so the time taken says nothing about how much of a token
was right. A token in the URL is refused outright: URLs end up in logs and browser histories. The token's name
(``contributor`` for ``KGRAPH_TOKEN``) is who the write's provenance records.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from pathlib import Path

from flask import abort, request

from kgraph.config import Settings
from kgraph.web import error_response

DEFAULT_NAME = "contributor"
"""The name of the token given by ``KGRAPH_TOKEN`` (or of a token file line without a name)."""

_URL_TOKEN_PARAMS = ("access_token", "token")


def configured_tokens(settings: Settings) -> dict[str, str]:
    """Token name -> token, from ``KGRAPH_TOKEN`` and the token file; empty when writes are off."""
    tokens: dict[str, str] = {}
    if settings.token_file:
        tokens.update(_read_token_file(settings.token_file))
    if settings.token:
        tokens[DEFAULT_NAME] = settings.token
    return tokens


def _read_token_file(path: Path) -> dict[str, str]:
    """``name token`` per line (``#`` comments and blank lines skipped); a lone token is named ``contributor``."""
    tokens = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        name, token = (DEFAULT_NAME, words[0]) if len(words) == 1 else (words[0], words[1])
        tokens[name] = token
    return tokens


def authorize(settings: Settings, disabled: str) -> str:
    """The name of the token the request carries; aborts with 403 (``disabled``), 400, 401 or 403 otherwise."""
    tokens = configured_tokens(settings)
    if not tokens:
        abort(error_response(403, disabled))
    if any(name in request.args for name in _URL_TOKEN_PARAMS):
        abort(
            error_response(
                400,
                "A token in the URL is refused (URLs are logged): "
                "send it in the header 'Authorization: Bearer <token>'.",
            )
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    scheme = scheme.lower()
    basic = _basic(given.strip()) if scheme == "basic" else None
    if scheme not in ("bearer", "basic") or not given.strip() or (scheme == "basic" and basic is None):
        response = error_response(
            401,
            "This write needs a token: send the header 'Authorization: Bearer <token>', "
            "or HTTP Basic with the token's name as user and the token as password.",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="kgraph", Basic realm="kgraph", charset="UTF-8"'
        abort(response)
    if basic is not None:
        user, token = basic
        name = _match(tokens, token)
        name = name if name == user else None
    else:
        name = _match(tokens, given.strip())
    if name is None:
        abort(error_response(403, "The token is not valid for writes on this server."))
    return name


def _basic(credentials: str) -> tuple[str, str] | None:
    """(user, password) of HTTP Basic credentials; None when they are not base64 of ``user:password`` in UTF-8 (the
    client is then asked again, 401, like one that sent none)."""
    try:
        user, colon, password = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if colon else None


def _match(tokens: dict[str, str], given: str) -> str | None:
    """The name of the token equal to ``given``, comparing with every token in constant time."""
    found = None
    for name, token in tokens.items():
        if hmac.compare_digest(token.encode("utf-8"), given.encode("utf-8")):
            found = name
    return found
