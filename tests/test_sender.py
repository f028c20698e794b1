"""The background sender delivers queued mail through the real SMTP path and records the answer."""

from __future__ import annotations

from bot.runtime import build_runtime
from bot.settings import Settings
from outreach.models import Delivery, DeliveryState
from outreach.queue import enqueue_transactional
from subscribers.models import Status, Subscriber
from tests.mailserver import MailServer


async def test_confirmation_is_sent_and_recorded(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """A queued confirmation reaches the server once, multipart, with a working confirm link."""
    person = await Subscriber.create(email="ana@example.com", name="Ana", status=Status.PENDING)
    delivery = await enqueue_transactional(
        address=person.email, template="confirm", language="es", subscriber_id=person.id
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
    assert message["Message-ID"]
    text = message.get_body(("plain",)).get_content()
    assert "http://testserver/confirm/" in text
    row = await Delivery.get(id=delivery.id)
    assert row.state == DeliveryState.SENT
    assert row.message_id == message["Message-ID"]
    assert row.last_reply.startswith("2.0.0") or "accepted" in row.last_reply.lower()


async def test_temporary_failure_is_deferred_then_sent(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """A 451 defers the delivery with a retry time; the next pass after it sends it."""
    import asyncio

    person = await Subscriber.create(email="bo@example.com", status=Status.PENDING)
    delivery = await enqueue_transactional(
        address=person.email, template="confirm", language="en", subscriber_id=person.id
    )
    mail_server.handler.faults.rcpt_reply = "451 4.3.0 Try again later"
    runtime = build_runtime(smtp_settings)
    try:
        await runtime.sender.send_due()
        row = await Delivery.get(id=delivery.id)
        assert row.state == DeliveryState.DEFERRED
        assert row.last_reply.startswith("451")
        mail_server.handler.faults.rcpt_reply = None
        for _ in range(50):
            if await runtime.sender.send_due():
                break
            await asyncio.sleep(0.02)
    finally:
        await runtime.transport.close()
    row = await Delivery.get(id=delivery.id)
    assert row.state == DeliveryState.SENT
    assert row.attempts == 2
    assert len(mail_server.received) == 1


async def test_permanent_failure_fails_and_suppresses(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """A 550 fails the delivery and marks the person bounced, so nothing more is sent to them."""
    person = await Subscriber.create(email="gone@example.com", status=Status.PENDING)
    delivery = await enqueue_transactional(
        address=person.email, template="confirm", language="en", subscriber_id=person.id
    )
    mail_server.handler.faults.refuse["gone@example.com"] = "550 5.1.1 No such user"
    runtime = build_runtime(smtp_settings)
    try:
        await runtime.sender.send_due()
    finally:
        await runtime.transport.close()
    row = await Delivery.get(id=delivery.id)
    assert row.state == DeliveryState.FAILED
    assert row.last_reply.startswith("550")
    assert (await Subscriber.get(id=person.id)).status == Status.BOUNCED
