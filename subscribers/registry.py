"""The rules every change to a person goes through: status changes, audit trail, suppression.

Web, Slack and CLI code never set `Subscriber.status` directly; they call these functions, so the
audit trail and the suppression list can't be forgotten.
"""

from __future__ import annotations

import datetime as dt

from subscribers.addresses import email_hash
from subscribers.models import AuditEvent, Status, Subscriber, Suppression

# Statuses that mean "never mail this address again" until the person signs up afresh and confirms.
SUPPRESSING = {
    Status.UNSUBSCRIBED: "unsubscribed",
    Status.BOUNCED: "bounced",
    Status.COMPLAINED: "complained",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def record(subscriber_id: int | None, action: str, old: str, new: str, actor: str) -> None:
    await AuditEvent.create(
        subscriber_id=subscriber_id,
        action=action,
        old_value=old[:200],
        new_value=new[:200],
        actor=actor[:100],
    )


async def change_status(subscriber: Subscriber, status: Status, *, actor: str) -> bool:
    """Move a person to `status`, audit it, and suppress the address if it must not be mailed.

    Returns False (and writes nothing) when the person already had that status, so repeated
    clicks on an unsubscribe link stay harmless.
    """
    old = subscriber.status
    if old == status:
        return False
    subscriber.status = status
    fields = ["status", "updated_at"]
    if status == Status.ACTIVE and subscriber.consent_at is None:
        subscriber.consent_at = utcnow()
        fields.append("consent_at")
    await subscriber.save(update_fields=fields)
    await record(subscriber.id, "status", old.value, status.value, actor)
    if status in SUPPRESSING:
        await suppress(subscriber.email, SUPPRESSING[status])
    elif status == Status.ACTIVE:
        # A fresh, confirmed sign-up lifts an earlier unsubscribe: the person asked again. Pending is
        # not enough: anyone can type an address into the form, only its owner can confirm.
        await Suppression.filter(email_hash=email_hash(subscriber.email)).exclude(reason="erased").delete()
    return True


async def suppress(email: str, reason: str) -> None:
    key = email_hash(email)
    existing = await Suppression.get_or_none(email_hash=key)
    if existing is None:
        await Suppression.create(email_hash=key, reason=reason)
    elif existing.reason != reason and existing.reason != "erased":
        existing.reason = reason
        await existing.save(update_fields=["reason"])


async def suppression_reason(email: str) -> str | None:
    row = await Suppression.get_or_none(email_hash=email_hash(email))
    return row.reason if row else None
