"""bot.web.csrf: the signed double-submit token."""

from __future__ import annotations

import itsdangerous.timed
import pytest
from starlette.requests import Request
from starlette.responses import Response

from bot.web.csrf import COOKIE, CsrfGuard


def request_with(cookie: str | None) -> Request:
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie else []
    return Request({"type": "http", "headers": headers})


def test_a_browser_without_the_cookie_gets_one_and_its_token_matches() -> None:
    guard = CsrfGuard("k" * 32)
    token, new_id = guard.token_for(request_with(None))
    assert new_id is not None and len(new_id) == 32
    assert guard.is_valid(request_with(new_id), token)
    same_token, none = guard.token_for(request_with(new_id))
    assert none is None and guard.is_valid(request_with(new_id), same_token)


def test_tokens_do_not_cross_browsers_keys_or_garbage() -> None:
    guard = CsrfGuard("k" * 32)
    token, browser = guard.token_for(request_with(None))
    _, other = guard.token_for(request_with(None))
    assert not guard.is_valid(request_with(other), token)
    assert not guard.is_valid(request_with(None), token)
    assert not guard.is_valid(request_with(browser), "")
    assert not guard.is_valid(request_with(browser), token + "x")
    assert not guard.is_valid(request_with("short"), token)
    assert not CsrfGuard("z" * 32).is_valid(request_with(browser), token)


def test_a_token_expires_after_a_day(monkeypatch: pytest.MonkeyPatch) -> None:
    guard = CsrfGuard("k" * 32)
    token, browser = guard.token_for(request_with(None))
    real = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + 25 * 3600)
    assert not guard.is_valid(request_with(browser), token)


def test_cookie_is_httponly_and_same_site_lax() -> None:
    response = Response()
    CsrfGuard("k" * 32, secure_cookie=True).set_cookie(response, "a" * 32)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
