"""The bounce mailbox, end to end against Debian's Dovecot: a campaign sent through aiosmtpd, real
bounces about those very messages appended to the mailbox, the poller reading them; again (nothing
changes); over TLS and STARTTLS; woken by IDLE; a wrong password survived; `kill -9` mid-mailbox."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
from pathlib import Path

import hypothesis
import pytest
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.bounces import bounce_processor
from bot.settings import Settings
from outreach.bounces.mailbox import BounceMailbox, MailboxOptions
from outreach.bounces.models import BounceEvent, InboundMessage
from outreach.bounces.verp import VerpSigner
from outreach.models import Delivery, DeliveryState
from subscribers.models import AuditEvent, Status, Subscriber
from tests.imapserver import PASSWORD, USER, Dovecot
from tests.mailserver import MailServer
from tests.outreach.bouncing import CORPUS, complaint, returned
from tests.outreach.people import person
from tests.outreach.sending import (
    make_sender,
    send_until_settled,
    service_environment,
    spawn,
    started_campaign,
    wait_until,
)
from tests.outreach.sending import stop as stop_process


def options(server: Dovecot, **changes: object) -> MailboxOptions:
    values: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "username": USER,
        "password": PASSWORD,
        "tls": "none",
        "poll_seconds": 30,
        "timeout_seconds": 10,
    }
    values.update(changes)
    return MailboxOptions(**values)  # type: ignore[arg-type]


def mailbox(server: Dovecot, settings: Settings, **changes: object) -> BounceMailbox:
    processor = bounce_processor(settings, message_id_domain="example.gov")
    context = server.client_context() if changes.get("tls") in ("tls", "starttls") else None
    return BounceMailbox(options(server, **changes), processor, ssl_context=context)


# What each person's mail server says about the campaign message, and what must become of them.
PLAN = {
    "hard0@example.com": ("hard", Status.BOUNCED),
    "hard1@example.com": ("hard", Status.BOUNCED),
    "soft@example.com": ("soft", Status.ACTIVE),
    "refused@example.com": ("refused", Status.ACTIVE),
    "spam@example.com": ("complaint", Status.COMPLAINED),
    "away@example.com": ("vacation", Status.ACTIVE),
    "slow@example.com": ("delayed", Status.ACTIVE),
    "fine@example.com": (None, Status.ACTIVE),
}
NOT_REPORTS = ["sisimai/is-not-bounce-01.eml", "sisimai/arf-18.eml"]  # for a person to read


async def send_campaign(smtp_settings: Settings, mail_server: MailServer) -> dict[str, str]:
    """A campaign to everyone in PLAN through aiosmtpd; returns each address's Message-ID as sent."""
    for address in PLAN:
        await person(address)
    await started_campaign(smtp_settings)
    await send_until_settled(make_sender(smtp_settings))
    sent = {r.rcpt_tos[0]: str(r.message["Message-ID"]) for r in mail_server.received}
    assert set(sent) == set(PLAN)
    return sent


def reports_about(sent: dict[str, str]) -> list[bytes]:
    raws = []
    for address, (kind, _status) in PLAN.items():
        if kind == "complaint":
            raws.append(complaint(our_message_id=sent[address]))
        elif kind is not None:
            raws.append(returned(kind, address=address, our_message_id=sent[address]))
    return raws + [(CORPUS / name).read_bytes() for name in NOT_REPORTS]


async def statuses() -> dict[str, Status]:
    return {s.email: s.status for s in await Subscriber.filter(email__in=list(PLAN))}


async def test_campaign_bounces_read_from_the_mailbox(
    db: str, smtp_settings: Settings, mail_server: MailServer, imap: Dovecot
) -> None:
    """People are bounced, complained or untouched as each real report says; every message is
    filed (Processed or Unrecognised), nothing deleted; reading the same mailbox again changes
    nothing."""
    sent = await send_campaign(smtp_settings, mail_server)
    raws = reports_about(sent)
    imap.append(raws)

    result = await mailbox(imap, smtp_settings).drain_once()

    assert (result.processed, result.duplicates, result.unrecognised) == (len(raws), 0, 2)
    assert await statuses() == {address: status for address, (_kind, status) in PLAN.items()}
    delivery = {d.address: d for d in await Delivery.all()}
    assert delivery["hard0@example.com"].bounce_status == "5.1.1"
    assert delivery["soft@example.com"].state == DeliveryState.BOUNCED
    assert delivery["refused@example.com"].bounce_type == "refused"
    assert delivery["spam@example.com"].complained_at is not None
    assert delivery["fine@example.com"].state == DeliveryState.SENT
    assert (imap.count("INBOX"), imap.count("Processed"), imap.count("Unrecognised")) == (0, len(raws) - 2, 2)
    filed = sorted(raw.replace(b"\r\n", b"\n") for raw in imap.messages("Unrecognised"))
    assert filed == sorted((CORPUS / n).read_bytes().replace(b"\r\n", b"\n") for n in NOT_REPORTS)

    # The same messages again (an administrator moved them back, or the move was lost).
    audit, events = await AuditEvent.all().count(), await BounceEvent.all().count()
    imap.append(raws)
    again = await mailbox(imap, smtp_settings).drain_once()
    assert (again.processed, again.duplicates) == (0, len(raws))
    assert (await AuditEvent.all().count(), await BounceEvent.all().count()) == (audit, events)
    assert await statuses() == {address: status for address, (_kind, status) in PLAN.items()}
    assert imap.count("INBOX") == 0


@pytest.mark.parametrize("tls", ["tls", "starttls"])
async def test_the_mailbox_is_read_over_tls(db: str, settings: Settings, imap: Dovecot, tls: str) -> None:
    """Implicit TLS (993-style) and STARTTLS, against Dovecot with a certificate we trust."""
    ana = await person("ana@example.com")
    from tests.outreach.bouncing import sent_delivery

    delivery = await sent_delivery(ana.id, ana.email)
    imap.append([returned("hard", address=ana.email, our_message_id=delivery.message_id)])
    port = imap.tls_port if tls == "tls" else imap.port
    result = await mailbox(imap, settings, tls=tls, port=port).drain_once()
    assert result.processed == 1
    assert (await Subscriber.get(id=ana.id)).status == Status.BOUNCED


async def test_starttls_is_required_when_asked_for(db: str, settings: Settings, imap: Dovecot) -> None:
    """With BOUNCE_IMAP_TLS=starttls, a certificate we don't trust stops the login."""
    poller = BounceMailbox(
        options(imap, tls="starttls"), bounce_processor(settings, message_id_domain="example.gov")
    )
    with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
        await poller.drain_once()


async def test_idle_wakes_the_poller_when_mail_arrives(db: str, settings: Settings, imap: Dovecot) -> None:
    """The running poller (30 s poll) processes a bounce within seconds: IDLE told it."""
    ana = await person("ana@example.com")
    from tests.outreach.bouncing import sent_delivery

    delivery = await sent_delivery(ana.id, ana.email)
    stop = asyncio.Event()
    task = asyncio.create_task(mailbox(imap, settings).run(stop))
    try:
        await asyncio.sleep(0.5)  # connected and idling
        await asyncio.to_thread(
            imap.append, [returned("hard", address=ana.email, our_message_id=delivery.message_id)]
        )

        async def bounced() -> bool:
            return (await Subscriber.get(id=ana.id)).status == Status.BOUNCED

        await wait_until(bounced, within=10, what="the poller processed the new bounce")
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
    assert imap.count("Processed") == 1


async def test_a_wrong_password_is_logged_and_retried_not_raised(
    db: str, settings: Settings, imap: Dovecot, caplog: pytest.LogCaptureFixture
) -> None:
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING):
        task = asyncio.create_task(mailbox(imap, settings, password="wrong").run(stop))
        await asyncio.sleep(1.5)
        stop.set()
        await asyncio.wait_for(task, 10)
    assert "refused the login" in caplog.text
    assert "wrong" not in caplog.text  # never the password


MANY = 400


@pytest.mark.slow
async def test_kill_9_mid_mailbox_loses_nothing_and_counts_nothing_twice(
    db: str, settings: Settings, imap: Dovecot, tmp_path: Path
) -> None:
    """`madeinla worker` reading a mailbox of 400 hard bounces is killed mid-way, then restarted:
    every person bounced once, every message processed once and filed, nothing left behind."""
    from tests.outreach.bouncing import sent_delivery

    raws = []
    for index in range(MANY):
        someone = await person(f"person{index}@example.com")
        delivery = await sent_delivery(someone.id, someone.email)
        raws.append(returned("hard", address=someone.email, our_message_id=delivery.message_id))
    await asyncio.to_thread(imap.append, raws)
    env = service_environment(
        settings,
        1,  # no mail is sent
        BOUNCE_IMAP_HOST=imap.host,
        BOUNCE_IMAP_PORT=str(imap.port),
        BOUNCE_IMAP_USERNAME=USER,
        BOUNCE_IMAP_PASSWORD=PASSWORD,
        BOUNCE_IMAP_TLS="none",
        SWEEP_INTERVAL_SECONDS="60",
    )
    log = tmp_path / "worker.log"
    kills = 0
    for _ in range(3):
        worker = spawn(["worker"], env, log)
        try:
            start = await InboundMessage.all().count()

            async def under_way(start: int = start, worker=worker) -> bool:  # type: ignore[no-untyped-def]
                assert worker.poll() is None, log.read_text()[-3000:]
                return await InboundMessage.all().count() >= start + 40

            await wait_until(under_way, within=60, what="the worker processed some bounces")
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(10)
            kills += await InboundMessage.all().count() < MANY
        finally:
            stop_process(worker)
    worker = spawn(["worker"], env, log)
    try:

        async def emptied() -> bool:
            assert worker.poll() is None, log.read_text()[-3000:]
            return await InboundMessage.all().count() == MANY and imap.count("INBOX") == 0

        await wait_until(emptied, within=120, what="the mailbox is empty")
    finally:
        stop_process(worker)
    assert kills >= 2  # it was killed mid-mailbox
    assert await Subscriber.filter(status=Status.BOUNCED).count() == MANY
    assert await BounceEvent.all().count() == MANY  # each message did its work once
    assert await AuditEvent.filter(action="bounce").count() == MANY
    assert imap.count("Processed") == MANY and imap.count("Unrecognised") == 0


async def test_garbage_and_huge_messages_never_stop_the_poller(
    db: str, settings: Settings, imap: Dovecot
) -> None:
    """Random bytes, a message of several megabytes and an empty one go to Unrecognised; the real
    bounce among them still does its work."""
    from tests.outreach.bouncing import sent_delivery

    ana = await person("ana@example.com")
    delivery = await sent_delivery(ana.id, ana.email)
    junk = [
        bytes(range(256)) * 20,
        b"Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\n"
        + b"Content-Type: message/delivery-status\r\n\r\nAction: failed\r\nStatus: 5.9.9.9.9\r\n"
        + b"Final-Recipient: rfc822; \x00\xff<>@@\r\n--x--\r\n",
        b"Subject: big\r\n\r\n" + b"A" * 3_000_000,
        b"\r\n",
    ]
    imap.append([*junk, returned("hard", address=ana.email, our_message_id=delivery.message_id)])
    poller = mailbox(imap, settings)
    result = await poller.drain_once()
    assert result.processed == len(junk) + 1 and result.unrecognised == len(junk)
    assert (await Subscriber.get(id=ana.id)).status == Status.BOUNCED
    assert imap.count("INBOX") == 0 and imap.count("Unrecognised") == len(junk)


async def test_serve_reads_the_bounce_mailbox(smtp_settings: Settings, imap: Dovecot) -> None:
    """The app's lifespan (what `madeinla serve` runs) starts the poller when BOUNCE_IMAP_HOST is set."""
    from bot.app import create_app
    from bot.db import database
    from tests.outreach.bouncing import sent_delivery

    settings = smtp_settings.model_copy(
        update={
            "bounce_imap_host": imap.host,
            "bounce_imap_port": imap.port,
            "bounce_imap_username": USER,
            "bounce_imap_password": SecretStr(PASSWORD),
            "bounce_imap_tls": "none",
        }
    )
    async with database(settings.database_url):
        from tests.conftest import ON_POSTGRES

        if ON_POSTGRES:
            from tortoise.contrib.test import truncate_all_models

            await truncate_all_models()
        ana = await person("ana@example.com")
        delivery = await sent_delivery(ana.id, ana.email)
    imap.append([returned("hard", address=ana.email, our_message_id=delivery.message_id)])
    app = create_app(settings, run_scheduler=False)
    async with app.router.lifespan_context(app):

        async def bounced() -> bool:
            return (await Subscriber.get(id=ana.id)).status == Status.BOUNCED

        await wait_until(bounced, within=20, what="serve's poller read the bounce")
    assert imap.count("Processed") == 1


async def test_with_bounce_address_each_message_names_itself_and_forged_bounces_do_nothing(
    db: str, smtp_settings: Settings, mail_server: MailServer, imap: Dovecot
) -> None:
    """BOUNCE_ADDRESS set: every campaign message reaches aiosmtpd with the envelope sender
    `bounces+TOKEN@example.gov` naming its own delivery (From stays MAIL_FROM). The relay's reports,
    delivered to those addresses by Dovecot's LDA, are matched by the token alone, even when the
    report is mangled (it names another address and returns none of our Message-IDs); a forged
    bounce to the plain address about someone we did mail changes nothing; reading it all again
    changes nothing."""
    settings = smtp_settings.model_copy(update={"bounce_address": "bounces@example.gov"})
    verp = VerpSigner(settings.secret(), settings.bounce_address)
    plan = {
        "moved@example.com": Status.BOUNCED,  # hard bounce, mangled by a forwarder
        "spam@example.com": Status.COMPLAINED,  # ARF report returning our Return-Path only
        "forged@example.com": Status.ACTIVE,  # someone else's "bounce" naming them
        "fine@example.com": Status.ACTIVE,
    }
    for address in plan:
        await person(address)
    await started_campaign(settings)
    await send_until_settled(make_sender(settings))
    deliveries = {d.address: d for d in await Delivery.all()}
    envelope = {r.rcpt_tos[0]: r for r in mail_server.received}
    assert set(envelope) == set(plan)
    for address, received in envelope.items():
        local, _, domain = received.mail_from.partition("@")
        assert local.startswith("bounces+") and domain == "example.gov"
        assert verp.delivery_id(local.removeprefix("bounces+")) == deliveries[address].id
        assert received.message["From"] == "Made in LA <madeinla@example.gov>"
        assert received.message["Return-Path"] is None  # the receiving side adds it, not us

    mangled = returned(
        "hard",
        address="forwarded-to@elsewhere.example",
        our_message_id="<rewritten-by-a-forwarder@elsewhere.example>",
        envelope_to=envelope["moved@example.com"].mail_from,
    )
    imap.deliver([mangled], to=envelope["moved@example.com"].mail_from)
    spam = complaint(
        our_message_id="<rewritten@fbl.example>", return_path=envelope["spam@example.com"].mail_from
    )
    imap.deliver([spam], to="bounces@example.gov")
    forged = returned(
        "hard",
        address="forged@example.com",
        our_message_id="<guess@example.gov>",
        envelope_to="bounces@example.gov",
    )
    imap.deliver([forged], to="bounces@example.gov")

    result = await mailbox(imap, settings).drain_once()

    assert result.processed == 3
    assert await statuses_of(plan) == plan
    moved = await Delivery.get(id=deliveries["moved@example.com"].id)
    assert (moved.state, moved.bounce_status) == (DeliveryState.BOUNCED, "5.1.1")
    assert (await Delivery.get(id=deliveries["forged@example.com"].id)).state == DeliveryState.SENT
    events = {e.matched_by: e for e in await BounceEvent.all()}
    assert set(events) == {"verp", ""}
    assert imap.count("INBOX") == 0 and imap.count("Processed") == 3

    imap.deliver([mangled, spam, forged], to="bounces@example.gov")
    again = await mailbox(imap, settings).drain_once()
    assert (again.processed, again.duplicates) == (0, 3)
    assert await BounceEvent.all().count() == 3
    assert await statuses_of(plan) == plan


async def statuses_of(plan: dict[str, Status]) -> dict[str, Status]:
    return {s.email: s.status for s in await Subscriber.filter(email__in=list(plan))}


@pytest.mark.postgres
async def test_one_process_at_a_time_reads_the_mailbox_and_another_takes_over(
    db: str, settings: Settings, imap: Dovecot
) -> None:
    """Two pollers (two `serve`/`worker` processes) on one PostgreSQL database: only the holder of
    the advisory lock reads the mailbox; when it stops, the other takes over."""
    from outreach.bounces.mailbox import MAILBOX_LOCK_KEY
    from outreach.scheduling import Leadership
    from tests.outreach.bouncing import sent_delivery

    async def bounce_for(address: str) -> bytes:
        someone = await person(address)
        delivery = await sent_delivery(someone.id, someone.email)
        return returned("hard", address=someone.email, our_message_id=delivery.message_id)

    locks = [Leadership(settings.database_url, key=MAILBOX_LOCK_KEY, job="the bounce mailbox") for _ in "ab"]
    pollers = [
        BounceMailbox(
            options(imap, poll_seconds=1),
            bounce_processor(settings, message_id_domain="example.gov"),
            lock=lock,
        )
        for lock in locks
    ]
    stops = [asyncio.Event(), asyncio.Event()]
    first = asyncio.create_task(pollers[0].run(stops[0]))
    await wait_until(lambda: _true(locks[0].is_leader), within=10, what="the first poller took the lock")
    second = asyncio.create_task(pollers[1].run(stops[1]))
    try:
        imap.append([await bounce_for("ana@example.com")])
        await wait_until(lambda: _bounced("ana@example.com"), within=15, what="the first poller read it")
        assert locks[0].is_leader and not locks[1].is_leader

        stops[0].set()
        await asyncio.wait_for(first, 15)  # releases the lock
        imap.append([await bounce_for("bea@example.com")])
        await wait_until(lambda: _bounced("bea@example.com"), within=20, what="the second poller took over")
        assert locks[1].is_leader
    finally:
        for stop in stops:
            stop.set()
        await asyncio.wait_for(asyncio.gather(first, second, return_exceptions=True), 15)
    assert await InboundMessage.all().count() == 2 and imap.count("Processed") == 2


async def _true(value: bool) -> bool:
    return value


async def _bounced(address: str) -> bool:
    return (await Subscriber.get(email=address)).status == Status.BOUNCED


_examples = itertools.count()


@hypothesis.settings(
    max_examples=12,
    suppress_health_check=[hypothesis.HealthCheck.too_slow, hypothesis.HealthCheck.function_scoped_fixture],
    deadline=None,
)
@hypothesis.given(
    st.lists(st.binary(min_size=1, max_size=3000), min_size=1, max_size=4),
    st.integers(min_value=0, max_value=4),
)
async def test_whatever_arrives_the_poller_files_it_and_goes_on(
    db: str, settings: Settings, imap: Dovecot, junk: list[bytes], where: int
) -> None:
    """Arbitrary bytes in the mailbox, with a real bounce among them: every message is filed
    (the folder ends empty), the bounce does its work, nothing raises."""
    from tests.outreach.bouncing import sent_delivery

    someone = await person(f"p{next(_examples)}@example.com")
    delivery = await sent_delivery(someone.id, someone.email)
    real = returned("hard", address=someone.email, our_message_id=delivery.message_id)
    messages = [*junk]
    messages.insert(min(where, len(messages)), real)
    imap.append(messages)
    result = await mailbox(imap, settings).drain_once()
    assert result.processed + result.duplicates == len(messages)
    assert imap.count("INBOX") == 0
    assert (await Subscriber.get(id=someone.id)).status == Status.BOUNCED


def test_a_batch_too_large_for_aioimaplib_is_refused() -> None:
    """A UID MOVE of 1,000 messages is answered with 1,000 EXPUNGE lines, which aioimaplib reads
    one recursive call each: past Python's recursion limit. Refused before it is tried."""
    with pytest.raises(ValueError, match="1 to 500"):
        MailboxOptions(host="imap.example", username="u", password="p", batch=1000)
    assert MailboxOptions(host="imap.example", username="u", password="p", batch=500).batch == 500
