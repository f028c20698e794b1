"""A campaign's recipients for staff: each one's state and the mail server's last answer, a page
at a time, filterable by state.

Pages continue after a delivery id (keyset paging), so the 100th page of a 200,000-person campaign
costs what the first does: `WHERE campaign_id = ? [AND state = ?] AND id > ? ORDER BY id LIMIT n`
walks the (campaign_id, id) or (campaign_id, state, id) index from the cursor, never an OFFSET.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from outreach.models import Delivery, DeliveryState

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Recipient:
    delivery_id: int
    subscriber_id: int | None
    address: str  # empty once the person was erased
    language: str
    state: str
    attempts: int
    sent_at: dt.datetime | None
    clicked_at: dt.datetime | None
    last_reply: str


@dataclass(frozen=True, slots=True)
class RecipientPage:
    recipients: list[Recipient]
    next_after: int | None


async def campaign_recipients(
    campaign_id: int, *, state: DeliveryState | None = None, after: int = 0, limit: int = PAGE_SIZE
) -> RecipientPage:
    query = Delivery.filter(campaign_id=campaign_id, id__gt=after)
    if state is not None:
        query = query.filter(state=state)
    rows = (
        await query.order_by("id")
        .limit(limit + 1)
        .values(
            "id",
            "subscriber_id",
            "address",
            "language",
            "state",
            "attempts",
            "sent_at",
            "clicked_at",
            "last_reply",
        )
    )
    more = len(rows) > limit
    recipients = [
        Recipient(
            delivery_id=row["id"],
            subscriber_id=row["subscriber_id"],
            address=row["address"],
            language=row["language"],
            state=str(getattr(row["state"], "value", row["state"])),
            attempts=row["attempts"],
            sent_at=row["sent_at"],
            clicked_at=row["clicked_at"],
            last_reply=row["last_reply"],
        )
        for row in rows[:limit]
    ]
    return RecipientPage(recipients, recipients[-1].delivery_id if more and recipients else None)
