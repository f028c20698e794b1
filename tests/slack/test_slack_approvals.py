"""Approving campaigns from Slack: the request in the notify channel with Approve and Reject
buttons, which work for linked approvers and are refused, privately, for everyone else.

Signed `block_actions` go into the real Slack handler; the fake Slack Web API records the posts."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from tortoise.contrib.test import truncate_all_models

from bot.app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from bot.slack.approvals import APPROVE, REJECT
from outreach import campaigns as service
from outreach.models import Campaign, CampaignStatus
from subscribers import staff as accounts
from subscribers.staff_models import ActionSource, StaffAction, StaffRole
from tests.conftest import ON_POSTGRES
from tests.console.support import TEST_ACTOR, make_staff
from tests.outreach.people import person
from tests.slack.conftest import MEMBER, STAFF, SignedSlack
from tests.slack.fakeslack import FakeSlack

APPROVER_SLACK = "UAPPROVER"
AUTHOR_SLACK = "UAUTHOR"


@pytest.fixture
async def notifying_app(slack_settings: Settings) -> AsyncIterator[Starlette]:
    settings = slack_settings.model_copy(update={"slack_notify_channel": "CNOTIFY", "approval_threshold": 0})
    application = create_app(settings, run_sender=False, run_scheduler=False)
    async with application.router.lifespan_context(application):
        if ON_POSTGRES:
            await truncate_all_models()
        yield application


@pytest.fixture
async def slack_in(notifying_app: Starlette, fake_slack: FakeSlack) -> AsyncIterator[SignedSlack]:
    transport = httpx.ASGITransport(app=notifying_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield SignedSlack(http, fake_slack)


async def press(
    slack: SignedSlack, action: str, campaign_id: int | str, *, user: str, hook: str
) -> httpx.Response:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "lacounty"},
        "user": {"id": user, "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "13345224609.738474920.8088930838d88f008e2",
        "channel": {"id": "CNOTIFY", "name": "made-in-la-staff"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "CNOTIFY"},
        "message": {"type": "message", "ts": "1700000000.000100", "text": "needs approval"},
        "response_url": slack.fake.response_url(hook),
        "actions": [
            {
                "type": "button",
                "action_id": action,
                "block_id": f"approval-{campaign_id}",
                "value": str(campaign_id),
                "action_ts": "1700000001.000200",
            }
        ],
    }
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    return await slack.post(body, slack.headers(body))


async def _submitted(app: Starlette) -> Campaign:
    runtime: Runtime = app.state.runtime
    await person("ana@example.com")
    author = await make_staff("author@lacounty.gov", StaffRole.APPROVER)  # may approve, not their own
    await accounts.link_slack_user(author.email, AUTHOR_SLACK, actor=TEST_ACTOR)
    draft = await service.save_draft(
        service.CampaignPlan(
            name="January pilot update",
            kind="pilot_update",
            template="pilot_update",
            audience="language=en",
            send_at="2099-01-12T09:00",
        ),
        builder=runtime.builder,
        actor=service.Actor.of_staff(author, ActionSource.CONSOLE),
    )
    return await service.submit_campaign(
        draft.id,
        builder=runtime.builder,
        actor=service.Actor.of_staff(author, ActionSource.CONSOLE),
        approval_threshold=0,
    )


async def _answer(fake: FakeSlack, hook: str) -> dict[str, Any]:
    calls = await fake.wait_for(lambda: fake.calls_to(f"response_url:{hook}"))
    return calls[-1]


async def test_the_request_is_posted_with_buttons_and_only_a_linked_approver_can_use_them(
    notifying_app: Starlette, slack_in: SignedSlack, fake_slack: FakeSlack
) -> None:
    campaign = await _submitted(notifying_app)
    assert campaign.status == CampaignStatus.AWAITING_APPROVAL
    (posted,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postMessage"))
    assert posted["channel"] == "CNOTIFY"
    blocks = posted["blocks"] if isinstance(posted["blocks"], list) else json.loads(posted["blocks"])
    assert "January pilot update" in blocks[0]["text"]["text"] and "1 people" in blocks[0]["text"]["text"]
    assert [b["action_id"] for b in blocks[1]["elements"]] == [APPROVE, REJECT]
    assert f"/staff/campaigns/{campaign.id}" in blocks[0]["text"]["text"]

    # Not linked to a staff account: refused, privately.
    assert (await press(slack_in, APPROVE, campaign.id, user=MEMBER, hook="member")).status_code == 200
    answer = await _answer(fake_slack, "member")
    assert answer["response_type"] == "ephemeral" and "not linked to a staff account" in answer["text"]
    # Linked, but a viewer; then the author themself.
    viewer = await make_staff("viewer@lacounty.gov", StaffRole.VIEWER)
    await accounts.link_slack_user(viewer.email, STAFF, actor=TEST_ACTOR)
    await press(slack_in, APPROVE, campaign.id, user=STAFF, hook="viewer")
    assert "approving needs the approver role" in (await _answer(fake_slack, "viewer"))["text"].lower()
    await press(slack_in, APPROVE, campaign.id, user=AUTHOR_SLACK, hook="author")
    assert "someone else must approve it" in (await _answer(fake_slack, "author"))["text"]
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.AWAITING_APPROVAL

    approver = await make_staff("approver@lacounty.gov", StaffRole.APPROVER)
    await accounts.link_slack_user(approver.email, APPROVER_SLACK, actor=TEST_ACTOR)
    await press(slack_in, APPROVE, campaign.id, user=APPROVER_SLACK, hook="approver")
    answer = await _answer(fake_slack, "approver")
    assert answer["replace_original"] is True and "Approved by approver@lacounty.gov" in answer["text"]
    campaign = await Campaign.get(id=campaign.id)
    assert campaign.status == CampaignStatus.SCHEDULED and campaign.approved_by == approver.email
    approval = await StaffAction.get(campaign_id=campaign.id, action="campaign.approve")
    assert approval.source == ActionSource.SLACK and approval.staff_id == approver.id


async def test_reject_sends_it_back_and_a_forged_press_is_refused(
    notifying_app: Starlette, slack_in: SignedSlack, fake_slack: FakeSlack
) -> None:
    campaign = await _submitted(notifying_app)
    approver = await make_staff("approver@lacounty.gov", StaffRole.APPROVER)
    await accounts.link_slack_user(approver.email, APPROVER_SLACK, actor=TEST_ACTOR)
    forged = SignedSlack(slack_in.http, fake_slack, secret="not-the-signing-secret-000000000")
    assert (await press(forged, APPROVE, campaign.id, user=APPROVER_SLACK, hook="forged")).status_code == 401
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.AWAITING_APPROVAL

    await press(slack_in, REJECT, campaign.id, user=APPROVER_SLACK, hook="reject")
    assert "Sent back to draft" in (await _answer(fake_slack, "reject"))["text"]
    campaign = await Campaign.get(id=campaign.id)
    assert campaign.status == CampaignStatus.DRAFT and "sent back from Slack" in campaign.approval_note
    await press(slack_in, APPROVE, "notanumber", user=APPROVER_SLACK, hook="bad")
    assert "names no campaign" in (await _answer(fake_slack, "bad"))["text"]
