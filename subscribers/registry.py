"""The rules every change to a person goes through: status changes, audit trail, suppression.

Web, Slack and CLI code never set `Subscriber.status` directly; they call these functions, so the
audit trail and the suppression list can't be forgotten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from subscribers.addresses import email_hash, normalise_email
from subscribers.bulk_insert import BulkSql
from subscribers.models import AuditEvent, Status, Subscriber, Suppression
from subscribers.staff_audit import Actor, record_action

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


async def record_many(entries: Sequence[tuple[int | None, str, str, str]], actor: str) -> None:
    """`record` for many (subscriber_id, action, old, new) at once: one statement."""
    if entries:
        now = utcnow()
        insert = BulkSql(get_connection("default")).insert(AuditEvent, _AUDIT_FIELDS)
        await insert(
            [
                (subscriber_id, action, old[:200], new[:200], actor[:100], now)
                for subscriber_id, action, old, new in entries
            ]
        )


_AUDIT_FIELDS = ("subscriber_id", "action", "old_value", "new_value", "actor", "at")


class Person(Protocol):
    """What moving a person needs: `Subscriber`, or the few fields a batch read of one."""

    id: int
    email: str
    status: Status


P = TypeVar("P", bound=Person)


async def change_status_many(people: Sequence[P], status: Status, *, actor: str) -> list[P]:
    """`change_status` for many people at once, to a status that suppresses (bounce processing
    works in batches of a hundred): the same audit trail and suppression, in a statement or two a
    group. People already in `status` are skipped, and so is anyone whose status changed meanwhile
    (in another process); returns the people it changed."""
    if status not in SUPPRESSING:
        raise ValueError("change_status_many only moves people to a status that suppresses")
    by_old: dict[Status, list[P]] = {}
    for person in people:
        if person.status != status:
            by_old.setdefault(person.status, []).append(person)
    changed: list[P] = []
    now = utcnow()
    conn = get_connection("default")
    bulk = BulkSql(conn)
    for old, group in by_old.items():
        members, values = bulk.among("id", [person.id for person in group], "int")
        moved = await conn.execute_query_dict(
            bulk.sql(
                f"UPDATE subscriber SET status = ?, updated_at = ? WHERE status = ? AND {members} "  # noqa: S608
                "RETURNING id"
            ),
            [status.value, now, old.value, *values],
        )
        still = {int(row["id"]) for row in moved}
        if not still:
            continue
        for person in group:
            if person.id in still:
                person.status = status
                changed.append(person)
        await record_many([(pid, "status", old.value, status.value) for pid in sorted(still)], actor)
    await suppress_many([person.email for person in changed], SUPPRESSING[status])
    return changed


async def suppress_many(emails: Sequence[str], reason: str) -> None:
    """`suppress` for many addresses at once: one statement (an address suppressed for another
    reason takes this one, unless it was erased)."""
    keys = sorted({email_hash(email) for email in emails})
    if not keys:
        return
    conn = get_connection("default")
    bulk = BulkSql(conn)
    rows, values = bulk.rows([(key, reason, utcnow()) for key in keys], ("text", "text", "timestamptz"))
    await conn.execute_query(
        bulk.sql(
            f"INSERT INTO suppression (email_hash, reason, created_at) {rows} "
            "ON CONFLICT (email_hash) DO UPDATE SET reason = excluded.reason "
            "WHERE suppression.reason NOT IN (excluded.reason, 'erased')"
        ),
        values,
    )


async def suppression_reason(email: str) -> str | None:
    row = await Suppression.get_or_none(email_hash=email_hash(email))
    return row.reason if row else None


# Staff and the suppression list ------------------------------------------------------------------

STAFF_REASON = "staff"  # an address staff asked us never to mail


class SuppressionError(ValueError):
    """A suppression can't be added or lifted; the message is fit to show the staff member."""


@dataclass(frozen=True, slots=True)
class SuppressedAddress:
    email: str | None  # None: no subscriber has it (erased, or never on the list): not kept
    email_hash: str
    reason: str
    since: dt.datetime


async def list_suppressions(limit: int = 500, reason: str | None = None) -> list[SuppressedAddress]:
    """The suppression list, newest first, with the address wherever a subscriber still has it."""
    query = Suppression.all().order_by("-created_at")
    if reason:
        query = query.filter(reason=reason)
    rows = await query.limit(limit)
    wanted = {row.email_hash for row in rows}
    known = {}
    for address in await Subscriber.all().values_list("email", flat=True):
        key = email_hash(str(address))
        if key in wanted:
            known[key] = str(address)
    return [SuppressedAddress(known.get(r.email_hash), r.email_hash, r.reason, r.created_at) for r in rows]


async def add_suppression(email: str, *, note: str, actor: Actor) -> bool:
    """Never mail this address again (a person asked by phone, a shared mailbox...). False if it
    was already suppressed. Raises InvalidEmail for something that is not an address. Recorded in
    the person's audit trail and the staff audit log."""
    address = normalise_email(email)
    if not note.strip():
        raise SuppressionError("say why (--reason), for the audit trail")
    if await Suppression.get_or_none(email_hash=email_hash(address)) is not None:
        return False
    person = await Subscriber.get_or_none(email=address)
    person_id = person.id if person else None
    async with in_transaction():
        await Suppression.create(email_hash=email_hash(address), reason=STAFF_REASON)
        await record(person_id, "suppression", "", f"added: {note.strip()}", actor.label)
        await record_action(actor, "suppression.add", subscriber_id=person_id, detail=note)
    return True


async def lift_suppression(email: str, *, note: str, actor: Actor) -> str:
    """Take an address off the suppression list, with a reason for the audit trail. A person who
    bounced is active again (their consent stands; the address was fixed). What the person decided
    themselves (unsubscribed, reported us as spam, asked to be erased) staff can't undo.
    Returns what happened, in words."""
    address = normalise_email(email)
    if not note.strip():
        raise SuppressionError("say why (--reason), for the audit trail")
    row = await Suppression.get_or_none(email_hash=email_hash(address))
    if row is None:
        raise SuppressionError("that address is not on the suppression list")
    refusals = {
        "erased": "that address was erased at the person's request; it stays suppressed",
        "complained": "that person reported our mail as spam; they stay suppressed for good",
        "unsubscribed": "that person unsubscribed; only they can sign up again, on the form",
    }
    if row.reason in refusals:
        raise SuppressionError(refusals[row.reason])
    person = await Subscriber.get_or_none(email=address)
    person_id = person.id if person else None
    async with in_transaction():
        await Suppression.filter(email_hash=row.email_hash).delete()
        await record(person_id, "suppression", row.reason, f"lifted: {note.strip()}", actor.label)
        await record_action(
            actor, "suppression.remove", subscriber_id=person_id, detail=f"was {row.reason}: {note}"
        )
        if person is not None and person.status == Status.BOUNCED:
            await change_status(person, Status.ACTIVE, actor=actor.label)
            return "lifted; the person is active again"
    return "lifted"
