"""Posts to SLACK_NOTIFY_CHANNEL: campaign notices as they happen, and a daily digest.

Notices arrive from `outreach.notices` while a campaign is being started or paused; the listener
only queues them, and one task posts them in order, so a slow or broken Slack never holds up a
campaign. The digest counts new sign-ups by role and lists the day's campaign activity: numbers
and campaign ids only, never names or addresses (the channel is wider than the staff list).
Failures are logged, never raised. With several `madeinla serve` processes on PostgreSQL, only the
one holding the digest's advisory lock posts it (`outreach.scheduling.Leadership`), so the channel
gets one digest a day, and another process takes over if that one stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from tortoise.functions import Count

from bot.slack.campaigns import describe
from bot.slack.mrkdwn import escape
from bot.slack.status import ROLE_NAMES
from outreach.models import Campaign, CampaignStatus
from outreach.notices import CampaignNotice, NoticeKind
from outreach.scheduling import Leadership
from subscribers.models import Status, Subscriber

log = logging.getLogger(__name__)

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
DIGEST_AT = dt.time(8, 0)  # Los Angeles time, before the working day
DIGEST_LOCK_KEY = 0x4D4C415302  # pg_try_advisory_lock key ("MLAS" + 2; the scheduler's is + 1)
MAX_QUEUED_NOTICES = 200
SHOWN = 10

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], Awaitable[None]]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def next_digest_time(now: dt.datetime, at: dt.time = DIGEST_AT) -> dt.datetime:
    """The next `at` o'clock in Los Angeles strictly after `now` (DST-aware), in UTC."""
    local = now.astimezone(LOS_ANGELES)
    candidate = dt.datetime.combine(local.date(), at, tzinfo=LOS_ANGELES)
    if candidate <= local:
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), at, tzinfo=LOS_ANGELES)
    return candidate.astimezone(dt.UTC)


async def digest_text(since: dt.datetime, until: dt.datetime) -> str | None:
    """What happened in [since, until), or None when nothing did."""
    rows = (
        await Subscriber.filter(created_at__gte=since, created_at__lt=until)
        .annotate(count=Count("id"))
        .group_by("role", "status")
        .values_list("role", "status", "count")
    )
    new: dict[str, int] = {}
    confirmed = 0
    for role, status, count in rows:
        new[str(role)] = new.get(str(role), 0) + int(count)
        confirmed += int(count) if str(status) == Status.ACTIVE.value else 0
    started = await Campaign.filter(started_at__gte=since, started_at__lt=until).order_by("id").limit(SHOWN)
    finished = (
        await Campaign.filter(finished_at__gte=since, finished_at__lt=until).order_by("id").limit(SHOWN)
    )
    paused = await Campaign.filter(status=CampaignStatus.PAUSED).order_by("id").limit(SHOWN)
    if not (new or started or finished or paused):
        return None
    day = until.astimezone(LOS_ANGELES).strftime("%A %B %-d")
    lines = [f"*Made in LA daily digest, {day}*"]
    total = sum(new.values())
    if total:
        by_role = ", ".join(f"{ROLE_NAMES.get(role, role)} {count}" for role, count in sorted(new.items()))
        lines.append(f"New sign-ups: {total} ({by_role}); {confirmed} confirmed so far.")
    else:
        lines.append("No new sign-ups.")
    for title, campaigns in (("Started", started), ("Finished", finished), ("Paused now", paused)):
        lines += [f"{title}: {describe(campaign)}" for campaign in campaigns]
    return "\n".join(lines)


class Notifier:
    """Owns the notify channel: a queue of notices and the daily digest, each in its own task."""

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        *,
        clock: Clock = utcnow,
        sleep: Sleep = asyncio.sleep,
        digest_at: dt.time = DIGEST_AT,
        leadership: Leadership | None = None,
    ) -> None:
        self.client = client
        self.leadership = leadership  # None: this process is the only one posting
        self.channel = channel
        self.clock = clock
        self.sleep = sleep
        self.digest_at = digest_at
        self.last_digest_at: dt.datetime | None = None
        self._notices: asyncio.Queue[CampaignNotice] = asyncio.Queue(MAX_QUEUED_NOTICES)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._post_notices(), name="slack-notices"),
            asyncio.create_task(self.run_daily(), name="slack-digest"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self.leadership is not None:
            await self.leadership.release()

    async def on_notice(self, notice: CampaignNotice) -> None:
        """The `outreach.notices` listener: queue and return at once."""
        if notice.kind is NoticeKind.APPROVAL_REQUESTED:
            return  # bot.slack.approvals posts it, with the Approve and Reject buttons
        try:
            self._notices.put_nowait(notice)
        except asyncio.QueueFull:
            log.warning("notify channel backlog full; dropped the notice for campaign %s", notice.campaign_id)

    async def _post_notices(self) -> None:
        while True:
            notice = await self._notices.get()
            await self.post(f":mega: {escape(notice.summary())}")

    async def post_digest(self) -> bool:
        """Post what happened since the last digest (or the last day). True if something was posted."""
        now = self.clock()
        since = self.last_digest_at or now - dt.timedelta(days=1)
        try:
            text = await digest_text(since, now)
        except Exception:  # a database hiccup skips one digest; the next one covers the gap
            log.exception("could not build the Slack digest")
            return False
        self.last_digest_at = now
        return await self.post(text) if text else False

    async def run_daily(self) -> None:
        while True:
            due = next_digest_time(self.clock(), self.digest_at)
            await self.sleep(max(0.0, (due - self.clock()).total_seconds()))
            if self.leadership is None or await self.leadership.hold():
                await self.post_digest()

    async def post(self, text: str) -> bool:
        try:
            await self.client.chat_postMessage(channel=self.channel, text=text, unfurl_links=False)
        except Exception as error:  # Slack down, bad channel, network: log it, never stop the caller
            log.warning("could not post to the notify channel: %s", _reason(error))
            return False
        return True


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError) and isinstance(error.response.data, dict):
        return str(error.response.data.get("error", "unknown error"))
    return type(error).__name__
