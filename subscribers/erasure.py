"""Erasing a person on request: their personal data goes, a promise never to mail them stays.

What is removed: the subscriber row and business profile, and the address, template values and
server replies of every message we queued or sent them (those rows stay, anonymous, so campaign
counts still add up). What stays: the audit trail, which holds no personal data (its link to the
person is cleared), plus an "erased" event, and a suppression entry keyed by a hash of the address,
so an import or a form sign-up can never add them again without our keeping the address itself.
Copies of mail to them in the outbox folder (the embedded transport's `.eml` files) are deleted too.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from outreach.models import Delivery, DeliveryState
from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.applications import erase_applications
from subscribers.email_change_models import EmailChange
from subscribers.models import AuditEvent, BusinessProfile, Subscriber
from subscribers.registry import record, suppress, suppression_reason

ERASED = "erased"
HEADER_BYTES = 64 * 1024  # a message's headers come first and are far shorter than this

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ErasureResult:
    subscriber_id: int | None  # the person's id before erasure; None when nobody had the address
    deliveries: int  # messages whose address was cleared
    cancelled: int  # of those, messages still waiting to be sent, now never sent
    was_suppressed: str | None  # the suppression reason the address already had, if any
    outbox_files: int = 0  # copies of mail to them deleted from the outbox folder

    @property
    def found(self) -> bool:
        return self.subscriber_id is not None


@dataclass(frozen=True, slots=True)
class ErasureTarget:
    """What erasing an address would touch, to show staff before they confirm."""

    person: Subscriber | None
    suppression: str | None  # the address's suppression reason, if it has one ("erased": done before)


async def look_up(email: str) -> ErasureTarget:
    """Raises InvalidEmail for something that isn't an address."""
    address = normalise_email(email)
    return ErasureTarget(await Subscriber.get_or_none(email=address), await suppression_reason(address))


async def erase(email: str, *, actor: str, outbox_dir: Path | None = None) -> ErasureResult:
    """Erase whoever has this address, and suppress it. Safe to repeat; one transaction.

    `outbox_dir` is the embedded transport's folder (`OUTBOX_DIR`): after the database is done,
    the `.eml` files addressed to them there are deleted (files can't be part of the transaction).
    Their queued mail is cancelled by then; a message a running sender had already claimed may
    still be written after this, so erasing again later (it is safe to repeat) removes that too.
    """
    address = normalise_email(email)
    async with in_transaction():
        person = await Subscriber.get_or_none(email=address).select_for_update()
        person_id = person.id if person is not None else None
        theirs = Q(address=address)
        if person_id is not None:
            theirs |= Q(subscriber_id=person_id)
        messages = await Delivery.filter(theirs).values_list("id", "last_reply")
        ids = [message_id for message_id, _reply in messages]
        cancelled = await Delivery.filter(
            id__in=ids, state__in=(DeliveryState.QUEUED, DeliveryState.DEFERRED)
        ).update(state=DeliveryState.SUPPRESSED, last_reply=ERASED)
        # Mail servers' replies often quote the address ("550 <ana@example.com>: no such user").
        quoting = [message_id for message_id, reply in messages if "@" in reply]
        await Delivery.filter(id__in=quoting).update(last_reply=ERASED)
        await Delivery.filter(id__in=ids).update(address="", context={}, subscriber_id=None)
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
    removed = await asyncio.to_thread(remove_outbox_copies, outbox_dir, address) if outbox_dir else 0
    return ErasureResult(person_id, len(ids), cancelled, previous, removed)


def theirs_change(address: str, person_id: int | None) -> Q:
    """Email-change requests for `address`, or by the person who has it."""
    return (
        Q(new_email=address) | Q(subscriber_id=person_id) if person_id is not None else Q(new_email=address)
    )


def remove_outbox_copies(outbox_dir: Path, address: str) -> int:
    """Delete the outbox's `.eml` files whose To header names `address` (normalised); their count.

    The To header is compared address by address after the same normalisation as the registry's
    (case, Unicode or ASCII domain), never by searching the text, so `ana@example.com` doesn't
    match `diana@example.com`.
    """
    if not outbox_dir.is_dir():
        return 0
    parser = BytesHeaderParser(policy=default_policy)
    removed = 0
    for path in outbox_dir.glob("*.eml"):
        try:
            with path.open("rb") as stream:
                head = stream.read(HEADER_BYTES)
            if address in _recipients(parser.parsebytes(head)):
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # deleted meanwhile
        except OSError as exc:
            log.warning("could not check or delete an outbox file: %s", exc.strerror or type(exc).__name__)
    return removed


def _recipients(headers: Message) -> set[str]:
    found: set[str] = set()
    for value in headers.get_all("To", []):
        for recipient in getattr(value, "addresses", ()):
            try:
                found.add(normalise_email(recipient.addr_spec))
            except InvalidEmail:
                continue
    return found
