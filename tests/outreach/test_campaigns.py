"""Campaign service: creating, starting, sending, pausing, cancelling and reporting."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from outreach import campaigns as service
from outreach import notices
from outreach.models import Campaign, CampaignStatus, Delivery, DeliveryState
from outreach.queue import claim_due_deliveries
from subscribers.models import Status, Subscriber
from subscribers.registry import change_status
from subscribers.tokens import Purpose
from tests.mailserver import MailServer
from tests.outreach.people import person

NOW = dt.datetime(2026, 11, 16, 17, 0, tzinfo=dt.UTC)  # Monday 9:00 in Los Angeles, in the past


@pytest.fixture
async def runtime(db: str, smtp_settings: Settings) -> AsyncIterator[Runtime]:
    parts = build_runtime(smtp_settings)
    yield parts
    await parts.transport.close()


@pytest.fixture
def heard() -> list[notices.CampaignNotice]:
    events: list[notices.CampaignNotice] = []

    async def listen(notice: notices.CampaignNotice) -> None:
        events.append(notice)

    stop = notices.subscribe(listen)
    yield events
    stop()


async def _create(runtime: Runtime, **kwargs) -> Campaign:
    values = {
        "name": "Test update",
        "kind": "pilot_update",
        "template": "pilot_update",
        "created_by": "test",
        "now": NOW,
    }
    values.update(kwargs)
    if not any(k in kwargs for k in ("send_at", "cron", "immediately")):
        values["immediately"] = True
    return await service.create_campaign(builder=runtime.builder, **values)


async def _send_all(runtime: Runtime) -> None:
    for _ in range(20):
        if not await runtime.sender.send_due():
            return


# Creating ---------------------------------------------------------------------------------------


async def test_create_stores_a_validated_campaign(runtime: Runtime) -> None:
    campaign = await _create(
        runtime, audience="role=manufacturer,language=es", send_at="2026-12-01T09:00", subject="Noticias"
    )
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.send_at == dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)  # 9:00 PST
    assert campaign.audience == {"role": ["manufacturer"], "language": ["es"], "status": ["active"]}
    assert campaign.subject == "Noticias"


async def test_create_with_a_recurring_schedule(runtime: Runtime) -> None:
    campaign = await _create(runtime, cron="0 9 * * 2#1")
    assert campaign.cron == "0 9 * * 2#1"
    assert campaign.send_at == dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)  # first Tuesday of December


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "newsletter"}, "'newsletter' is not a campaign kind; use one of: pilot_update"),
        ({"template": "nope"}, "there is no email template called 'nope'"),
        ({"audience": "role=chef"}, "audience: role=chef is not allowed"),
        ({"send_at": "2026-11-01T09:00"}, "is in the past"),
        ({"send_at": "tomorrow"}, "is not a date and time"),
        ({"cron": "0 9 * *"}, "has 4 fields"),
        ({"send_at": "2026-12-01T09:00", "cron": "0 9 * * 1"}, "give exactly one of"),
        ({"subject": "Hi\r\nBcc: everyone@example.com"}, "the subject must be one line"),
        ({"values": {"name": "x"}}, "'name' is filled in for each person"),
        ({"values": {"Bad-Name": "x"}}, "must be lower-case letters"),
        (
            {"kind": "working_group_notice", "template": "working_group_notice"},
            "template 'working_group_notice' needs a campaign value 'meeting_when'",
        ),
    ],
)
async def test_create_refuses_bad_input_and_writes_nothing(
    runtime: Runtime, kwargs: dict, message: str
) -> None:
    with pytest.raises(service.CampaignError) as caught:
        await _create(runtime, **kwargs)
    assert message in str(caught.value)
    assert await Campaign.all().count() == 0


# Starting and sending ---------------------------------------------------------------------------


async def test_start_writes_one_delivery_per_person_and_is_idempotent(runtime: Runtime, heard) -> None:
    people = [await person(f"p{i}@example.com") for i in range(5)]
    await person("wg@example.com", role="working_group")
    campaign = await _create(runtime, audience="role=manufacturer")
    assert await service.start_campaign(campaign.id, NOW)
    assert not await service.start_campaign(campaign.id, NOW)  # already started: nobody starts it twice
    rows = await Delivery.filter(campaign_id=campaign.id).order_by("subscriber_id")
    assert [r.subscriber_id for r in rows] == [p.id for p in people]
    assert all(r.state == DeliveryState.QUEUED and r.context == {} for r in rows)
    # A start that crashed half-way is simply run again: nothing doubles.
    campaign = await Campaign.get(id=campaign.id)
    assert await service.draw_audience(campaign, NOW) == 5
    assert campaign.status == CampaignStatus.SENDING and campaign.audience_resolved_at is not None
    assert [n.kind for n in heard] == [notices.NoticeKind.STARTED]
    assert (
        heard[0].summary()
        == f"Campaign {campaign.id} “Test update” (pilot_update, template pilot_update) started (5 people)"
    )


async def test_start_waits_for_the_send_time(runtime: Runtime) -> None:
    campaign = await _create(runtime, send_at="2026-12-01T09:00")
    assert not await service.start_campaign(campaign.id, NOW)
    assert await service.start_campaign(campaign.id, dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC))


async def test_a_campaign_is_sent_once_to_each_person_in_their_language(
    runtime: Runtime, mail_server: MailServer, heard
) -> None:
    await person("ana@example.com", language="es", name="Ana")
    await person("bo@example.com", language="en", name="Bo")
    await person("cy@example.com", topics=["working_group"])  # didn't ask for pilot updates
    leaving = await person("di@example.com")
    campaign = await _create(runtime)
    await service.start_campaign(campaign.id, NOW)
    await change_status(leaving, Status.UNSUBSCRIBED, actor="test")  # after the audience was drawn
    await _send_all(runtime)

    assert mail_server.handler.count_by_recipient() == {"ana@example.com": 1, "bo@example.com": 1}
    spanish = mail_server.handler.messages_to("ana@example.com")[0].message
    english = mail_server.handler.messages_to("bo@example.com")[0].message
    assert spanish["Subject"] == "Programa piloto Made in Los Angeles: novedades"
    assert english["Subject"] == "Made in Los Angeles pilot: an update"
    for message in (spanish, english):
        assert message.get_content_type() == "multipart/alternative"
        assert message["List-Unsubscribe"].strip().startswith("<http://testserver/unsubscribe/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = message.get_body(("plain",)).get_content()
        assert "510 S. Vermont Ave." in text
    assert spanish["Message-ID"] != english["Message-ID"]
    assert "Hola Ana:" in spanish.get_body(("plain",)).get_content()
    # The footer names this campaign's topic, in the person's language.
    assert (
        "porque pidió recibir noticias sobre el programa piloto" in spanish.get_body(("plain",)).get_content()
    )
    assert "because you asked for updates on the" in english.get_body(("html",)).get_content()

    counts = await service.campaign_counts(campaign.id)
    assert counts == {
        "queued": 0,
        "sending": 0,
        "sent": 2,
        "deferred": 0,
        "failed": 0,
        "suppressed": 1,
        "bounced": 0,
        "clicked": 0,
        "complained": 0,
        "total": 3,
    }
    assert await service.complete_finished_campaigns(NOW) == [campaign.id]
    finished = await Campaign.get(id=campaign.id)
    assert finished.status == CampaignStatus.FINISHED and finished.finished_at == NOW
    assert [n.kind for n in heard] == [notices.NoticeKind.STARTED, notices.NoticeKind.FINISHED]
    assert heard[-1].counts["sent"] == 2


async def test_an_invitation_carries_a_personal_apply_link(runtime: Runtime, mail_server: MailServer) -> None:
    await person("ana@example.com", organization="Costura LA")
    campaign = await _create(runtime, kind="application_invitation", template="application_invitation")
    await service.start_campaign(campaign.id, NOW)
    await _send_all(runtime)
    delivery = await Delivery.get(campaign_id=campaign.id)
    text = mail_server.handler.messages_to("ana@example.com")[0].message.get_body(("plain",)).get_content()
    link = next(line for line in text.splitlines() if "/apply/" in line).strip()
    assert runtime.signer.unsign(Purpose.INVITATION, link.rsplit("/", 1)[1]) == delivery.id
    assert "Costura LA" in text


async def test_subject_and_campaign_values_reach_every_message(
    runtime: Runtime, mail_server: MailServer
) -> None:
    await person("ana@example.com", language="es")
    await person("bo@example.com", language="en")
    campaign = await _create(
        runtime,
        kind="working_group_notice",
        template="working_group_notice",
        subject="Working group: new date",
        values={"meeting_when": "Tuesday, December 8, 10:00", "meeting_where": "Hall of Administration"},
        english_for_spanish=True,  # a date and a place read the same in both languages
    )
    await service.start_campaign(campaign.id, NOW)
    await _send_all(runtime)
    for address in ("ana@example.com", "bo@example.com"):
        [received] = mail_server.handler.messages_to(address)
        assert received.message["Subject"] == "Working group: new date"
        text = received.message.get_body(("plain",)).get_content()
        assert "Tuesday, December 8, 10:00" in text and "Hall of Administration" in text


async def test_not_finished_while_anything_is_left_or_the_audience_is_still_being_written(
    runtime: Runtime,
) -> None:
    await person("ana@example.com")
    campaign = await _create(runtime)
    await service.start_campaign(campaign.id, NOW)
    assert await service.complete_finished_campaigns(NOW) == []  # queued
    await Delivery.filter(campaign_id=campaign.id).update(state=DeliveryState.DEFERRED)
    assert await service.complete_finished_campaigns(NOW) == []  # waiting to retry
    await Delivery.filter(campaign_id=campaign.id).update(state=DeliveryState.SENT)
    await Campaign.filter(id=campaign.id).update(audience_resolved_at=None)
    assert await service.complete_finished_campaigns(NOW) == []  # audience not all written
    await Campaign.filter(id=campaign.id).update(audience_resolved_at=NOW)
    assert await service.complete_finished_campaigns(NOW) == [campaign.id]


async def test_a_start_that_died_is_finished_later(runtime: Runtime) -> None:
    for i in range(3):
        await person(f"p{i}@example.com")
    campaign = await _create(runtime)
    # As a process that died right after claiming would leave it:
    await Campaign.filter(id=campaign.id).update(status=CampaignStatus.SENDING, started_at=NOW)
    assert await service.restart_stalled_starts(NOW + dt.timedelta(minutes=1)) == []  # maybe still going
    assert await service.restart_stalled_starts(NOW + dt.timedelta(minutes=11)) == [campaign.id]
    assert await Delivery.filter(campaign_id=campaign.id).count() == 3


# Control ------------------------------------------------------------------------------------------


async def test_pause_holds_the_queue_and_resume_carries_on(runtime: Runtime, heard) -> None:
    for i in range(3):
        await person(f"p{i}@example.com")
    campaign = await _create(runtime)
    await service.start_campaign(campaign.id, NOW)
    assert await service.pause_campaign(campaign.id, reason="wrong date in the text", actor="cli")
    assert not await service.pause_campaign(campaign.id, reason="again", actor="cli")
    paused = await Campaign.get(id=campaign.id)
    assert paused.status == CampaignStatus.PAUSED and paused.paused_reason == "wrong date in the text"
    assert await claim_due_deliveries("w", 10, now=NOW, lease_seconds=60) == []
    assert await service.complete_finished_campaigns(NOW) == []

    assert await service.resume_campaign(campaign.id, actor="cli", now=NOW)
    assert not await service.resume_campaign(campaign.id, actor="cli", now=NOW)
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.SENDING
    assert len(await claim_due_deliveries("w", 10, now=NOW, lease_seconds=60)) == 3
    kinds = [n.kind for n in heard]
    assert kinds == [notices.NoticeKind.STARTED, notices.NoticeKind.PAUSED, notices.NoticeKind.RESUMED]
    assert "wrong date in the text (by cli)" in heard[1].summary()


async def test_pausing_before_the_start_then_resuming_late_sends_at_once(runtime: Runtime) -> None:
    campaign = await _create(runtime, send_at="2026-12-01T09:00")
    assert await service.pause_campaign(campaign.id, reason="hold", actor="cli")
    later = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    assert await service.resume_campaign(campaign.id, actor="cli", now=later)
    resumed = await Campaign.get(id=campaign.id)
    assert resumed.status == CampaignStatus.SCHEDULED and resumed.send_at == later


async def test_cancel_withdraws_everything_not_yet_sent(runtime: Runtime, heard) -> None:
    for i in range(4):
        await person(f"p{i}@example.com")
    campaign = await _create(runtime)
    await service.start_campaign(campaign.id, NOW)
    rows = await Delivery.filter(campaign_id=campaign.id).order_by("id")
    await Delivery.filter(id=rows[0].id).update(state=DeliveryState.SENT)
    await Delivery.filter(id=rows[1].id).update(state=DeliveryState.DEFERRED)
    stuck = NOW - dt.timedelta(minutes=5)  # claimed by a sender that died
    await Delivery.filter(id=rows[2].id).update(state=DeliveryState.SENDING, lease_until=stuck)

    assert await service.cancel_campaign(campaign.id, actor="cli", now=NOW)
    assert not await service.cancel_campaign(campaign.id, actor="cli", now=NOW)
    counts = await service.campaign_counts(campaign.id)
    assert (counts["sent"], counts["suppressed"], counts["queued"], counts["sending"]) == (1, 3, 0, 0)
    withdrawn = await Delivery.filter(campaign_id=campaign.id, state=DeliveryState.SUPPRESSED)
    assert {row.last_reply for row in withdrawn} == {"not sent: campaign cancelled"}
    assert not await service.resume_campaign(campaign.id, actor="cli")
    assert heard[-1].kind == notices.NoticeKind.CANCELLED


async def test_a_failing_listener_never_stops_the_campaign(runtime: Runtime) -> None:
    async def broken(notice: notices.CampaignNotice) -> None:
        raise RuntimeError("Slack is down")

    stop = notices.subscribe(broken)
    try:
        campaign = await _create(runtime)
        assert await service.start_campaign(campaign.id, NOW)
        assert await service.pause_campaign(campaign.id, reason="x", actor="cli")
    finally:
        stop()


# Recurring --------------------------------------------------------------------------------------


async def test_each_occurrence_is_created_once_and_the_parent_moves_on(runtime: Runtime) -> None:
    await person("ana@example.com")
    parent = await _create(runtime, cron="0 9 * * 2#1")
    first = dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)
    assert await service.start_occurrence(parent.id, first - dt.timedelta(seconds=1)) is None
    child = await service.start_occurrence(parent.id, first)
    assert child is not None and child.occurrence_at == first and child.parent_id == parent.id
    assert await service.start_occurrence(parent.id, first) is None  # the parent has moved on
    moved = await Campaign.get(id=parent.id)
    assert moved.send_at == dt.datetime(2027, 1, 5, 17, 0, tzinfo=dt.UTC) and moved.status == "scheduled"
    # Another process that read the parent before it moved can't create the same occurrence again.
    await Campaign.filter(id=parent.id).update(send_at=first)
    assert await service.start_occurrence(parent.id, first) is None
    assert await Campaign.filter(parent_id=parent.id).count() == 1
    assert await service.start_campaign(child.id, first)
    assert (await service.campaign_counts(parent.id))["total"] == 1


async def test_occurrences_missed_while_down_fold_into_the_latest(runtime: Runtime, heard) -> None:
    parent = await _create(runtime, cron="0 9 * * 2#1")  # next: 2026-12-01
    back = dt.datetime(2027, 2, 3, 18, 0, tzinfo=dt.UTC)  # the service was down December to February
    child = await service.start_occurrence(parent.id, back)
    assert child is not None
    assert child.occurrence_at == dt.datetime(2027, 2, 2, 17, 0, tzinfo=dt.UTC)
    assert (await Campaign.get(id=parent.id)).send_at == dt.datetime(2027, 3, 2, 17, 0, tzinfo=dt.UTC)
    assert heard[-1].kind == notices.NoticeKind.MISSED and "2 earlier occurrence(s)" in heard[-1].detail


async def test_cancelling_a_recurring_campaign_cancels_its_open_occurrences(runtime: Runtime) -> None:
    parent = await _create(runtime, cron="0 9 * * 2#1")
    child = await service.start_occurrence(parent.id, dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC))
    assert child is not None
    assert await service.cancel_campaign(parent.id, actor="cli")
    assert (await Campaign.get(id=child.id)).status == CampaignStatus.CANCELLED


# Reading, preview, test send --------------------------------------------------------------------


async def test_history_shows_what_was_sent_and_what_the_server_said(
    runtime: Runtime, mail_server: MailServer
) -> None:
    ana = await person("ana@example.com")
    campaign = await _create(runtime)
    await service.start_campaign(campaign.id, NOW)
    await _send_all(runtime)
    [row] = await service.deliveries_for_person("  ANA@example.com ")
    assert row.campaign_id == campaign.id and row.kind == "pilot_update" and row.state == "sent"
    assert row.last_reply and row.message_id.startswith("<")
    assert row.as_json()["sent_at"]
    assert await service.deliveries_for_person("nobody@example.com") == []
    with pytest.raises(service.CampaignError):
        await service.deliveries_for_person("not an address")
    await Subscriber.filter(id=ana.id).update(email="ana.new@example.com")  # history follows the person
    assert len(await service.deliveries_for_person("ana.new@example.com")) == 1


async def test_preview_renders_for_the_subscriber(runtime: Runtime) -> None:
    await person("ana@example.com", language="es", name="Ana", role="working_group")
    campaign = await _create(runtime, audience="role=manufacturer", subject="Asunto propio")
    shown = await service.preview(campaign.id, "ana@example.com", builder=runtime.builder)
    assert shown.language == "es" and shown.rendered.subject == "Asunto propio"
    assert "Hola Ana:" in shown.rendered.text
    assert "Recibe este correo porque pidió recibir noticias" in shown.rendered.text
    assert shown.in_audience is False  # a working-group member, and the audience is manufacturers
    with pytest.raises(service.CampaignError, match="no subscriber with that address"):
        await service.preview(campaign.id, "stranger@example.com", builder=runtime.builder)
    with pytest.raises(service.CampaignError, match="there is no campaign 999"):
        await service.preview(999, "ana@example.com", builder=runtime.builder)


async def test_test_send_goes_now_marked_as_a_test(runtime: Runtime, mail_server: MailServer) -> None:
    campaign = await _create(runtime, kind="application_invitation", template="application_invitation")
    result = await service.test_send(
        campaign.id, "Staff@Example.gov", builder=runtime.builder, transport=runtime.transport, language="es"
    )
    assert result.sent and "accepted" in result.reply.lower()
    [received] = mail_server.handler.messages_to("staff@example.gov")
    assert received.message["Subject"].startswith("[TEST] Le invitamos")
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = await Delivery.get(id=result.delivery_id)
    assert row.campaign_id is None and row.state == DeliveryState.SENT
    assert row.context == {"test_of_campaign": campaign.id}
    assert (await service.campaign_counts(campaign.id))["total"] == 0  # not part of the campaign


async def test_a_refused_test_send_says_what_the_server_answered(
    runtime: Runtime, mail_server: MailServer
) -> None:
    campaign = await _create(runtime)
    mail_server.handler.faults.refuse["staff@example.gov"] = "550 5.1.1 No such user"
    result = await service.test_send(
        campaign.id, "staff@example.gov", builder=runtime.builder, transport=runtime.transport
    )
    assert not result.sent and result.reply.startswith("550")
    assert (await Delivery.get(id=result.delivery_id)).state == DeliveryState.FAILED
    with pytest.raises(service.CampaignError):
        await service.test_send(
            campaign.id, "bad address", builder=runtime.builder, transport=runtime.transport
        )
