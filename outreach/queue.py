"""The delivery queue: write a message's row first, claim due rows, record what happened.

Claims are one `UPDATE ... RETURNING` over a `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so
several processes on several machines share the work without waiting on each other and without a
home-made protocol. On SQLite (one process) the same statement runs without the locking clause,
which SQLite doesn't have and doesn't need. A claim is a lease: a row left `sending` by a crashed
process becomes claimable again once `lease_until` passes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tortoise.connection import get_connection

from outreach.models import CampaignStatus, Delivery, DeliveryState, Priority

CLAIMABLE_CAMPAIGN = CampaignStatus.SENDING.value


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A claimed row joined with what rendering needs about the person (None once erased)."""

    id: int
    campaign_id: int | None
    subscriber_id: int | None
    address: str
    template: str
    language: str
    context: dict[str, Any]
    priority: int
    attempts: int
    created_at: dt.datetime
    name: str
    organization: str
    role: str
    status: str | None  # the subscriber's status now, to skip people who left after the audience was drawn


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def enqueue_transactional(
    *,
    address: str,
    template: str,
    language: str,
    subscriber_id: int | None = None,
    context: dict[str, Any] | None = None,
) -> Delivery:
    """Queue a single message (a confirmation, a test send) ahead of every bulk campaign."""
    return await Delivery.create(
        address=address,
        template=template,
        language=language,
        subscriber_id=subscriber_id,
        context=context or {},
        priority=Priority.TRANSACTIONAL,
        next_attempt_at=utcnow(),
    )


def _placeholders(dialect: str, count: int, start: int = 1) -> list[str]:
    return [f"${i}" for i in range(start, start + count)] if dialect == "postgres" else ["?"] * count


async def claim_due_deliveries(
    worker_id: str, limit: int, *, now: dt.datetime, lease_seconds: float, max_priority: int | None = None
) -> list[ClaimedDelivery]:
    """Claim up to `limit` due deliveries for `worker_id`, most urgent first.

    Due means queued or deferred with `next_attempt_at` passed, or `sending` with an expired lease
    (its process died mid-send). Rows of campaigns that are not `sending` (paused, cancelled) wait.
    """
    conn = get_connection("default")
    dialect = conn.capabilities.dialect
    p = _placeholders(dialect, 6)
    lock = "FOR UPDATE OF d SKIP LOCKED" if dialect == "postgres" else ""
    priority_filter = f"AND d.priority <= {int(max_priority)}" if max_priority is not None else ""
    # Only placeholders and constants are formatted in; every value travels as a parameter.
    sql = f"""
        UPDATE delivery
        SET state = 'sending', lease_until = {p[0]}, claimed_by = {p[1]}, attempts = attempts + 1
        WHERE id IN (
            SELECT d.id FROM delivery d LEFT JOIN campaign c ON c.id = d.campaign_id
            WHERE ((d.state IN ('queued', 'deferred') AND d.next_attempt_at <= {p[2]})
                   OR (d.state = 'sending' AND d.lease_until < {p[3]}))
              AND (d.campaign_id IS NULL OR c.status = {p[4]})
              {priority_filter}
            ORDER BY d.priority, d.next_attempt_at, d.id
            LIMIT {p[5]}
            {lock}
        )
        RETURNING id, campaign_id, subscriber_id, address, template, language, context,
                  priority, attempts, created_at
    """  # noqa: S608
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    rows = await conn.execute_query_dict(sql, [lease_until, worker_id, now, now, CLAIMABLE_CAMPAIGN, limit])
    if not rows:
        return []
    people = await _people([r["subscriber_id"] for r in rows if r["subscriber_id"] is not None])
    claimed = []
    for row in sorted(rows, key=lambda r: (r["priority"], r["id"])):
        person = people.get(row["subscriber_id"], {})
        context = row["context"]
        if isinstance(context, str):
            import json

            context = json.loads(context)
        claimed.append(
            ClaimedDelivery(
                id=row["id"],
                campaign_id=row["campaign_id"],
                subscriber_id=row["subscriber_id"],
                address=row["address"],
                template=row["template"],
                language=row["language"],
                context=context or {},
                priority=row["priority"],
                attempts=row["attempts"],
                created_at=_aware(row["created_at"]),
                name=person.get("name", ""),
                organization=person.get("organization", ""),
                role=person.get("role", "other"),
                status=person.get("status"),
            )
        )
    return claimed


async def _people(ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    from subscribers.models import Subscriber

    rows = await Subscriber.filter(id__in=ids).values("id", "name", "organization", "role", "status")
    return {row["id"]: row for row in rows}


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def mark_sent(delivery_id: int, *, reply: str, message_id: str, now: dt.datetime) -> None:
    await Delivery.filter(id=delivery_id).update(
        state=DeliveryState.SENT, last_reply=reply, message_id=message_id, sent_at=now, lease_until=None
    )


async def mark_deferred(delivery_id: int, *, reply: str, retry_at: dt.datetime) -> None:
    await Delivery.filter(id=delivery_id).update(
        state=DeliveryState.DEFERRED, last_reply=reply, next_attempt_at=retry_at, lease_until=None
    )


async def mark_final(delivery_id: int, state: DeliveryState, *, reply: str) -> None:
    await Delivery.filter(id=delivery_id).update(state=state, last_reply=reply, lease_until=None)
