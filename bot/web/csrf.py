"""Cross-site request forgery protection for our own forms: a signed double-submit token.

Each browser gets a random id in a `SameSite=Lax`, HttpOnly cookie; each form carries the id
signed with the service key and a timestamp. A POST is ours when the signature holds, the token is
younger than MAX_AGE, and the id inside matches the cookie. Another site can make a browser send
our cookie, but it can't read a page of ours to learn the matching token, and it can't sign one.

The one POST that must work without this is RFC 8058's one-click unsubscribe: mail providers send
it with no cookies at all, and the signed link itself is the proof.
"""

from __future__ import annotations

import hmac
import re
import secrets

from itsdangerous import BadSignature, TimestampSigner
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "madeinla_csrf"
FIELD = "csrf_token"
MAX_AGE_SECONDS = 24 * 3600  # a form left open overnight still works
_COOKIE_ID = re.compile(r"[A-Za-z0-9_-]{32}")


class CsrfGuard:
    def __init__(self, secret: str, *, secure_cookie: bool = False) -> None:
        self._signer = TimestampSigner(secret, salt="madeinla.csrf")
        self._secure = secure_cookie

    def token_for(self, request: Request) -> tuple[str, str | None]:
        """The token to put in a form, and a new cookie id to set when the browser has none."""
        browser_id = _valid_id(request.cookies.get(COOKIE, ""))
        new_id = None
        if browser_id is None:
            browser_id = new_id = secrets.token_urlsafe(24)
        return self._signer.sign(browser_id).decode(), new_id

    def set_cookie(self, response: Response, browser_id: str) -> None:
        response.set_cookie(COOKIE, browser_id, httponly=True, samesite="lax", secure=self._secure, path="/")

    def is_valid(self, request: Request, submitted: str) -> bool:
        browser_id = _valid_id(request.cookies.get(COOKIE, ""))
        if browser_id is None or not submitted or len(submitted) > 200:
            return False
        try:
            signed_id = self._signer.unsign(submitted, max_age=MAX_AGE_SECONDS)
        except BadSignature:  # also SignatureExpired, its subclass
            return False
        return hmac.compare_digest(signed_id, browser_id.encode())


def _valid_id(value: str) -> str | None:
    """A cookie id we could have issued (32 URL-safe characters); anything else is ignored."""
    return value if _COOKIE_ID.fullmatch(value) else None
