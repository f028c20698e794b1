"""What a batch of returned messages reads and writes: each a statement for the whole batch.

Plain SQL rather than the ORM: a batch's values go as arrays on PostgreSQL (`subscribers.bulk_insert.
BulkSql` is where the databases differ), so each statement has one text whatever the batch's size,
is prepared once per connection, and looks its rows up by index; and rows come back as plain values,
without a model object each. Deliveries come with their person's few fields (one query, not two).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection

from outreach.bounces.models import BounceEvent
from outreach.models import DeliveryState
from subscribers.bulk_insert import BulkSql
from subscribers.models import Status

# A delivery as matching reads it, with its person's fields (NULL once erased or never linked).
_DELIVERY = """
    SELECT d.id, d.campaign_id, d.subscriber_id, d.address, d.state, d.sent_at, d.bounced_at,
           d.bounce_type, d.complained_at, d.message_id,
           s.email AS person_email, s.status AS person_status, s.consent_at AS person_consent_at
    FROM delivery d LEFT JOIN subscriber s ON s.id = d.subscriber_id
"""
_BOUNCE = """
    WITH v (id, state, bounced_at, bounce_type, bounce_status, bounce_diagnostic) AS ({table})
    UPDATE delivery SET state = v.state, bounced_at = v.bounced_at, bounce_type = v.bounce_type,
        bounce_status = v.bounce_status, bounce_diagnostic = v.bounce_diagnostic
    FROM v WHERE delivery.id = v.id
"""
_MOMENTS = ("sent_at", "bounced_at", "complained_at", "person_consent_at")
EVENT_FIELDS = (
    "message_key",
    "at",
    "kind",
    "bounce_type",
    "status",
    "diagnostic",
    "delivery_id",
    "subscriber_id",
    "matched_by",
    "effect",
    "source",
)


@dataclasses.dataclass(slots=True)
class Person:
    """The fields of a person the rules read; moved through `subscribers.registry` (a Person)."""

    id: int
    email: str
    status: Status
    consent_at: dt.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class DeliveryChange:
    """A delivery that bounced: the fields a bounce sets."""

    id: int
    state: str
    bounced_at: dt.datetime
    bounce_type: str
    bounce_status: str
    bounce_diagnostic: str


class BatchStore:
    """The statements, on one connection: the database's own for reads, the transaction's for writes."""

    def __init__(self, conn: BaseDBAsyncClient | None = None) -> None:
        self.conn = conn or get_connection("default")
        self.bulk = BulkSql(self.conn)

    # Reading --------------------------------------------------------------------------------------

    async def seen(self, keys: Sequence[str]) -> set[str]:
        """The keys among `keys` of messages processed before."""
        if not keys:
            return set()
        members, values = self.bulk.among("key", keys, "text")
        rows = await self._fetch(f"SELECT key FROM inbound_message WHERE {members}", values)  # noqa: S608
        return {str(row["key"]) for row in rows}

    async def deliveries_by_id(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        if not ids:
            return []
        members, values = self.bulk.among("d.id", ids, "bigint")
        return await self._deliveries(f"WHERE {members}", values)

    async def deliveries_by_message_id(self, message_ids: Sequence[str]) -> list[dict[str, Any]]:
        """By Message-ID (`<...>`, as we wrote it); the partial index holds only messages sent."""
        if not message_ids:
            return []
        members, values = self.bulk.among("d.message_id", message_ids, "text")
        return await self._deliveries(f"WHERE {members} AND d.message_id <> ''", values)

    async def latest_sent_to(self, emails: Sequence[str], since: dt.datetime) -> list[dict[str, Any]]:
        """The messages sent or bounced since `since` to the people with these addresses, oldest
        first (so the last one for a person is their latest)."""
        if not emails:
            return []
        members, values = self.bulk.among("s.email", emails, "text")
        return await self._deliveries(
            f"WHERE {members} AND d.state IN (?, ?) AND d.sent_at >= ? ORDER BY d.sent_at, d.id",
            [*values, DeliveryState.SENT.value, DeliveryState.BOUNCED.value, since],
        )

    async def soft_bounces(
        self, subscriber_ids: Iterable[int], since: dt.datetime
    ) -> list[tuple[int, dt.datetime]]:
        """(person, when) for each soft bounce of these people since `since`."""
        ids = sorted(set(subscriber_ids))
        if not ids:
            return []
        members, values = self.bulk.among("subscriber_id", ids, "int")
        rows = await self._fetch(
            f"SELECT subscriber_id, bounced_at FROM delivery WHERE {members} "  # noqa: S608
            "AND bounce_type = 'soft' AND bounced_at >= ?",
            [*values, since],
        )
        return [(int(row["subscriber_id"]), _moment(row["bounced_at"])) for row in rows]

    # Writing (in the batch's transaction) ------------------------------------------------------------

    async def claim(self, rows: Sequence[tuple[str, str]], source: str, now: dt.datetime) -> set[str]:
        """Record the messages (key, kind) as processed; returns the keys this process claimed (one
        another process recorded first is left out)."""
        if not rows:
            return set()
        table, values = self.bulk.rows(
            [(key, kind, source[:10], now) for key, kind in rows], ("text", "text", "text", "timestamptz")
        )
        found = await self._fetch(
            f"INSERT INTO inbound_message (key, kind, source, processed_at) {table} "
            "ON CONFLICT (key) DO NOTHING RETURNING key",
            values,
        )
        return {str(row["key"]) for row in found}

    async def bounce(self, changes: Sequence[DeliveryChange]) -> None:
        if not changes:
            return
        table, values = self.bulk.rows(
            [dataclasses.astuple(change) for change in changes],
            ("bigint", "text", "timestamptz", "text", "text", "text"),
        )
        await self.conn.execute_query(self.bulk.sql(_BOUNCE.format(table=table)), values)

    async def complained(self, delivery_ids: Sequence[int], now: dt.datetime) -> None:
        """Mark complaints (the first one's moment stays)."""
        if not delivery_ids:
            return
        members, values = self.bulk.among("id", delivery_ids, "bigint")
        await self.conn.execute_query(
            self.bulk.sql(f"UPDATE delivery SET complained_at = ? WHERE complained_at IS NULL AND {members}"),  # noqa: S608
            [now, *values],
        )

    async def events(self, rows: Sequence[Sequence[Any]]) -> None:
        """bounce_event rows, their values in EVENT_FIELDS' order."""
        if rows:
            await self.bulk.insert(BounceEvent, EVENT_FIELDS)([tuple(row) for row in rows])

    async def _deliveries(self, where: str, values: list[Any]) -> list[dict[str, Any]]:
        rows = await self._fetch(f"{_DELIVERY} {where}", values)
        out = []
        for row in rows:
            delivery = dict(row)
            for name in _MOMENTS:
                if delivery[name] is not None:
                    delivery[name] = _moment(delivery[name])
            out.append(delivery)
        return out

    async def _fetch(self, statement: str, values: list[Any]) -> list[dict[str, Any]]:
        return await self.conn.execute_query_dict(self.bulk.sql(statement), values)


def person_of(delivery: dict[str, Any]) -> Person | None:
    """The person a delivery row read here names, if they are still on the list."""
    if delivery["subscriber_id"] is None or delivery["person_email"] is None:
        return None
    return Person(
        id=int(delivery["subscriber_id"]),
        email=str(delivery["person_email"]),
        status=Status(delivery["person_status"]),
        consent_at=delivery["person_consent_at"],
    )


def _moment(value: dt.datetime | str) -> dt.datetime:
    """A timestamp as read: PostgreSQL gives datetimes, SQLite the text Tortoise wrote (UTC)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
