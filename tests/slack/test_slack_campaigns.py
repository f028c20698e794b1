"""`/madeinla campaigns`: the list with counts, and pause/resume for staff only."""

from __future__ import annotations

import datetime as dt

from outreach.models import Campaign, CampaignKind, CampaignStatus, Delivery, DeliveryState
from subscribers.models import AuditEvent
from tests.slack.conftest import MEMBER, STAFF, SignedSlack

NOW = dt.datetime.now(dt.UTC)


async def sending_campaign(**fields) -> Campaign:
    campaign = await Campaign.create(
        kind=CampaignKind.PILOT_UPDATE,
        template="pilot_update",
        status=CampaignStatus.SENDING,
        started_at=NOW - dt.timedelta(minutes=5),
        **fields,
    )
    for index, state in enumerate([DeliveryState.SENT] * 3 + [DeliveryState.QUEUED, DeliveryState.FAILED]):
        await Delivery.create(
            campaign=campaign,
            address=f"p{index}@x.example",
            template="pilot_update",
            state=state,
            next_attempt_at=NOW,
        )
    return campaign


async def test_campaigns_lists_upcoming_and_recent_with_counts(slack: SignedSlack):
    meeting = await Campaign.create(
        kind=CampaignKind.WORKING_GROUP_NOTICE,
        template="meeting",
        send_at=dt.datetime(2030, 3, 4, 17, 0, tzinfo=dt.UTC),
        cron="0 9 * * 1",
    )
    update = await sending_campaign()
    text = await slack.reply("campaigns")
    upcoming, _, recent = text.partition("*Recent campaigns*")
    assert (
        f"#{meeting.id} working group notice (template meeting), scheduled, repeats (0 9 * * 1)" in upcoming
    )
    assert "sends Mon Mar 4 2030, 9:00 AM LA time" in upcoming
    assert f"#{update.id} pilot update (template pilot_update), sending, started " in recent
    assert "3 sent of 5, 1 failed, 0 not sent" in recent


async def test_no_campaigns_yet(slack: SignedSlack):
    assert (await slack.reply("campaigns")).startswith("No campaigns yet.")


async def test_staff_pause_and_resume(slack: SignedSlack):
    campaign = await sending_campaign()
    text = await slack.reply(f"campaigns pause {campaign.id} wrong audience <!here>", user=STAFF)
    assert text.startswith(f"Paused #{campaign.id} pilot update")
    assert "wrong audience &lt;!here&gt;" in text
    await campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    assert campaign.paused_reason == "wrong audience <!here>"
    event = await AuditEvent.get(action=f"campaign:{campaign.id}")
    assert (event.old_value, event.new_value, event.actor) == ("sending", "paused", f"slack:{STAFF}")

    assert "nothing to pause" in await slack.reply(f"campaigns pause {campaign.id}", user=STAFF)
    text = await slack.reply(f"campaigns resume #{campaign.id}", user=STAFF)
    assert text.startswith(f"Resumed #{campaign.id}")
    await campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING
    assert "nothing to resume" in await slack.reply(f"campaigns resume {campaign.id}", user=STAFF)
    # The staff audit log names the Slack user (their staff account once it is linked).
    from subscribers.staff_models import StaffAction, StaffMember, StaffRole

    logged = await StaffAction.filter(campaign_id=campaign.id).order_by("id")
    assert [(a.action, a.actor, a.source.value) for a in logged] == [
        ("campaign.pause", f"slack:{STAFF}", "slack"),
        ("campaign.resume", f"slack:{STAFF}", "slack"),
    ]
    await StaffMember.create(email="rosa@lacounty.gov", role=StaffRole.SENDER, slack_user_id=STAFF)
    await slack.reply(f"campaigns pause {campaign.id}", user=STAFF)
    last = await StaffAction.filter(campaign_id=campaign.id).order_by("-id").first()
    assert last is not None and (last.actor, last.source.value) == ("rosa@lacounty.gov", "slack")


async def test_others_cannot_pause_or_resume(slack: SignedSlack):
    campaign = await sending_campaign()
    assert await slack.reply(f"campaigns pause {campaign.id}", user=MEMBER) == (
        "Sorry, only DEO staff can pause or resume campaigns."
    )
    await campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING
    await Campaign.filter(id=campaign.id).update(status=CampaignStatus.PAUSED)
    assert "only DEO staff" in await slack.reply(f"campaigns resume {campaign.id}", user=MEMBER)
    await campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    assert await AuditEvent.filter(action=f"campaign:{campaign.id}").count() == 0


async def test_campaign_mistakes_get_help(slack: SignedSlack):
    assert "There is no campaign #99" in await slack.reply("campaigns pause 99", user=STAFF)
    for text in ("campaigns pause", "campaigns pause twelve", "campaigns stop 3", "campaigns resume 3 now"):
        reply = await slack.reply(text, user=STAFF)
        assert reply.startswith(":warning:"), text
        assert "/madeinla campaigns" in reply


async def test_campaigns_reply_counts_bounced_and_complained(slack: SignedSlack):
    """What came back later (outreach.bounces) is in the counts staff see in Slack."""
    update = await sending_campaign()
    sent = await Delivery.filter(campaign=update, state=DeliveryState.SENT).order_by("id")
    await Delivery.filter(id=sent[0].id).update(state=DeliveryState.BOUNCED, bounce_type="hard")
    await Delivery.filter(id=sent[1].id).update(complained_at=NOW)
    text = await slack.reply("campaigns")
    assert "2 sent of 5, 1 failed, 0 not sent, 1 bounced, 1 complained" in text
