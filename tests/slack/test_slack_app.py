"""Signed Slack requests through the real app: verification, help, the screener and its modal."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.app import create_app
from bot.settings import Settings
from bot.slack import app as slack_app_module
from bot.slack.app import build_slack_app
from bot.slack.views import ELIGIBILITY_CALLBACK
from tests.slack.conftest import MEMBER, SIGNING_SECRET, SignedSlack
from tests.slack.fakeslack import BOT_TOKEN, FakeSlack

# --- request verification -------------------------------------------------------------------


async def test_forged_signature_is_refused_before_anything_runs(slack: SignedSlack, fake_slack: FakeSlack):
    body = slack.command_body("eligible zip=90021")
    headers = SignedSlack(slack.http, fake_slack, secret="not-the-secret").headers(body)
    response = await slack.post(body, headers)
    assert response.status_code == 401
    assert fake_slack.calls == []


async def test_refusals_are_logged_without_the_payload(slack: SignedSlack, caplog: pytest.LogCaptureFixture):
    body = slack.command_body("eligible zip=90021 secret-words")
    with caplog.at_level(logging.DEBUG):
        response = await slack.post(body, slack.headers(body, timestamp=int(time.time()) - 3600))
    assert response.status_code == 401
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "refused a request to /slack/events" in logged
    assert "secret-words" not in logged and "90021" not in logged


async def test_stale_timestamp_is_refused(slack: SignedSlack, fake_slack: FakeSlack):
    body = slack.command_body("help")
    response = await slack.post(body, slack.headers(body, timestamp=int(time.time()) - 6 * 60))
    assert response.status_code == 401
    assert fake_slack.calls == []


async def test_unsigned_request_is_refused(slack: SignedSlack, fake_slack: FakeSlack):
    body = slack.command_body("help")
    response = await slack.post(body, {"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 401
    assert fake_slack.calls == []


@pytest.mark.parametrize(
    "timestamp", ["abc", "", "1e9", "-1", " 1700000000", "1700000000.5", "0x10", "1" * 5000]
)
@pytest.mark.parametrize("signed", [True, False])
async def test_malformed_timestamp_is_refused_not_an_apology(
    slack: SignedSlack, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, timestamp: str, signed: bool
):
    body = slack.command_body("help")
    headers = {"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": timestamp}
    if signed:
        headers["x-slack-signature"] = slack.verifier.generate_signature(timestamp=timestamp, body=body)
    with caplog.at_level(logging.INFO):
        response = await slack.post(body, headers)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid request"}
    assert [r.getMessage() for r in caplog.records if r.name.startswith("bot.")] == [
        "refused a request to /slack/events: bad or missing signature, or a stale timestamp"
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert fake_slack.calls == []


async def test_slacks_certificate_check_is_answered_and_runs_nothing(
    slack: SignedSlack, fake_slack: FakeSlack
):
    # Slack checks a slash command's certificate with ssl_check=1; Bolt answers it before verifying.
    body = "ssl_check=1&token=unused"
    response = await slack.post(body, {"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert fake_slack.calls == []
    # ...which opens no side door: the same body with a command in it still needs a signature.
    body = "ssl_check=0&" + slack.command_body("help")
    response = await slack.post(body, {"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 401


async def test_signed_request_without_a_timestamp_header_is_refused(slack: SignedSlack):
    body = slack.command_body("help")
    headers = slack.headers(body)
    del headers["x-slack-request-timestamp"]
    assert (await slack.post(body, headers)).status_code == 401


async def test_body_changed_after_signing_is_refused(slack: SignedSlack, fake_slack: FakeSlack):
    body = slack.command_body("campaigns pause 1", user=MEMBER)
    headers = slack.headers(body)
    response = await slack.post(body.replace(MEMBER, "USTAFF"), headers)
    assert response.status_code == 401


async def test_bytes_that_are_not_utf8_are_refused_not_a_crash(slack: SignedSlack):
    response = await slack.http.post(
        "/slack/events",
        content=b"text=\xff\xfe",
        headers={"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "v0=00"},
    )
    assert response.status_code == 401


async def test_oversized_body_is_refused(slack: SignedSlack):
    body = slack.command_body("eligible " + "zip=90021 " * 30_000)
    response = await slack.post(body, slack.headers(body))
    assert response.status_code == 413


# --- help -----------------------------------------------------------------------------------


async def test_help_lists_every_subcommand_privately(slack: SignedSlack):
    text = await slack.reply("help")
    for word in ("eligible", "preference", "status", "find", "subscribe", "unsubscribe", "campaigns"):
        assert f"`/madeinla {word}" in text or f"`{word}`" in text
    assert await slack.reply("") == text


async def test_unknown_subcommand_gets_help_with_the_problem_first(slack: SignedSlack):
    text = await slack.reply("frobnicate <!channel>")
    first, _, rest = text.partition("\n\n")
    assert "frobnicate" in first and first.startswith(":warning:")
    assert "/madeinla eligible" in rest
    assert "<!channel>" not in text


async def test_help_on_a_topic_lists_its_keys(slack: SignedSlack):
    text = await slack.reply("help eligible")
    for key in ("zip", "production_zip", "since", "employees", "revenue", "garment_registration", "debarred"):
        assert f"`{key}`" in text


# --- eligible -------------------------------------------------------------------------------


async def test_eligible_answers_from_the_ack_without_calling_slack(slack: SignedSlack, fake_slack: FakeSlack):
    text = await slack.reply("eligible zip=90021 employees=12")
    assert text.startswith("*Eligibility screening* for `zip=90021 employees=12`")
    assert "LSBE (Local Small Business Enterprise): needs review" in text
    assert "ZIP 90021 (Los Angeles) is in Los Angeles County" in text
    assert "12 employees" in text
    # Bolt's one-off auth.test and the person's language (once an hour) are the only calls.
    assert set(fake_slack.methods()) <= {"auth.test", "users.info"}
    before = len(fake_slack.calls)
    await slack.reply("eligible zip=90021 employees=13")
    assert len(fake_slack.calls) == before  # the answer itself needs no Slack API


async def test_eligible_not_eligible_outside_the_county(slack: SignedSlack):
    text = await slack.reply("eligible zip=10001 since=2015 employees=5 ca_sb=yes revenue=1M")
    assert "LSBE (Local Small Business Enterprise): not eligible" in text


async def test_eligible_with_mistakes_gets_the_problems_and_the_keys(slack: SignedSlack):
    response = await slack.command("eligible zip=9002 employes=12")
    assert response.status_code == 200
    text = response.json()["text"]
    first, _, rest = text.partition("\n\n")
    assert first.startswith(":warning:")
    assert "'9002' is not a ZIP code" in first
    assert "did you mean employees?" in first
    assert "`revenue`" in rest  # the list of keys follows


async def test_eligible_echoes_nothing_slack_would_read_as_markup(slack: SignedSlack):
    text = await slack.reply("eligible zip=90021 <!channel>")
    assert "Couldn't read '&lt;!channel&gt;'" in text
    assert "<!channel>" not in text
    text = await slack.reply('eligible zip=90021 naics="<@U1>"')
    assert "<@U1>" not in text and "&lt;@U1&gt;" in text


async def test_slack_entities_are_read_as_the_characters_typed(slack: SignedSlack):
    # Slack sends `employees=<100 & more` as `employees=&lt;100 &amp; more`.
    text = await slack.reply("eligible zip=90021 employees=&lt;100")
    assert "Employees '&lt;100' is not a number" in text
    assert "&amp;lt;" not in text
    text = await slack.reply("eligible zip=90021 naics=&lt;!channel&gt;")
    assert "Naics '&lt;!channel&gt;' is not a NAICS code" in text and "<!channel>" not in text
    text = await slack.reply("eligible zip=90021 years=2 &amp;")
    assert "Couldn't read '&amp;'" in text and "&amp;amp;" not in text
    # Typed "&lt" arrives as "&amp;lt": unescaped once, it stays the text "&lt" (not "<").
    text = await slack.reply("eligible naics=a&amp;lt")
    assert "Naics 'a&amp;lt' is not a NAICS code" in text


async def test_a_key_repeated_hundreds_of_times_gets_one_short_answer(slack: SignedSlack):
    text = await slack.reply("eligible " + "employees=5 " * 900)
    assert text.count("mployees is given twice") == 1
    assert len(text) < 3000
    text = await slack.reply("eligible " + " ".join(f"k{n}=v" for n in range(400)))
    assert "and 392 more problems" in text
    assert len(text) < 3000


async def test_eligible_without_arguments_opens_the_form(slack: SignedSlack, fake_slack: FakeSlack):
    response = await slack.command("eligible", channel="CPROCURE", trigger_id="1334.7384.80889308")
    assert response.status_code == 200
    assert response.text == ""
    (opened,) = fake_slack.calls_to("views.open")
    assert opened["trigger_id"] == "1334.7384.80889308"
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == ELIGIBILITY_CALLBACK
    metadata = json.loads(view["private_metadata"])
    assert metadata == {"channel": "CPROCURE", "response_url": fake_slack.response_url("cmd")}
    block_ids = {block.get("block_id") for block in view["blocks"]}
    assert {
        "zip",
        "production_zip",
        "since",
        "years",
        "employees",
        "revenue",
        "naics",
        "debarred",
    } <= block_ids


async def test_form_that_slack_could_not_open_says_so(slack: SignedSlack, fake_slack: FakeSlack):
    fake_slack.fail("views.open", "expired_trigger_id")
    text = await slack.reply("eligible")
    assert "didn't open the form" in text
    assert "/madeinla eligible zip=90021" in text


def _state(**answers: str) -> dict:
    values = {}
    for key, value in answers.items():
        if value in ("yes", "no", "unknown"):
            values[key] = {key: {"type": "static_select", "selected_option": {"value": value}}}
        else:
            values[key] = {key: {"type": "plain_text_input", "value": value}}
    return {"values": values}


def _submitted(fake_slack: FakeSlack, **answers: str) -> dict:
    metadata = json.dumps({"channel": "CPROCURE", "response_url": fake_slack.response_url("form")})
    return {"callback_id": ELIGIBILITY_CALLBACK, "private_metadata": metadata, "state": _state(**answers)}


async def test_form_with_mistakes_marks_the_fields(slack: SignedSlack, fake_slack: FakeSlack):
    response = await slack.submit(_submitted(fake_slack, zip="9002", employees="a dozen", debarred="no"))
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"zip", "employees"}
    assert "not a ZIP code" in answer["errors"]["zip"]
    assert not [m for m in fake_slack.methods() if m.startswith(("chat.", "response_url"))]


async def test_form_rule_across_fields_marks_one_of_them(slack: SignedSlack, fake_slack: FakeSlack):
    response = await slack.submit(_submitted(fake_slack, since="2019", years="3"))
    assert response.json()["response_action"] == "errors"
    assert list(response.json()["errors"].values()) == ["Give years or since, not both"]


async def test_empty_form_asks_for_an_answer(slack: SignedSlack, fake_slack: FakeSlack):
    response = await slack.submit(_submitted(fake_slack))
    assert response.json() == {
        "response_action": "errors",
        "errors": {"zip": "Answer at least one question, like the ZIP code."},
    }


async def test_form_answer_is_posted_privately_where_the_command_ran(
    slack: SignedSlack, fake_slack: FakeSlack
):
    response = await slack.submit(
        _submitted(fake_slack, zip="90021", since="2019-03", employees="12", ca_sb="yes", revenue="$1.2M")
    )
    assert response.status_code == 200
    assert response.text == ""  # the modal closes
    (posted,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("response_url:form"))
    assert posted["response_type"] == "ephemeral"
    assert posted["replace_original"] is False
    assert "LSBE (Local Small Business Enterprise): looks eligible" in posted["text"]
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_form_answer_falls_back_to_a_direct_message(slack: SignedSlack, fake_slack: FakeSlack):
    fake_slack.fail("response_url", "expired_url")
    response = await slack.submit(_submitted(fake_slack, zip="90021", employees="12"))
    assert response.status_code == 200
    (message,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postMessage"))
    assert message["channel"] == MEMBER
    assert "ZIP 90021 (Los Angeles)" in message["text"]


async def test_form_closes_at_once_while_slack_is_slow_and_the_answer_still_arrives(
    slack: SignedSlack, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
):
    # The reply link hangs; after SLACK_CALL_SECONDS the answer goes as a direct message, which is
    # slow too. Before the fix the modal stayed open through both (2 s + 2 s in production).
    monkeypatch.setattr(slack_app_module, "SLACK_CALL_SECONDS", 0.5)
    fake_slack.slow("response_url", 30)
    fake_slack.slow("chat.postMessage", 0.3)
    started = time.monotonic()
    response = await slack.submit(_submitted(fake_slack, zip="90021", employees="12"))
    answered = time.monotonic() - started
    assert response.status_code == 200 and response.text == ""
    assert fake_slack.calls_to("chat.postMessage") == []  # the response did not wait for Slack
    assert answered < 0.5
    (message,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postMessage"), seconds=5)
    assert message["channel"] == MEMBER
    assert message["text"].startswith("*Eligibility screening*")
    assert fake_slack.calls_to("response_url:form")  # tried first


async def test_shutdown_finishes_an_answer_still_being_posted(
    slack_settings: Settings, fake_slack: FakeSlack
):
    fake_slack.slow("response_url", 0.3)
    application = create_app(slack_settings, run_sender=False, run_scheduler=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await SignedSlack(http, fake_slack).submit(_submitted(fake_slack, zip="90021"))
            assert response.status_code == 200
    # The lifespan ended while the reply link was still answering; shutdown waited for it.
    (posted,) = fake_slack.calls_to("response_url:form")
    assert "ZIP 90021 (Los Angeles)" in posted["text"]
    assert fake_slack.calls_to("chat.postMessage") == []


# --- preference -----------------------------------------------------------------------------


async def test_preference(slack: SignedSlack):
    text = await slack.reply("preference lowest=100000 bid=112000")
    assert "LSBE preference: applies" in text
    assert "$97,000" in text


async def test_preference_mistake_gets_its_help(slack: SignedSlack):
    text = await slack.reply("preference lowest=lots")
    assert text.startswith(":warning:")
    assert "`statute_rate`" in text
    assert "a bare `0.5` is refused as unclear" in text


# --- the rest of the service ----------------------------------------------------------------


async def test_other_commands_pointed_here_get_a_polite_answer(slack: SignedSlack):
    body = slack.command_body("hello", command="/other")
    response = await slack.post(body, slack.headers(body))
    assert response.status_code == 200
    assert "only answers `/madeinla`" in response.json()["text"]


async def test_unexpected_failure_gets_an_apology_and_a_reference(
    slack: SignedSlack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    async def broken(command, invocation):
        raise RuntimeError("ana@example.com broke it")

    monkeypatch.setattr(slack_app_module, "run_command", broken)
    with caplog.at_level(logging.ERROR, logger="bot.slack.app"):
        response = await slack.command("status")
    assert response.status_code == 200
    text = response.json()["text"]
    assert text.startswith("Sorry, something went wrong on our side (reference ")
    reference = text.split("reference ")[1].split(")")[0]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert reference in logged and "RuntimeError" in logged
    assert "ana@example.com" not in logged


async def test_not_configured_answers_503_and_the_service_runs(settings: Settings):
    application = create_app(settings, run_sender=False, run_scheduler=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post("/slack/events", content=b"command=/madeinla&text=help")
            health = await http.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "error": "Slack is not configured: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN"
    }
    assert health.status_code == 200


async def test_bolt_ignores_slack_variables_in_the_environment(
    slack_settings: Settings, monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack
):
    monkeypatch.setenv("SLACK_CLIENT_ID", "111.222")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "client-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "environment-secret")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-environment")
    monkeypatch.setenv("SLACK_VERIFICATION_TOKEN", "verification")
    bolt = build_slack_app(slack_settings)
    assert bolt.oauth_flow is None  # both CLIENT_ID and CLIENT_SECRET would have turned OAuth on
    assert bolt.client.token == BOT_TOKEN
    assert bolt.client.base_url == fake_slack.base_url
    assert bolt._signing_secret == SIGNING_SECRET
    assert bolt._verification_token is None
    import os

    assert os.environ["SLACK_CLIENT_ID"] == "111.222"  # put back afterwards


async def test_environment_secret_does_not_sign_requests(
    slack_settings: Settings, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "environment-secret")
    settings = slack_settings.model_copy(update={"slack_signing_secret": SecretStr(SIGNING_SECRET)})
    application = create_app(settings, run_sender=False, run_scheduler=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            forged = SignedSlack(http, fake_slack, secret="environment-secret")
            assert (await forged.command("help")).status_code == 401
            assert (await SignedSlack(http, fake_slack).command("help")).status_code == 200


async def test_form_failure_updates_the_modal_with_an_apology(
    slack: SignedSlack, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
):
    def broken(*args, **kwargs):
        raise ValueError("unexpected")

    monkeypatch.setattr(slack_app_module, "screen", broken)
    response = await slack.submit(_submitted(fake_slack, zip="90021"))
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "update"
    assert "something went wrong on our side (reference " in answer["view"]["blocks"][0]["text"]["text"]


async def test_slow_work_is_cut_off_inside_slacks_three_seconds(
    slack: SignedSlack, monkeypatch: pytest.MonkeyPatch
):
    async def slow(command, invocation):
        await asyncio.sleep(10)

    monkeypatch.setattr(slack_app_module, "run_command", slow)
    monkeypatch.setattr(slack_app_module, "WORK_SECONDS", 0.05)
    text = await slack.reply("status")
    assert text == "Sorry, that took too long and nothing was changed. Please try again."


async def test_buttons_and_other_views_are_acknowledged_quietly(slack: SignedSlack):
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": MEMBER},
        "api_app_id": "A1",
        "actions": [{"action_id": "old_button", "block_id": "b", "type": "button", "value": "x"}],
        "response_url": slack.fake.response_url("old"),
        "trigger_id": "1.2.3",
    }
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    response = await slack.post(body, slack.headers(body))
    assert response.status_code == 200
    response = await slack.submit({"callback_id": "some_old_form", "state": {"values": {}}})
    assert response.status_code == 200


async def test_a_minimal_command_body_is_enough(slack: SignedSlack):
    body = "command=%2Fmadeinla&text=eligible+zip%3D90021+employees%3D12&user_id=U1&team_id=T1&channel_id=C1"
    response = await slack.post(body, slack.headers(body))
    assert response.status_code == 200
    assert "ZIP 90021 (Los Angeles)" in response.json()["text"]


def test_manifest_points_slack_at_our_endpoint():
    manifest = (Path(__file__).parents[2] / "docs" / "slack-app-manifest.yaml").read_text()
    assert "command: /madeinla" in manifest
    # the command, interactivity, and the events (app_home_opened)
    assert manifest.count("url: https://YOUR-HOST/slack/events") == 3
    assert "- app_home_opened" in manifest and "home_tab_enabled: true" in manifest
    for scope in ("commands", "chat:write", "users:read", "users:read.email", "files:write", "im:write"):
        assert f"- {scope} " in manifest
    assert "socket_mode_enabled: false" in manifest


async def test_oversized_body_without_a_length_is_refused(slack: SignedSlack):
    async def chunks():
        for _ in range(100):
            yield b"x" * 4096

    # Headers of the right shape, so the request gets as far as reading the body.
    headers = {"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "v0=00"}
    response = await slack.http.post("/slack/events", content=chunks(), headers=headers)
    assert response.status_code == 413
