"""The pilot's calendar (`outreach.timeline`) and the emails that speak about it: what a template says
about the pilot depends on the day it is sent, never on the day it was written."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.runtime import build_runtime
from bot.settings import Settings
from outreach.messages import Recipient
from outreach.rendering import EMAIL_TEMPLATES_DIR, EmailTemplates
from outreach.timeline import (
    DESIGN_REPORT_DUE,
    Phase,
    Timeline,
    add_months,
    long_date,
    pilot_today,
    template_values,
)

D = dt.date
START = D(2027, 1, 4)


@pytest.mark.parametrize(
    ("today", "start", "phase", "month"),
    [
        (D(2026, 4, 1), None, Phase.BEFORE_MOTION, None),
        (D(2026, 5, 5), None, Phase.DESIGN, None),
        (DESIGN_REPORT_DUE, None, Phase.DESIGN, None),
        (D(2026, 12, 6), None, Phase.AWAITING_START, None),
        (D(2026, 12, 6), START, Phase.STARTING, None),
        (START, START, Phase.RUNNING, 1),
        (D(2027, 2, 4), START, Phase.RUNNING, 2),
        (D(2028, 1, 3), START, Phase.RUNNING, 12),
        (D(2028, 1, 4), START, Phase.ENDED, None),
    ],
)
def test_the_phase_on_a_day(today: dt.date, start: dt.date | None, phase: Phase, month: int | None) -> None:
    timeline = Timeline(today, start)
    assert (timeline.phase, timeline.month) == (phase, month)


def test_dates_are_written_as_people_write_them() -> None:
    assert long_date(D(2026, 9, 2), "en") == "September 2, 2026"
    assert long_date(D(2026, 9, 2), "es") == "2 de septiembre de 2026"
    assert add_months(D(2027, 1, 31), 1) == D(2027, 2, 28)
    assert Timeline(D(2027, 6, 1), START).last_day == D(2028, 1, 3)


def test_no_email_template_carries_a_date() -> None:
    """Dates come from the timeline (or from staff, per campaign), never from the template's text."""
    found = {
        str(path.relative_to(EMAIL_TEMPLATES_DIR)): re.findall(r"\b20\d\d\b", path.read_text())
        for path in EMAIL_TEMPLATES_DIR.rglob("*")
        if path.is_file() and re.search(r"\b20\d\d\b", path.read_text())
    }
    assert not found, found


def render_update(language: str, today: dt.date, start: dt.date | None) -> str:
    templates = EmailTemplates()
    context = {
        "name": "",
        "organization": "",
        "language": language,
        "links": {"home": "https://example.gov/", "preferences": "p", "unsubscribe": "u"},
        "reason": "r",
        "postal_address": "a",
        "pilot": template_values(Timeline(today, start), language),
    }
    rendered = templates.render("pilot_update", language, context)
    assert re.sub(r"<[^>]+>", "", rendered.html).split() != []
    return rendered.text


@pytest.mark.parametrize(
    ("language", "today", "start", "says", "never"),
    [
        ("en", D(2026, 8, 1), None, ["report the design to the Board by September 2, 2026"], ["was due"]),
        (
            "en",
            D(2026, 12, 6),
            None,
            ["was due to the Board on September 2, 2026", "has not set the date the pilot starts"],
            ["by September 2, 2026", "are designing"],
        ),
        ("en", D(2026, 12, 6), START, ["The pilot starts on January 4, 2027"], ["are designing"]),
        (
            "en",
            D(2027, 3, 1),
            START,
            ["started on January 4, 2027", "runs until January 3, 2028"],
            ["are designing", "when businesses can apply"],
        ),
        ("en", D(2028, 2, 1), START, ["ran from January 4, 2027 to January 3, 2028"], ["are designing"]),
        ("es", D(2026, 8, 1), None, ["a más tardar el 2 de septiembre de 2026"], ["debía presentarse"]),
        (
            "es",
            D(2026, 12, 6),
            None,
            ["debía presentarse a la Junta el 2 de septiembre de 2026", "todavía no ha fijado la fecha"],
            ["a más tardar el 2 de septiembre", "están diseñando"],
        ),
        ("es", D(2027, 3, 1), START, ["empezó el 4 de enero de 2027", "hasta el 3 de enero de 2028"], []),
    ],
)
def test_the_pilot_update_says_where_the_pilot_stands_on_the_day_it_is_sent(
    language: str, today: dt.date, start: dt.date | None, says: list[str], never: list[str]
) -> None:
    text = " ".join(render_update(language, today, start).split())
    for phrase in says:
        assert phrase in text, (phrase, text)
    for phrase in never:
        assert phrase not in text, (phrase, text)


def test_every_message_gets_the_timeline_of_today(settings: Settings) -> None:
    start = pilot_today() + dt.timedelta(days=30)
    builder = build_runtime(settings.model_copy(update={"pilot_start_date": start})).builder
    recipient = Recipient(address="ana@example.com", subscriber_id=1, language="es")
    context = builder.context(recipient, builder.links(recipient))
    assert context["pilot"]["phase"] == "starting"
    assert context["pilot"]["start"] == long_date(start, "es")


def test_status_in_slack_and_emails_share_one_calendar() -> None:
    from bot.slack.status import pilot_phase

    for today, start in [(D(2026, 8, 1), None), (D(2026, 12, 6), START), (D(2027, 3, 1), START)]:
        assert pilot_phase(today, start).name == Timeline(today, start).phase.value
