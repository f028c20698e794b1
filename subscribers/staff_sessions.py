"""Signing staff in: emailed links and server-side sessions.

A sign-in link is `<row id>.<random secret>`, signed with the service key (itsdangerous, its own
salt, 15 minutes). The row keeps only hashes: of the secret, and of a random value the asking
browser holds in a cookie, so the link works once, for 15 minutes, and only in that browser. A
mail scanner that opens the link has no such cookie and changes nothing.

A session is a random key in an HttpOnly cookie; the row keeps its hash. Each request looks the row
up with its account, so ending the row (sign-out, account removed, role changed) or removing the
account takes effect on the next request. A session ends after `idle` without a request and at
most `SESSION_MAX_AGE` after sign-in. Signing in always makes a new key (the session cookie a
browser had before is ended), so a key planted in a browser before sign-in is worth nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from subscribers.registry import utcnow
from subscribers.staff_audit import Actor, record_action
from subscribers.staff_models import ActionSource, SignInLink, StaffMember, StaffSession

LINK_LIFETIME = dt.timedelta(minutes=15)
SESSION_MAX_AGE = dt.timedelta(hours=12)
LAST_SEEN_GRANULARITY = dt.timedelta(seconds=30)  # don't write the row on every single request


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class LinkProblem(StrEnum):
    INVALID = "invalid"  # forged, damaged, or not one of ours
    EXPIRED = "expired"
    USED = "used"
    OTHER_BROWSER = "other_browser"
    NO_ACCOUNT = "no_account"  # the account was removed since the link was sent


class SignInRefused(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


class SignInLinks:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="madeinla.staff-sign-in")

    async def create(self, staff: StaffMember, browser_secret: str, *, now: dt.datetime | None = None) -> str:
        """A new link token for `staff`, usable only by the browser holding `browser_secret`."""
        now = now or utcnow()
        secret = new_secret()
        row = await SignInLink.create(
            staff=staff,
            secret_hash=digest(secret),
            browser_hash=digest(browser_secret),
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
        return str(self._serializer.dumps([row.id, secret]))

    async def redeem(self, token: str, browser_secret: str, *, now: dt.datetime | None = None) -> StaffMember:
        """Use a link once; raises SignInRefused saying why it can't be used."""
        now = now or utcnow()
        link_id, secret = self._read(token)
        row = await SignInLink.get_or_none(id=link_id)
        if row is None or not hmac.compare_digest(row.secret_hash, digest(secret)):
            raise SignInRefused(LinkProblem.INVALID)
        if row.used_at is not None:
            raise SignInRefused(LinkProblem.USED)
        if _aware(row.expires_at) <= now:
            raise SignInRefused(LinkProblem.EXPIRED)
        if not browser_secret or not hmac.compare_digest(row.browser_hash, digest(browser_secret)):
            raise SignInRefused(LinkProblem.OTHER_BROWSER)
        # Conditional, so two requests racing with the same link can't both win.
        if not await SignInLink.filter(id=row.id, used_at__isnull=True).update(used_at=now):
            raise SignInRefused(LinkProblem.USED)
        staff = await StaffMember.get_or_none(id=row.staff_id, removed_at__isnull=True)
        if staff is None:
            raise SignInRefused(LinkProblem.NO_ACCOUNT)
        return staff

    def _read(self, token: str) -> tuple[int, str]:
        if not token or len(token) > 400:
            raise SignInRefused(LinkProblem.INVALID)
        try:
            value = self._serializer.loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
        except SignatureExpired:
            raise SignInRefused(LinkProblem.EXPIRED) from None
        except BadSignature:
            raise SignInRefused(LinkProblem.INVALID) from None
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not isinstance(value[0], int)
            or not isinstance(value[1], str)
        ):
            raise SignInRefused(LinkProblem.INVALID)
        return value[0], value[1]


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session and its account, as read at the start of a request."""

    staff: StaffMember
    session: StaffSession


async def start_session(
    staff: StaffMember,
    *,
    method: str,
    replaces: str = "",
    now: dt.datetime | None = None,
) -> str:
    """Sign `staff` in: a new session key (for the cookie). `replaces` is the session key the
    browser sent, if any: that session is ended, whoever it belonged to."""
    now = now or utcnow()
    if replaces:
        await StaffSession.filter(key_hash=digest(replaces), ended_at__isnull=True).update(
            ended_at=now, ended_reason="replaced at sign-in"
        )
    key = new_secret()
    await StaffSession.create(
        key_hash=digest(key),
        staff=staff,
        method=method,
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_MAX_AGE,
    )
    await record_action(Actor.of_staff(staff, ActionSource.CONSOLE), "staff.sign_in", detail=f"by {method}")
    return key


async def current_session(key: str, *, idle: dt.timedelta, now: dt.datetime | None = None) -> SignedIn | None:
    """The live session for this cookie key, or None (ending it if it has just run out)."""
    if not key or len(key) > 100:
        return None
    now = now or utcnow()
    session = await StaffSession.get_or_none(key_hash=digest(key), ended_at__isnull=True).prefetch_related(
        "staff"
    )
    if session is None:
        return None
    staff: StaffMember = session.staff
    reason = ""
    if not staff.active:
        reason = "account removed"
    elif _aware(session.expires_at) <= now:
        reason = "too old"
    elif _aware(session.last_seen_at) + idle <= now:
        reason = "idle"
    if reason:
        await StaffSession.filter(key_hash=session.key_hash).update(ended_at=now, ended_reason=reason)
        return None
    if now - _aware(session.last_seen_at) >= LAST_SEEN_GRANULARITY:
        session.last_seen_at = now
        await StaffSession.filter(key_hash=session.key_hash).update(last_seen_at=now)
    return SignedIn(staff=staff, session=session)


async def end_session(key: str, *, reason: str = "signed out") -> bool:
    if not key or len(key) > 100:
        return False
    count = await StaffSession.filter(key_hash=digest(key), ended_at__isnull=True).update(
        ended_at=utcnow(), ended_reason=reason[:40]
    )
    return bool(count)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
