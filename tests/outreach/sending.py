"""Helpers for the delivery-engine tests: a started campaign, a sender, and sending until done."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.runtime import build_runtime, send_options, smtp_options, transport_for
from bot.settings import Settings
from outreach.campaigns import create_campaign, start_campaign
from outreach.mailer import MailTransport, OutgoingMessage, SendResult, SmtpOptions, SmtpTransport
from outreach.models import Campaign, Delivery, DeliveryState
from outreach.queue import utcnow
from outreach.sender import Sender
from subscribers.models import Subscriber
from tests.outreach.people import person

UNFINISHED = [DeliveryState.QUEUED, DeliveryState.SENDING, DeliveryState.DEFERRED]


def smtp_options_of(settings: Settings) -> SmtpOptions:
    """The relay options of settings that name an SMTP_HOST (every SMTP test's do)."""
    options = smtp_options(settings)
    assert options is not None, "these settings name no SMTP_HOST"
    return options


def make_sender(
    settings: Settings,
    *,
    clock: Callable[[], dt.datetime] = utcnow,
    transport: MailTransport | None = None,
    worker_id: str = "test-sender",
) -> Sender:
    runtime = build_runtime(settings, transport=transport or transport_for(settings))
    return Sender(
        send_options(settings),
        runtime.transport,
        runtime.builder,
        clock=clock,
        worker_id=worker_id,
        envelope_sender=runtime.sender.envelope_sender,
    )


def transport_acting_after(
    settings: Settings, count: int, action: Callable[[], Awaitable[object]]
) -> SmtpTransport:
    """A real SMTP transport that runs `action` (pause, cancel...) once it has sent `count`
    messages, then gives the pass time to notice (it re-reads campaign statuses twice a second)."""

    class ActingTransport(SmtpTransport):
        sent = 0

        async def send(self, message: OutgoingMessage, **kwargs: object) -> SendResult:
            result = await super().send(message, **kwargs)  # type: ignore[arg-type]
            self.sent += 1
            if self.sent == count:
                await action()
                await asyncio.sleep(0.8)
            return result

    return ActingTransport(smtp_options_of(settings))


async def people(count: int, *, prefix: str = "p", **kwargs: object) -> list[Subscriber]:
    return [await person(f"{prefix}{i}@example.com", **kwargs) for i in range(count)]  # type: ignore[arg-type]


async def started_campaign(
    settings: Settings,
    *,
    kind: str = "pilot_update",
    template: str = "pilot_update",
    now: dt.datetime | None = None,
) -> Campaign:
    """A campaign to everyone active who chose its topic, started (its Delivery rows written)."""
    runtime = build_runtime(settings)
    now = now or utcnow()
    campaign = await create_campaign(
        name="Test",
        kind=kind,
        template=template,
        builder=runtime.builder,
        immediately=True,
        created_by="test",
        now=now,
        approval_threshold=1_000_000,
    )
    assert await start_campaign(campaign.id, now)
    return campaign


async def unfinished() -> int:
    return await Delivery.filter(state__in=UNFINISHED).count()


async def send_until_settled(sender: Sender, *, within: float = 30.0) -> None:
    """Run passes until nothing is queued, sending or deferred (retries are due within ms in tests)."""
    deadline = time.monotonic() + within
    while await unfinished():
        if time.monotonic() > deadline:
            states = await Delivery.all().values_list("state", "last_reply")
            raise AssertionError(f"deliveries still unfinished after {within}s: {states[:10]}")
        async with asyncio.timeout(within):  # a pass that hangs fails the test instead of stalling it
            handled = await sender.send_due()
        if not handled:
            await asyncio.sleep(0.02)


# The service as a user runs it: `madeinla serve` / `madeinla worker` in a process of its own.

MADEINLA = Path(sys.executable).with_name("madeinla")


def service_environment(settings: Settings, smtp_port: int, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(_SETTING_PREFIXES)}
    env.update(
        DATABASE_URL=settings.database_url,
        DATA_DIR=str(settings.data_dir),
        SECRET_KEY=settings.secret_key.get_secret_value(),
        PUBLIC_BASE_URL=settings.public_base_url,
        MAIL_FROM=settings.mail_from,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        SMTP_TLS="none",
        LOG_LEVEL="warning",
    )
    env.update(extra)
    return env


_SETTING_PREFIXES = (
    "SLACK_",
    "SMTP_",
    "MAIL_",
    "SEND_",
    "RETRY_",
    "BOUNCE_",
    "DATABASE_URL",
    "DATA_DIR",
    "SECRET_KEY",
)


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `madeinla <args>`, its output appended to `log` (read it when a test fails)."""
    with log.open("ab") as out:
        return subprocess.Popen([str(MADEINLA), *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask it to stop (SIGTERM, as systemd would), and make sure it is gone."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


async def wait_until(condition: Callable[[], Awaitable[bool]], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within}s waiting until {what}")
        await asyncio.sleep(0.05)
