"""The notify channel: campaign notices as they happen and the daily digest, on an injected clock."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import create_app
from bot.settings import Settings
from bot.slack.digest import DIGEST_LOCK_KEY, Notifier, digest_text, next_digest_time
from outreach.models import Campaign, CampaignKind, CampaignStatus
from outreach.scheduling import Leadership
from subscribers.models import Role, Status, Subscriber
from tests.slack.conftest import STAFF, SignedSlack
from tests.slack.fakeslack import BOT_TOKEN, FakeSlack

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        ("2026-11-22T07:59:00-08:00", "2026-11-22T08:00:00-08:00"),
        ("2026-11-22T08:00:00-08:00", "2026-11-23T08:00:00-08:00"),
        ("2026-03-07T09:00:00-08:00", "2026-03-08T08:00:00-07:00"),  # clocks go forward overnight
        ("2026-10-31T23:00:00-07:00", "2026-11-01T08:00:00-08:00"),  # and back
    ],
)
def test_next_digest_time_is_eight_in_los_angeles(now, due):
    assert next_digest_time(at(now)) == at(due)


async def test_digest_counts_sign_ups_and_lists_campaign_activity(db):
    now = dt.datetime.now(UTC)
    await Subscriber.create(email="a@x.example", role=Role.MANUFACTURER, status=Status.ACTIVE)
    await Subscriber.create(email="b@x.example", role=Role.MANUFACTURER, status=Status.PENDING)
    await Subscriber.create(email="c@x.example", role=Role.WORKING_GROUP, status=Status.ACTIVE)
    old = await Subscriber.create(email="d@x.example", role=Role.OTHER, status=Status.ACTIVE)
    await Subscriber.filter(id=old.id).update(created_at=now - dt.timedelta(days=3))
    campaign = await Campaign.create(
        kind=CampaignKind.PILOT_UPDATE,
        template="pilot_update",
        status=CampaignStatus.PAUSED,
        paused_reason="too many failures",
        started_at=now - dt.timedelta(hours=2),
    )
    text = await digest_text(now - dt.timedelta(days=1), now + dt.timedelta(seconds=1))
    assert text is not None
    assert "New sign-ups: 3 (manufacturers 2, working group 1); 2 confirmed so far." in text
    assert f"Started: #{campaign.id} pilot update (template pilot_update), paused: too many failures" in text
    assert f"Paused now: #{campaign.id}" in text
    assert "@x.example" not in text


async def test_quiet_day_posts_nothing(db):
    now = dt.datetime.now(UTC)
    assert await digest_text(now - dt.timedelta(days=1), now) is None


async def test_notifier_posts_the_digest_on_its_clock(db, fake_slack: FakeSlack):
    times = [dt.datetime.now(UTC) + dt.timedelta(minutes=1)]
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    notifier = Notifier(client, "CNOTIFY", clock=lambda: times[-1])
    await Subscriber.create(email="a@x.example", role=Role.WORKING_GROUP, status=Status.ACTIVE)
    assert await notifier.post_digest() is True
    (posted,) = fake_slack.calls_to("chat.postMessage")
    assert posted["channel"] == "CNOTIFY"
    assert "New sign-ups: 1 (working group 1)" in posted["text"]
    # The next digest starts where this one ended: the same sign-up is not counted again.
    times.append(times[-1] + dt.timedelta(days=1))
    assert await notifier.post_digest() is False
    assert notifier.last_digest_at == times[-1]


async def test_daily_loop_sleeps_until_eight_then_posts(db, fake_slack: FakeSlack):
    now = [at("2026-11-22T06:30:00-08:00")]
    slept: list[float] = []
    posted = asyncio.Event()

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += dt.timedelta(seconds=seconds)
        if len(slept) > 1:
            posted.set()
            await asyncio.Event().wait()  # park the loop; the test cancels it

    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    notifier = Notifier(client, "CNOTIFY", clock=lambda: now[0], sleep=sleep)
    await Campaign.create(kind=CampaignKind.PILOT_UPDATE, template="t", status=CampaignStatus.PAUSED)
    task = asyncio.create_task(notifier.run_daily())
    try:
        await asyncio.wait_for(posted.wait(), 5)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert slept == [90 * 60, 24 * 3600]
    (message,) = fake_slack.calls_to("chat.postMessage")
    assert "daily digest, Sunday November 22" in message["text"]


async def test_failed_post_is_logged_not_raised(db, fake_slack: FakeSlack):
    fake_slack.fail("chat.postMessage", "channel_not_found")
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    assert await Notifier(client, "CGONE").post("hello") is False


async def test_campaign_notices_reach_the_channel(slack_settings: Settings, fake_slack: FakeSlack):
    settings = slack_settings.model_copy(update={"slack_notify_channel": "CNOTIFY"})
    application = create_app(settings, run_sender=False, run_scheduler=False)
    async with application.router.lifespan_context(application):
        campaign = await Campaign.create(
            kind=CampaignKind.PILOT_UPDATE, template="pilot_update", status=CampaignStatus.SENDING
        )
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await SignedSlack(http, fake_slack).reply(
                f"campaigns pause {campaign.id} <!channel> check", user=STAFF
            )
        (posted,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postMessage"))
    assert posted["channel"] == "CNOTIFY"
    assert f"Campaign {campaign.id} (pilot_update, template pilot_update) paused" in posted["text"]
    assert "&lt;!channel&gt; check (by slack:USTAFF)" in posted["text"]


async def test_notice_when_slack_is_down_does_not_stop_the_pause(
    slack_settings: Settings, fake_slack: FakeSlack
):
    fake_slack.fail("chat.postMessage", "service_unavailable")
    settings = slack_settings.model_copy(update={"slack_notify_channel": "CNOTIFY"})
    application = create_app(settings, run_sender=False, run_scheduler=False)
    async with application.router.lifespan_context(application):
        campaign = await Campaign.create(
            kind=CampaignKind.PILOT_UPDATE, template="pilot_update", status=CampaignStatus.SENDING
        )
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            text = await SignedSlack(http, fake_slack).reply(f"campaigns pause {campaign.id}", user=STAFF)
        await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postMessage"))
        await campaign.refresh_from_db()
    assert text.startswith("Paused")
    assert campaign.status == CampaignStatus.PAUSED


async def _one_day_of(notifier: Notifier) -> None:
    """Run the daily loop until its first digest attempt is done, then stop it."""
    attempts = 0
    attempted = asyncio.Event()

    async def sleep(seconds: float) -> None:
        nonlocal attempts
        attempts += 1
        if attempts > 1:  # the first digest attempt is over: park until cancelled
            attempted.set()
            await asyncio.Event().wait()

    notifier.sleep = sleep
    task = asyncio.create_task(notifier.run_daily())
    try:
        await asyncio.wait_for(attempted.wait(), 10)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@pytest.mark.postgres
async def test_several_processes_post_one_digest_and_another_takes_over(db, fake_slack: FakeSlack):
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    await Campaign.create(kind=CampaignKind.PILOT_UPDATE, template="t", status=CampaignStatus.PAUSED)
    first, second = (
        Notifier(client, "CNOTIFY", leadership=Leadership(db, key=DIGEST_LOCK_KEY, job="the digest"))
        for _ in range(2)
    )
    try:
        await _one_day_of(first)
        await _one_day_of(second)  # same day, another process: it must not post again
        assert len(fake_slack.calls_to("chat.postMessage")) == 1
        await first.stop()  # the posting process goes away: the next day, the other one posts
        await _one_day_of(second)
        assert len(fake_slack.calls_to("chat.postMessage")) == 2
    finally:
        await first.stop()
        await second.stop()


async def test_on_sqlite_the_one_process_posts_the_digest(db, fake_slack: FakeSlack):
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    await Campaign.create(kind=CampaignKind.PILOT_UPDATE, template="t", status=CampaignStatus.PAUSED)
    notifier = Notifier(client, "CNOTIFY", leadership=Leadership(db, key=DIGEST_LOCK_KEY, job="the digest"))
    await _one_day_of(notifier)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    await notifier.stop()
