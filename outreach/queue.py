"""The delivery queue: write a message's row first, claim due rows, record what happened.

A claim is one `UPDATE ... RETURNING` over a `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so
several processes on several machines share the work without waiting on each other and without a
home-made protocol. On SQLite (one process) the same statement runs without the locking clause,
which SQLite doesn't have and doesn't need.

A claim is a lease: it sets `lease_until`, and a row left `sending` by a process that died becomes
due again once that moment passes (a live process renews the leases of what it still holds).
Claims go one campaign (or the transactional lane) and one state at a time, so each is a range
scan of the (campaign_id, state, next_attempt_at) index that stops after `limit` rows: a paused
campaign's 200,000 queued rows are never even looked at.

Results are recorded in batches (`record_results`): a group of sent messages is one `UPDATE`
(one commit), anything else one transaction with an `executemany` per kind of outcome. Each row is
guarded by `claimed_by`, so a process whose lease was taken over can't overwrite what the new
owner recorded.

The sender runs these statements on one connection it holds for a whole pass (`held_connection`):
on PostgreSQL every statement through the pool costs a second round trip, since asyncpg resets a
connection (`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) each time it goes
back, and a pass runs thousands. On PostgreSQL the lists a claim looks up and the rows a group of
outcomes updates travel as array parameters, so each statement is prepared once per connection
instead of once per length.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from outreach.models import CampaignStatus, Delivery, DeliveryState, Priority
from subscribers.addresses import email_hash


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A claimed row joined with what rendering needs about the person (empty once erased)."""

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
    name: str = ""
    organization: str = ""
    role: str = "other"
    topics: list[str] = field(default_factory=list)
    status: str | None = None  # the subscriber's status now: people who left since the audience was drawn
    suppressed: str | None = None  # the suppression list's reason for this address, if it is on it


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """What became of one claimed delivery, for `record_results`."""

    id: int
    state: DeliveryState  # sent, deferred, failed, suppressed; queued means "released unsent"
    reply: str = ""
    message_id: str = ""
    at: dt.datetime | None = None  # sent_at for sent, next_attempt_at for deferred and released
    refund_attempt: bool = False  # the attempt didn't really happen (our configuration, a release)
    bounce_subscriber: int | None = None  # a permanent failure: mark this subscriber bounced


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def dialect() -> str:
    return get_connection("default").capabilities.dialect


@functools.cache
def _numbered(text: str) -> str:
    counter = iter(range(1, 1000))
    return re.sub(r"\?", lambda _m: f"${next(counter)}", text)


def sql(text: str) -> str:
    """SQL written with `?` placeholders, in the current database's placeholder style."""
    return _numbered(text) if dialect() == "postgres" else text


class QueueConnection:
    """Where the queue's statements run: a connection held for a while (PostgreSQL), or the
    database client itself (SQLite has one connection anyway; statements take turns on it)."""

    def __init__(self, client: BaseDBAsyncClient, held: Any = None) -> None:
        self.client = client
        self.held = held  # an asyncpg connection, taken from the pool for as long as this lives
        self.postgres = client.capabilities.dialect == "postgres"

    async def fetch(self, statement: str, values: Sequence[Any]) -> list[Mapping[str, Any]]:
        if self.held is not None:
            return await self.held.fetch(statement, *values)  # type: ignore[no-any-return]
        return await self.client.execute_query_dict(statement, list(values))

    async def execute(self, statement: str, values: Sequence[Any]) -> None:
        if self.held is not None:
            await self.held.execute(statement, *values)
        else:
            await self.client.execute_query(statement, list(values))


def default_connection() -> QueueConnection:
    """Statements through the pool, one connection each (for callers outside the sender's pass)."""
    return QueueConnection(get_connection("default"))


HOLD_FROM_POOL_SIZE = 3  # one held, one for claims ahead, one for everything else


@contextlib.asynccontextmanager
async def held_connection() -> AsyncIterator[QueueConnection]:
    """One connection for a whole pass of the sender (see the module docstring for why), unless
    the pool is too small to spare it."""
    client = get_connection("default")
    if client.capabilities.dialect != "postgres" or getattr(client, "pool_maxsize", 0) < HOLD_FROM_POOL_SIZE:
        yield QueueConnection(client)
        return
    async with client.acquire_connection() as held:
        yield QueueConnection(client, held)


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


async def sending_campaigns(conn: QueueConnection | None = None) -> list[int]:
    """Ids of the campaigns whose deliveries may be sent now, oldest first."""
    rows = await (conn or default_connection()).fetch(
        sql("SELECT id FROM campaign WHERE status = ? ORDER BY id"), [CampaignStatus.SENDING.value]
    )
    return [row["id"] for row in rows]


_RETURNING = (
    "RETURNING id, campaign_id, subscriber_id, address, template, language, context, priority, "
    "attempts, created_at"
)


_STILL_SENDING = "AND EXISTS (SELECT 1 FROM campaign c WHERE c.id = ? AND c.status = 'sending')"
_TOPICS = ("pilot_updates", "application_invitations", "working_group")


def _claim_sql(state: str, *, transactional: bool, postgres: bool) -> str:
    lane = "campaign_id IS NULL" if transactional else "campaign_id = ?"
    if state == "sending":
        due = "state = 'sending' AND lease_until < ?"  # its lease ran out: the process died
    else:
        due = f"state = '{state}' AND next_attempt_at <= ?"
    still_sending = (
        ""
        if transactional
        else "AND EXISTS (SELECT 1 FROM campaign c WHERE c.id = ? AND c.status = 'sending')"
    )
    lock = "FOR UPDATE SKIP LOCKED" if postgres else ""
    # Only fixed fragments are formatted in; every value travels as a parameter.
    return f"""
        UPDATE delivery SET state = 'sending', lease_until = ?, claimed_by = ?, attempts = attempts + 1
        WHERE id IN (SELECT id FROM delivery WHERE {lane} AND {due} {still_sending}
                     ORDER BY next_attempt_at LIMIT ? {lock})
        {_RETURNING}
    """  # noqa: S608


async def claim_due_deliveries(
    worker_id: str, limit: int, *, now: dt.datetime, lease_seconds: float
) -> list[ClaimedDelivery]:
    """Claim up to `limit` due deliveries for `worker_id`: transactional mail first, then the
    campaigns that are `sending`, oldest first (the sender claims lane by lane, within its budget)."""
    claimed = await claim_lane(worker_id, limit, now=now, lease_seconds=lease_seconds, campaign_id=None)
    for campaign_id in await sending_campaigns():
        if len(claimed) >= limit:
            break
        claimed += await claim_lane(
            worker_id, limit - len(claimed), now=now, lease_seconds=lease_seconds, campaign_id=campaign_id
        )
    return claimed


async def claim_lane(
    worker_id: str,
    limit: int,
    *,
    now: dt.datetime,
    lease_seconds: float,
    campaign_id: int | None,
    conn: QueueConnection | None = None,
) -> list[ClaimedDelivery]:
    """Claim up to `limit` due deliveries of one campaign (None: transactional mail): rows whose
    lease ran out first (a crashed process's), then retries, then new ones. Nothing is claimed for
    a campaign that isn't `sending`.
    """
    conn = conn or default_connection()
    postgres = conn.postgres
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    rows: list[Mapping[str, Any]] = []
    for state in ("sending", "deferred", "queued"):
        wanted = limit - len(rows)
        if wanted <= 0:
            break
        statement = sql(_claim_sql(state, transactional=campaign_id is None, postgres=postgres))
        lane = [] if campaign_id is None else [campaign_id]
        values = [lease_until, worker_id, *lane, now, *lane, wanted]
        rows += await conn.fetch(statement, values)
    if not rows:
        return []
    people = await _people(conn, [r["subscriber_id"] for r in rows if r["subscriber_id"] is not None])
    hashes = {r["address"]: email_hash(r["address"]) for r in rows if r["address"]}
    suppressed = await _suppressed(conn, list(set(hashes.values())))
    claimed = []
    for row in sorted(rows, key=lambda r: r["id"]):
        person = people.get(row["subscriber_id"], {})
        context = row["context"]
        if isinstance(context, str):
            context = json.loads(context) if context != "{}" else {}
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
                topics=[
                    t
                    for t in ("pilot_updates", "application_invitations", "working_group")
                    if person.get(f"topic_{t}")
                ],
                status=person.get("status"),
                suppressed=suppressed.get(hashes[row["address"]]) if row["address"] else None,
            )
        )
    return claimed


_PERSON = """
    SELECT id, name, organization, role, status,
           topic_pilot_updates, topic_application_invitations, topic_working_group
    FROM subscriber WHERE
"""


async def _people(conn: QueueConnection, ids: list[int]) -> dict[int, Mapping[str, Any]]:
    if not ids:
        return {}
    if conn.postgres:  # one array parameter: one prepared plan, instead of planning 200 values
        rows = await conn.fetch(_PERSON + "id = ANY($1::int[])", [ids])
    else:
        marks = ", ".join("?" for _ in ids)
        rows = await conn.fetch(f"{_PERSON} id IN ({marks})", ids)
    return {row["id"]: row for row in rows}


async def _suppressed(conn: QueueConnection, hashes: list[str]) -> dict[str, str]:
    if not hashes:
        return {}
    if conn.postgres:
        statement, values = "email_hash = ANY($1::text[])", [hashes]
    else:
        statement, values = f"email_hash IN ({', '.join('?' for _ in hashes)})", hashes
    rows = await conn.fetch(f"SELECT email_hash, reason FROM suppression WHERE {statement}", values)  # noqa: S608
    return {row["email_hash"]: row["reason"] for row in rows}


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


_RECORD = {
    DeliveryState.SENT: (
        "UPDATE delivery SET state = 'sent', last_reply = ?, message_id = ?, sent_at = ?, lease_until = NULL "
        "WHERE id = ? AND claimed_by = ? AND state = 'sending'"
    ),
    DeliveryState.DEFERRED: (
        "UPDATE delivery SET state = 'deferred', last_reply = ?, next_attempt_at = ?, lease_until = NULL, "
        "attempts = attempts - ? WHERE id = ? AND claimed_by = ? AND state = 'sending'"
    ),
    DeliveryState.QUEUED: (  # released unsent: the attempt is given back
        "UPDATE delivery SET state = 'queued', next_attempt_at = ?, lease_until = NULL, "
        "attempts = attempts - 1 WHERE id = ? AND claimed_by = ? AND state = 'sending'"
    ),
    DeliveryState.FAILED: (
        "UPDATE delivery SET state = 'failed', last_reply = ?, lease_until = NULL "
        "WHERE id = ? AND claimed_by = ? AND state = 'sending'"
    ),
    DeliveryState.SUPPRESSED: (
        "UPDATE delivery SET state = 'suppressed', last_reply = ?, lease_until = NULL "
        "WHERE id = ? AND claimed_by = ? AND state = 'sending'"
    ),
}


def _values(update: DeliveryUpdate, worker_id: str) -> list[Any]:
    reply = update.reply[:500]
    if update.state is DeliveryState.SENT:
        return [reply, update.message_id, update.at, update.id, worker_id]
    if update.state is DeliveryState.DEFERRED:
        return [reply, update.at, 1 if update.refund_attempt else 0, update.id, worker_id]
    if update.state is DeliveryState.QUEUED:
        return [update.at, update.id, worker_id]
    return [reply, update.id, worker_id]


async def record_results(
    worker_id: str, updates: list[DeliveryUpdate], conn: QueueConnection | None = None
) -> None:
    """Write a batch of outcomes in one transaction (and bounce the people 5xx replies named)."""
    from subscribers.models import Status, Subscriber
    from subscribers.registry import change_status

    if all(update.state is DeliveryState.SENT for update in updates):
        await _record_sent(conn or default_connection(), worker_id, updates)
        return
    by_state: dict[DeliveryState, list[list[Any]]] = {}
    for update in updates:
        by_state.setdefault(update.state, []).append(_values(update, worker_id))
    bounced = [u.bounce_subscriber for u in updates if u.bounce_subscriber is not None]
    async with in_transaction() as tx:
        for state, values in by_state.items():
            await tx.execute_many(sql(_RECORD[state]), values)
        for subscriber in await Subscriber.filter(id__in=bounced) if bounced else []:
            await change_status(subscriber, Status.BOUNCED, actor="sender")


# PostgreSQL: one statement text for any number of rows (prepared once per connection). Each
# row finds its values by its position in the id array: a group is at most one row per worker,
# and this plans in about half the time of a join with `unnest` (PostgreSQL plans it every time,
# since the generic plan can't know the arrays' lengths): ~60 µs less a commit.
_RECORD_SENT_POSTGRES = """
    UPDATE delivery SET state = 'sent', lease_until = NULL, sent_at = $1,
        last_reply = ($3::text[])[array_position($2::bigint[], id)],
        message_id = ($4::text[])[array_position($2::bigint[], id)]
    WHERE id = ANY($2::bigint[]) AND claimed_by = $5 AND state = 'sending'
"""


async def _record_sent(conn: QueueConnection, worker_id: str, updates: list[DeliveryUpdate]) -> None:
    """The common case as one statement: one round trip (one commit) however many rows."""
    sent_at = max(update.at for update in updates if update.at is not None)
    if conn.postgres:
        ids = [update.id for update in updates]
        replies = [update.reply[:500] for update in updates]
        message_ids = [update.message_id for update in updates]
        await conn.execute(_RECORD_SENT_POSTGRES, [sent_at, ids, replies, message_ids, worker_id])
        return
    cases = " ".join("WHEN ? THEN ?" for _ in updates)
    marks = ", ".join("?" for _ in updates)
    statement = f"""
        UPDATE delivery SET state = 'sent', lease_until = NULL, sent_at = ?,
            last_reply = CASE id {cases} END, message_id = CASE id {cases} END
        WHERE claimed_by = ? AND state = 'sending' AND id IN ({marks})
    """  # noqa: S608 (placeholders only)
    values: list[Any] = [sent_at]
    for update in updates:
        values += [update.id, update.reply[:500]]
    for update in updates:
        values += [update.id, update.message_id]
    values += [worker_id, *(update.id for update in updates)]
    await conn.execute(statement, values)


async def renew_leases(worker_id: str, ids: list[int], *, until: dt.datetime) -> None:
    """Keep rows this process is still working on from being taken over by another."""
    if ids:
        await get_connection("default").execute_many(
            sql("UPDATE delivery SET lease_until = ? WHERE id = ? AND claimed_by = ? AND state = 'sending'"),
            [[until, delivery_id, worker_id] for delivery_id in ids],
        )


async def campaign_statuses(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    from outreach.models import Campaign

    rows = await Campaign.filter(id__in=ids).values("id", "status")
    return {row["id"]: str(getattr(row["status"], "value", row["status"])) for row in rows}


async def campaign_tally(campaign_id: int) -> tuple[int, int]:
    """(sent, failed) deliveries of a campaign, for its failure rate. A message that bounced after
    the relay took it (outreach.bounces) counts as failed: the relay's 250 was not the last word."""
    rows = await get_connection("default").execute_query_dict(
        sql(
            "SELECT state, COUNT(*) AS n FROM delivery WHERE campaign_id = ? "
            "AND state IN ('sent', 'failed', 'bounced') GROUP BY state"
        ),
        [campaign_id],
    )
    counts = {row["state"]: int(row["n"]) for row in rows}
    return counts.get("sent", 0), counts.get("failed", 0) + counts.get("bounced", 0)


# Single-row helpers, for a message sent outside the queue (a campaign's test send).


async def mark_sent(delivery_id: int, *, reply: str, message_id: str, now: dt.datetime) -> None:
    await Delivery.filter(id=delivery_id).update(
        state=DeliveryState.SENT, last_reply=reply[:500], message_id=message_id, sent_at=now, lease_until=None
    )


async def mark_deferred(delivery_id: int, *, reply: str, retry_at: dt.datetime) -> None:
    await Delivery.filter(id=delivery_id).update(
        state=DeliveryState.DEFERRED, last_reply=reply[:500], next_attempt_at=retry_at, lease_until=None
    )


async def mark_final(delivery_id: int, state: DeliveryState, *, reply: str) -> None:
    await Delivery.filter(id=delivery_id).update(state=state, last_reply=reply[:500], lease_until=None)
