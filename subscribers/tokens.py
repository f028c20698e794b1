"""Signed, expiring tokens for the links we email: confirm, manage preferences, unsubscribe, apply.

A token names one subscriber (or one delivery) and one purpose; the purpose is the signing salt,
so a token made for one link never works in another.
"""

from __future__ import annotations

from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class Purpose(StrEnum):
    CONFIRM = "confirm"  # double opt-in link; short-lived
    MANAGE = "manage"  # preferences page and one-click unsubscribe; long-lived
    INVITATION = "invitation"  # an application invitation's personal link (names a delivery)


# How long each link works. Unsubscribe links must keep working long after the mail was sent
# (CAN-SPAM asks for at least 30 days; GOV.UK Notify keeps them a year).
MAX_AGE_SECONDS = {
    Purpose.CONFIRM: 72 * 3600,
    Purpose.MANAGE: 400 * 24 * 3600,
    Purpose.INVITATION: 400 * 24 * 3600,
}


class InvalidToken(Exception):
    """The link is forged, damaged, for another purpose, or too old. `expired` says which."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


class LinkSigner:
    def __init__(self, secret: str, *, confirm_max_age_seconds: float | None = None) -> None:
        self._serializers = {p: URLSafeTimedSerializer(secret, salt=f"madeinla.{p.value}") for p in Purpose}
        self._max_age = dict(MAX_AGE_SECONDS)
        if confirm_max_age_seconds is not None:
            self._max_age[Purpose.CONFIRM] = int(confirm_max_age_seconds)

    def sign(self, purpose: Purpose, object_id: int) -> str:
        return self._serializers[purpose].dumps(object_id)

    def unsign(self, purpose: Purpose, token: str) -> int:
        try:
            value = self._serializers[purpose].loads(token, max_age=self._max_age[purpose])
        except SignatureExpired:
            raise InvalidToken(expired=True) from None
        except BadSignature:
            raise InvalidToken(expired=False) from None
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidToken(expired=False)
        return value
