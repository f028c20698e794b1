"""Slack fixtures: a fake Slack Web API on loopback, and the real app with Slack configured to use it.

Requests are signed the way Slack signs them and go through the whole Starlette app over ASGI.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from tortoise.contrib.test import truncate_all_models

from bot.app import create_app
from bot.settings import Settings
from tests.conftest import ON_POSTGRES
from tests.slack.fakeslack import BOT_TOKEN, FakeSlack

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
STAFF = "USTAFF"
MEMBER = "UMEMBER"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    fake.add_user(STAFF, "Staff.Person@Example.gov", "Dana Staff")
    fake.add_user(MEMBER, "ana@example.com", "Ana Member")
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
def slack_settings(settings: Settings, fake_slack: FakeSlack) -> Settings:
    return settings.model_copy(
        update={
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_api_url": fake_slack.base_url,
            "staff_slack_user_ids": frozenset({STAFF}),
        }
    )


@pytest.fixture
async def slack_app(slack_settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(slack_settings, run_sender=False, run_scheduler=False)
    async with application.router.lifespan_context(application):
        if ON_POSTGRES:
            await truncate_all_models()
        yield application


_triggers = itertools.count(1)


def _trigger_id() -> str:
    """Unique per request, as Slack's are: two commands alike in one second are not a replay."""
    return f"13345224609.738474920.{next(_triggers):032x}"


class SignedSlack:
    """Sends what Slack would send, signed with the app's signing secret."""

    def __init__(self, http: httpx.AsyncClient, fake: FakeSlack, secret: str = SIGNING_SECRET) -> None:
        self.http = http
        self.fake = fake
        self.verifier = SignatureVerifier(secret)

    def headers(self, body: str, *, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        return {
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": stamp,
            "x-slack-signature": self.verifier.generate_signature(timestamp=stamp, body=body),
        }

    def command_body(self, text: str, *, user: str = MEMBER, channel: str = "CGENERAL", **extra: str) -> str:
        fields = {
            "token": "legacy-unused",
            "team_id": "T1",
            "team_domain": "lacounty",
            "channel_id": channel,
            "channel_name": "made-in-la",
            "user_id": user,
            "user_name": "someone",
            "command": "/madeinla",
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url("cmd"),
            "trigger_id": _trigger_id(),
            **extra,
        }
        return urllib.parse.urlencode(fields)

    async def post(self, body: str, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post("/slack/events", content=body.encode(), headers=headers)

    async def command(self, text: str, **kwargs: Any) -> httpx.Response:
        body = self.command_body(text, **kwargs)
        return await self.post(body, self.headers(body))

    async def reply(self, text: str, **kwargs: Any) -> str:
        """The text of the command's answer (asserting it was a private 200)."""
        response = await self.command(text, **kwargs)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["response_type"] == "ephemeral"
        return answer["text"]

    async def submit(self, view: dict[str, Any], *, user: str = MEMBER) -> httpx.Response:
        payload = {
            "type": "view_submission",
            "team": {"id": "T1", "domain": "lacounty"},
            "user": {"id": user, "team_id": "T1"},
            "api_app_id": "A1",
            "trigger_id": _trigger_id(),
            "view": {"id": "V1", "team_id": "T1", "type": "modal", **view},
        }
        body = "payload=" + urllib.parse.quote(json.dumps(payload))
        return await self.post(body, self.headers(body))


@pytest.fixture
async def slack(slack_app: Starlette, fake_slack: FakeSlack) -> AsyncIterator[SignedSlack]:
    transport = httpx.ASGITransport(app=slack_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield SignedSlack(http, fake_slack)
