"""The Slack bot: `/madeinla` over HTTP (`POST /slack/events`) or Socket Mode, and the notify channel.

`routes()` is mounted by `bot.app` whether or not Slack is configured; `start_slack(runtime)` runs
in the app's lifespan, builds the Bolt app from the settings and keeps it in
`runtime.extras["slack"]`. Without SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN the endpoint answers
503 with what to set, and the rest of the service runs as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.runtime import Runtime
from bot.slack import intake, report
from bot.slack.app import Deliveries, apology, build_slack_app
from bot.slack.approvals import ApprovalRequests
from bot.slack.commands import pilot_today
from bot.slack.digest import DIGEST_LOCK_KEY, Notifier
from bot.slack.replay import ReplayGuard
from outreach import notices
from outreach.metrics.charts import signups_png
from outreach.scheduling import Leadership

log = logging.getLogger(__name__)

__all__ = ["routes", "start_slack"]

# Slack's payloads are a few kilobytes; a modal submission stays well under this.
MAX_BODY_BYTES = 256 * 1024
NOT_CONFIGURED = "Slack is not configured: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN"
REFUSED = "refused a request to /slack/events: bad or missing signature, or a stale timestamp"
REPLAYED = "refused a request to /slack/events: its signature was used before (a replay)"

Stop = Callable[[], Awaitable[None]]


class SocketMode(Protocol):
    """The two calls we make on slack_bolt's `AsyncSocketModeHandler`, whose methods are not
    annotated: typed here once, so the rest of this module is checked."""

    async def connect_async(self) -> None: ...

    async def close_async(self) -> None: ...


def routes() -> list[BaseRoute]:
    return [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/slack/charts/signups.png", signups_chart, methods=["GET"]),
    ]


async def signups_chart(request: Request) -> Response:
    """The App Home tab's chart (Slack fetches it): only with a link signed by `report.chart_link`."""
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return Response(status_code=503)
    period = report.read_chart_link(runtime.settings.secret(), request.query_params.get("t", ""))
    if period is None:
        return Response("This chart link is not valid (or is more than a day old).", status_code=404)
    figures = await report.collect_report(period, pilot_today())
    png = await asyncio.to_thread(signups_png, figures)
    return Response(png, media_type="image/png", headers={"cache-control": "private, max-age=300"})


async def slack_events(request: Request) -> Response:
    """Slash commands, modal submissions and events, checked by `bot.slack.intake` before Bolt."""
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    bolt = runtime.extras.get("slack") if runtime else None
    replays = runtime.extras.get("slack_replays") if runtime else None
    secret = runtime.settings.slack_signing_secret.get_secret_value() if runtime else ""
    if not isinstance(bolt, AsyncApp) or not isinstance(replays, ReplayGuard) or not secret:
        return JSONResponse({"error": NOT_CONFIGURED}, status_code=503)
    # One plain dict of the headers, for our checks and for Bolt (which would otherwise copy
    # Starlette's Headers item by item). ASGI names are lower-case; a repeated header keeps its
    # last value, as Bolt itself would keep it.
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in request.scope["headers"]}
    body = await _read_body(request, headers.get("content-length", ""))
    if body is None:
        return JSONResponse({"error": "request body too large"}, status_code=413)
    signed = intake.verify(secret, body, headers, time.time)
    if signed is None:
        if "x-slack-signature" not in headers and intake.is_ssl_check(body):
            return Response(status_code=200)  # Slack's certificate check: unsigned, runs nothing
        log.info(REFUSED)
        return JSONResponse({"error": "invalid request"}, status_code=401)
    if not await replays.first_time(signed):
        log.info(REPLAYED)
        return JSONResponse({"error": "invalid request"}, status_code=401)
    text = body.decode("utf-8", errors="replace")  # the signature held, so this is Slack's UTF-8
    try:
        payload = intake.read_payload(text, headers.get("content-type", ""))
    except intake.MalformedPayload as error:
        log.warning("refused a signed Slack request we can't read: %s", error)
        return JSONResponse({"error": "malformed request"}, status_code=400)
    try:
        query = request.scope["query_string"].decode("latin-1")
        answer = await bolt.async_dispatch(AsyncBoltRequest(body=text, query=query, headers=headers))
    except Exception as error:  # Bolt itself failed, outside our listeners: still an answer, never a 500
        answer = apology(error, payload or {"command": "/madeinla"})  # {}: a slash command's form
    return Response(answer.body, status_code=answer.status, headers=answer.first_headers_without_set_cookie())


async def _read_body(request: Request, declared: str) -> bytes | None:
    if declared.isdigit():  # what Slack sends: the length is known, so one read suffices
        if int(declared) > MAX_BODY_BYTES:
            return None
        body = await request.body()
        return body if len(body) <= MAX_BODY_BYTES else None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def start_slack(runtime: Runtime) -> Stop | None:
    """Build the Bolt app; connect Socket Mode and the notify channel when configured.

    Returns the function that stops what was started, or None when Slack is not configured.
    Nothing here waits on Slack: a workspace that can't be reached must not stop the service.
    """
    settings = runtime.settings
    if not settings.slack_bot_token.get_secret_value():
        if settings.slack_signing_secret.get_secret_value() or settings.slack_app_token.get_secret_value():
            log.warning("Slack is not configured: SLACK_BOT_TOKEN is missing")
        return None
    app_token = settings.slack_app_token.get_secret_value()
    if not settings.slack_signing_secret.get_secret_value():
        if not app_token:
            log.warning(NOT_CONFIGURED)
            return None
        # Socket Mode only: HTTP requests are refused (503) before they reach Bolt, and this
        # random secret makes sure no signature could ever match anyway.
        settings = settings.model_copy(update={"slack_signing_secret": SecretStr(secrets.token_hex(32))})
    deliveries = Deliveries()
    bolt = build_slack_app(settings, deliveries)
    runtime.extras["slack"] = bolt
    runtime.extras["slack_replays"] = ReplayGuard(shared=settings.is_postgres)
    # First in the list, so it runs last: once nothing new can arrive, finish what is being posted.
    stops: list[Stop] = [deliveries.close]

    if app_token:
        handler: SocketMode = AsyncSocketModeHandler(bolt, app_token=app_token, web_client=bolt.client)
        runtime.extras["slack_socket_mode"] = handler
        connecting = asyncio.create_task(_connect(handler), name="slack-socket-mode")

        async def stop_socket_mode() -> None:
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
            await handler.close_async()

        stops.append(stop_socket_mode)

    if settings.slack_notify_channel:
        leadership = Leadership(settings.database_url, key=DIGEST_LOCK_KEY, job="the daily Slack digest")
        notifier = Notifier(bolt.client, settings.slack_notify_channel, leadership=leadership)
        runtime.extras["slack_notifier"] = notifier
        forget = notices.subscribe(notifier.on_notice)
        notifier.start()

        async def stop_notifier() -> None:
            forget()
            await notifier.stop()

        stops.append(stop_notifier)

        approvals = ApprovalRequests(bolt.client, settings.slack_notify_channel, settings.public_base_url)
        forget_approvals = notices.subscribe(approvals.on_notice)

        async def stop_approvals() -> None:
            forget_approvals()
            await approvals.close()

        stops.append(stop_approvals)

    async def stop() -> None:
        for stop_part in reversed(stops):
            try:
                await stop_part()
            except Exception:  # shutting down: report and carry on stopping the rest
                log.exception("stopping the Slack bot failed")
        runtime.extras.pop("slack", None)
        runtime.extras.pop("slack_replays", None)

    mode = "Socket Mode" if app_token else "HTTP at /slack/events"
    log.info("Slack bot ready (%s)", mode)
    return stop


async def _connect(handler: SocketMode) -> None:
    """Connect in the background: slack_sdk retries by itself until Slack answers or we close."""
    try:
        await handler.connect_async()
    except Exception:  # the SDK retries connection errors itself; anything else is reported
        log.exception("Slack Socket Mode could not connect")
    else:
        log.info("Slack Socket Mode connected")
