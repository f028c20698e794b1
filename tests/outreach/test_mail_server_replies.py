"""Issue 11, "replies from the mail server at send time": who a refusal is about decides what it
does. A real aiosmtpd server answers each code; nothing here depends on the wall clock."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.settings import Settings
from outreach.mailer import Outcome, classify_reply
from outreach.models import Campaign, CampaignStatus, Delivery, DeliveryState
from outreach.queue import enqueue_transactional
from outreach.sender import REFUSALS_BEFORE_PAUSE
from outreach.smtp import Reply
from subscribers.models import Status, Subscriber, Suppression
from tests.mailserver import MailServer
from tests.outreach.people import person
from tests.outreach.sending import make_sender, people, send_until_settled, started_campaign

MONDAY_10_20 = dt.datetime(2027, 1, 11, 18, 20, tzinfo=dt.UTC)  # 10:20 in Los Angeles


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.mark.parametrize(
    ("stage", "reply", "outcome"),
    [
        ("rcpt", "550 5.1.1 No such user", Outcome.PERMANENT),
        ("rcpt", "550 Requested action not taken: mailbox unavailable", Outcome.PERMANENT),
        ("rcpt", "554 5.7.1 <a@b.example>: Relay access denied", Outcome.CONFIG),
        ("rcpt", "550 5.7.26 Unauthenticated email from example.gov is not accepted", Outcome.REFUSED),
        ("rcpt", "451 4.7.0 Temporary rate limit exceeded", Outcome.QUOTA),
        ("rcpt", "451 4.3.0 Try again later", Outcome.TEMPORARY),
        ("content", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", Outcome.PERMANENT),
        ("content", "550 5.7.1 Message rejected as spam by Content Filtering", Outcome.REFUSED),
        ("content", "554 5.6.0 Corrupt message content", Outcome.REFUSED),
        ("content", "554 Transaction failed", Outcome.REFUSED),
        (
            "content",
            "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process",
            Outcome.QUOTA,
        ),
        ("content", "550 5.7.60 SMTP; Client does not have permissions to send: sending rate", Outcome.QUOTA),
        ("content", "452 4.3.1 Insufficient system storage", Outcome.TEMPORARY),
        ("data", "554 5.7.1 No thanks", Outcome.REFUSED),
        # The recipient's mailbox, even when the text says "quota" or "rate": never our account.
        ("rcpt", "552 5.2.2 The email account that you tried to reach is over quota", Outcome.TEMPORARY),
        ("content", "452 4.2.2 Mailbox full: over quota", Outcome.TEMPORARY),
        ("rcpt", "550 5.2.1 The email account that you tried to reach is disabled", Outcome.PERMANENT),
        ("rcpt", "550 5.1.1 user unknown; see our rate of spam policy", Outcome.PERMANENT),
        ("mail", "553 5.7.1 Sender address rejected", Outcome.CONFIG),
        ("rcpt", "530 5.7.0 Authentication required", Outcome.CONFIG),
        ("sent", "250 2.0.0 OK", Outcome.SENT),
    ],
)
def test_what_each_reply_means(stage: str, reply: str, outcome: Outcome) -> None:
    code, _, text = reply.partition(" ")
    assert classify_reply(stage, Reply(int(code), text)).outcome is outcome


async def states() -> dict[str, DeliveryState]:
    rows = await Delivery.filter(campaign_id__not_isnull=True).values_list("address", "state")
    return {address: state for address, state in rows}


async def test_a_content_filter_fails_the_messages_keeps_the_people_and_pauses_the_campaign(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    everyone = await people(12)
    campaign = await started_campaign(smtp_settings)
    mail_server.handler.faults.data_reply = "550 5.7.1 Message rejected as spam by Content Filtering"
    sender = make_sender(smtp_settings)
    try:
        await sender.send_due()
    finally:
        await sender.transport.close()
    refreshed = await Campaign.get(id=campaign.id)
    assert refreshed.status == CampaignStatus.PAUSED
    assert "refused the message itself" in refreshed.paused_reason
    assert "nobody was marked bounced" in refreshed.paused_reason
    failed = await Delivery.filter(campaign_id=campaign.id, state=DeliveryState.FAILED)
    # Paused at the third refusal: what other connections had in flight may add a few, no more.
    assert REFUSALS_BEFORE_PAUSE <= len(failed) < REFUSALS_BEFORE_PAUSE + smtp_settings.smtp_pool_size
    assert all(row.last_reply.startswith("550 5.7.1") for row in failed)
    queued = await Delivery.filter(campaign_id=campaign.id, state=DeliveryState.QUEUED).count()
    assert len(failed) + queued == len(everyone)  # the rest wait for staff to resume
    assert {s.status for s in await Subscriber.all()} == {Status.ACTIVE}
    assert await Suppression.all().count() == 0
    assert mail_server.received == []


async def test_refusals_pause_a_campaign_only_in_a_row(db: str, smtp_settings: Settings) -> None:
    """One domain's spam filter now and then in a large campaign is no reason to stop it; the same
    refusal for every message is."""
    sender = make_sender(smtp_settings)
    try:
        for _ in range(5):
            assert not any(sender.refusal_repeats(7) for _ in range(REFUSALS_BEFORE_PAUSE - 1))
            sender.message_accepted(7)  # ordinary mail went through in between
        in_a_row = [sender.refusal_repeats(7) for _ in range(REFUSALS_BEFORE_PAUSE)]
        assert in_a_row == [False] * (REFUSALS_BEFORE_PAUSE - 1) + [True]
    finally:
        await sender.transport.close()


async def test_a_quota_reply_holds_all_sending_until_the_next_hour(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    everyone = await people(6)
    clock = Clock(MONDAY_10_20)
    campaign = await started_campaign(smtp_settings, now=clock.now)
    mail_server.handler.faults.data_reply = (
        "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; "
        "Failed to process message due to a permanent exception"
    )
    sender = make_sender(smtp_settings, clock=clock)
    try:
        await sender.send_due()
        at_eleven = dt.datetime(2027, 1, 11, 19, 0, tzinfo=dt.UTC)
        rows = await Delivery.filter(campaign_id=campaign.id)
        assert {row.state for row in rows} == {DeliveryState.DEFERRED}
        assert {row.next_attempt_at for row in rows} == {at_eleven}
        assert {row.attempts for row in rows} == {0}  # the quota is ours: no attempt spent
        assert sender.quota_until == at_eleven
        # Everything waits, confirmations too: the relay would refuse them as well.
        newcomer = await person("new@example.com", status=Status.PENDING)
        await enqueue_transactional(
            address=newcomer.email, template="confirm", language="en", subscriber_id=newcomer.id
        )
        clock.now = MONDAY_10_20 + dt.timedelta(minutes=30)
        assert await sender.send_due() == 0
        assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.SENDING
        mail_server.handler.faults.data_reply = None  # the quota resets
        clock.now = at_eleven + dt.timedelta(seconds=1)
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    assert set(mail_server.handler.count_by_recipient()) == {s.email for s in everyone} | {"new@example.com"}
    assert {s.status for s in await Subscriber.filter(email__startswith="p")} == {Status.ACTIVE}


async def test_a_rate_limit_at_rcpt_is_a_quota_too(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    await people(3)
    clock = Clock(MONDAY_10_20)
    await started_campaign(smtp_settings, now=clock.now)
    mail_server.handler.faults.rcpt_reply = "451 4.7.0 Temporary rate limit exceeded, try again later"
    mail_server.handler.faults.rcpt_reply_count = 1
    sender = make_sender(smtp_settings, clock=clock)
    try:
        await sender.send_due()
        assert sender.quota_until == dt.datetime(2027, 1, 11, 19, 0, tzinfo=dt.UTC)
        deferred = await Delivery.filter(state=DeliveryState.DEFERRED)
        assert deferred and {row.next_attempt_at for row in deferred} == {sender.quota_until}
        assert "rate limit" in deferred[0].last_reply
        clock.now = dt.datetime(2027, 1, 11, 19, 0, 1, tzinfo=dt.UTC)
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    assert len(mail_server.received) == 3


async def test_only_a_refused_recipient_bounces_the_person(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    await people(6)
    await started_campaign(smtp_settings)
    faults = mail_server.handler.faults
    faults.refuse["p0@example.com"] = "550 5.1.1 <p0@example.com>: Recipient address rejected: User unknown"
    faults.data_refuse["p1@example.com"] = "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"
    faults.refuse["p2@example.com"] = "550 5.7.26 Unauthenticated email is not accepted from this domain"
    faults.data_refuse["p3@example.com"] = "554 5.7.1 Message content rejected"
    sender = make_sender(smtp_settings)
    try:
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    assert await states() == {
        "p0@example.com": DeliveryState.FAILED,
        "p1@example.com": DeliveryState.FAILED,
        "p2@example.com": DeliveryState.FAILED,
        "p3@example.com": DeliveryState.FAILED,
        "p4@example.com": DeliveryState.SENT,
        "p5@example.com": DeliveryState.SENT,
    }
    status = dict(await Subscriber.all().values_list("email", "status"))
    assert status["p0@example.com"] == status["p1@example.com"] == Status.BOUNCED
    # A policy refusal (our DMARC, our content) is not the person's fault.
    assert status["p2@example.com"] == status["p3@example.com"] == Status.ACTIVE
    assert await Suppression.all().count() == 2
