"""Rate limits per minute and per hour, kept in the database: they hold across restarts and
processes, never overspend, and leave room for transactional mail."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.settings import Settings
from outreach.models import Delivery, DeliveryState, SendCounter
from outreach.queue import enqueue_transactional
from outreach.ratelimit import SendBudget, windows_at
from subscribers.models import Status, Subscriber
from tests.mailserver import MailServer
from tests.outreach.sending import make_sender, people, started_campaign

T0 = dt.datetime(2026, 11, 22, 9, 5, 30, tzinfo=dt.UTC)


async def test_a_minute_limit_grants_what_is_left_and_says_when_to_come_back(db: str) -> None:
    budget = SendBudget(per_minute=5)
    first = await budget.reserve(3, now=T0, transactional=True)
    second = await budget.reserve(10, now=T0, transactional=True)
    third = await budget.reserve(1, now=T0, transactional=True)
    assert (first.count, second.count, third.count) == (3, 2, 0)
    assert third.retry_at == dt.datetime(2026, 11, 22, 9, 6, tzinfo=dt.UTC)
    assert (await budget.reserve(10, now=T0 + dt.timedelta(seconds=30), transactional=True)).count == 5
    assert (await SendCounter.get(window="m:2026-11-22T09:05")).sent == 5


async def test_both_windows_must_have_room(db: str) -> None:
    budget = SendBudget(per_minute=100, per_hour=7)
    assert (await budget.reserve(5, now=T0, transactional=True)).count == 5
    later = T0 + dt.timedelta(minutes=10)
    short = await budget.reserve(5, now=later, transactional=True)
    assert short.count == 2
    empty = await budget.reserve(5, now=later, transactional=True)
    assert empty.count == 0 and empty.retry_at == dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    next_hour = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    assert (await budget.reserve(5, now=next_hour, transactional=True)).count == 5


async def test_bulk_mail_leaves_a_tenth_for_transactional_mail(db: str) -> None:
    budget = SendBudget(per_minute=20)
    assert (await budget.reserve(50, now=T0, transactional=False)).count == 18
    assert (await budget.reserve(50, now=T0, transactional=False)).count == 0
    assert (await budget.reserve(50, now=T0, transactional=True)).count == 2


async def test_unused_budget_is_given_back(db: str) -> None:
    budget = SendBudget(per_minute=10, per_hour=100)
    reservation = await budget.reserve(10, now=T0, transactional=True)
    await budget.give_back(reservation, 4)
    minute, hour = windows_at(T0)
    assert (await SendCounter.get(window=minute)).sent == 6
    assert (await SendCounter.get(window=hour)).sent == 6
    assert (await budget.reserve(10, now=T0, transactional=True)).count == 4


async def test_no_limits_means_no_counting(db: str) -> None:
    budget = SendBudget()
    assert (await budget.reserve(500, now=T0, transactional=False)).count == 500
    assert await SendCounter.all().count() == 0


async def test_old_windows_are_forgotten(db: str) -> None:
    await SendCounter.create(window="m:2026-11-19T09:05", sent=3)
    await SendCounter.create(window="h:2026-11-19T09", sent=3)
    await SendCounter.create(window="h:2026-11-21T09", sent=3)
    await SendBudget(per_hour=10).reserve(1, now=T0, transactional=True)
    assert sorted(await SendCounter.all().values_list("window", flat=True)) == [
        "h:2026-11-21T09",
        "h:2026-11-22T09",
    ]


@pytest.mark.postgres
async def test_concurrent_reservations_never_overspend(db: str) -> None:
    """Many reservations at once (separate connections on PostgreSQL) share exactly the limit."""
    budgets = [SendBudget(per_minute=25) for _ in range(10)]
    grants = await asyncio.gather(*(b.reserve(4, now=T0, transactional=True) for b in budgets))
    assert sum(g.count for g in grants) == 25
    assert (await SendCounter.get(window=windows_at(T0)[0])).sent == 25


async def test_the_limit_holds_across_a_restart(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """A new sender (as after a restart) sends nothing more until the next minute."""
    await people(12)
    await started_campaign(smtp_settings, now=T0 - dt.timedelta(minutes=1))
    limited = smtp_settings.model_copy(update={"send_rate_per_minute": 5})
    clock = [T0]
    first = make_sender(limited, clock=lambda: clock[0], worker_id="before-restart")
    try:
        await first.send_due()
        await first.send_due()
    finally:
        await first.transport.close()
    assert len(mail_server.received) == 5
    restarted = make_sender(limited, clock=lambda: clock[0], worker_id="after-restart")
    try:
        assert await restarted.send_due() == 0
        assert len(mail_server.received) == 5
        clock[0] = T0 + dt.timedelta(minutes=1)
        await restarted.send_due()
    finally:
        await restarted.transport.close()
    assert len(mail_server.received) == 10
    assert await Delivery.filter(state=DeliveryState.SENT).count() == 10
    assert await Delivery.filter(state=DeliveryState.QUEUED).count() == 2


async def test_transactional_mail_gets_through_when_a_campaign_used_its_share(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    await people(30)
    await started_campaign(smtp_settings, now=T0 - dt.timedelta(minutes=1))
    limited = smtp_settings.model_copy(update={"send_rate_per_minute": 20})
    sender = make_sender(limited, clock=lambda: T0)
    try:
        await sender.send_due()
        await sender.send_due()
        assert len(mail_server.received) == 18
        pending = await Subscriber.create(email="new@example.com", status=Status.PENDING)
        confirmation = await enqueue_transactional(
            address=pending.email, template="confirm", language="en", subscriber_id=pending.id
        )
        # Due on the sender's clock (it was queued on the real one, which may be past T0).
        await Delivery.filter(id=confirmation.id).update(next_attempt_at=T0)
        assert await sender.send_due() == 1
    finally:
        await sender.transport.close()
    assert mail_server.received[-1].rcpt_tos == ["new@example.com"]
    assert (await SendCounter.get(window=windows_at(T0)[0])).sent == 19


async def test_a_pass_that_claims_ahead_counts_only_what_it_sent(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """A pass claims batch after batch, each with its own reservation; what it claimed but didn't
    send (people who left) goes back to the budget, so the counter is what the relay saw."""
    everyone = await people(30)
    await started_campaign(smtp_settings, now=T0 - dt.timedelta(minutes=1))
    for left in everyone[5::6]:  # one in each batch of ten, and two in the last
        await Subscriber.filter(id=left.id).update(status=Status.UNSUBSCRIBED)
    limited = smtp_settings.model_copy(update={"send_rate_per_minute": 1000, "send_batch_size": 10})
    sender = make_sender(limited, clock=lambda: T0)
    try:
        assert await sender.send_due() == 30  # one pass, three claims
    finally:
        await sender.transport.close()
    assert len(mail_server.received) == 25
    assert (await SendCounter.get(window=windows_at(T0)[0])).sent == 25
