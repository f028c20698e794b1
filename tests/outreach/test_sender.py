"""The sender delivers queued mail through the real SMTP path (aiosmtpd) and records the answer."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.runtime import build_runtime
from bot.settings import Settings
from outreach.campaigns import cancel_campaign, complete_finished_campaigns, pause_campaign, resume_campaign
from outreach.mailer import OutgoingMessage, SendResult, SmtpTransport
from outreach.models import Campaign, CampaignStatus, Delivery, DeliveryState, SendCounter
from outreach.queue import (
    DeliveryUpdate,
    claim_due_deliveries,
    enqueue_transactional,
    held_connection,
    record_results,
    utcnow,
)
from subscribers.addresses import email_hash
from subscribers.models import Status, Subscriber, Suppression
from subscribers.registry import change_status, suppress
from subscribers.tokens import LinkSigner, Purpose
from tests.mailserver import MailServer
from tests.outreach.people import person
from tests.outreach.sending import (
    make_sender,
    people,
    send_until_settled,
    smtp_options_of,
    started_campaign,
    transport_acting_after,
)

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


async def test_a_message_that_cannot_be_built_fails_alone(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """An address stored before the form refused accented letters before the @ (the email package
    can't put it in a header) fails its own delivery; the pass goes on with everyone else."""
    stored = await Subscriber.create(email="josé@example.com", status=Status.PENDING)
    fine = await Subscriber.create(email="ana@example.com", status=Status.PENDING)
    broken = await enqueue_transactional(
        address=stored.email, template="confirm", language="en", subscriber_id=stored.id
    )
    await enqueue_transactional(address=fine.email, template="confirm", language="en", subscriber_id=fine.id)
    runtime = build_runtime(smtp_settings)
    try:
        await runtime.sender.send_due()
    finally:
        await runtime.transport.close()
    assert [received.rcpt_tos for received in mail_server.received] == [["ana@example.com"]]
    row = await Delivery.get(id=broken.id)
    assert row.state == DeliveryState.FAILED
    assert row.last_reply == "could not build the message: NonASCIILocalPartDefect"


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
        postal_address = smtp_settings.postal_address_for(subscriber.language.value)
        assert postal_address in text and postal_address in html
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
    """A confirmation queued while a campaign of several batches is going out is sent with the
    next batch the pass claims, ahead of what is left of the campaign."""
    await people(60)
    await started_campaign(smtp_settings)
    pending = await Subscriber.create(email="new@example.com", status=Status.PENDING)

    class SignupMidCampaign(SmtpTransport):
        sent = 0

        async def send(self, message: OutgoingMessage, **kwargs: object) -> SendResult:
            result = await super().send(message, **kwargs)  # type: ignore[arg-type]
            SignupMidCampaign.sent += 1
            if SignupMidCampaign.sent == 3:  # someone signs up while the first batch goes out
                await enqueue_transactional(
                    address=pending.email, template="confirm", language="en", subscriber_id=pending.id
                )
            return result

    settings = smtp_settings.model_copy(update={"send_batch_size": 10})
    sender = make_sender(settings, transport=SignupMidCampaign(smtp_options_of(settings)))
    try:
        assert await sender.send_due() == 61  # one pass: each batch claimed while the last went out
        assert await sender.send_due() == 0
    finally:
        await sender.transport.close()
    recipients = [message.rcpt_tos[0] for message in mail_server.received]
    assert len(recipients) == len(set(recipients)) == 61
    # Claimed with one of the next batches (which one depends on how far the pass has claimed ahead
    # on a busy machine), and sent before every campaign message claimed with it: well ahead of the
    # last batch (appended behind the campaign, it would be the 60th or 61st).
    assert recipients.index("new@example.com") <= 40


async def test_a_campaign_paused_mid_pass_stops_and_resumes_where_it_was(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """Pausing takes effect within the pass; the rest stays queued and resume sends it once."""
    await people(40)
    campaign = await started_campaign(smtp_settings)

    settings = smtp_settings.model_copy(update={"smtp_pool_size": 1})
    pause = transport_acting_after(
        settings, 5, lambda: pause_campaign(campaign.id, reason="staff asked", actor="test")
    )
    sender = make_sender(settings, transport=pause)
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


async def test_a_campaign_cancelled_mid_pass_leaves_nothing_waiting(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """What the pass held when the campaign was cancelled is withdrawn too, not put back in a
    queue nothing will ever claim from again; and its unused sending budget goes back."""
    await people(40)
    campaign = await started_campaign(smtp_settings)

    settings = smtp_settings.model_copy(update={"smtp_pool_size": 1, "send_rate_per_hour": 1000})
    cancel = transport_acting_after(settings, 5, lambda: cancel_campaign(campaign.id, actor="test"))
    sender = make_sender(settings, transport=cancel)
    try:
        await sender.send_due()
    finally:
        await sender.transport.close()
    sent = len(mail_server.received)
    assert 5 <= sent < 10
    rows = Delivery.filter(campaign_id=campaign.id)
    assert await rows.filter(state__in=[DeliveryState.QUEUED, DeliveryState.SENDING]).count() == 0
    withdrawn = rows.filter(state=DeliveryState.SUPPRESSED, last_reply="not sent: campaign cancelled")
    assert await withdrawn.count() == 40 - sent
    # Budget: only what reached the relay stays counted (the rest was reserved, then given back).
    assert sum(await SendCounter.filter(window__startswith="h:").values_list("sent", flat=True)) == sent


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


async def test_a_group_of_sent_outcomes_gives_each_row_its_own_reply_and_message_id(db: str) -> None:
    """One statement writes a whole group (on PostgreSQL, values matched to rows by position in
    arrays; through the pool and on a held connection alike)."""
    deliveries = []
    for i in range(5):
        subscriber = await person(f"g{i}@example.com")
        deliveries.append(
            await enqueue_transactional(
                address=subscriber.email, template="confirm", language="en", subscriber_id=subscriber.id
            )
        )
    now = utcnow()
    claimed = await claim_due_deliveries("w", 5, now=now, lease_seconds=60)
    assert len(claimed) == 5
    updates = [
        DeliveryUpdate(d.id, DeliveryState.SENT, f"250 ok {d.id}", f"<{d.id}@x>", at=now) for d in deliveries
    ]
    await record_results("w", updates[:2])
    async with held_connection() as conn:
        await record_results("w", list(reversed(updates[2:])), conn)
    for row in await Delivery.filter(id__in=[d.id for d in deliveries]):
        assert (row.state, row.last_reply, row.message_id) == (
            DeliveryState.SENT,
            f"250 ok {row.id}",
            f"<{row.id}@x>",
        )


async def test_campaign_status_is_checked_in_the_claim(db: str, smtp_settings: Settings) -> None:
    """Deliveries of a paused campaign are not claimed at all."""
    await people(3)
    campaign = await started_campaign(smtp_settings)
    await Campaign.filter(id=campaign.id).update(status=CampaignStatus.PAUSED)
    assert await claim_due_deliveries("w", 10, now=utcnow(), lease_seconds=60) == []


async def test_a_pass_whose_outcomes_cant_be_written_stops_instead_of_sending_on(
    db: str, smtp_settings: Settings, mail_server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database fails under the recorder: the pass fails (no worker waits forever), and no
    connection sends another message once its last one's outcome can't be written."""
    await people(40)
    await started_campaign(smtp_settings)
    written = 0

    async def failing_record(*args: object, **kwargs: object) -> None:
        nonlocal written
        written += 1
        if written > 2:
            raise ConnectionResetError("the database went away")
        await record_results(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("outreach.sender.record_results", failing_record)
    settings = smtp_settings.model_copy(update={"send_rate_per_hour": 1000})
    sender = make_sender(settings)
    try:
        with pytest.raises(ConnectionResetError):
            async with asyncio.timeout(10):
                await sender.send_due()
    finally:
        await sender.transport.close()
    recorded = await Delivery.filter(state=DeliveryState.SENT).count()
    assert recorded >= 1
    # Sent without a written outcome: at most one message per connection.
    assert len(mail_server.received) - recorded <= smtp_settings.smtp_pool_size
    # What the failed pass still had queued goes back to the hour's budget (it will be claimed
    # again). Only what the workers had in hand stays counted: a message and the next one each.
    counted = sum(await SendCounter.filter(window__startswith="h:").values_list("sent", flat=True))
    assert 0 <= counted - len(mail_server.received) <= 2 * smtp_settings.smtp_pool_size
