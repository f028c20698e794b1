"""Erasing a person on request: the registry's half (`subscribers.erasure`) and the mail's, together.

What is removed besides the person: the address, template values and server replies of every
message we queued or sent them (those rows stay, anonymous, so campaign counts still add up; unsent
ones are cancelled), and copies of mail to them in the outbox folder (the embedded transport's
`.eml` files). One transaction for the database; the files after it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Literal

from tortoise.expressions import Q
from tortoise.queryset import ValuesListQuery
from tortoise.transactions import in_transaction

from outreach.models import Delivery, DeliveryState
from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.erasure import ERASED, erase_person, lock_person
from subscribers.models import Subscriber
from subscribers.people import PersonError
from subscribers.staff_audit import Actor, record_action

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


async def erase(email: str, *, actor: str | Actor, outbox_dir: Path | None = None) -> ErasureResult:
    """Erase whoever has this address, and suppress it. Safe to repeat; one transaction.

    The one erasure every face calls. `actor` is who asks: a staff `Actor` (console, CLI, Slack),
    recorded in the staff audit log in the same transaction (by id and counts, never the address),
    or a plain label for the person's own trail. Raises InvalidEmail for something that isn't an
    address.

    `outbox_dir` is the embedded transport's folder (`OUTBOX_DIR`): after the database is done, the
    `.eml` files addressed to them there are deleted (files can't be part of the transaction).
    Their queued mail is cancelled by then; a message a running sender had already claimed may
    still be written after this, so erasing again later (it is safe to repeat) removes that too.
    """
    address = normalise_email(email)
    label = actor.label if isinstance(actor, Actor) else actor
    async with in_transaction():
        person = await lock_person(address)
        person_id = person.id if person is not None else None
        # Before the person row goes: their messages are found by their id as well as the address.
        ids, cancelled = await _forget_messages(address, person_id)
        previous = await erase_person(address, person, actor=label, messages=len(ids))
        if isinstance(actor, Actor):
            detail = f"{len(ids)} messages anonymised, {cancelled} unsent cancelled"
            await record_action(actor, "person.erase", subscriber_id=person_id, detail=detail)
    removed = await asyncio.to_thread(remove_outbox_copies, outbox_dir, address) if outbox_dir else 0
    return ErasureResult(person_id, len(ids), cancelled, previous, removed)


async def erase_subscriber(subscriber_id: int, *, actor: Actor, outbox_dir: Path | None) -> ErasureResult:
    """`erase` for the person with this id (the console's people pages know people by id)."""
    person = await Subscriber.get_or_none(id=subscriber_id)
    if person is None:
        raise PersonError({"erase": "This person is no longer in the registry"})
    return await erase(person.email, actor=actor, outbox_dir=outbox_dir)


def their_messages(address: str, person_id: int | None) -> ValuesListQuery[Literal[False]]:
    """(id, last_reply) of every message to this address or this person: an index lookup on
    each column (`delivery.address` is indexed for this), never a scan of every message."""
    theirs = Q(address=address)
    if person_id is not None:
        theirs |= Q(subscriber_id=person_id)
    return Delivery.filter(theirs).values_list("id", "last_reply")


async def _forget_messages(address: str, person_id: int | None) -> tuple[list[int], int]:
    """Clear the address and personal values from every message to them; cancel the unsent ones.
    Returns the messages' ids and how many were cancelled."""
    messages = await their_messages(address, person_id)
    ids = [message_id for message_id, _reply in messages]
    cancelled = await Delivery.filter(
        id__in=ids, state__in=(DeliveryState.QUEUED, DeliveryState.DEFERRED)
    ).update(state=DeliveryState.SUPPRESSED, last_reply=ERASED)
    # Mail servers' replies often quote the address ("550 <ana@example.com>: no such user").
    quoting = [message_id for message_id, reply in messages if "@" in reply]
    await Delivery.filter(id__in=quoting).update(last_reply=ERASED)
    await Delivery.filter(id__in=ids).update(address="", context={}, subscriber_id=None)
    return ids, cancelled


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
