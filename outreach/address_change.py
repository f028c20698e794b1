"""Moving a person's emails to a new address: the registry change (`subscribers.email_change`)
with the mail it causes, in one transaction.

The link goes to the new address (`email_change`); once it is followed, a notice goes to the old one
(`email_changed`), so a person whose preferences link fell into other hands hears of it.
"""

from __future__ import annotations

import datetime as dt

from tortoise.transactions import in_transaction

from outreach.queue import enqueue_transactional
from subscribers import email_change
from subscribers.confirmation_limits import ConfirmationLimits, claim_confirmations
from subscribers.email_change import ChangeOutcome
from subscribers.email_change_models import EmailChange
from subscribers.registry import utcnow

CONFIRM_TEMPLATE = "email_change"
NOTICE_TEMPLATE = "email_changed"


async def request_address_change(
    subscriber_id: int,
    new_email: str,
    *,
    link_hours: int = 72,
    limits: ConfirmationLimits | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Send a link to `new_email` (normalised) that makes it this person's address. True when one
    was queued; the caller shows the same page either way."""
    now = now or utcnow()
    async with in_transaction():
        started = await email_change.start(subscriber_id, new_email, now)
        if started is None:
            return False
        person, change_id = started
        # Mail to an address someone typed: it counts against that inbox's allowance like the form's.
        [allowed] = await claim_confirmations([new_email], now=now, limits=limits or ConfirmationLimits())
        if not allowed:
            await EmailChange.filter(id=change_id).delete()
            return False
        await enqueue_transactional(
            address=new_email,
            template=CONFIRM_TEMPLATE,
            language=person.language.value,
            subscriber_id=person.id,
            context={"change_id": change_id, "link_valid_hours": link_hours},
        )
        return True


async def confirm_address_change(
    change_id: int, *, link_hours: float = 72, now: dt.datetime | None = None
) -> ChangeOutcome:
    """Follow the link: the new address becomes the person's, and the old one hears of it."""
    now = now or utcnow()
    async with in_transaction():
        finished = await email_change.finish(change_id, now, max_age=dt.timedelta(hours=link_hours))
        if finished.outcome == ChangeOutcome.CHANGED and finished.person is not None:
            await enqueue_transactional(
                address=finished.old_email,
                template=NOTICE_TEMPLATE,
                language=finished.person.language.value,
                subscriber_id=finished.person.id,
                context={"new_email_masked": email_change.masked(finished.person.email)},
            )
        return finished.outcome
