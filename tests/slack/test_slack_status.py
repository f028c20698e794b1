"""`/madeinla status`: the pilot's calendar, sign-ups by role, screened profiles, campaigns."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from bot.app import create_app
from bot.slack.commands import pilot_today
from bot.slack.status import DESIGN_REPORT_DUE, add_months, pilot_phase
from outreach.models import Campaign, CampaignKind, CampaignStatus
from subscribers.models import BusinessProfile, Role, Status, Subscriber
from tests.slack.conftest import SignedSlack

D = dt.date


def test_design_report_is_due_120_days_after_the_motion():
    assert D(2026, 9, 2) == DESIGN_REPORT_DUE


@pytest.mark.parametrize(
    ("today", "start", "name", "now", "next_"),
    [
        (D(2026, 4, 1), None, "before_motion", "goes to the Board on 2026-05-05", "120 days"),
        (
            D(2026, 5, 5),
            None,
            "design",
            "Design: ISD and DEO",
            "due to the Board on 2026-09-02 (in 120 days)",
        ),
        (
            D(2026, 9, 2),
            None,
            "design",
            "Design",
            "2026-09-02 (today). The 12-month pilot's start date is not set yet",
        ),
        (
            D(2026, 9, 3),
            None,
            "awaiting_start",
            "was due to the Board on 2026-09-02",
            "start date is not set yet",
        ),
        (D(2026, 8, 1), D(2027, 1, 4), "design", "Design", "The pilot starts on 2027-01-04 (in 156 days)"),
        (D(2026, 11, 22), D(2027, 1, 4), "starting", "Getting ready", "starts on 2027-01-04 (in 43 days)"),
        (D(2027, 1, 4), D(2027, 1, 4), "running", "month 1 of 12 (started 2027-01-04)", "ends on 2028-01-03"),
        (D(2027, 2, 3), D(2027, 1, 4), "running", "month 1 of 12", "ends on 2028-01-03"),
        (D(2027, 2, 4), D(2027, 1, 4), "running", "month 2 of 12", "ends on 2028-01-03"),
        (D(2028, 1, 3), D(2027, 1, 4), "running", "month 12 of 12", "ends on 2028-01-03 (today)"),
        (D(2028, 1, 4), D(2027, 1, 4), "ended", "ran from 2027-01-04 to 2028-01-03", "evaluate"),
    ],
)
def test_pilot_phase(today, start, name, now, next_):
    phase = pilot_phase(today, start)
    assert phase.name == name
    assert now in phase.now
    assert next_ in phase.next


def test_add_months_keeps_to_real_days():
    assert add_months(D(2027, 1, 31), 1) == D(2027, 2, 28)
    assert add_months(D(2028, 2, 29), 12) == D(2029, 2, 28)
    assert add_months(D(2026, 12, 15), 12) == D(2027, 12, 15)


async def test_status_with_data(slack: SignedSlack):
    for index in range(3):
        person = await Subscriber.create(
            email=f"m{index}@x.example", role=Role.MANUFACTURER, status=Status.ACTIVE
        )
        await BusinessProfile.create(
            subscriber=person,
            principal_zip="90021" if index < 2 else "10001",
            employees=12,
            years_in_county=5,
            ca_small_business=True,
            naics="315250",
        )
    await Subscriber.create(email="p@x.example", role=Role.MANUFACTURER, status=Status.PENDING)
    await Subscriber.create(email="w@x.example", role=Role.WORKING_GROUP, status=Status.ACTIVE)
    await Subscriber.create(email="u@x.example", role=Role.WORKING_GROUP, status=Status.UNSUBSCRIBED)
    now = dt.datetime.now(dt.UTC)
    upcoming = await Campaign.create(
        kind=CampaignKind.PILOT_UPDATE, template="pilot_update", send_at=now + dt.timedelta(days=2)
    )
    sent = await Campaign.create(
        kind=CampaignKind.WORKING_GROUP_NOTICE,
        template="meeting",
        status=CampaignStatus.FINISHED,
        started_at=now - dt.timedelta(days=1),
        finished_at=now - dt.timedelta(hours=20),
    )

    text = await slack.reply("status")
    assert "*Made in LA pilot*" in text
    assert "• manufacturers: 3 (1 pending)" in text
    assert "• working group: 1\n" in text
    assert "Total active: 4" in text
    assert "LSBE: 2 looks eligible, 0 needs review, 1 not eligible of 3." in text
    assert "Made in LA pilot: 0 looks eligible, 2 needs review, 1 not eligible of 3" in text
    assert f"Next: #{upcoming.id} pilot update (template pilot_update), scheduled, sends " in text
    assert f"Last: #{sent.id} working group notice (template meeting), finished, ended " in text


async def test_status_on_an_empty_database(slack: SignedSlack):
    text = await slack.reply("status")
    assert "Total active: 0" in text
    assert "No active manufacturer has a business profile yet." in text
    assert "Next: none scheduled" in text and "Last: none sent yet" in text


async def test_status_shows_the_configured_start(slack_settings, fake_slack):
    start = pilot_today() - dt.timedelta(days=40)
    settings = slack_settings.model_copy(update={"pilot_start_date": start})
    application = create_app(settings, run_sender=False, run_scheduler=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            text = await SignedSlack(http, fake_slack).reply("status")
    assert f"The 12-month pilot is running: month 2 of 12 (started {start})." in text
