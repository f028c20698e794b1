"""outreach.campaign_control: the one pause, resume and cancel every face calls, with its audit."""

from __future__ import annotations

from outreach import campaign_control
from outreach.models import Campaign, CampaignKind, CampaignStatus
from subscribers.models import AuditEvent
from subscribers.staff_audit import Actor
from subscribers.staff_models import ActionSource, StaffAction

ROSA = Actor(source=ActionSource.CONSOLE, label="rosa@lacounty.gov")


async def _sending() -> Campaign:
    return await Campaign.create(
        kind=CampaignKind.PILOT_UPDATE, template="pilot_update", status=CampaignStatus.SENDING
    )


async def test_pause_resume_cancel_change_the_campaign_and_say_who_did_it(db: str) -> None:
    campaign = await _sending()
    assert await campaign_control.pause(campaign.id, reason="wrong date", actor=ROSA)
    assert await campaign_control.resume(campaign.id, actor=ROSA)
    assert await campaign_control.cancel(campaign.id, reason="not needed", actor=ROSA)
    await campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    logged = await StaffAction.filter(campaign_id=campaign.id).order_by("id")
    assert [(a.action, a.actor, a.detail) for a in logged] == [
        ("campaign.pause", "rosa@lacounty.gov", "wrong date"),
        ("campaign.resume", "rosa@lacounty.gov", ""),
        ("campaign.cancel", "rosa@lacounty.gov", "not needed"),
    ]
    trail = await AuditEvent.filter(action=f"campaign:{campaign.id}").order_by("id")
    assert [(e.new_value, e.actor) for e in trail] == [
        ("paused", "rosa@lacounty.gov"),
        ("scheduled", "rosa@lacounty.gov"),  # it had not started: back to waiting for its time
        ("cancelled", "rosa@lacounty.gov"),
    ]


async def test_what_could_not_be_done_is_not_in_the_staff_log(db: str) -> None:
    campaign = await _sending()
    assert not await campaign_control.resume(campaign.id, actor=ROSA)  # not paused
    assert not await campaign_control.pause(99_999, reason="x", actor=ROSA)  # no such campaign
    assert not await StaffAction.exists()
