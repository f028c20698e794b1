"""The approval rules in `outreach.campaigns`, which the console, the CLI and Slack all use."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from outreach import campaigns as service
from outreach.models import Campaign, CampaignStatus
from subscribers.staff_audit import Actor
from subscribers.staff_models import ActionSource, StaffRole
from tests.console.support import make_staff
from tests.outreach.people import person

NOW = dt.datetime(2026, 11, 16, 17, 0, tzinfo=dt.UTC)


@pytest.fixture
async def runtime(db: str, settings: Settings) -> AsyncIterator[Runtime]:
    parts = build_runtime(settings)
    yield parts
    await parts.transport.close()


async def _actors() -> tuple[Actor, Actor]:
    author = await make_staff("author@lacounty.gov", StaffRole.SENDER)
    approver = await make_staff("approver@lacounty.gov", StaffRole.APPROVER)
    return Actor.of_staff(author, ActionSource.CONSOLE), Actor.of_staff(approver, ActionSource.CONSOLE)


def _plan(**when: object) -> service.CampaignPlan:
    return service.CampaignPlan(
        name="Update",
        kind="pilot_update",
        template="pilot_update",
        audience="language=en",
        **when,  # type: ignore[arg-type]
    )


async def _submitted(runtime: Runtime, author: Actor, now: dt.datetime = NOW, **when: object) -> Campaign:
    draft = await service.save_draft(_plan(**when), builder=runtime.builder, actor=author, now=now)
    return await service.submit_campaign(
        draft.id, builder=runtime.builder, actor=author, approval_threshold=0, now=now
    )


def test_the_threshold() -> None:
    assert not service.needs_approval(50, 50)
    assert service.needs_approval(51, 50)
    assert service.needs_approval(0, 0)  # 0: every campaign


async def test_now_goes_when_approved_and_a_recurring_one_at_its_next_time(runtime: Runtime) -> None:
    author, approver = await _actors()
    await person("ana@example.com")
    now_campaign = await _submitted(runtime, author, immediately=True)
    assert now_campaign.status == CampaignStatus.AWAITING_APPROVAL and now_campaign.send_at is None
    later = NOW + dt.timedelta(hours=3)
    approved = await service.approve_campaign(now_campaign.id, actor=approver, now=later)
    assert approved.status == CampaignStatus.SCHEDULED and approved.send_at == later

    monthly = await _submitted(runtime, author, cron="0 9 * * 2#1")
    approved = await service.approve_campaign(monthly.id, actor=approver, now=NOW)
    assert approved.send_at == dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)


async def test_a_send_time_that_passed_while_waiting_cannot_be_approved(runtime: Runtime) -> None:
    author, approver = await _actors()
    campaign = await _submitted(runtime, author, send_at="2026-11-16T10:00")
    with pytest.raises(service.CampaignError, match="which has passed: change its send time"):
        await service.approve_campaign(campaign.id, actor=approver, now=NOW + dt.timedelta(hours=2))
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.AWAITING_APPROVAL


async def test_saving_the_same_plan_keeps_the_approval_and_a_change_does_not(runtime: Runtime) -> None:
    author, approver = await _actors()
    campaign = await _submitted(runtime, author, send_at="2026-12-01T09:00")
    await service.approve_campaign(campaign.id, actor=approver, now=NOW)
    same = await service.save_draft(
        _plan(send_at="2026-12-01T09:00"),
        builder=runtime.builder,
        actor=author,
        campaign_id=campaign.id,
        now=NOW,
    )
    assert same.status == CampaignStatus.SCHEDULED and same.approved_by == "approver@lacounty.gov"
    changed = await service.save_draft(
        _plan(send_at="2026-12-01T10:00"),
        builder=runtime.builder,
        actor=author,
        campaign_id=campaign.id,
        now=NOW,
    )
    assert changed.status == CampaignStatus.DRAFT and changed.approved_by == "" and changed.submitted_by == ""
    # The approver changed it: now they can't approve it either.
    await service.save_draft(
        _plan(send_at="2026-12-01T11:00"),
        builder=runtime.builder,
        actor=approver,
        campaign_id=campaign.id,
        now=NOW,
    )
    await service.submit_campaign(
        campaign.id, builder=runtime.builder, actor=author, approval_threshold=0, now=NOW
    )
    with pytest.raises(service.CampaignRefused, match="someone else must approve it"):
        await service.approve_campaign(campaign.id, actor=approver, now=NOW)


async def test_who_may_approve(runtime: Runtime) -> None:
    author, approver = await _actors()
    campaign = await _submitted(runtime, author, send_at="2026-12-01T09:00")
    for stranger in (Actor.cli_user(), Actor.slack_user("U123")):
        with pytest.raises(service.CampaignRefused, match="needs a staff account with the approver role"):
            await service.approve_campaign(campaign.id, actor=stranger, now=NOW)
    with pytest.raises(service.CampaignInvalid, match="say why"):
        await service.reject_campaign(campaign.id, actor=approver, reason="  ")
    started = await Campaign.create(name="x", kind="pilot_update", template="pilot_update", status="sending")
    with pytest.raises(service.CampaignError, match="only a draft, or one not yet started, can be changed"):
        await service.save_draft(
            _plan(immediately=True), builder=runtime.builder, actor=author, campaign_id=started.id
        )
