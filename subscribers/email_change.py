"""Moving a person's emails to a new address, confirmed at that address.

A person on their preferences page types a new address; it becomes theirs only when they follow the
link we send to it, so nobody can move someone's mail to an inbox they don't control by mistake,
and the old address keeps getting mail until then. The page says the same whatever the new address
is (free, someone else's, erased), so it can't be used to learn who is on the list.

These functions change the registry only; `outreach.address_change` wraps them with the mail they
cause, in the same transaction. Both run inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from tortoise.expressions import Q

from subscribers.addresses import email_hash
from subscribers.email_change_models import EmailChange
from subscribers.models import Status, Subscriber, Suppression
from subscribers.registry import record, suppression_reason

ACTOR = "preferences"
KEEP_REQUESTS_FOR = dt.timedelta(days=7)  # well past any link's lifetime; then the row goes


async def start(subscriber_id: int, new_email: str, now: dt.datetime) -> tuple[Subscriber, int] | None:
    """Record a request to move this person's mail to `new_email` (normalised): the person and the
    request's id, or None when no link should be sent (not an active person, the same address,
    an address someone else has, or one we must never mail: erased, or it reported us as spam)."""
    person = await Subscriber.filter(id=subscriber_id).select_for_update().first()
    if person is None or person.status != Status.ACTIVE:
        return None
    # The newest request is the only one that stands, even when it sends no link: an older link
    # must not move the mail somewhere the person no longer wants it.
    await EmailChange.filter(
        Q(subscriber_id=person.id) | Q(requested_at__lt=now - KEEP_REQUESTS_FOR)
    ).delete()
    if person.email == new_email or await Subscriber.filter(email=new_email).exists():
        return None
    if await suppression_reason(new_email) in ("erased", "complained"):
        return None
    change = await EmailChange.create(subscriber_id=person.id, new_email=new_email, requested_at=now)
    return person, change.id


class ChangeOutcome(StrEnum):
    CHANGED = "changed"
    TAKEN = "taken"  # someone else has the address now: nothing changed
    GONE = "gone"  # replaced, used, too old, or the person left or was erased: a bad link


@dataclass(frozen=True, slots=True)
class Finished:
    outcome: ChangeOutcome
    person: Subscriber | None = None
    old_email: str = ""


async def finish(change_id: int, now: dt.datetime, *, max_age: dt.timedelta) -> Finished:
    """Make the new address the person's, if the request still stands."""
    change = await EmailChange.filter(id=change_id).select_for_update().first()
    if change is None or change.requested_at < now - max_age:
        return Finished(ChangeOutcome.GONE)
    person = await Subscriber.filter(id=change.subscriber_id).select_for_update().first()
    if (
        person is None
        or person.status != Status.ACTIVE
        or await suppression_reason(change.new_email) == "erased"
    ):
        await change.delete()
        return Finished(ChangeOutcome.GONE)
    if await Subscriber.filter(email=change.new_email).exclude(id=person.id).exists():
        await change.delete()
        return Finished(ChangeOutcome.TAKEN)
    old_email = person.email
    person.email = change.new_email
    await person.save(update_fields=["email", "updated_at"])
    await EmailChange.filter(subscriber_id=person.id).delete()
    # They proved they read the new address and asked for our mail there: like a confirmation, that
    # lifts an earlier unsubscribe or bounce of it (an erasure stays).
    await Suppression.filter(email_hash=email_hash(person.email)).exclude(reason="erased").delete()
    await record(person.id, "email", "", "", ACTOR)  # the audit trail holds no addresses
    return Finished(ChangeOutcome.CHANGED, person, old_email)


def masked(address: str) -> str:
    """`a***@example.org`: enough for its owner to recognise, little for anyone else."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"
