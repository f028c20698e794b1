"""Start a campaign within moments of its creation, whichever process created it.

The scheduler sweeps every SWEEP_INTERVAL_SECONDS; a campaign created "now" by another process
(`madeinla campaigns create --now`, the console of another server) should not wait for that.

- PostgreSQL: a trigger (migration 0008) sends NOTIFY on `madeinla_schedule` when a campaign row
  becomes or stays `scheduled`, at commit. Each serving process LISTENs on a connection of its own
  and asks its scheduler for a sweep; only the leader's sweep does anything.
- SQLite (one serving process, no NOTIFY): every POLL_SECONDS, one indexed query for scheduled
  campaigns that are due; a new one gets a sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from outreach.models import Campaign, CampaignStatus
from outreach.timing import utcnow

log = logging.getLogger(__name__)

CHANNEL = "madeinla_schedule"
POLL_SECONDS = 0.5
RECONNECT_SECONDS = 5.0


class ScheduleWatch:
    def __init__(self, database_url: str, sweep_now: Callable[[], None]) -> None:
        self.database_url = database_url
        self.sweep_now = sweep_now
        self._task: asyncio.Task[None] | None = None
        self._seen: set[int] = set()

    def start(self) -> None:
        watch = self._poll if self.database_url.startswith("sqlite://") else self._listen
        self._task = asyncio.create_task(watch(), name="schedule watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                rows = Campaign.filter(status=CampaignStatus.SCHEDULED, send_at__lte=utcnow())
                due = {row.id for row in await rows.only("id")}
            except Exception as exc:  # the database may be busy a moment; the sweep catches up anyway
                log.debug("schedule poll skipped: %s", type(exc).__name__)
                continue
            if due - self._seen:
                self.sweep_now()
            self._seen = due

    async def _listen(self) -> None:
        dsn = _asyncpg_dsn(self.database_url)
        while True:
            conn: Any = None
            try:
                async with asyncio.timeout(10):
                    conn = await asyncpg.connect(dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._notified)
                self.sweep_now()  # whatever was created while we weren't listening
                await lost.wait()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("not listening for new campaigns (%s); retrying", type(exc).__name__)
            finally:
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), timeout=5)
            await asyncio.sleep(RECONNECT_SECONDS)

    def _notified(self, *_args: object) -> None:
        self.sweep_now()


def _asyncpg_dsn(database_url: str) -> str:
    """The ORM's URL as asyncpg takes it: no pool options in the query."""
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


def start_schedule_watch(database_url: str, sweep_now: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    """Start watching for campaigns other processes create; returns the async stop function."""
    watch = ScheduleWatch(database_url, sweep_now)
    watch.start()
    return watch.stop
