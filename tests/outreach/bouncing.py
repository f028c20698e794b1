"""Helpers for the bounce tests: real returned messages made about our own deliveries."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path

from outreach.bounces.processing import BounceOptions, BounceProcessor
from outreach.bounces.reports import ReportReader
from outreach.bounces.verp import VerpSigner
from outreach.models import Delivery, DeliveryState

CORPUS = Path(__file__).with_name("bounce_corpus")
DOMAIN = "example.gov"  # the test settings' MAIL_FROM domain: our Message-IDs end with it

# A real report from the corpus, and what in it names the original recipient and message.
TEMPLATES = {
    "hard": ("postfix/relay-unknown-user.eml", "unknown@example.org", "corpus01"),
    "soft": ("postfix/relay-mailbox-full.eml", "full@example.org", "corpus02"),
    "refused": ("postfix/relay-spam-refused.eml", "spamfilter@example.org", "corpus04"),
    "delayed": ("postfix/delayed-mailbox-full.eml", "later@example.org", "corpus05"),
    "expired": ("postfix/expired-mailbox-full.eml", "later@example.org", "corpus05"),
    "vacation": ("dovecot/pigeonhole-vacation.eml", "ana@manufacturer.example.com", "corpus11"),
}
_OWN_ID = re.compile(rb"^(Message-Id|Message-ID): <[^>]+>", re.MULTILINE | re.IGNORECASE)


def message_id() -> str:
    return f"<{secrets.token_hex(16)}@{DOMAIN}>"


def returned(kind: str, *, address: str, our_message_id: str, envelope_to: str | None = None) -> bytes:
    """A real report of `kind` from the corpus, made about our message to `address`: its recipient,
    the returned Message-ID, the report's own Message-ID (unique) and, for VERP, where it was sent."""
    name, original, marker = TEMPLATES[kind]
    raw = (CORPUS / name).read_bytes()
    raw = raw.replace(original.encode(), address.encode())
    raw = re.sub(
        rb"<" + marker.encode() + rb"[0-9a-f]+@outreach\.example\.gov>", our_message_id.encode(), raw
    )
    raw = _OWN_ID.sub(
        lambda m: m.group(1) + b": <" + secrets.token_hex(12).encode() + b"@relay.example>", raw, 1
    )
    if envelope_to is not None:
        raw = raw.replace(b"bounces@relay.county.example.gov", envelope_to.encode())
        raw = raw.replace(b"bounces@outreach.example.gov", envelope_to.encode())
    return raw


def complaint(
    *, our_message_id: str, recipient: str = "redacted@example.net", return_path: str = ""
) -> bytes:
    """A real ARF abuse report (Sisimai's arf-01) about our message: the returned message carries
    our Message-ID and, with VERP, our Return-Path."""
    raw = (CORPUS / "sisimai/arf-01.eml").read_bytes()
    raw = raw.replace(
        b"Subject: Kijitora cat family", b"Message-ID: " + our_message_id.encode() + b"\nSubject: x"
    )
    raw = _OWN_ID.sub(
        lambda m: m.group(1) + b": <" + secrets.token_hex(12).encode() + b"@fbl.example>", raw, 1
    )
    raw = raw.replace(b"To: redacted@example.net", b"To: " + recipient.encode())
    if return_path:
        raw = raw.replace(b"Return-Path: <support@example.ed.jp>", f"Return-Path: <{return_path}>".encode())
    return raw


async def sent_delivery(
    subscriber_id: int | None,
    address: str,
    *,
    campaign_id: int | None = None,
    sent_at: dt.datetime | None = None,
    mid: str | None = None,
) -> Delivery:
    now = dt.datetime.now(dt.UTC)
    return await Delivery.create(
        campaign_id=campaign_id,
        subscriber_id=subscriber_id,
        address=address,
        template="pilot_update",
        state=DeliveryState.SENT,
        attempts=1,
        next_attempt_at=now,
        sent_at=sent_at or now - dt.timedelta(minutes=5),
        message_id=mid or message_id(),
        last_reply="250 2.0.0 Ok: queued",
    )


def processor(*, verp: VerpSigner | None = None, clock: object = None, **options: object) -> BounceProcessor:
    reader = ReportReader(message_id_domain=DOMAIN, verp=verp)
    rules = BounceOptions(match_by_recipient=verp is None, **options)  # type: ignore[arg-type]
    if clock is None:
        return BounceProcessor(reader, rules)
    return BounceProcessor(reader, rules, clock=clock)  # type: ignore[arg-type]
