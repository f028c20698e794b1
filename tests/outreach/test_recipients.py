"""A campaign's recipients list: state filter and keyset pages that see each row once."""

from __future__ import annotations

from outreach.models import Campaign, CampaignKind, Delivery, DeliveryState
from outreach.recipients import campaign_recipients
from tests.outreach.people import person


async def test_pages_and_state_filter(db: str) -> None:
    campaign = await Campaign.create(kind=CampaignKind.PILOT_UPDATE, template="pilot_update")
    other = await Campaign.create(kind=CampaignKind.PILOT_UPDATE, template="pilot_update")
    for i in range(7):
        p = await person(f"r{i}@example.com")
        state = DeliveryState.SENT if i % 2 == 0 else DeliveryState.DEFERRED
        await Delivery.create(
            campaign=campaign,
            subscriber=p,
            address=p.email,
            template="pilot_update",
            state=state,
            last_reply=f"reply {i}",
            next_attempt_at=p.created_at,
        )
        await Delivery.create(
            campaign=other,
            subscriber=p,
            address=p.email,
            template="pilot_update",
            next_attempt_at=p.created_at,
        )
    seen, after = [], 0
    while True:
        page = await campaign_recipients(campaign.id, after=after, limit=3)
        seen += [r.address for r in page.recipients]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == [f"r{i}@example.com" for i in range(7)]
    sent = await campaign_recipients(campaign.id, state=DeliveryState.SENT)
    assert [r.last_reply for r in sent.recipients] == ["reply 0", "reply 2", "reply 4", "reply 6"]
    assert sent.next_after is None and {r.state for r in sent.recipients} == {"sent"}
