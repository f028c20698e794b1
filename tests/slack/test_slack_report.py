"""`/madeinla report` and the App Home tab: team metrics' figures, the chart uploaded as a PNG."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from bot.app import create_app
from bot.settings import Settings
from bot.slack import report
from outreach.metrics import collect
from outreach.timeline import pilot_today
from subscribers.models import AuditEvent, Status
from tests.conftest import ON_POSTGRES
from tests.outreach.people import person
from tests.slack.conftest import MEMBER, SignedSlack
from tests.slack.fakeslack import FakeSlack

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def three_signups(slack_app: Starlette) -> None:
    """Three sign-ups through the form today (the figures count the audit trail's first status)."""
    for email, role in (
        ("a@example.com", "manufacturer"),
        ("b@example.com", "manufacturer"),
        ("c@example.com", "working_group"),
    ):
        someone = await person(email, role=role, status=Status.PENDING)
        await AuditEvent.create(
            subscriber_id=someone.id, action="status", old_value="", new_value="pending", actor="form"
        )


async def test_report_answers_with_the_headline_numbers_and_uploads_the_chart(
    slack: SignedSlack, fake_slack: FakeSlack, three_signups: None
):
    text = await slack.reply("report", user=MEMBER)
    period = report.report_period("month", pilot_today())
    assert text.startswith(f"*Made in LA pilot, {period.describe()}*")
    figures = await collect(period, today=pilot_today())
    for headline in figures.headlines:  # the same numbers as the dashboard's
        assert f"• {headline.label}: *{headline.value:,}*" in text
    assert "• Sign-ups: *3*" in text
    assert "3 sign-ups from" in text and "67% of them manufacturers" in text
    assert "on its way to your direct messages" in text

    # files_upload_v2: get an upload URL, post the bytes there, complete into the person's DM.
    completed = await fake_slack.wait_for(lambda: fake_slack.calls_to("files.completeUploadExternal"), 20)
    (opened,) = fake_slack.calls_to("conversations.open")
    assert opened["users"] == MEMBER
    (asked,) = fake_slack.calls_to("files.getUploadURLExternal")
    assert asked["filename"] == "madeinla-signups.png"
    (file_id,) = fake_slack.uploads
    assert fake_slack.uploads[file_id].startswith(PNG)
    assert int(asked["length"]) == len(fake_slack.uploads[file_id])
    assert completed[0]["channel_id"] == "D" + MEMBER.lstrip("U")
    files = json.loads(completed[0]["files"])
    assert files == [{"id": file_id, "title": f"Made in LA sign-ups, {period.describe()}"}]


async def test_report_quarter_starts_with_the_quarter(slack: SignedSlack, fake_slack: FakeSlack):
    today = pilot_today()
    text = await slack.reply("report quarter")
    assert text.startswith(f"*Made in LA pilot, {report.report_period('quarter', today).describe()}*")
    assert report.report_period("quarter", today).first.month in (1, 4, 7, 10)
    assert (await slack.reply("informe trimestre")).startswith("*Made in LA pilot")
    await fake_slack.wait_for(lambda: len(fake_slack.calls_to("files.completeUploadExternal")) == 2, 20)


async def test_report_with_a_period_it_does_not_know(slack: SignedSlack, fake_slack: FakeSlack):
    text = await slack.reply("report year")
    assert text.startswith(":warning: `report` takes `month` or `quarter`, not `year`.")
    assert not fake_slack.calls_to("files.getUploadURLExternal")


async def test_a_failed_upload_leaves_the_answer_and_logs_one_line(
    slack: SignedSlack,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
):
    fake_slack.fail("files.getUploadURLExternal", "not_allowed_token_type")
    logged = asyncio.Event()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "could not upload the report chart" in record.getMessage():
                logged.set()

    logging.getLogger("bot.slack.app").addHandler(watch := Watch())
    request.addfinalizer(lambda: logging.getLogger("bot.slack.app").removeHandler(watch))
    with caplog.at_level(logging.WARNING):
        text = await slack.reply("report")
        assert text.startswith("*Made in LA pilot")
        await fake_slack.wait_for(lambda: fake_slack.calls_to("files.getUploadURLExternal"), 20)
        await asyncio.wait_for(logged.wait(), 20)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


# --- App Home ---------------------------------------------------------------------------------


def home_opened(user: str, tab: str = "home") -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event_id": f"Ev{user}{tab}",
            "event_time": 1700000000,
            "event": {"type": "app_home_opened", "user": user, "channel": "D1", "tab": tab},
        }
    )


async def test_app_home_shows_the_same_numbers_when_opened(
    slack: SignedSlack, fake_slack: FakeSlack, three_signups: None
):
    body = home_opened(MEMBER)
    response = await slack.post(body, {**slack.headers(body), "content-type": "application/json"})
    assert response.status_code == 200
    (published,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("views.publish"), 20)
    assert published["user_id"] == MEMBER
    view = published["view"] if isinstance(published["view"], dict) else json.loads(published["view"])
    assert view["type"] == "home"
    shown = json.dumps(view)
    assert "Sign-ups: *3*" in shown and "3 sign-ups from" in shown
    # Not reachable over HTTPS (the tests' address): the chart's text summary, no image block.
    assert all(block["type"] != "image" for block in view["blocks"])


async def test_the_messages_tab_does_not_publish(slack: SignedSlack, fake_slack: FakeSlack):
    body = home_opened(MEMBER, tab="messages")
    response = await slack.post(body, {**slack.headers(body), "content-type": "application/json"})
    assert response.status_code == 200
    assert not fake_slack.calls_to("views.publish")


@pytest.fixture
async def public_app(slack_settings: Settings) -> AsyncIterator[Starlette]:
    settings = slack_settings.model_copy(update={"public_base_url": "https://madeinla.example.gov"})
    application = create_app(settings, run_sender=False, run_scheduler=False)
    async with application.router.lifespan_context(application):
        if ON_POSTGRES:
            from tortoise.contrib.test import truncate_all_models

            await truncate_all_models()
        yield application


async def test_app_home_chart_comes_from_a_signed_link(public_app: Starlette, fake_slack: FakeSlack):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=public_app), base_url="http://testserver"
    ) as http:
        slack = SignedSlack(http, fake_slack)
        body = home_opened(MEMBER)
        assert (
            await slack.post(body, {**slack.headers(body), "content-type": "application/json"})
        ).status_code == 200
        (published,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("views.publish"), 20)
        view = published["view"] if isinstance(published["view"], dict) else json.loads(published["view"])
        (image,) = [block for block in view["blocks"] if block["type"] == "image"]
        assert image["image_url"].startswith("https://madeinla.example.gov/slack/charts/signups.png?t=")
        assert image["alt_text"].startswith("0 sign-ups from")
        chart = await http.get(image["image_url"].removeprefix("https://madeinla.example.gov"))
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
        assert chart.content.startswith(PNG)
        forged = await http.get(image["image_url"].removeprefix("https://madeinla.example.gov")[:-3] + "abc")
        assert forged.status_code == 404
        assert (await http.get("/slack/charts/signups.png")).status_code == 404


def test_chart_links_expire_and_name_a_known_period() -> None:
    secret = "0123456789abcdef0123"
    link = report.chart_link(secret, "https://x.example", "quarter", pilot_today())
    assert link is not None
    token = link.split("?t=", 1)[1]
    assert report.read_chart_link(secret, token) == "quarter"
    assert report.read_chart_link("another-secret-0123456", token) is None
    assert report.chart_link(secret, "http://127.0.0.1:8000", "month", pilot_today()) is None


async def test_help_lists_report(slack: SignedSlack):
    assert "`/madeinla report`" in await slack.reply("help")
