"""The weekly digest: Monday 8:00 in Los Angeles (an injected clock), the week before's headline
numbers and a dashboard link, through the outbox and the real sender to aiosmtpd; once a week."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from starlette.applications import Starlette

from bot.runtime import schedule_options
from bot.settings import Settings, SettingsError, load_settings
from outreach.metrics.digest import due_monday
from outreach.models import Delivery
from outreach.scheduling import CampaignScheduler
from outreach.timeline import PILOT_TIMEZONE
from tests.mailserver import MailServer
from tests.metrics.dataset import make_dataset
from tests.web.support import text_of

STAFF = ["analyst@lacounty.gov", "director@lacounty.gov"]


def la(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=PILOT_TIMEZONE).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("moment", "due"),
    [
        (la(16, 8), dt.date(2026, 11, 16)),  # Monday 8:00
        (la(17, 7, 59), dt.date(2026, 11, 16)),  # a day late at most
        (la(16, 7, 59), None),
        (la(17, 8), None),
        (la(15, 9), None),  # Sunday
    ],
)
def test_when_a_digest_is_due(moment: dt.datetime, due: dt.date | None) -> None:
    assert due_monday(moment) == due


async def test_monday_digest_reaches_staff_once(
    smtp_settings: Settings, mail_server: MailServer, app: Starlette
) -> None:
    await make_dataset()
    settings = smtp_settings.model_copy(update={"staff_digest_email": frozenset(STAFF)})
    clock = [la(16, 7, 59)]
    scheduler = CampaignScheduler(schedule_options(settings), clock=lambda: clock[0])
    try:
        await scheduler.tick()
        assert await Delivery.filter(template="staff_digest").count() == 0
        clock[0] = la(16, 8)
        await scheduler.tick()
        clock[0] = la(16, 8, 5)
        await scheduler.tick()  # a second sweep (or a second process) sends nothing more
    finally:
        await scheduler.leadership.release()
    assert await Delivery.filter(template="staff_digest").count() == 2
    received = await asyncio.to_thread(mail_server.wait_for, 2, 20.0)
    assert sorted(r.rcpt_tos for r in received) == [[address] for address in STAFF]
    message = mail_server.handler.messages_to(STAFF[0])[0].message
    assert message["Subject"] == "Made in LA: the week of November 9, 2026 in figures"
    body = " ".join(text_of(message).split())
    assert "November 9, 2026 to November 15, 2026" in body
    assert "Sign-ups: 4 (no change)" in body  # Eve, Fay, Gus, Ivy; the week before: Ana, Ben, Cy, Dee
    assert "Messages sent: 6 (up 6)" in body
    assert "Applications submitted: 3 (up 2)" in body  # Uma, Ana, Ben; the week before: Zed
    assert "http://localhost/staff/?from=2026-11-09&to=2026-11-15&by=week" in body


def test_digest_addresses_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_DIGEST_EMAIL", "Analyst@LACounty.gov, director@lacounty.gov,")
    assert load_settings().staff_digest_email == frozenset(STAFF)
    monkeypatch.setenv("STAFF_DIGEST_EMAIL", "analyst@lacounty.gov, not an address")
    with pytest.raises(SettingsError, match="STAFF_DIGEST_EMAIL"):
        load_settings()
