"""The campaign scheduler: start campaigns when their time comes, even after the service was down.

The database is the schedule. APScheduler (3.x, in-memory) is only the timer: a `date` job per
scheduled campaign so it starts on the second, and an interval job that runs `sweep`, which on
its own is enough to be correct. A sweep starts what is due (or marks it missed if its time passed
longer ago than SCHEDULE_GRACE_HOURS), finishes campaigns with nothing left to send, finishes
interrupted starts, and wakes the sender.

On PostgreSQL only one process sweeps at a time: the one holding a session advisory lock on a
connection of its own (session locks belong to a connection, so not one from the ORM's pool).
The others retry every sweep and take over when the leader stops or its connection dies. Every
process still sends. On SQLite there is one process, which always leads; and even if two sweep,
a campaign is claimed by a conditional UPDATE that only one of them wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from outreach.campaigns import (
    complete_finished_campaigns,
    mark_missed,
    restart_stalled_starts,
    start_campaign,
    start_occurrence,
)
from outreach.database_url import asyncpg_dsn
from outreach.metrics.digest import SEND_AT, send_weekly_digest
from outreach.metrics.figures import bring_up_to_date
from outreach.models import Campaign, CampaignStatus
from outreach.timeline import PILOT_TIMEZONE, pilot_today
from outreach.timing import utcnow
from subscribers.orm import ids

log = logging.getLogger(__name__)

# pg_try_advisory_lock key: any constant no other code in the database uses ("MLAS" + 1).
SCHEDULER_LOCK_KEY = 0x4D4C415301
DUE_PER_SWEEP = 100
TIMER_PREFIX = "campaign:"


@dataclasses.dataclass
class SweepReport:
    started: list[int] = dataclasses.field(default_factory=list)
    missed: list[int] = dataclasses.field(default_factory=list)
    occurrences: list[int] = dataclasses.field(default_factory=list)  # children created for recurring
    finished: list[int] = dataclasses.field(default_factory=list)
    restarted: list[int] = dataclasses.field(default_factory=list)


async def sweep(
    now: dt.datetime, *, grace: dt.timedelta, wake: Callable[[], None] | None = None
) -> SweepReport:
    """One pass over the schedule, as of `now` (tests pass their own clock)."""
    report = SweepReport()
    report.restarted = await restart_stalled_starts(now)
    recurring = await ids(Campaign.filter(status=CampaignStatus.SCHEDULED, send_at__lte=now, cron__not=""))
    for parent_id in recurring:
        child = await start_occurrence(parent_id, now)
        if child is not None:
            report.occurrences.append(child.id)
    due = (
        await Campaign.filter(status=CampaignStatus.SCHEDULED, send_at__lte=now, cron="")
        .order_by("send_at", "id")
        .limit(DUE_PER_SWEEP)
    )
    for campaign in due:
        assert campaign.send_at is not None
        if now - campaign.send_at > grace:
            if await mark_missed(campaign.id, now, grace=grace):
                report.missed.append(campaign.id)
        elif await start_campaign(campaign.id, now):
            report.started.append(campaign.id)
    report.finished = await complete_finished_campaigns(now)
    if wake is not None and (report.started or report.restarted):
        wake()
    return report


@dataclass(frozen=True, slots=True)
class ScheduleOptions:
    """How the scheduler runs (`bot.runtime` makes it from DATABASE_URL, SCHEDULE_GRACE_HOURS,
    SWEEP_INTERVAL_SECONDS, STAFF_DIGEST_EMAIL and PUBLIC_BASE_URL)."""

    database_url: str  # PostgreSQL: where the leader's advisory lock is held
    grace_hours: float  # a campaign whose time passed while the service was down is still sent
    sweep_interval_seconds: float
    # The weekly figures to staff (outreach.metrics.digest): STAFF_DIGEST_EMAIL, and PUBLIC_BASE_URL
    # for the dashboard link.
    digest_recipients: frozenset[str] = frozenset()
    dashboard_base_url: str = ""


def grace_period(options: ScheduleOptions) -> dt.timedelta:
    """SCHEDULE_GRACE_HOURS, plus two sweeps: a campaign the sweep reaches a little late is not missed."""
    return dt.timedelta(hours=options.grace_hours, seconds=2 * options.sweep_interval_seconds)


class Leadership:
    """Whether this process runs a job only one process may run at a time (the campaign scheduler,
    the Slack digest). PostgreSQL: holds a session advisory lock on `key`, which goes with the
    connection if the process dies. SQLite: yes (one process per database)."""

    def __init__(
        self, database_url: str, *, key: int = SCHEDULER_LOCK_KEY, job: str = "the campaign scheduler"
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._conn: asyncpg.Connection | None = None
        self.key = key
        self.job = job

    @property
    def is_leader(self) -> bool:
        return self._dsn is None or self._conn is not None

    async def hold(self) -> bool:
        """Keep (or try to take) the leadership; True while this process leads."""
        if self._dsn is None:
            return True
        if self._conn is not None:
            try:
                async with asyncio.timeout(10):
                    await self._conn.fetchval("SELECT 1")
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("lost the lock for %s: its database connection failed", self.job)
                await self._close()
            else:
                return True
        try:
            async with asyncio.timeout(10):
                conn = await asyncpg.connect(self._dsn)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            log.warning("could not reach the database for the lock for %s: %s", self.job, type(exc).__name__)
            return False
        try:
            got = await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            got = False
        if not got:
            await conn.close()
            return False
        self._conn = conn
        log.info("this process now runs %s", self.job)
        return True

    async def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await self._conn.execute("SELECT pg_advisory_unlock($1)", self.key)
            await self._close()

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=5)
            if not conn.is_closed():
                conn.terminate()


class CampaignScheduler:
    """Runs `sweep` every SWEEP_INTERVAL_SECONDS and at each campaign's send time, while leader."""

    def __init__(
        self,
        options: ScheduleOptions,
        *,
        wake: Callable[[], None] | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.options = options
        self.wake = wake
        self.clock = clock
        self.leadership = Leadership(options.database_url)
        self._timer = AsyncIOScheduler(timezone=dt.UTC)
        self._busy = asyncio.Lock()
        self._stopping = False

    async def start(self) -> None:
        self._timer.start()
        self._timer.add_job(
            self.tick,
            "interval",
            seconds=self.options.sweep_interval_seconds,
            id="sweep",
            next_run_time=dt.datetime.now(dt.UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        if self.options.digest_recipients:  # the sweep would send it too, but up to a sweep late
            self._timer.add_job(
                self.tick,
                "cron",
                day_of_week="mon",
                hour=SEND_AT.hour,
                minute=SEND_AT.minute,
                timezone=PILOT_TIMEZONE,
                id="staff_digest",
                coalesce=True,
                misfire_grace_time=None,
            )

    async def stop(self) -> None:
        self._stopping = True
        self._timer.remove_all_jobs()
        try:
            async with asyncio.timeout(30):  # let a sweep in progress finish
                await self._busy.acquire()
            self._busy.release()
        except TimeoutError:
            log.warning("stopping the scheduler in the middle of a sweep; the next one carries on")
        self._timer.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler finishes shutting down on the next loop tick
        await self.leadership.release()

    def poke(self) -> None:
        """Sweep now rather than at the next interval (a campaign was just created to send now)."""
        if self._timer.running and not self._stopping:
            self._timer.add_job(self.tick, id="poke", replace_existing=True, misfire_grace_time=None)

    async def tick(self) -> SweepReport | None:
        """What the timers run: sweep if this process leads, and set the send-time timers."""
        if self._stopping:
            return None
        async with self._busy:
            if self._stopping:  # stop() came while this tick waited for the one before it
                return None  # type: ignore[unreachable]  # mypy keeps `_stopping` narrowed across the await
            if not await self.leadership.hold():
                self._clear_timers()
                return None
            try:
                now = self.clock()
                report = await sweep(now, grace=grace_period(self.options), wake=self.wake)
                await self._bring_figures_up_to_date()
                await self._plan_timers()
                if (
                    await send_weekly_digest(
                        now,
                        recipients=self.options.digest_recipients,
                        base_url=self.options.dashboard_base_url,
                    )
                    and self.wake
                ):
                    self.wake()
            except Exception:  # the database may be briefly away; the next sweep tries again
                log.exception("campaign sweep failed; retrying at the next one")
                return None
        return report

    async def _bring_figures_up_to_date(self) -> None:
        """The figures' counters: keep their change list short. Its own failure, logged, never
        keeps the send-time timers or the weekly email from their turn."""
        try:
            await bring_up_to_date(pilot_today())
        except Exception:
            log.exception("bringing the figures' counters up to date failed; the next sweep tries again")

    async def _plan_timers(self) -> None:
        if not self._timer.running:
            return
        waiting = await Campaign.filter(status=CampaignStatus.SCHEDULED, send_at__isnull=False).values_list(
            "id", "send_at"
        )
        wanted = {f"{TIMER_PREFIX}{campaign_id}": send_at for campaign_id, send_at in waiting}
        for job in self._timer.get_jobs():
            if job.id.startswith(TIMER_PREFIX) and job.id not in wanted:
                job.remove()
        now = self.clock()
        for job_id, send_at in wanted.items():
            job = self._timer.get_job(job_id)
            if send_at > now and (job is None or job.next_run_time != send_at):
                self._timer.add_job(
                    self.tick,
                    "date",
                    run_date=send_at,
                    id=job_id,
                    replace_existing=True,
                    misfire_grace_time=None,
                )

    def _clear_timers(self) -> None:
        for job in self._timer.get_jobs():
            if job.id.startswith(TIMER_PREFIX):
                job.remove()
