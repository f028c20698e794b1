"""Approving campaigns from Slack: the request posted to SLACK_NOTIFY_CHANNEL with Approve and
Reject buttons, and what happens when someone presses one.

A button works only for a person whose Slack user is linked to an active staff account
(`madeinla staff link-slack EMAIL U012AB3CD`); whether that account may approve (the approver
role, and not their own campaign) is decided by `outreach.campaigns`, the same rule the console and
the CLI use. Everyone else is told why, privately, and nothing changes. Bolt has checked the
request's signature before any of this runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from bot.slack.mrkdwn import escape
from outreach import campaigns as service
from outreach import notices
from outreach.models import Campaign
from outreach.notices import CampaignNotice, NoticeKind
from outreach.timing import la_time
from subscribers.staff import slack_actor

log = logging.getLogger(__name__)

APPROVE = "campaign_approve"
REJECT = "campaign_reject"
WORK_SECONDS = 2.4  # Slack waits 3 s for the acknowledgement
POST_SECONDS = 5.0


def request_blocks(notice: CampaignNotice, console_url: str) -> list[dict[str, Any]]:
    """The approval request: what, to how many, who asked, and the two buttons."""
    name = escape(notice.name or f"Campaign {notice.campaign_id}")
    size = notice.counts.get("total", 0)
    kind = escape(notice.campaign_kind.replace("_", " "))
    text = (
        f":inbox_tray: *{name}* (campaign {notice.campaign_id}, {kind}) "
        f"goes to *{size} people* and needs a second person with the approver role.\n"
        f"Submitted {escape(notice.detail)}. <{console_url}|Read it in the staff console> before approving."
    )
    value = str(notice.campaign_id)
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "block_id": f"approval-{value}",
            "elements": [
                {
                    "type": "button",
                    "action_id": APPROVE,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": value,
                },
                {
                    "type": "button",
                    "action_id": REJECT,
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Reject"},
                    "value": value,
                },
            ],
        },
    ]


class ApprovalRequests:
    """The `outreach.notices` listener that posts approval requests to the notify channel."""

    def __init__(self, client: AsyncWebClient, channel: str, base_url: str) -> None:
        self.client = client
        self.channel = channel
        self.base_url = base_url
        self._tasks: set[asyncio.Task[bool]] = set()

    async def on_notice(self, notice: CampaignNotice) -> None:
        """Return at once: the post runs in a task we keep (a slow Slack must not hold up a submit)."""
        if notice.kind is not NoticeKind.APPROVAL_REQUESTED:
            return
        task = asyncio.get_running_loop().create_task(self.post(notice), name="slack-approval-request")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def post(self, notice: CampaignNotice) -> bool:
        url = f"{self.base_url}/staff/campaigns/{notice.campaign_id}"
        try:
            async with asyncio.timeout(POST_SECONDS):
                await self.client.chat_postMessage(
                    channel=self.channel,
                    text=f"Campaign {notice.campaign_id} needs approval",
                    blocks=request_blocks(notice, url),
                    unfurl_links=False,
                )
        except (SlackApiError, SlackClientError, TimeoutError, OSError) as exc:
            log.warning(
                "could not post the approval request for campaign %s: %s",
                notice.campaign_id,
                type(exc).__name__,
            )
            return False
        return True

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=POST_SECONDS + 1)


async def decide(user_id: str, campaign_text: str, *, approve: bool) -> tuple[bool, str]:
    """Approve or reject for the Slack user `user_id`. Returns (done, what to tell them)."""
    if not campaign_text.isdigit() or len(campaign_text) > 9:
        return False, "That button names no campaign. Nothing was changed."
    campaign_id = int(campaign_text)
    actor = await slack_actor(user_id)
    if actor.staff_id is None:
        return False, (
            "Your Slack user is not linked to a staff account, so Slack can't tell whether you may "
            "approve campaigns. Nothing was changed. An admin links it with "
            "`madeinla staff link-slack YOUR@EMAIL YOUR_SLACK_ID`."
        )
    try:
        if approve:
            campaign = await service.approve_campaign(campaign_id, actor=actor)
            when = _when(campaign)
            return True, f"Approved by {escape(actor.label)}: campaign {campaign_id} is scheduled ({when})."
        await service.reject_campaign(
            campaign_id, actor=actor, reason=f"sent back from Slack by {actor.label}"
        )
        return True, f"Sent back to draft by {escape(actor.label)}: campaign {campaign_id} needs changes."
    except service.CampaignError as exc:
        return False, f"{escape(str(exc)[:1].upper() + str(exc)[1:])}. Nothing was changed."


def _when(campaign: Campaign) -> str:
    return "recurring" if campaign.cron else f"starts {la_time(campaign.send_at)}"


@contextlib.asynccontextmanager
async def approval_requests_posted(settings: Settings) -> AsyncIterator[None]:
    """In a process that doesn't run the Slack bot (the CLI): post the approval requests made
    inside the block to the notify channel, if Slack is configured, before leaving it."""
    from bot.slack.app import build_web_client  # here: bot.slack.app imports this module

    if not (settings.slack_notify_channel and settings.slack_bot_token.get_secret_value()):
        yield
        return
    client = build_web_client(settings)
    requests = ApprovalRequests(client, settings.slack_notify_channel, settings.public_base_url)
    forget = notices.subscribe(requests.on_notice)
    try:
        yield
    finally:
        forget()
        await requests.close()


def register_approvals(bolt: AsyncApp) -> None:
    """The Approve and Reject buttons. Register before any catch-all action listener."""

    async def on_button(ack: Any, body: dict[str, Any], respond: Any, approve: bool) -> None:
        await ack()
        user_id = str(body.get("user", {}).get("id", ""))
        actions = body.get("actions") or [{}]
        try:
            async with asyncio.timeout(WORK_SECONDS):
                done, text = await decide(user_id, str(actions[0].get("value", "")), approve=approve)
        except TimeoutError:
            done, text = False, "That took too long; nothing was changed. Try again."
        if done:  # everyone in the channel sees the outcome in place of the buttons
            await respond(text=text, replace_original=True, response_type="in_channel")
        else:
            await respond(text=text, replace_original=False, response_type="ephemeral")

    @bolt.action(APPROVE)
    async def on_approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await on_button(ack, body, respond, approve=True)

    @bolt.action(REJECT)
    async def on_reject(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await on_button(ack, body, respond, approve=False)
