"""The scheduler: campaigns start at their time, late ones within the grace period, one leader on
PostgreSQL. Time is injected: no test sleeps until a real send time."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.runtime import Runtime, build_runtime, schedule_options, start_scheduler
from bot.settings import Settings
from outreach import campaigns as service
from outreach import notices
from outreach.models import Campaign, CampaignStatus, Delivery
from outreach.scheduling import CampaignScheduler, Leadership, grace_period, sweep
from outreach.timing import cron_trigger, next_fire_time, utcnow
from tests.outreach.people import person

NOW = dt.datetime(2026, 11, 16, 17, 0, tzinfo=dt.UTC)  # Monday 9:00 in Los Angeles
GRACE = dt.timedelta(hours=24)


@pytest.fixture
async def runtime(db: str, settings: Settings) -> AsyncIterator[Runtime]:
    parts = build_runtime(settings)
    yield parts
    await parts.transport.close()


@pytest.fixture
def heard() -> list[notices.CampaignNotice]:
    events: list[notices.CampaignNotice] = []

    async def listen(notice: notices.CampaignNotice) -> None:
        events.append(notice)

    stop = notices.subscribe(listen)
    yield events
    stop()


async def _campaign(runtime: Runtime, now: dt.datetime = NOW, **when) -> Campaign:
    return await service.create_campaign(
        name="Test update",
        kind="pilot_update",
        template="pilot_update",
        builder=runtime.builder,
        created_by="test",
        now=now,
        **when,
    )


async def test_a_campaign_starts_when_its_time_comes(runtime: Runtime) -> None:
    await person("ana@example.com")
    campaign = await _campaign(runtime, send_at="2026-11-16T09:02")  # two minutes ahead
    woken = []
    report = await sweep(NOW + dt.timedelta(minutes=1), grace=GRACE, wake=lambda: woken.append(1))
    assert report.started == [] and woken == []
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.SCHEDULED
    report = await sweep(NOW + dt.timedelta(minutes=2), grace=GRACE, wake=lambda: woken.append(1))
    assert report.started == [campaign.id] and woken == [1]
    assert await Delivery.filter(campaign_id=campaign.id).count() == 1
    assert (await sweep(NOW + dt.timedelta(minutes=3), grace=GRACE)).started == []


async def test_a_campaign_due_while_the_service_was_down_is_sent_within_the_grace_period(
    runtime: Runtime,
) -> None:
    campaign = await _campaign(runtime, send_at="2026-11-16T10:00")
    back = NOW + dt.timedelta(hours=20)  # down from before 10:00 until 20 hours later
    assert (await sweep(back, grace=GRACE)).started == [campaign.id]


async def test_past_the_grace_period_it_is_marked_missed_and_reported(runtime: Runtime, heard) -> None:
    campaign = await _campaign(runtime, send_at="2026-11-16T10:00")
    back = NOW + dt.timedelta(hours=30)
    report = await sweep(back, grace=GRACE)
    assert report.missed == [campaign.id] and report.started == []
    missed = await Campaign.get(id=campaign.id)
    assert missed.status == CampaignStatus.MISSED and await Delivery.all().count() == 0
    assert heard[-1].kind == notices.NoticeKind.MISSED and "29.0 hours ago" in heard[-1].detail


async def test_the_sweep_finishes_campaigns_with_nothing_left(runtime: Runtime) -> None:
    await person("ana@example.com")
    campaign = await _campaign(runtime, immediately=True)
    await sweep(NOW, grace=GRACE)
    await Delivery.filter(campaign_id=campaign.id).update(state="sent")
    assert (await sweep(NOW, grace=GRACE)).finished == [campaign.id]


async def test_first_tuesday_each_month_at_nine_los_angeles_time(runtime: Runtime) -> None:
    await person("ana@example.com")
    parent = await _campaign(runtime, cron="0 9 * * 2#1")
    december = dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)  # 9:00 PST
    assert parent.send_at == december
    assert (await sweep(december - dt.timedelta(seconds=1), grace=GRACE)).occurrences == []
    report = await sweep(december, grace=GRACE)
    [child_id] = report.occurrences
    assert report.started == [child_id]
    assert await Delivery.filter(campaign_id=child_id).count() == 1
    parent = await Campaign.get(id=parent.id)
    assert parent.status == CampaignStatus.SCHEDULED
    assert parent.send_at == dt.datetime(2027, 1, 5, 17, 0, tzinfo=dt.UTC)
    # Across daylight saving time the hour stays 9:00 in Los Angeles (16:00 UTC in summer).
    trigger = cron_trigger("0 9 * * 2#1")
    april = next_fire_time(trigger, dt.datetime(2027, 3, 15, tzinfo=dt.UTC))
    assert april == dt.datetime(2027, 4, 6, 16, 0, tzinfo=dt.UTC)


async def test_a_paused_recurring_campaign_sends_nothing(runtime: Runtime) -> None:
    parent = await _campaign(runtime, cron="0 9 * * 2#1")
    assert await service.pause_campaign(parent.id, reason="holiday", actor="cli")
    report = await sweep(dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC), grace=GRACE)
    assert report.occurrences == [] and await Campaign.filter(parent_id=parent.id).count() == 0


def test_grace_includes_two_sweeps(settings: Settings) -> None:
    assert grace_period(schedule_options(settings)) == dt.timedelta(hours=24, seconds=30)


async def _until(condition, *, tries: int = 250) -> None:
    for _ in range(tries):
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met")


async def test_the_scheduler_sweeps_and_sets_a_timer_for_each_send_time(runtime: Runtime) -> None:
    await person("ana@example.com")
    later = await _campaign(runtime, send_at="2026-11-16T09:30")
    now_campaign = await _campaign(runtime, immediately=True)
    scheduler = CampaignScheduler(
        schedule_options(runtime.settings), wake=runtime.sender.wake, clock=lambda: NOW
    )
    await scheduler.start()  # its first sweep runs straight away
    try:

        async def started() -> bool:
            return (await Campaign.get(id=now_campaign.id)).status == CampaignStatus.SENDING

        await _until(started)
        report = await scheduler.tick()
        assert report is not None and report.started == []
        job = scheduler._timer.get_job(f"campaign:{later.id}")
        assert job is not None and job.next_run_time == later.send_at
        await service.cancel_campaign(later.id, actor="cli")
        await scheduler.tick()
        assert scheduler._timer.get_job(f"campaign:{later.id}") is None
    finally:
        await scheduler.stop()
    assert not scheduler._timer.running
    assert await scheduler.tick() is None  # stopped: timers that still fire do nothing


async def test_start_scheduler_runs_a_first_sweep_at_once(runtime: Runtime) -> None:
    """The real timer and clock: its first sweep runs on start, so a campaign due while down goes out."""
    await person("ana@example.com")
    campaign = await _campaign(runtime, immediately=True, now=utcnow())
    stop = await start_scheduler(runtime)
    try:

        async def started() -> bool:
            return (await Campaign.get(id=campaign.id)).status == CampaignStatus.SENDING

        await _until(started)
        runtime.extras["scheduler"].poke()  # a sweep on demand, as after creating a campaign
    finally:
        await stop()


def test_sqlite_always_leads() -> None:
    assert Leadership("sqlite:///tmp/madeinla.sqlite3").is_leader


@pytest.mark.postgres
async def test_one_leader_on_postgres_and_the_other_takes_over(db: str) -> None:
    first, second = Leadership(db), Leadership(db)
    try:
        assert await first.hold()
        assert not await second.hold()
        assert await first.hold()  # still the leader on the next sweep
        await first.release()
        assert await second.hold()
        assert not await first.hold()
    finally:
        await first.release()
        await second.release()


@pytest.mark.postgres
async def test_leadership_is_lost_when_its_connection_dies(db: str) -> None:
    first, second = Leadership(db), Leadership(db)
    try:
        assert await first.hold()
        pid = first._conn.get_server_pid()  # type: ignore[union-attr]
        admin = await asyncpg.connect(db.split("?")[0].replace("postgres://", "postgresql://", 1))
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        assert await second.hold()  # the lock went with the connection
        assert not await first.hold()
        assert not first.is_leader
    finally:
        await first.release()
        await second.release()


@pytest.mark.postgres
async def test_two_schedulers_one_sweeps(runtime: Runtime) -> None:
    await person("ana@example.com")
    one = CampaignScheduler(schedule_options(runtime.settings), clock=lambda: NOW)
    two = CampaignScheduler(schedule_options(runtime.settings), clock=lambda: NOW)
    await one.start()
    await two.start()
    try:
        campaign = await _campaign(runtime, immediately=True)
        reports = [await one.tick(), await two.tick()]
        assert sum(r is not None for r in reports) == 1
        assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.SENDING
    finally:
        await one.stop()
        await two.stop()
