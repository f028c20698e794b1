"""What reaches /slack/events is checked before anything reads it: signature, replay, shape."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from typing import Any

import pytest
from starlette.applications import Starlette

from bot.slack.intake import Signed
from bot.slack.replay import ReplayGuard
from bot.slack.replay_models import SlackRequestSeen
from outreach.models import CampaignStatus
from tests.conftest import ON_POSTGRES
from tests.slack.conftest import STAFF, SignedSlack
from tests.slack.fakeslack import FakeSlack
from tests.slack.test_slack_campaigns import sending_campaign

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]


# --- item 3: unsigned bodies are refused before anything parses them ----------------------------


@pytest.mark.parametrize("payload", ["[1]", "null", "5", "{oops", '"text"', "", "%ff"])
async def test_unsigned_payload_that_is_not_an_object_gets_401_not_a_500(
    slack: SignedSlack, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, payload: str
):
    """A forged payload= of any kind is refused for its signature, before anything parses it."""
    body = "payload=" + urllib.parse.quote(payload, safe="%")
    stamp = str(int(time.time()))
    for signature in ("v0=00", "v0=" + "ab" * 32, "v0=\u00e9".encode("latin-1"), "garbage"):
        headers = {**FORM, "x-slack-request-timestamp": stamp, "x-slack-signature": signature}
        with caplog.at_level(logging.INFO):
            response = await slack.post(body, headers)
        assert response.status_code == 401, signature
        assert response.json() == {"error": "invalid request"}
    assert not _problems(caplog)
    assert fake_slack.calls == []


async def test_unsigned_json_body_is_refused(slack: SignedSlack, caplog: pytest.LogCaptureFixture):
    headers = {"content-type": "application/json", "x-slack-request-timestamp": str(int(time.time()))}
    for body in ("[1]", "{oops", '{"type": "event_callback", "event": 5}'):
        response = await slack.post(body, {**headers, "x-slack-signature": "v0=00"})
        assert response.status_code == 401
    assert not _problems(caplog)


async def test_certificate_check_with_a_payload_in_it_runs_nothing(slack: SignedSlack, fake_slack: FakeSlack):
    response = await slack.post("ssl_check=1&payload=%5B1%5D", FORM)
    assert response.status_code == 200
    assert fake_slack.calls == []


# --- item 3: signed but malformed -----------------------------------------------------------

ELIGIBILITY_VIEW = {"type": "modal", "callback_id": "madeinla_eligibility"}
MALFORMED: list[Any] = [
    [1],
    None,
    5,
    {"type": "view_submission"},
    {"type": "view_submission", "view": "x"},
    {"type": "view_submission", "view": {"callback_id": "madeinla_eligibility"}},  # no view type
    {"type": "view_submission", "view": {"type": "modal", "callback_id": 5}},
    {"type": "view_submission", "view": {**ELIGIBILITY_VIEW, "state": []}},
    {"type": "view_submission", "view": {**ELIGIBILITY_VIEW, "state": {"values": {"zip": []}}}},
    {
        "type": "view_submission",
        "view": {**ELIGIBILITY_VIEW, "state": {"values": {"zip": {"zip": {"value": 5}}}}},
    },
    {"type": "view_submission", "view": {**ELIGIBILITY_VIEW, "private_metadata": 5}},
    {"type": "view_submission", "team": 5, "view": ELIGIBILITY_VIEW},
    {"type": "view_submission", "user": [STAFF], "view": ELIGIBILITY_VIEW},
    {"type": "view_closed", "view": None},
    {"type": "block_actions", "actions": 5},
    {"type": "block_actions", "actions": [5]},
    {"type": "block_actions", "actions": [{"action_id": 5}]},
    {"type": "block_suggestion", "action_id": "a", "value": 5},
    {"type": "block_suggestion"},
    {"type": "shortcut", "callback_id": []},
    {"type": "event_callback", "event": 5},
    {"type": "event_callback", "event": {"type": 5}},
    {"type": "event_callback", "event": {"type": "app_home_opened", "user": 5}},
    {"type": "event_callback", "event": {"type": "reaction_added", "item": {"channel": 5}}},
    {"type": 5},
    {"authorizations": 5},
    {"authorizations": [{"team": 5}]},
    {"enterprise": 5, "type": "block_actions", "actions": []},
]


@pytest.mark.parametrize("payload", MALFORMED, ids=lambda payload: json.dumps(payload)[:60])
@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
async def test_signed_malformed_payload_gets_400_and_one_line(
    slack: SignedSlack, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, payload: Any, as_json: bool
):
    """Bolt indexes payloads without checking them; a signed but malformed one must not reach it."""
    if as_json:
        body, content_type = json.dumps(payload), "application/json"
    else:
        body, content_type = "payload=" + urllib.parse.quote(json.dumps(payload)), FORM["content-type"]
    headers = {**slack.headers(body), "content-type": content_type}
    with caplog.at_level(logging.INFO):
        response = await slack.post(body, headers)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "malformed request"}
    assert not _problems(caplog)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("refused a signed Slack request we can't read")
    assert set(fake_slack.methods()) <= {"auth.test"}


async def test_signed_payload_not_json_at_all(slack: SignedSlack):
    body = "payload=%7Boops"
    response = await slack.post(body, slack.headers(body))
    assert response.status_code == 400


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "view_closed", "view": {**ELIGIBILITY_VIEW, "id": "V1"}, "user": {"id": "U1"}},
        {"type": "block_actions", "actions": [{"action_id": "x", "block_id": "b"}], "user": {"id": "U1"}},
        {"type": "block_suggestion", "action_id": "a", "block_id": "b", "value": "sc", "user": {"id": "U1"}},
        {"type": "shortcut", "callback_id": "anything", "user": {"id": "U1"}},
        {
            "type": "event_callback",
            "event": {"type": "reaction_added", "user": "U1", "item": {"channel": "C1"}},
        },
    ],
    ids=lambda payload: payload["type"],
)
async def test_well_formed_requests_we_do_not_use_are_answered_quietly(
    slack: SignedSlack, caplog: pytest.LogCaptureFixture, payload: dict[str, Any]
):
    """Bolt's "unhandled request" warning logs the whole payload; every kind gets a listener instead."""
    if payload["type"] == "event_callback":
        body, content_type = json.dumps({**payload, "team_id": "T1"}), "application/json"
    else:
        body, content_type = "payload=" + urllib.parse.quote(json.dumps(payload)), FORM["content-type"]
    with caplog.at_level(logging.INFO):
        response = await slack.post(body, {**slack.headers(body), "content-type": content_type})
    assert response.status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_signed_view_submission_with_a_bare_user_id_still_answers(
    slack: SignedSlack, fake_slack: FakeSlack
):
    view = {
        **ELIGIBILITY_VIEW,
        "state": {"values": {"zip": {"zip": {"type": "plain_text_input", "value": "90021"}}}},
    }
    payload = {"type": "view_submission", "user": STAFF, "view": view}
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    response = await slack.post(body, slack.headers(body))
    assert response.status_code == 200


# --- item 4: replays ------------------------------------------------------------------------


async def test_a_replayed_staff_command_is_refused(
    slack: SignedSlack, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
):
    """A captured `campaigns pause` sent again inside the five minutes does not pause again."""
    campaign = await sending_campaign()
    pause = slack.command_body(f"campaigns pause {campaign.id} wrong list", user=STAFF)
    pause_headers = slack.headers(pause)
    assert (await slack.post(pause, pause_headers)).status_code == 200
    assert (await slack.reply(f"campaigns resume {campaign.id}", user=STAFF)).startswith("Resumed")
    with caplog.at_level(logging.INFO):
        replay = await slack.post(pause, pause_headers)
    assert replay.status_code == 401
    assert "its signature was used before (a replay)" in caplog.text
    await campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING


async def test_the_same_command_signed_again_is_not_a_replay(slack: SignedSlack):
    """Slack signs each request anew (the timestamp is part of it): only the same signature is refused."""
    body = slack.command_body("help")
    now = int(time.time())
    assert (await slack.post(body, slack.headers(body, timestamp=now))).status_code == 200
    assert (await slack.post(body, slack.headers(body, timestamp=now - 1))).status_code == 200


async def test_replay_guard_forgets_signatures_once_they_are_stale():
    clock = [1_000_000.0]
    guard = ReplayGuard(shared=False, now=lambda: clock[0])
    request = Signed(signature="v0=" + "a" * 64, timestamp=1_000_000)
    assert await guard.first_time(request)
    assert not await guard.first_time(request)
    clock[0] += 301 + 61  # the signature check refuses it by now; the memory is pruned
    assert await guard.first_time(Signed(signature="v0=" + "b" * 64, timestamp=int(clock[0])))
    assert request.signature not in guard._seen


@pytest.mark.postgres
async def test_a_replay_to_another_process_is_refused(slack_app: Starlette, slack: SignedSlack):
    """On PostgreSQL the signatures are shared: a process that never saw the request refuses it too."""
    runtime = slack_app.state.runtime
    body = slack.command_body("help")
    headers = slack.headers(body)
    assert (await slack.post(body, headers)).status_code == 200
    assert await SlackRequestSeen.filter(signature=headers["x-slack-signature"]).exists()
    runtime.extras["slack_replays"] = ReplayGuard(shared=True)  # another process: nothing in memory
    assert (await slack.post(body, headers)).status_code == 401
    assert (await slack.reply("help")).startswith("*/madeinla*")


@pytest.mark.postgres
async def test_expired_signatures_are_deleted(slack_app: Starlette, slack: SignedSlack):
    await SlackRequestSeen.create(signature="v0=old", expires_at=int(time.time()) - 10)
    await SlackRequestSeen.create(signature="v0=fresh", expires_at=int(time.time()) + 100)
    assert (await slack.reply("help")).startswith("*/madeinla*")  # the first request prunes
    assert not await SlackRequestSeen.filter(signature="v0=old").exists()
    assert await SlackRequestSeen.filter(signature="v0=fresh").exists()


async def test_sqlite_keeps_signatures_in_memory_only(slack_app: Starlette, slack: SignedSlack):
    """One process on SQLite: nothing is written per request (the fast screening stays database-free)."""
    assert (await slack.reply("help")).startswith("*/madeinla*")
    assert await SlackRequestSeen.all().count() == (1 if ON_POSTGRES else 0)


async def test_the_shared_check_falls_back_to_memory_when_the_database_is_away(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    from bot.slack import replay

    async def unreachable(*args: object) -> bool:
        raise ConnectionRefusedError

    monkeypatch.setattr(replay, "_claim", unreachable)
    monkeypatch.setattr(replay, "_delete_expired", unreachable)
    guard = ReplayGuard(shared=True)
    request = Signed(signature="v0=" + "c" * 64, timestamp=int(time.time()))
    assert await guard.first_time(request)
    assert not await guard.first_time(request)  # memory still refuses the replay
    assert "used this process's memory only: ConnectionRefusedError" in caplog.text
