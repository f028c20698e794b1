"""`/madeinla campaigns`: upcoming and recent campaigns with their counts, and staff controls.

The rules (what can be paused, what resuming does) live in `outreach.campaigns`; this module only
words the answers.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.slack.mrkdwn import escape
from outreach import campaign_control
from outreach import campaigns as service
from outreach.models import Campaign, CampaignStatus
from subscribers.staff import slack_actor

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
SHOWN = 5  # per list: a chat reply, not a report (the CLI lists everything)


def when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "no time set"
    return moment.astimezone(LOS_ANGELES).strftime("%a %b %-d %Y, %-I:%M %p") + " LA time"


def describe(campaign: Campaign, counts: dict[str, int] | None = None) -> str:
    """`#12 pilot update (template pilot_news), paused: wrong list` and its counts, escaped."""
    kind = str(campaign.kind.value if hasattr(campaign.kind, "value") else campaign.kind).replace("_", " ")
    status = str(campaign.status.value if hasattr(campaign.status, "value") else campaign.status)
    text = f"#{campaign.id} {kind} (template {campaign.template}), {status}"
    if campaign.status == CampaignStatus.PAUSED and campaign.paused_reason:
        text += f": {campaign.paused_reason}"
    if campaign.cron:
        text += f", repeats ({campaign.cron})"
    if campaign.status == CampaignStatus.SCHEDULED:
        text += f", sends {when(campaign.send_at)}"
    elif campaign.finished_at is not None:
        text += f", ended {when(campaign.finished_at)}"
    elif campaign.started_at is not None:
        text += f", started {when(campaign.started_at)}"
    if counts and counts.get("total"):
        text += (
            f" · {counts['sent']} sent of {counts['total']}, {counts['failed']} failed, "
            f"{counts['suppressed']} not sent, {counts.get('bounced', 0)} bounced, "
            f"{counts.get('complained', 0)} complained"
        )
    return escape(text)


async def upcoming_campaigns(limit: int) -> list[Campaign]:
    """Waiting to send, soonest first (a recurring campaign shows its next occurrence)."""
    return await Campaign.filter(status=CampaignStatus.SCHEDULED).order_by("send_at", "id").limit(limit)


async def recent_campaigns(limit: int) -> list[Campaign]:
    """Started (sending, paused, finished, cancelled mid-way), latest start first."""
    return await Campaign.filter(started_at__isnull=False).order_by("-started_at", "-id").limit(limit)


async def campaigns_text() -> str:
    upcoming = await upcoming_campaigns(SHOWN)
    recent = await recent_campaigns(SHOWN)
    if not upcoming and not recent:
        return "No campaigns yet. Staff create them with `madeinla campaigns create` on the server."
    lines = ["*Upcoming campaigns*"]
    lines += [f"• {describe(item)}" for item in upcoming] or ["• none scheduled"]
    lines += ["", "*Recent campaigns*"]
    for item in recent:
        lines.append(f"• {describe(item, await service.campaign_counts(item.id))}")
    if not recent:
        lines.append("• none sent yet")
    return "\n".join(lines)


async def status_lines() -> list[str]:
    """The next scheduled and the last sent campaign, for `/madeinla status` (already escaped)."""
    upcoming = await upcoming_campaigns(1)
    recent = await recent_campaigns(1)
    lines = [f"Next: {describe(upcoming[0])}" if upcoming else "Next: none scheduled"]
    if recent:
        lines.append(f"Last: {describe(recent[0], await service.campaign_counts(recent[0].id))}")
    else:
        lines.append("Last: none sent yet")
    return lines


async def pause(campaign_id: int, *, reason: str, actor: str) -> str:
    campaign = await Campaign.get_or_none(id=campaign_id)
    if campaign is None:
        return f"There is no campaign #{campaign_id}. `/madeinla campaigns` lists them."
    who = await slack_actor(actor.removeprefix("slack:"))
    if await campaign_control.pause(campaign_id, reason=reason or "paused from Slack", actor=who):
        await campaign.refresh_from_db()
        return f"Paused {describe(campaign)}. Nothing more is sent until someone resumes it."
    return (
        f"Campaign #{campaign_id} is {campaign.status.value}, so there is nothing to pause "
        "(only scheduled or sending campaigns can be paused)."
    )


async def resume(campaign_id: int, *, actor: str) -> str:
    campaign = await Campaign.get_or_none(id=campaign_id)
    if campaign is None:
        return f"There is no campaign #{campaign_id}. `/madeinla campaigns` lists them."
    if await campaign_control.resume(campaign_id, actor=await slack_actor(actor.removeprefix("slack:"))):
        await campaign.refresh_from_db()
        return f"Resumed {describe(campaign)}. Nothing already sent is sent again."
    return f"Campaign #{campaign_id} is {campaign.status.value}, not paused, so there is nothing to resume."
