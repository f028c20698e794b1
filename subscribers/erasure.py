"""Erasing a person on request: their personal data goes, a promise never to mail them stays.

This is the registry's half: the subscriber row and business profile go, any new address they asked
for and have not confirmed goes; the audit trail stays, as it holds no personal data (its link to
the person is cleared), plus an "erased" event and an erasure record (when, and how many messages
their record held, for `campaigns history`); and a suppression entry keyed by a hash of the
address stays, so an import or a form sign-up can never add them again without our keeping the
address itself. The mail half (messages queued or sent to them, copies in the outbox folder) is
`outreach.erasure.erase`, which runs both halves in one transaction: what staff call.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q

from subscribers.addresses import email_hash, normalise_email
from subscribers.applications import erase_applications
from subscribers.email_change_models import EmailChange
from subscribers.erasure_models import ErasureRecord
from subscribers.models import AuditEvent, BusinessProfile, Subscriber
from subscribers.registry import record, suppress, suppression_reason, utcnow

ERASED = "erased"


@dataclass(frozen=True, slots=True)
class ErasureTarget:
    """What erasing an address would touch, to show staff before they confirm."""

    person: Subscriber | None
    suppression: str | None  # the address's suppression reason, if it has one ("erased": done before)


async def look_up(email: str) -> ErasureTarget:
    """Raises InvalidEmail for something that isn't an address."""
    address = normalise_email(email)
    return ErasureTarget(await Subscriber.get_or_none(email=address), await suppression_reason(address))


async def lock_person(address: str) -> Subscriber | None:
    """The person with this (normalised) address, locked until the caller's transaction ends."""
    return await Subscriber.get_or_none(email=address).select_for_update()


async def erase_person(
    address: str, person: Subscriber | None, *, actor: str, messages: int = 0
) -> str | None:
    """Erase `person` (locked by `lock_person`; None: nobody has the address) and suppress the
    address, inside the caller's transaction; `messages` is how many messages to them the mail
    half made anonymous. Returns the suppression reason the address had."""
    person_id = person.id if person is not None else None
    # A new address someone asked for but has not confirmed, whichever side is erased.
    await EmailChange.filter(theirs_change(address, person_id)).delete()
    # Their applications (answers, notes) and, with them, their place in the pool.
    await erase_applications(address, person_id)
    if person is not None:
        # Unlinked explicitly rather than left to the foreign keys' ON DELETE, so the result
        # doesn't depend on how a database was migrated.
        await AuditEvent.filter(subscriber_id=person.id).update(subscriber_id=None)
        await BusinessProfile.filter(subscriber_id=person.id).delete()
        await person.delete()
        await record(None, ERASED, person.status.value, "", actor)
    previous = await suppression_reason(address)
    await suppress(address, ERASED)
    await ErasureRecord.create(email_hash=email_hash(address), erased_at=utcnow(), messages=messages)
    return previous


async def erasures_of(email: str) -> list[ErasureRecord]:
    """The erasures of this address, oldest first (none for an address never erased).

    Raises InvalidEmail for something that isn't an address.
    """
    key = email_hash(normalise_email(email))
    return await ErasureRecord.filter(email_hash=key).order_by("erased_at", "id")


def theirs_change(address: str, person_id: int | None) -> Q:
    """Email-change requests for `address`, or by the person who has it."""
    return (
        Q(new_email=address) | Q(subscriber_id=person_id) if person_id is not None else Q(new_email=address)
    )
