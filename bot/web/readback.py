"""What a person typed, carried across the redirect that follows a form (Post/Redirect/Get), so the
next page can read it back ("We have sent an email to ana@example.com").

It travels in a short-lived, HttpOnly cookie scoped to the one page that reads it, signed so that
only we could have written it. The cookie holds what the person typed into their own browser;
no other site can set it, and the page that shows it is the same whatever became of the address.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "madeinla_readback"
MAX_AGE_SECONDS = 3600  # a reload an hour later still reads back; after that the page says less
MAX_LENGTH = 254  # an email address at most


class ReadBack:
    def __init__(self, secret: str, *, secure_cookie: bool = False) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="madeinla.readback")
        self._secure = secure_cookie

    def set(self, response: Response, value: str, *, path: str) -> None:
        """Carry `value` to the page at `path` (and only there)."""
        response.set_cookie(
            COOKIE,
            self._serializer.dumps(value[:MAX_LENGTH]),
            max_age=MAX_AGE_SECONDS,
            path=path,
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )

    def get(self, request: Request) -> str | None:
        """The value carried here, or None when there is none (or it is forged or too old)."""
        raw = request.cookies.get(COOKIE, "")
        if not raw or len(raw) > 1000:
            return None
        try:
            value = self._serializer.loads(raw, max_age=MAX_AGE_SECONDS)
        except BadSignature:  # also SignatureExpired
            return None
        return value if isinstance(value, str) else None
