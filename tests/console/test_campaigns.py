"""Watching a campaign in the console: counts, pause/resume/cancel with a reason (audited),
recipients by state, paged, and exported."""

from __future__ import annotations

import csv
import datetime as dt
import io

from outreach.models import Campaign, CampaignKind, CampaignStatus, Delivery, DeliveryState
from subscribers.staff_models import StaffAction
from tests.console.conftest import SignedInClient
from tests.console.support import post_form
from tests.outreach.people import person


async def sending_campaign(size: int = 60) -> Campaign:
    campaign = await Campaign.create(
        kind=CampaignKind.PILOT_UPDATE,
        template="pilot_update",
        status=CampaignStatus.SENDING,
        started_at=dt.datetime.now(dt.UTC),
    )
    for i in range(size):
        p = await person(f"r{i:02d}@example.com")
        state = DeliveryState.SENT if i < size // 2 else DeliveryState.FAILED
        await Delivery.create(
            campaign=campaign,
            subscriber=p,
            address=p.email,
            template="pilot_update",
            state=state,
            last_reply="250 2.0.0 Ok" if state == DeliveryState.SENT else "550 5.1.1 No such user",
            next_attempt_at=p.created_at,
        )
    return campaign


async def test_watch_pause_resume_cancel(signed_in: SignedInClient) -> None:
    campaign = await sending_campaign()
    viewer = await signed_in("v@lacounty.gov", "viewer")
    listing = await viewer.get("/staff/campaigns")
    assert f"/staff/campaigns/{campaign.id}" in listing.text
    page = await viewer.get(f"/staff/campaigns/{campaign.id}")
    assert page.status_code == 200 and "r00@example.com" in page.text and "Pause" not in page.text
    counts = await viewer.get(f"/staff/campaigns/{campaign.id}?part=counts", headers={"HX-Request": "true"})
    assert "<html" not in counts.text, counts.text[:300]
    assert ">30<" in counts.text and "every 2s" in counts.text, counts.text[-700:]

    sender = await signed_in("s@lacounty.gov", "sender")
    url = f"/staff/campaigns/{campaign.id}"
    refused = await post_form(sender, url, f"{url}/pause", {"reason": ""})
    assert (
        refused.status_code == 303 and (await Campaign.get(id=campaign.id)).status == CampaignStatus.SENDING
    )
    assert (await post_form(sender, url, f"{url}/pause", {"reason": "wrong date"})).status_code == 303
    paused = await Campaign.get(id=campaign.id)
    assert paused.status == CampaignStatus.PAUSED and paused.paused_reason == "wrong date"
    assert (await post_form(sender, url, f"{url}/resume", {})).status_code == 303
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.SENDING
    assert (await post_form(sender, url, f"{url}/cancel", {"reason": "sent by mistake"})).status_code == 303
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.CANCELLED
    logged = [
        (a.action, a.actor, a.detail)
        for a in await StaffAction.filter(campaign_id=campaign.id).order_by("id")
    ]
    assert logged == [
        ("campaign.pause", "s@lacounty.gov", "wrong date"),
        ("campaign.resume", "s@lacounty.gov", ""),
        ("campaign.cancel", "s@lacounty.gov", "sent by mistake"),
    ]
    again = await post_form(sender, url, f"{url}/resume", {})
    assert (
        again.status_code == 303 and "could+not+be" not in again.headers["location"]
    )  # the notice is signed
    follow = await sender.get(again.headers["location"])
    assert "could not be resumed" in follow.text


async def test_recipients_by_state_pages_and_export(signed_in: SignedInClient) -> None:
    campaign = await sending_campaign(120)
    editor = await signed_in("e@lacounty.gov", "editor")
    first = await editor.get(f"/staff/campaigns/{campaign.id}?state=sent")
    assert "r00@example.com" in first.text and "r59@example.com" not in first.text
    assert "r60@example.com" not in first.text  # failed ones are filtered out
    next_path = first.text.split('href="/staff/campaigns/')[1]
    assert "after=" in next_path
    exported = await editor.get(f"/staff/campaigns/{campaign.id}/recipients.csv?state=sent")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len(rows) == 60 and {row["state"] for row in rows} == {"sent"}
    assert rows[0]["server_reply"] == "250 2.0.0 Ok"
    assert await StaffAction.filter(action="campaign.export", campaign_id=campaign.id).exists()
