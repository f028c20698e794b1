"""Reading the figures' counters, folding their changes, and counting them again from scratch.

The triggers (`outreach.metrics.triggers`) append changes; a reader sums the counters and the
changes not folded yet in one statement, so it never sees a change twice or misses one while a
fold moves it. Folding (the campaign sweep, every 15 seconds, and before the dashboard's figures) keeps
the change table short, so reading costs the same whatever the size of the registry and the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from outreach.metrics import triggers
from outreach.metrics.triggers import COUNTED_EVENTS, WEEK_SECONDS, Dialect
from outreach.queue import sql

# PostgreSQL moves the changes it folds in one statement: a change committed meanwhile either was
# deleted and added, or stays for the next fold. Sorted, so two folds lock counters in one order.
_FOLD_POSTGRES = (
    "WITH moved AS (DELETE FROM tally_change RETURNING figure, scope, key, n) "
    "INSERT INTO tally (figure, scope, key, n) "
    "SELECT figure, scope, key, SUM(n) FROM moved GROUP BY figure, scope, key ORDER BY figure, scope, key "
    "ON CONFLICT (figure, scope, key) DO UPDATE SET n = tally.n + excluded.n"
)
# SQLite has one writer at a time: the two statements in one transaction see the same rows.
_FOLD_SQLITE = (
    "INSERT INTO tally (figure, scope, key, n) "
    "SELECT figure, scope, key, SUM(n) FROM tally_change WHERE true GROUP BY figure, scope, key "
    "ON CONFLICT (figure, scope, key) DO UPDATE SET n = tally.n + excluded.n",
    "DELETE FROM tally_change",
)
FOLD_LOCK_KEY = 0x4D4C414D47  # pg_try_advisory_xact_lock key ("MLAMG": folding the figures' counters)
_CHANGED_TABLES = "subscriber, audit_event, delivery, campaign, profile_fact"


def _dialect() -> Dialect:
    return triggers.dialect_named(get_connection("default").capabilities.dialect)


async def fold_changes() -> None:
    """Add the waiting changes into the counters (and drop counters that came to zero)."""
    async with in_transaction() as tx:
        if _dialect().name == "postgres":
            # One fold at a time; another process folding now does this one's work too.
            _, rows = await tx.execute_query(f"SELECT pg_try_advisory_xact_lock({FOLD_LOCK_KEY}) AS mine")
            if not rows[0]["mine"]:
                return
            await tx.execute_query(_FOLD_POSTGRES)
        else:
            for statement in _FOLD_SQLITE:
                await tx.execute_query(statement)
        await tx.execute_query("DELETE FROM tally WHERE n = 0")


@dataclass(frozen=True, slots=True)
class Count:
    scope: int
    parts: list[str]  # the key's values, in the order `outreach.metrics.triggers` lists them
    n: int


async def counts(
    figure: str,
    *,
    scopes: Iterable[int] | None = None,
    days: tuple[int, int] | None = None,
) -> list[Count]:
    """The figure's counters (those with a non-zero count): the whole figure, the given scopes
    (campaigns), or the scopes from `days[0]` up to, not including, `days[1]` (County days)."""
    where = "figure = ?"
    values: list[Any] = [figure]
    if scopes is not None:
        chosen = sorted(set(scopes))
        if not chosen:
            return []
        where += f" AND scope IN ({', '.join('?' for _ in chosen)})"
        values += chosen
    if days is not None:
        where += " AND scope >= ? AND scope < ?"
        values += list(days)
    rows = await get_connection("default").execute_query_dict(
        sql(
            "SELECT scope, key, SUM(n) AS n FROM ("
            f"SELECT scope, key, n FROM tally WHERE {where} "
            f"UNION ALL SELECT scope, key, n FROM tally_change WHERE {where}"
            ") AS counted GROUP BY scope, key"
        ),
        values + values,
    )
    return [
        Count(int(row["scope"]), str(row["key"]).split("|", triggers.PARTS[figure] - 1), int(row["n"]))
        for row in rows
        if int(row["n"])
    ]


def recount_statements(d: Dialect) -> list[str]:
    """The statements that count every figure again from the records, as the triggers would."""
    day = d.county_day.format
    role = "COALESCE(s.role, 'erased')"
    since_start = f"{d.epoch.format('a.at')} - {d.epoch.format('c.started_at')}"
    into = "INSERT INTO tally (figure, scope, key, n) "
    return [
        "DELETE FROM tally_change",
        "DELETE FROM tally",
        f"{into}SELECT 'person', 0, {triggers.person_key('s')}, COUNT(*) FROM subscriber s GROUP BY 3",
        f"{into}SELECT 'zip', 0, {triggers.zip_key('s')}, COUNT(*) FROM subscriber s GROUP BY 3",
        f"{into}SELECT 'event', {day('a.at')}, {triggers.event_key('a', role)}, COUNT(*) "
        f"FROM audit_event a LEFT JOIN subscriber s ON s.id = a.subscriber_id "
        f"WHERE a.action IN {COUNTED_EVENTS} GROUP BY 2, 3",
        f"{into}SELECT 'delivery', m.campaign_id, {triggers.delivery_key('m', role)}, COUNT(*) "
        f"FROM delivery m LEFT JOIN subscriber s ON s.id = m.subscriber_id "
        f"WHERE m.campaign_id IS NOT NULL GROUP BY 2, 3",
        f"{into}SELECT 'unsubscribed_7d', c.id, '', COUNT(*) FROM audit_event a "
        f"JOIN delivery m ON m.subscriber_id = a.subscriber_id JOIN campaign c ON c.id = m.campaign_id "
        f"WHERE a.action = 'status' AND a.new_value = 'unsubscribed' AND c.started_at IS NOT NULL "
        f"AND {since_start} >= 0 AND {since_start} < {WEEK_SECONDS} GROUP BY 2",
        f"{into}SELECT 'fact', 0, {triggers.fact_key('f')}, COUNT(*) FROM profile_fact f "
        f"JOIN subscriber s ON s.id = f.subscriber_id WHERE {triggers.active_manufacturer('s')} GROUP BY 3",
    ]


async def recount() -> None:
    """Count every figure again from the records: after a restore, or rows changed with the
    triggers off (`madeinla figures recount`). Writers wait meanwhile (PostgreSQL), so no change is
    lost or counted twice.

    The counters come out as the triggers keep them: a recount changes nothing after them."""
    d = _dialect()
    async with in_transaction() as tx:
        if d.name == "postgres":
            await tx.execute_query(f"LOCK TABLE {_CHANGED_TABLES} IN SHARE MODE")
        for statement in recount_statements(d):
            await tx.execute_query(statement)
        # Profiles changed with the triggers off: screen every one again (at the next sweep).
        await tx.execute_query("DELETE FROM figure_state WHERE name = 'rules'")
