"""PostgreSQL: writers that overlap still leave the counters as a recount gives them. Each test
holds one side's transaction open, starts the other, checks that it waits, then commits."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from tortoise.transactions import in_transaction

from outreach.campaigns import _write_deliveries
from outreach.metrics.models import Tally, TallyChange
from outreach.metrics.profiles import screen_waiting_profiles
from outreach.metrics.tally import recount
from outreach.models import Campaign, CampaignKind, CampaignStatus, Delivery, DeliveryState
from subscribers.models import AuditEvent, BusinessProfile, Role, Status, Subscriber
from tests.metrics.dataset import TODAY, at

pytestmark = pytest.mark.postgres
WAIT = 0.3  # long enough for the second writer to reach its lock


async def _counters() -> dict[tuple[str, int, str], int]:
    found: dict[tuple[str, int, str], int] = {}
    for model in (Tally, TallyChange):
        for figure, scope, key, n in await model.all().values_list("figure", "scope", "key", "n"):
            found[(figure, scope, key)] = found.get((figure, scope, key), 0) + n
    return {k: n for k, n in found.items() if n}


async def _agrees_with_a_recount() -> bool:
    kept = await _counters()
    await recount()
    return await _counters() == kept


async def _campaign(started: dt.datetime) -> Campaign:
    return await Campaign.create(kind=CampaignKind.PILOT_UPDATE, template="t", subject="s",
                                 status=CampaignStatus.SENDING, send_at=started, started_at=started,
                                 audience_resolved_at=started)  # fmt: skip


async def _held_open(work, release: asyncio.Event, ready: asyncio.Event) -> None:  # type: ignore[no-untyped-def]
    async with in_transaction():
        await work()
        ready.set()
        await release.wait()


async def _overlap(first, second) -> None:  # type: ignore[no-untyped-def]
    """`first` writes and stays uncommitted; `second` must wait for it, then both commit."""
    ready, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_held_open(first, release, ready))
    await ready.wait()
    waiting = asyncio.create_task(second())
    await asyncio.sleep(WAIT)
    assert not waiting.done(), "the second writer did not wait for the first"
    release.set()
    await holder
    await asyncio.wait_for(waiting, 10)


async def test_a_role_change_waits_for_a_sender_writing_their_message(db: str) -> None:
    person = await Subscriber.create(email="p@example.com", role=Role.MANUFACTURER, status=Status.ACTIVE)
    campaign = await _campaign(at(11, 1))
    await Delivery.create(campaign=campaign, subscriber_id=person.id, address=person.email, template="t",
                          language="en", state=DeliveryState.SENDING, next_attempt_at=at(11, 1))  # fmt: skip

    async def sender() -> None:
        await Delivery.filter(campaign_id=campaign.id).update(state=DeliveryState.SENT)

    async def staff() -> None:
        await Subscriber.filter(id=person.id).update(role=Role.OTHER)

    await _overlap(sender, staff)

    assert await _agrees_with_a_recount()
    assert ("delivery", campaign.id, "sent|en|other|0|0") in await _counters()


async def test_screening_waits_for_a_confirmation_being_written(db: str) -> None:
    person = await Subscriber.create(email="m@example.com", role=Role.MANUFACTURER, status=Status.PENDING)
    await BusinessProfile.create(subscriber=person, products="Aprons")

    async def confirmation() -> None:
        await Subscriber.filter(id=person.id).update(status=Status.ACTIVE)

    async def screening() -> None:
        await screen_waiting_profiles(TODAY)

    await _overlap(confirmation, screening)

    assert await _agrees_with_a_recount()
    assert ("fact", 0, "product|aprons") in await _counters()


async def test_an_audience_waits_for_an_unsubscribe_being_written(db: str) -> None:
    person = await Subscriber.create(email="p@example.com", role=Role.MANUFACTURER, status=Status.ACTIVE)
    campaign = await _campaign(at(11, 1))

    async def unsubscribe() -> None:
        await Subscriber.filter(id=person.id).update(status=Status.UNSUBSCRIBED)
        await AuditEvent.create(subscriber_id=person.id, action="status", old_value="active",
                                new_value="unsubscribed", actor="form", at=at(11, 2))  # fmt: skip

    async def audience() -> None:
        await _write_deliveries(campaign, [person.id], at(11, 1))

    await _overlap(unsubscribe, audience)

    assert await _agrees_with_a_recount()
    assert ("unsubscribed_7d", campaign.id, "") in await _counters()
