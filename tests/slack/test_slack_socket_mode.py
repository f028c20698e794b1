"""Socket Mode: with SLACK_APP_TOKEN the same Bolt app takes commands over a WebSocket.

The fake Slack hands out a WebSocket URL on loopback (apps.connections.open), pushes an envelope
the way Slack does and records the app's acknowledgement.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from bot.app import create_app
from bot.settings import Settings
from tests.slack.conftest import MEMBER, SignedSlack
from tests.slack.fakeslack import APP_TOKEN, FakeSlack


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings, run_sender=False, run_scheduler=False)
    async with application.router.lifespan_context(application):
        yield application


def command_envelope(text: str) -> dict:
    return {
        "type": "slash_commands",
        "envelope_id": "env-1",
        "accepts_response_payload": True,
        "payload": {
            "team_id": "T1",
            "channel_id": "CGENERAL",
            "user_id": MEMBER,
            "command": "/madeinla",
            "text": text,
            "api_app_id": "A1",
            "response_url": "https://hooks.slack.invalid/commands/1",
            "trigger_id": "1.2.3",
        },
    }


async def test_socket_mode_answers_a_command(slack_settings: Settings, fake_slack: FakeSlack):
    settings = slack_settings.model_copy(update={"slack_app_token": SecretStr(APP_TOKEN)})
    async with running(settings) as application:
        handler = application.state.runtime.extras["slack_socket_mode"]
        assert handler.app_token == APP_TOKEN
        await fake_slack.send_envelope(command_envelope("eligible zip=90021 employees=12"))
        (ack,) = await fake_slack.wait_for(lambda: fake_slack.socket_acks)
    assert ack["envelope_id"] == "env-1"
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "ZIP 90021 (Los Angeles) is in Los Angeles County" in ack["payload"]["text"]
    assert [call.token for call in fake_slack.calls if call.method == "apps.connections.open"] == [APP_TOKEN]


async def test_socket_mode_only_refuses_http(slack_settings: Settings, fake_slack: FakeSlack):
    settings = slack_settings.model_copy(
        update={"slack_app_token": SecretStr(APP_TOKEN), "slack_signing_secret": SecretStr("")}
    )
    async with running(settings) as application:
        await fake_slack.send_envelope(command_envelope("help"))
        await fake_slack.wait_for(lambda: fake_slack.socket_acks)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await SignedSlack(http, fake_slack).command("help")
    assert response.status_code == 503
    assert "/madeinla eligible" in fake_slack.socket_acks[0]["payload"]["text"]


async def test_start_up_survives_slack_refusing_the_connection(
    slack_settings: Settings, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
):
    settings = slack_settings.model_copy(update={"slack_app_token": SecretStr("xapp-revoked")})
    with caplog.at_level(logging.ERROR):
        async with running(settings) as application:
            await fake_slack.wait_for(lambda: fake_slack.calls_to("apps.connections.open"))
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                assert (await http.get("/healthz")).status_code == 200
                assert "needs review" in await SignedSlack(http, fake_slack).reply("eligible zip=90021")
    assert any("invalid_auth" in record.getMessage() for record in caplog.records)
