"""Issue 11: SEND_WINDOW and SEND_RATE_PER_DOMAIN. Every test injects its clock: none depends on
when it runs."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings
from outreach.campaigns import campaign_summary
from outreach.models import Campaign, CampaignStatus, Delivery, DeliveryState
from outreach.queue import enqueue_transactional
from outreach.windows import LOS_ANGELES, RuleError, parse_domain_limits, parse_send_window
from subscribers.models import Status
from tests.mailserver import MailServer
from tests.outreach.people import person
from tests.outreach.sending import make_sender, people, started_campaign, transport_acting_after


def la(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LOS_ANGELES).astimezone(dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


# The rules themselves ------------------------------------------------------------------------------

WEEKDAYS = parse_send_window("Mon-Fri 08:00-18:00")


def test_the_default_window_is_weekday_office_hours_in_los_angeles() -> None:
    assert WEEKDAYS.is_open(la("2027-01-11T08:00"))  # Monday
    assert WEEKDAYS.is_open(la("2027-01-15T17:59"))  # Friday
    assert not WEEKDAYS.is_open(la("2027-01-11T18:00"))
    assert not WEEKDAYS.is_open(la("2027-01-11T07:59"))
    assert not WEEKDAYS.is_open(la("2027-01-09T12:00"))  # Saturday
    assert WEEKDAYS.next_open(la("2027-01-15T18:30")) == la("2027-01-18T08:00")  # Friday evening
    assert WEEKDAYS.next_open(la("2027-01-12T06:00")) == la("2027-01-12T08:00")
    assert WEEKDAYS.closes_at(la("2027-01-12T09:00")) == la("2027-01-12T18:00")
    assert WEEKDAYS.closes_at(la("2027-01-12T19:00")) is None


def test_windows_follow_los_angeles_daylight_saving() -> None:
    # 8:00 in Los Angeles is 16:00 UTC in winter and 15:00 UTC after the clocks go forward.
    assert WEEKDAYS.next_open(la("2027-03-12T19:00")) == dt.datetime(2027, 3, 15, 15, 0, tzinfo=dt.UTC)
    assert WEEKDAYS.next_open(la("2027-11-05T19:00")) == dt.datetime(2027, 11, 8, 16, 0, tzinfo=dt.UTC)
    night = parse_send_window("Sun 02:00-03:30")  # 2:00-3:00 doesn't exist on 14 March 2027
    assert night.next_open(la("2027-03-13T12:00")) == dt.datetime(2027, 3, 14, 10, 0, tzinfo=dt.UTC)


def test_more_parts_other_zones_midnight_and_always() -> None:
    window = parse_send_window("Mon-Fri 08:00-18:00, Sat 09:00-12:00")
    assert window.is_open(la("2027-01-09T10:00")) and not window.is_open(la("2027-01-10T10:00"))
    new_york = parse_send_window("Mon-Fri 09:00-17:00 America/New_York")
    assert new_york.is_open(la("2027-01-11T06:30")) and not new_york.is_open(la("2027-01-11T14:30"))
    late = parse_send_window("Fri-Mon 20:00-24:00, Sat-Tue 00:00-06:00")  # Fri-Mon wraps the weekend
    assert late.closes_at(la("2027-01-08T21:00")) == la("2027-01-09T06:00")
    assert late.is_open(la("2027-01-11T23:00")) and not late.is_open(la("2027-01-12T23:00"))
    always = parse_send_window("always")
    assert (
        always.always
        and always.is_open(la("2027-01-09T03:00"))
        and always.closes_at(la("2027-01-09")) is None
    )
    every_hour = parse_send_window("Mon-Sun 00:00-24:00")
    assert every_hour.closes_at(la("2027-01-09T03:00")) is not None


@pytest.mark.parametrize(
    ("parse", "text", "error"),
    [
        (parse_send_window, "weekdays 8-6", "is not days and hours"),
        (parse_send_window, "Mon-Fri 18:00-08:00", "ends before it starts"),
        (parse_send_window, "Mon-Fry 08:00-18:00", "'fry' is not a weekday"),
        (parse_send_window, "Mon-Fri 08:00-25:00", "'25:00' is not a time of day"),
        (parse_send_window, "Mon-Fri 08:00-18:00 Mars/Olympus", "'Mars/Olympus' is not a time zone"),
        (parse_domain_limits, "gmail.com", "has no '='"),
        (parse_domain_limits, "gmail.com=600", "is not a rate"),
        (parse_domain_limits, "gmail.com=0/h", "is not a rate"),
        (parse_domain_limits, "gmail=600/h", "is not a mail domain"),
        (parse_domain_limits, "gmail.com=600/h,GMAIL.com=5/m", "given twice"),
    ],
)
def test_bad_rules_say_what_is_wrong(parse: Callable[[str], object], text: str, error: str) -> None:
    with pytest.raises(RuleError, match=error):
        parse(text)


def test_domain_limits_read_loosely_written_values() -> None:
    limits = parse_domain_limits("gmail.com=600/h, Yahoo.com = 300 / h,aol.com=5000/d")
    assert (limits["yahoo.com"].count, limits["yahoo.com"].per, limits["aol.com"].per) == (300, "h", "d")


def test_bad_settings_say_what_is_wrong_in_one_line(settings: Settings) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**{**settings.model_dump(), "send_window": "Mon-Fri 8-6"})
    assert str(caught.value).startswith(
        "SEND_WINDOW: 'mon-fri 8-6' is not days and hours; write the window like"
    )
    with pytest.raises(SettingsError, match=r"^PUBLIC_BASE_URL: must be https:// \(emailed links"):
        load_settings(**{**settings.model_dump(), "public_base_url": "http://madeinla.example.gov"})


def test_http_is_only_for_this_machine(settings: Settings) -> None:
    for url in ("http://localhost:8000", "http://127.0.0.1:8000", "https://madeinla.example.gov"):
        assert load_settings(**{**settings.model_dump(), "public_base_url": url}).public_base_url == url


@pytest.mark.slow
def test_serve_refuses_an_http_public_address_in_one_line(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DATA_DIR": str(tmp_path / "data"),
        "PUBLIC_BASE_URL": "http://madeinla.example.gov",
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("madeinla")), "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "PUBLIC_BASE_URL: must be https://" in lines[0] and "Traceback" not in done.stderr


# The sender inside and outside the window ---------------------------------------------------------

SATURDAY_NOON = la("2027-01-09T12:00")
MONDAY_9 = la("2027-01-11T09:00")


def windowed(settings: Settings, window: str = "Mon-Fri 08:00-18:00", **more: object) -> Settings:
    return load_settings(**{**settings.model_dump(), "send_window": window, **more})


async def test_campaigns_wait_for_the_window_and_confirmations_do_not(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    settings = windowed(smtp_settings)
    clock = Clock(SATURDAY_NOON)
    everyone = await people(3)
    campaign = await started_campaign(settings, now=clock.now)
    newcomer = await person("new@example.com", status=Status.PENDING)
    await enqueue_transactional(
        address=newcomer.email, template="confirm", language="en", subscriber_id=newcomer.id
    )
    sender = make_sender(settings, clock=clock)
    try:
        assert await sender.send_due() == 1  # the confirmation, on a Saturday
        assert await sender.send_due() == 0
        summary = await campaign_summary(
            await Campaign.get(id=campaign.id), window=sender.window, now=clock.now
        )
        assert summary["status"] == "sending"
        assert summary["waiting"] == (
            "outside the send window (Mon-Fri 08:00-18:00); goes on at 2027-01-11 08:00 PST"
        )
        assert summary["window_opens_at"] == "2027-01-11T16:00:00+00:00"
        clock.now = MONDAY_9
        assert await sender.send_due() == 3
    finally:
        await sender.transport.close()
    assert set(mail_server.handler.count_by_recipient()) == {p.email for p in everyone} | {newcomer.email}
    summary = await campaign_summary(await Campaign.get(id=campaign.id), window=sender.window, now=clock.now)
    assert summary["waiting"] == ""


async def test_a_campaign_reaching_the_end_of_the_window_waits_for_the_next(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    settings = windowed(smtp_settings, smtp_pool_size=1)
    clock = Clock(la("2027-01-11T17:59"))
    await people(10)
    campaign = await started_campaign(settings, now=clock.now)

    async def six_pm() -> None:
        clock.now = la("2027-01-11T18:00")

    sender = make_sender(settings, clock=clock, transport=transport_acting_after(settings, 3, six_pm))
    try:
        await sender.send_due()
        rows = await Delivery.filter(campaign_id=campaign.id)
        sent = [row for row in rows if row.state == DeliveryState.SENT]
        assert 3 <= len(sent) <= 4  # the one whose envelope was already on its way may go too
        assert {row.state for row in rows if row not in sent} == {DeliveryState.QUEUED}
        assert await sender.send_due() == 0  # 18:00: closed
        assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.SENDING
        clock.now = la("2027-01-12T08:00")
        await sender.send_due()
    finally:
        await sender.transport.close()
    assert await Delivery.filter(campaign_id=campaign.id, state=DeliveryState.SENT).count() == 10
    counts = mail_server.handler.count_by_recipient()
    assert len(counts) == 10 and set(counts.values()) == {1}


async def test_per_domain_limits_hold_the_rest_for_the_next_window(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    settings = windowed(smtp_settings, "always", send_rate_per_domain="gmail.com=2/h")
    clock = Clock(la("2027-01-11T10:20"))
    gmail = [await person(f"g{i}@gmail.com") for i in range(5)]
    others = await people(3)
    campaign = await started_campaign(settings, now=clock.now)
    sender = make_sender(settings, clock=clock)
    try:
        await sender.send_due()
        sent = mail_server.handler.count_by_recipient()
        assert {a for a in sent if a.endswith("@gmail.com")} and len(sent) == 3 + 2
        held = await Delivery.filter(campaign_id=campaign.id, state=DeliveryState.QUEUED)
        assert len(held) == 3 and {row.next_attempt_at for row in held} == {la("2027-01-11T11:00")}
        assert {row.attempts for row in held} == {0}
        clock.now = la("2027-01-11T10:59")
        assert await sender.send_due() == 0
        clock.now = la("2027-01-11T11:00")
        await sender.send_due()
        assert len(mail_server.handler.count_by_recipient()) == 3 + 4
        clock.now = la("2027-01-11T12:00")
        await sender.send_due()
    finally:
        await sender.transport.close()
    counts = mail_server.handler.count_by_recipient()
    assert set(counts) == {p.email for p in gmail + others} and set(counts.values()) == {1}
