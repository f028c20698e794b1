"""The sender delivers queued mail through the real SMTP path (aiosmtpd) and records the answer."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.runtime import build_runtime
from bot.settings import Settings
from outreach.campaigns import complete_finished_campaigns, pause_campaign, resume_campaign
from outreach.mailer import OutgoingMessage, SendResult, SmtpTransport
from outreach.models import Campaign, CampaignStatus, Delivery, DeliveryState
from outreach.queue import (
    DeliveryUpdate,
    claim_due_deliveries,
    enqueue_transactional,
    record_results,
    utcnow,
)
from subscribers.addresses import email_hash
from subscribers.models import Status, Subscriber, Suppression
from subscribers.registry import change_status, suppress
from subscribers.tokens import LinkSigner, Purpose
from tests.mailserver import MailServer
from tests.outreach.people import person
from tests.outreach.sending import make_sender, people, send_until_settled, started_campaign

# Transactional mail -------------------------------------------------------------------------------


async def test_confirmation_is_sent_and_recorded(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """A queued confirmation reaches the server once, multipart, with a working confirm link."""
    person_ = await Subscriber.create(email="ana@example.com", name="Ana", status=Status.PENDING)
    delivery = await enqueue_transactional(
        address=person_.email, template="confirm", language="es", subscriber_id=person_.id
    )
    runtime = build_runtime(smtp_settings)
    try:
        assert await runtime.sender.send_due() == 1
        assert await runtime.sender.send_due() == 0
    finally:
        await runtime.transport.close()
    [received] = mail_server.received
    message = received.message
    assert received.rcpt_tos == ["ana@example.com"]
    assert message.get_content_type() == "multipart/alternative"
    assert "List-Unsubscribe" not in message  # a confirmation is not list mail
    text = message.get_body(("plain",)).get_content()
    assert "http://testserver/confirm/" in text
    row = await Delivery.get(id=delivery.id)
    assert row.state == DeliveryState.SENT
    assert row.attempts == 1
    assert row.message_id == message["Message-ID"] == runtime.builder.delivery_message_id(delivery.id)
    assert "accepted" in row.last_reply.lower()
    assert row.sent_at is not None


async def test_temporary_failure_is_deferred_then_sent(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """A 451 defers the delivery with a retry time; the next pass after it sends it."""
    person_ = await Subscriber.create(email="bo@example.com", status=Status.PENDING)
    delivery = await enqueue_transactional(
        address=person_.email, template="confirm", language="en", subscriber_id=person_.id
    )
    mail_server.handler.faults.rcpt_reply = "451 4.3.0 Try again later"
    sender = make_sender(smtp_settings)
    try:
        await sender.send_due()
        row = await Delivery.get(id=delivery.id)
        assert row.state == DeliveryState.DEFERRED
        assert row.last_reply.startswith("451")
        assert row.next_attempt_at > row.created_at
        mail_server.handler.faults.rcpt_reply = None
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    row = await Delivery.get(id=delivery.id)
    assert row.state == DeliveryState.SENT
    assert row.attempts == 2
    assert len(mail_server.received) == 1


async def test_permanent_failure_fails_and_suppresses(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """A 550 fails the delivery and marks the person bounced, so nothing more is sent to them."""
    person_ = await Subscriber.create(email="gone@example.com", status=Status.PENDING)
    delivery = await enqueue_transactional(
        address=person_.email, template="confirm", language="en", subscriber_id=person_.id
    )
    mail_server.handler.faults.refuse["gone@example.com"] = "550 5.1.1 No such user"
    sender = make_sender(smtp_settings)
    try:
        await sender.send_due()
    finally:
        await sender.transport.close()
    row = await Delivery.get(id=delivery.id)
    assert row.state == DeliveryState.FAILED
    assert row.last_reply.startswith("550")
    assert (await Subscriber.get(id=person_.id)).status == Status.BOUNCED
    assert await Suppression.filter(email_hash=email_hash("gone@example.com"), reason="bounced").exists()


# Campaigns ----------------------------------------------------------------------------------------


async def test_a_campaign_reaches_everyone_once_with_list_headers_and_footer(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """Every person gets exactly one multipart message in their language, with one-click
    unsubscribe headers carrying their own signed token, the reason and our postal address."""
    await people(12, prefix="en", language="en", name="Ana María")
    await people(8, prefix="es", language="es", organization="Café & Co")
    campaign = await started_campaign(smtp_settings)
    sender = make_sender(smtp_settings)
    try:
        await send_until_settled(sender)
    finally:
        await sender.transport.close()

    counts = mail_server.handler.count_by_recipient()
    assert len(counts) == 20 and set(counts.values()) == {1}
    signer = LinkSigner(smtp_settings.secret())
    message_ids = set()
    for received in mail_server.received:
        message = received.message
        [address] = received.rcpt_tos
        subscriber = await Subscriber.get(email=address)
        assert message.get_content_type() == "multipart/alternative"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = message["List-Unsubscribe"].strip().strip("<>")
        assert link.startswith("http://testserver/unsubscribe/")
        assert signer.unsign(Purpose.MANAGE, link.rsplit("/", 1)[1]) == subscriber.id
        assert message["Content-Language"] == subscriber.language.value
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert smtp_settings.postal_address in text and smtp_settings.postal_address in html
        assert link in text and link in html
        assert ("Hola" in text) == (subscriber.language.value == "es")
        message_ids.add(message["Message-ID"])
    assert len(message_ids) == 20

    rows = await Delivery.filter(campaign_id=campaign.id)
    assert {row.state for row in rows} == {DeliveryState.SENT}
    assert {row.message_id for row in rows} == message_ids
    assert await complete_finished_campaigns(utcnow()) == [campaign.id]


async def test_people_who_left_after_the_start_are_skipped(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """Unsubscribed, bounced, erased and suppression-listed people in the audience get nothing."""
    staying = await person("stays@example.com")
    leaving = await person("leaves@example.com")
    bouncing = await person("bounces@example.com")
    erased = await person("erased@example.com")
    await person("listed@example.com")
    campaign = await started_campaign(smtp_settings)
    await change_status(leaving, Status.UNSUBSCRIBED, actor="test")
    await change_status(bouncing, Status.BOUNCED, actor="test")
    await Delivery.filter(subscriber_id=erased.id).update(address="")
    await erased.delete()
    await suppress("listed@example.com", "complained")
    sender = make_sender(smtp_settings)
    try:
        await send_until_settled(sender)
    finally:
        await sender.transport.close()

    assert [r.rcpt_tos for r in mail_server.received] == [["stays@example.com"]]
    rows = {row.address: row for row in await Delivery.filter(campaign_id=campaign.id)}
    assert rows["stays@example.com"].state == DeliveryState.SENT
    for address in ("leaves@example.com", "bounces@example.com", "", "listed@example.com"):
        assert rows[address].state == DeliveryState.SUPPRESSED, address
        assert rows[address].last_reply.startswith("not sent:")
    assert "unsubscribed" in rows["leaves@example.com"].last_reply
    assert "suppression list (complained)" in rows["listed@example.com"].last_reply
    assert staying.id


async def test_transactional_mail_goes_ahead_of_a_campaign(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """A confirmation queued after a big campaign started is sent in the very next pass, first."""
    await people(30)
    await started_campaign(smtp_settings)
    settings = smtp_settings.model_copy(update={"send_batch_size": 10})
    sender = make_sender(settings)
    try:
        assert await sender.send_due() == 10
        pending = await Subscriber.create(email="new@example.com", status=Status.PENDING)
        await enqueue_transactional(
            address=pending.email, template="confirm", language="en", subscriber_id=pending.id
        )
        assert await sender.send_due() == 10
    finally:
        await sender.transport.close()
    assert mail_server.received[10].rcpt_tos == ["new@example.com"]


async def test_a_campaign_paused_mid_pass_stops_and_resumes_where_it_was(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """Pausing takes effect within the pass; the rest stays queued and resume sends it once."""
    await people(40)
    campaign = await started_campaign(smtp_settings)

    class PausingTransport(SmtpTransport):
        sent = 0

        async def send(self, message: OutgoingMessage, **kwargs: object) -> SendResult:
            result = await super().send(message, **kwargs)  # type: ignore[arg-type]
            PausingTransport.sent += 1
            if PausingTransport.sent == 5:
                await pause_campaign(campaign.id, reason="staff asked", actor="test")
                await asyncio.sleep(0.8)  # the pass re-reads campaign statuses twice a second
            return result

    settings = smtp_settings.model_copy(update={"smtp_pool_size": 1})
    sender = make_sender(settings, transport=PausingTransport(settings))
    try:
        await sender.send_due()
        assert await sender.send_due() == 0  # nothing is claimed while paused
        sent_while_pausing = len(mail_server.received)
        assert 5 <= sent_while_pausing < 10
        queued = await Delivery.filter(campaign_id=campaign.id, state=DeliveryState.QUEUED).count()
        assert queued == 40 - sent_while_pausing
        assert await Delivery.filter(campaign_id=campaign.id, attempts__gt=1).count() == 0
        assert await resume_campaign(campaign.id, actor="test")
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    counts = mail_server.handler.count_by_recipient()
    assert len(counts) == 40 and set(counts.values()) == {1}


async def test_rows_left_sending_by_a_dead_process_are_taken_over_after_their_lease(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """A claim whose lease ran out is claimed again and sent; a live lease is left alone."""
    await people(6)
    now = utcnow()
    campaign = await started_campaign(smtp_settings, now=now - dt.timedelta(minutes=10))
    then = now - dt.timedelta(minutes=5)
    dead = await claim_due_deliveries("dead-process", 3, now=then, lease_seconds=60)
    alive = await claim_due_deliveries("live-process", 3, now=then, lease_seconds=3600)
    assert len(dead) == len(alive) == 3
    sender = make_sender(smtp_settings)
    try:
        assert await sender.send_due() == 3
    finally:
        await sender.transport.close()
    sent = {r.rcpt_tos[0] for r in mail_server.received}
    assert sent == {item.address for item in dead}
    rows = await Delivery.filter(campaign_id=campaign.id, id__in=[item.id for item in dead])
    assert {(row.state, row.claimed_by, row.attempts) for row in rows} == {
        (DeliveryState.SENT, "test-sender", 2)
    }
    for row in await Delivery.filter(id__in=[item.id for item in alive]):
        assert (row.state, row.claimed_by) == (DeliveryState.SENDING, "live-process")


async def test_a_process_that_lost_its_claim_cannot_overwrite_the_new_owners_record(db: str) -> None:
    """Outcomes are written only by the process that holds the claim."""
    subscriber = await person("x@example.com")
    delivery = await enqueue_transactional(
        address=subscriber.email, template="confirm", language="en", subscriber_id=subscriber.id
    )
    now = utcnow()
    await claim_due_deliveries("old", 1, now=now - dt.timedelta(hours=1), lease_seconds=5)
    [item] = await claim_due_deliveries("new", 1, now=now, lease_seconds=60)
    assert item.id == delivery.id
    await record_results("old", [DeliveryUpdate(delivery.id, DeliveryState.FAILED, "550 stale")])
    await record_results("new", [DeliveryUpdate(delivery.id, DeliveryState.SENT, "250 ok", "<m@x>", at=now)])
    row = await Delivery.get(id=delivery.id)
    assert (row.state, row.last_reply, row.message_id) == (DeliveryState.SENT, "250 ok", "<m@x>")


async def test_campaign_status_is_checked_in_the_claim(db: str, smtp_settings: Settings) -> None:
    """Deliveries of a paused campaign are not claimed at all."""
    await people(3)
    campaign = await started_campaign(smtp_settings)
    await Campaign.filter(id=campaign.id).update(status=CampaignStatus.PAUSED)
    assert await claim_due_deliveries("w", 10, now=utcnow(), lease_seconds=60) == []
