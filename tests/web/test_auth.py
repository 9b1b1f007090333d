"""Tests of ``kgraph.web.auth``: which tokens are configured, and who a request's credentials name (or the exact
400, 401 or 403 it gets), in a bare request context."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException

from kgraph.config import Settings
from kgraph.web.auth import DEFAULT_NAME, authorize, configured_tokens

DISABLED = "Writes are off on this server."
APP = Flask(__name__)


def settings(**values: object) -> Settings:
    return Settings.from_env(environ={}, **values)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def who(config: Settings, headers: dict[str, str] | None = None, query: str = "") -> str:
    with APP.test_request_context("/store?" + query, method="POST", headers=headers or {}):
        return authorize(config, DISABLED)


def refusal(config: Settings, headers: dict[str, str] | None = None, query: str = "") -> tuple[int, str]:
    with pytest.raises(HTTPException) as raised, APP.test_request_context("/store?" + query, headers=headers or {}):
        authorize(config, DISABLED)
    response = raised.value.response
    assert response is not None
    return response.status_code, response.get_data(as_text=True)


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    path.write_text("# contributors\n\nalice s3cret-a\n  bob   s3cret-b  ignored words\nlone-token\n")
    return path


def test_no_token_means_no_tokens() -> None:
    assert configured_tokens(settings()) == {}


def test_the_token_file_names_each_token_and_a_lone_one_is_the_contributors(token_file: Path) -> None:
    assert configured_tokens(settings(token_file=token_file)) == {
        "alice": "s3cret-a",
        "bob": "s3cret-b",
        DEFAULT_NAME: "lone-token",
    }


def test_kgraph_token_is_the_contributors_and_wins_over_the_files(token_file: Path) -> None:
    assert configured_tokens(settings(token="t0", token_file=token_file))[DEFAULT_NAME] == "t0"
    assert configured_tokens(settings(token="t0")) == {"contributor": "t0"}


def test_writes_are_refused_with_the_callers_words_when_no_token_is_configured() -> None:
    assert refusal(settings(), {"Authorization": "Bearer anything"}) == (403, DISABLED + "\n")


def test_a_bearer_token_names_its_owner(token_file: Path) -> None:
    config = settings(token_file=token_file)
    assert who(config, {"Authorization": "Bearer s3cret-b"}) == "bob"
    assert who(config, {"Authorization": "bearer   s3cret-a "}) == "alice"
    assert who(settings(token="t0"), {"Authorization": "Bearer t0"}) == "contributor"


def test_basic_needs_the_tokens_own_name_as_user(token_file: Path) -> None:
    config = settings(token_file=token_file)
    assert who(config, basic("alice", "s3cret-a")) == "alice"
    assert refusal(config, basic("bob", "s3cret-a")) == (403, "The token is not valid for writes on this server.\n")


def test_a_wrong_token_is_403(token_file: Path) -> None:
    config = settings(token_file=token_file)
    assert refusal(config, {"Authorization": "Bearer s3cret"}) == (
        403,
        "The token is not valid for writes on this server.\n",
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer   "},
        {"Authorization": "Token t0"},
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Basic " + base64.b64encode(b"no colon").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:x").decode()},
    ],
)
def test_missing_or_unreadable_credentials_are_401_naming_both_schemes(headers: dict[str, str]) -> None:
    with pytest.raises(HTTPException) as raised, APP.test_request_context("/store", headers=headers):
        authorize(settings(token="t0"), DISABLED)
    response = raised.value.response
    assert response is not None
    assert (response.status_code, response.get_data(as_text=True)) == (
        401,
        "This write needs a token: send the header 'Authorization: Bearer <token>', "
        "or HTTP Basic with the token's name as user and the token as password.\n",
    )
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="kgraph", Basic realm="kgraph", charset="UTF-8"'


@pytest.mark.parametrize("query", ["access_token=t0", "token=t0", "token="])
def test_a_token_in_the_url_is_refused_even_with_a_good_header(query: str) -> None:
    assert refusal(settings(token="t0"), {"Authorization": "Bearer t0"}, query) == (
        400,
        "A token in the URL is refused (URLs are logged): send it in the header 'Authorization: Bearer <token>'.\n",
    )


def test_a_json_client_gets_the_refusal_as_json() -> None:
    headers = {"Authorization": "Bearer wrong", "Accept": "application/json"}
    assert refusal(settings(token="t0"), headers) == (
        403,
        '{"status": 403, "message": "The token is not valid for writes on this server."}\n',
    )


def test_a_non_ascii_token_is_compared_as_utf_8() -> None:
    assert who(settings(token="jeton-é"), basic("contributor", "jeton-é")) == "contributor"
    assert refusal(settings(token="jeton-é"), {"Authorization": "Bearer jeton-e"})[0] == 403
