"""Sending rate limits that hold across restarts and across processes.

SEND_RATE_PER_MINUTE and SEND_RATE_PER_HOUR count messages per calendar minute and hour (UTC) in
`SendCounter` rows ("m:2026-11-22T09:05", "h:2026-11-22T09"). The sender *reserves* budget before
it claims deliveries, with one conditional upsert per window inside a transaction: the increment
only happens if it stays within the limit, so two processes can't both spend the last of it, and
a crash can waste a reservation but never overspend. What a pass didn't use is given back.

Transactional mail (confirmations) counts against the limits too, since the relay counts it, but
must never wait behind a campaign: bulk mail may only use the limit minus a tenth, and that tenth
is left for transactional mail.

SEND_RATE_PER_DOMAIN (`gmail.com=600/h`) limits campaign mail to one large provider the same way
(`DomainBudget`), in counters named "d:<window>:<domain hash>" (the column holds 20 characters).
Campaign mail over it waits for the next window; transactional mail is never held for it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from outreach.queue import sql
from outreach.windows import DomainLimit

TRANSACTIONAL_SHARE = 10  # 1/10 of each limit is kept for transactional mail
KEEP_COUNTERS = dt.timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Reservation:
    count: int  # how many messages may be sent
    windows: tuple[str, ...] = ()  # the counters it was taken from (to give back what wasn't used)
    retry_at: dt.datetime | None = None  # when nothing was granted: when the exhausted window ends


_GIVE_BACK = """
    UPDATE send_counter SET sent = CASE WHEN sent > ? THEN sent - ? ELSE 0 END WHERE "window" = ?
"""
_FORGET = """
    DELETE FROM send_counter WHERE ("window" >= ? AND "window" < ?) OR ("window" >= ? AND "window" < ?)
        OR ("window" >= ? AND "window" < ?)
"""
_UPSERT = (
    'INSERT INTO send_counter ("window", sent) VALUES (?, ?) '
    'ON CONFLICT ("window") DO UPDATE SET sent = send_counter.sent + excluded.sent '
    "WHERE send_counter.sent + excluded.sent <= ? RETURNING sent"
)


class _Exhausted(Exception):
    """Another process took the budget between our read and our increment: roll back, read again."""


def windows_at(now: dt.datetime) -> tuple[str, str]:
    now = now.astimezone(dt.UTC)
    return f"m:{now:%Y-%m-%dT%H:%M}", f"h:{now:%Y-%m-%dT%H}"


class SendBudget:
    def __init__(self, per_minute: int = 0, per_hour: int = 0) -> None:
        self.per_minute = per_minute  # 0: unlimited
        self.per_hour = per_hour
        self._cleaned_hour = ""

    @property
    def unlimited(self) -> bool:
        return not self.per_minute and not self.per_hour

    def _limits(self, now: dt.datetime, *, transactional: bool) -> list[tuple[str, int, dt.datetime]]:
        minute, hour = windows_at(now)
        start_of_minute = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
        limits = []
        for window, limit, ends in (
            (minute, self.per_minute, start_of_minute + dt.timedelta(minutes=1)),
            (hour, self.per_hour, start_of_minute.replace(minute=0) + dt.timedelta(hours=1)),
        ):
            if limit:
                allowed = limit if transactional else limit - limit // TRANSACTIONAL_SHARE
                limits.append((window, allowed, ends))
        return limits

    async def reserve(self, wanted: int, *, now: dt.datetime, transactional: bool) -> Reservation:
        """Take up to `wanted` messages' worth of budget from every window that has a limit."""
        if self.unlimited or wanted <= 0:
            return Reservation(max(wanted, 0))
        limits = self._limits(now, transactional=transactional)
        await self._forget_old_windows(now)
        return await reserve_within(limits, wanted, now=now)

    async def give_back(self, reservation: Reservation, unused: int) -> None:
        """Return budget reserved but not used (nothing claimed, or the pass stopped early)."""
        await give_back(reservation, unused)

    async def _forget_old_windows(self, now: dt.datetime) -> None:
        """Once an hour, delete counters older than two days (they can't matter any more)."""
        _minute, hour = windows_at(now)
        if hour == self._cleaned_hour:
            return
        self._cleaned_hour = hour
        old_minute, old_hour = windows_at(now - KEEP_COUNTERS)
        old_domain = f"d:{(now - KEEP_COUNTERS).astimezone(dt.UTC):%Y%m%d}"
        await get_connection("default").execute_query(
            sql(_FORGET),
            ["m:", old_minute, "h:", old_hour, "d:", old_domain],
        )


async def give_back(reservation: Reservation, unused: int) -> None:
    if unused <= 0 or not reservation.windows:
        return
    await get_connection("default").execute_many(
        sql(_GIVE_BACK),
        [[unused, unused, window] for window in reservation.windows],
    )


async def reserve_within(
    limits: list[tuple[str, int, dt.datetime]], wanted: int, *, now: dt.datetime
) -> Reservation:
    """Take up to `wanted` from every (counter, limit, window end) at once, or nothing."""
    for _ in range(5):  # each retry means another process just reserved: it converges fast
        used = await _used([window for window, _limit, _ends in limits])
        grant, retry_at = wanted, None
        for window, limit, ends in limits:
            room = max(limit - used.get(window, 0), 0)
            if room < grant:
                grant = room
                retry_at = ends if room == 0 else retry_at
        if grant <= 0:
            return Reservation(0, retry_at=retry_at)
        try:
            async with in_transaction() as tx:
                for window, limit, _ends in limits:
                    rows = await tx.execute_query_dict(sql(_UPSERT), [window, grant, limit])
                    if not rows:
                        raise _Exhausted
        except _Exhausted:
            continue
        return Reservation(grant, windows=tuple(window for window, _limit, _ends in limits))
    return Reservation(0, retry_at=now + dt.timedelta(seconds=1))


async def _used(windows: list[str]) -> dict[str, int]:
    marks = ", ".join("?" for _ in windows)
    rows = await get_connection("default").execute_query_dict(
        sql(f'SELECT "window", sent FROM send_counter WHERE "window" IN ({marks})'),  # noqa: S608
        windows,
    )
    return {row["window"]: int(row["sent"]) for row in rows}


_SPANS = {"m": ("%Y%m%d%H%M", dt.timedelta(minutes=1)), "h": ("%Y%m%d%H", dt.timedelta(hours=1))}


class DomainBudget:
    """SEND_RATE_PER_DOMAIN: campaign messages per minute, hour or (UTC) day to one mail domain."""

    def __init__(self, limits: dict[str, DomainLimit]) -> None:
        self.limits = limits

    def limited(self, domain: str) -> bool:
        return domain in self.limits

    def window(self, domain: str, now: dt.datetime) -> tuple[str, int, dt.datetime]:
        limit = self.limits[domain]
        now = now.astimezone(dt.UTC)
        if limit.per == "d":
            start = now.replace(hour=0, minute=0, second=0, microsecond=0)
            stamp, ends = f"{start:%Y%m%d}", start + dt.timedelta(days=1)
        else:
            pattern, span = _SPANS[limit.per]
            start = now.replace(second=0, microsecond=0)
            if limit.per == "h":
                start = start.replace(minute=0)
            stamp, ends = start.strftime(pattern), start + span
        tag = hashlib.sha256(domain.encode()).hexdigest()[: 20 - 3 - len(stamp)]
        return f"d:{stamp}:{tag}", limit.count, ends

    async def reserve(self, domain: str, wanted: int, *, now: dt.datetime) -> Reservation:
        return await reserve_within([self.window(domain, now)], wanted, now=now)

    async def give_back(self, reservation: Reservation, unused: int) -> None:
        await give_back(reservation, unused)
