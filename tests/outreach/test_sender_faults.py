"""The sender against a misbehaving mail server (aiosmtpd with injected faults): exact outcomes.

Every test ends by checking what each person got: exactly one message for everyone who should get
mail, nothing for anyone who shouldn't, and nothing left queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pydantic import SecretStr

from bot.settings import Settings
from outreach.campaigns import complete_finished_campaigns, resume_campaign
from outreach.models import Campaign, CampaignStatus, Delivery, DeliveryState
from outreach.queue import enqueue_transactional, utcnow
from subscribers.addresses import email_hash
from subscribers.models import Status, Subscriber, Suppression
from tests.mailserver import MailServer, RecordingHandler, free_port
from tests.outreach.sending import make_sender, people, send_until_settled, started_campaign, unfinished


def exactly_once(server: MailServer | RecordingHandler, addresses: set[str]) -> None:
    handler = server.handler if isinstance(server, MailServer) else server
    counts = handler.count_by_recipient()
    assert set(counts) == addresses
    assert set(counts.values()) == {1}, {a: n for a, n in counts.items() if n != 1}


async def campaign_to(settings: Settings, count: int) -> tuple[Campaign, set[str]]:
    subscribers = await people(count)
    return await started_campaign(settings), {s.email for s in subscribers}


async def test_421_at_rcpt_reconnects_and_retries(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    campaign, everyone = await campaign_to(smtp_settings, 10)
    mail_server.handler.faults.rcpt_reply = "421 4.7.0 Too busy, closing"
    mail_server.handler.faults.rcpt_reply_count = 5
    sender = make_sender(smtp_settings)
    try:
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    exactly_once(mail_server, everyone)
    rows = await Delivery.filter(campaign_id=campaign.id)
    assert sum(row.attempts for row in rows) == 15
    assert {row.state for row in rows} == {DeliveryState.SENT}


async def test_451_for_a_while_then_accepted(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    campaign, everyone = await campaign_to(smtp_settings, 10)
    mail_server.handler.faults.rcpt_reply = "451 4.3.0 Try again later"
    mail_server.handler.faults.rcpt_reply_count = 25
    sender = make_sender(smtp_settings)
    try:
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    exactly_once(mail_server, everyone)
    rows = await Delivery.filter(campaign_id=campaign.id)
    assert sum(row.attempts for row in rows) == 35
    assert all(row.last_reply.startswith("250") for row in rows)


async def test_452_at_data_is_retried(db: str, smtp_settings: Settings, mail_server: MailServer) -> None:
    campaign, everyone = await campaign_to(smtp_settings, 8)
    mail_server.handler.faults.data_reply = "452 4.3.1 Insufficient system storage"
    sender = make_sender(smtp_settings)
    try:
        await sender.send_due()
        rows = await Delivery.filter(campaign_id=campaign.id)
        assert {row.state for row in rows} == {DeliveryState.DEFERRED}
        assert all(row.last_reply.startswith("452") for row in rows)
        assert mail_server.received == []
        mail_server.handler.faults.data_reply = None
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    exactly_once(mail_server, everyone)


async def test_550_fails_and_suppresses_only_the_refused_addresses(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    campaign, everyone = await campaign_to(smtp_settings, 10)
    refused = {"p2@example.com", "p5@example.com", "p7@example.com"}
    for address in refused:
        mail_server.handler.faults.refuse[address] = "550 5.1.1 No such user"
    sender = make_sender(smtp_settings)
    try:
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    exactly_once(mail_server, everyone - refused)
    for row in await Delivery.filter(campaign_id=campaign.id):
        subscriber = await Subscriber.get(id=row.subscriber_id)
        if row.address in refused:
            assert row.state == DeliveryState.FAILED and row.last_reply.startswith("550")
            assert subscriber.status == Status.BOUNCED
            assert await Suppression.filter(email_hash=email_hash(row.address), reason="bounced").exists()
        else:
            assert row.state == DeliveryState.SENT and subscriber.status == Status.ACTIVE
    assert await complete_finished_campaigns(utcnow()) == [campaign.id]


async def test_dropped_connections_lose_nothing_and_send_nothing_twice(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """The server hangs up after every 4th message's content without answering: those are retried."""
    campaign, everyone = await campaign_to(smtp_settings, 24)
    mail_server.handler.faults.drop_every = 4
    sender = make_sender(smtp_settings)
    try:
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    exactly_once(mail_server, everyone)
    rows = await Delivery.filter(campaign_id=campaign.id)
    assert {row.state for row in rows} == {DeliveryState.SENT}
    assert sum(row.attempts for row in rows) > 24  # the dropped ones went twice (or more)


async def test_a_server_that_is_down_defers_everything_then_delivers_once_it_is_up(
    db: str, smtp_settings: Settings
) -> None:
    server = MailServer()  # not started yet: connections are refused
    # A hold-off of 1-2 s (not the suite's 25-50 ms): the second pass must come inside it even when
    # a busy machine takes a while between the two.
    settings = smtp_settings.model_copy(
        update={
            "smtp_host": server.host,
            "smtp_port": server.port,
            "send_batch_size": 8,
            "retry_base_seconds": 2.0,
        }
    )
    campaign, everyone = await campaign_to(settings, 12)
    sender = make_sender(settings)
    try:
        assert await sender.send_due() == 8
        deferred = await Delivery.filter(campaign_id=campaign.id, state=DeliveryState.DEFERRED)
        assert {row.attempts for row in deferred} == {1} and len(deferred) == 8
        assert all("connection problem" in row.last_reply for row in deferred)
        # The other 4 are still queued, but the sender holds off instead of trying them at once.
        assert await sender.send_due() == 0
        assert await Delivery.filter(campaign_id=campaign.id, state=DeliveryState.QUEUED).count() == 4
        with server:
            await send_until_settled(sender)
            exactly_once(server, everyone)
    finally:
        await sender.transport.close()


async def test_a_421_greeting_defers_the_batch_without_trying_every_message(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """A server that says "421 not now" as it answers is unavailable: one try per connection."""
    connections = 0

    async def busy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.write(b"421 4.3.2 System not accepting network messages\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(busy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = smtp_settings.model_copy(update={"smtp_port": port, "send_batch_size": 50})
    campaign, everyone = await campaign_to(settings, 30)
    sender = make_sender(settings)
    try:
        assert await sender.send_due() == 30
    finally:
        await sender.transport.close()
        server.close()
        await server.wait_closed()
    assert 1 <= connections <= settings.smtp_pool_size
    rows = await Delivery.filter(campaign_id=campaign.id)
    assert {(row.state, row.attempts) for row in rows} == {(DeliveryState.DEFERRED, 1)}
    assert all("421" in row.last_reply for row in rows)

    sender = make_sender(smtp_settings)  # the real server at last
    try:
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    exactly_once(mail_server, everyone)


@contextlib.contextmanager
def authenticating_server(password: str):  # type: ignore[no-untyped-def]
    """aiosmtpd requiring AUTH; `handled=False` makes a failure answer 535 instead of hanging."""

    def check(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        return AuthResult(success=auth_data.password == password.encode(), handled=False)

    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=check,
        auth_require_tls=False,
        auth_required=True,
        ready_timeout=10,
    )
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # plaintext is fine on loopback
async def test_an_authentication_failure_pauses_campaigns_and_holds_transactional_mail(
    db: str, smtp_settings: Settings
) -> None:
    with authenticating_server("right") as (handler, port):
        wrong = smtp_settings.model_copy(
            update={"smtp_port": port, "smtp_username": "madeinla", "smtp_password": SecretStr("wrong")}
        )
        campaign, everyone = await campaign_to(wrong, 6)
        pending = await Subscriber.create(email="new@example.com", status=Status.PENDING)
        confirmation = await enqueue_transactional(
            address=pending.email, template="confirm", language="en", subscriber_id=pending.id
        )
        sender = make_sender(wrong)
        try:
            await sender.send_due()
        finally:
            await sender.transport.close()
        assert handler.received == []
        paused = await Campaign.get(id=campaign.id)
        assert paused.status == CampaignStatus.PAUSED
        assert "authentication failed" in paused.paused_reason and "535" in paused.paused_reason
        rows = await Delivery.filter(campaign_id=campaign.id)
        assert {row.attempts for row in rows} == {0}  # no attempt spent on our own mistake
        assert {row.state for row in rows} <= {DeliveryState.QUEUED, DeliveryState.DEFERRED}
        held = await Delivery.get(id=confirmation.id)
        assert (held.state, held.attempts) == (DeliveryState.DEFERRED, 0)  # waiting, no attempt spent
        assert "535" in held.last_reply

        right = wrong.model_copy(update={"smtp_password": SecretStr("right")})
        assert await resume_campaign(campaign.id, actor="test")
        sender = make_sender(right)
        try:
            await send_until_settled(sender)
        finally:
            await sender.transport.close()
        exactly_once(handler, everyone | {"new@example.com"})


async def test_a_campaign_with_too_many_failures_pauses_itself(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    settings = smtp_settings.model_copy(
        update={"failure_pause_ratio": 0.10, "failure_pause_min_attempts": 10, "send_batch_size": 20}
    )
    campaign, everyone = await campaign_to(settings, 60)
    refused = {f"p{i}@example.com" for i in range(0, 60, 3)}  # a third of the list
    for address in refused:
        mail_server.handler.faults.refuse[address] = "550 5.1.1 No such user"
    sender = make_sender(settings)
    try:
        for _ in range(10):
            await sender.send_due()
    finally:
        await sender.transport.close()
    paused = await Campaign.get(id=campaign.id)
    assert paused.status == CampaignStatus.PAUSED
    assert paused.paused_reason.startswith("failure rate ")
    assert "over the 10% threshold" in paused.paused_reason
    sent = await Delivery.filter(campaign_id=campaign.id, state=DeliveryState.SENT).count()
    failed = await Delivery.filter(campaign_id=campaign.id, state=DeliveryState.FAILED).count()
    assert 10 <= sent + failed < 60
    assert (
        await Delivery.filter(campaign_id=campaign.id, state=DeliveryState.QUEUED).count()
        == 60 - sent - failed
    )
    assert len(mail_server.received) == sent
    assert everyone


async def test_temporary_failures_give_up_after_retry_for_hours(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    campaign, _ = await campaign_to(smtp_settings, 2)
    mail_server.handler.faults.rcpt_reply = "451 4.3.0 Try again later"
    now = utcnow()
    clock = [now]
    sender = make_sender(smtp_settings, clock=lambda: clock[0])
    try:
        assert await sender.send_due() == 2
        clock[0] = now + dt.timedelta(hours=71, minutes=59)
        assert await sender.send_due() == 2
        rows = await Delivery.filter(campaign_id=campaign.id)
        assert {row.state for row in rows} == {DeliveryState.DEFERRED}
        give_up = max(row.created_at for row in rows) + dt.timedelta(hours=72)
        assert all(row.next_attempt_at <= give_up for row in rows)  # the last try is at the deadline
        clock[0] = now + dt.timedelta(hours=72, minutes=1)
        assert await sender.send_due() == 2
    finally:
        await sender.transport.close()
    rows = await Delivery.filter(campaign_id=campaign.id)
    assert {row.state for row in rows} == {DeliveryState.FAILED}
    assert all(row.last_reply.startswith("gave up after 72 hours: 451") for row in rows)
    assert all(row.attempts == 3 for row in rows)
    assert await Subscriber.filter(status=Status.BOUNCED).count() == 0  # not a bounce
    assert await unfinished() == 0
    assert mail_server.received == []


@pytest.fixture
async def pipelining_server() -> AsyncIterator[MailServer]:
    """aiosmtpd advertising PIPELINING (it handles pipelined commands; it just doesn't say so)."""
    server = MailServer()

    async def handle_EHLO(smtp, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    server.handler.handle_EHLO = handle_EHLO  # type: ignore[attr-defined]
    with server:
        yield server


async def test_faults_on_a_pipelining_server(
    db: str, smtp_settings: Settings, pipelining_server: MailServer
) -> None:
    """The same exact outcomes when MAIL, RCPT and DATA travel in one write."""
    settings = smtp_settings.model_copy(update={"smtp_port": pipelining_server.port})
    campaign, everyone = await campaign_to(settings, 20)
    faults = pipelining_server.handler.faults
    faults.refuse["p3@example.com"] = "550 5.1.1 No such user"
    faults.rcpt_reply, faults.rcpt_reply_count = "451 4.3.0 Later", 4
    faults.drop_every = 6
    sender = make_sender(settings)
    try:
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    exactly_once(pipelining_server, everyone - {"p3@example.com"})
    failed = await Delivery.get(campaign_id=campaign.id, address="p3@example.com")
    assert failed.state == DeliveryState.FAILED


async def test_relay_access_denied_pauses_instead_of_bouncing_the_list(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """A relay that won't take mail for other domains refuses every recipient with a 5xx; that is
    our configuration, not the people: nobody is bounced, and the reason names no address."""
    campaign, everyone = await campaign_to(smtp_settings, 5)
    for address in everyone:
        mail_server.handler.faults.refuse[address] = f"554 5.7.1 <{address}>: Relay access denied"
    sender = make_sender(smtp_settings)
    try:
        await sender.send_due()
    finally:
        await sender.transport.close()
    paused = await Campaign.get(id=campaign.id)
    assert paused.status == CampaignStatus.PAUSED
    assert "Relay access denied" in paused.paused_reason and "@" not in paused.paused_reason
    assert await Subscriber.filter(status=Status.BOUNCED).count() == 0
    assert await Suppression.all().count() == 0
    assert await Delivery.filter(campaign_id=campaign.id, state=DeliveryState.FAILED).count() == 0
    assert {row.attempts for row in await Delivery.filter(campaign_id=campaign.id)} == {0}
