"""Signed, expiring tokens for the links we email: confirm, manage preferences, unsubscribe, apply,
confirm a new address.

A token names one subscriber (or one delivery) and one purpose; the purpose is the signing salt,
so a token made for one link never works in another.
"""

from __future__ import annotations

from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.signer import Signer


class Purpose(StrEnum):
    CONFIRM = "confirm"  # double opt-in link; short-lived
    MANAGE = "manage"  # preferences page and one-click unsubscribe; long-lived
    INVITATION = "invitation"  # an application invitation's personal link (names a delivery)
    EMAIL_CHANGE = "email-change"  # confirms a new address at that address (names an EmailChange)
    APPLICATION = "application"  # opens and resumes one application (names an Application)


# How long each link works. Unsubscribe links must keep working long after the mail was sent
# (CAN-SPAM asks for at least 30 days; GOV.UK Notify keeps them a year).
MAX_AGE_SECONDS = {
    Purpose.CONFIRM: 72 * 3600,
    Purpose.MANAGE: 400 * 24 * 3600,
    Purpose.INVITATION: 400 * 24 * 3600,
    Purpose.EMAIL_CHANGE: 72 * 3600,
    Purpose.APPLICATION: 400 * 24 * 3600,  # a draft may wait for months; decisions link back to it
}

# The largest id each kind of link can name: the range of the column it is looked up in (subscriber
# and email-change ids are 32-bit integers on PostgreSQL, delivery ids 64-bit). A signed id outside
# it can only come from a hand-made or mistaken token, and the database driver would refuse to even
# compare it, so it is a bad link like any other.
MAX_ID = {
    Purpose.CONFIRM: 2**31 - 1,
    Purpose.MANAGE: 2**31 - 1,
    Purpose.INVITATION: 2**63 - 1,
    Purpose.EMAIL_CHANGE: 2**31 - 1,
    Purpose.APPLICATION: 2**31 - 1,
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
        if confirm_max_age_seconds is not None:  # both links confirm an address
            self._max_age[Purpose.CONFIRM] = int(confirm_max_age_seconds)
            self._max_age[Purpose.EMAIL_CHANGE] = int(confirm_max_age_seconds)

    def sign(self, purpose: Purpose, object_id: int) -> str:
        return self._serializers[purpose].dumps(object_id)

    def timestamp_signer(self, purpose: Purpose) -> Signer:
        """The itsdangerous signer behind `sign(purpose, ...)` (its key, salt and separator), for
        code that signs many tokens and keys the HMAC once (`outreach.compose.TokenMinter`)."""
        return self._serializers[purpose].make_signer()

    def unsign(self, purpose: Purpose, token: str) -> int:
        try:
            value = self._serializers[purpose].loads(token, max_age=self._max_age[purpose])
        except SignatureExpired:
            raise InvalidToken(expired=True) from None
        except BadSignature:
            raise InvalidToken(expired=False) from None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID[purpose]:
            raise InvalidToken(expired=False)
        return value
