"""The Starlette application: the public form, the Slack endpoint, health, and the lifespan that
starts the database, the background sender and the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.db import database, is_reachable
from bot.runtime import Runtime, build_runtime, start_scheduler
from bot.settings import Settings
from outreach.mailer import MailTransport

log = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    if await is_reachable():
        return JSONResponse({"status": "ok", "database": "reachable"})
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)


def _routes() -> list[BaseRoute]:
    from bot.console import routes as console_routes
    from bot.slack import routes as slack_routes
    from bot.web import routes as web_routes

    # Slack's requests are the busiest, so they match first.
    return [*slack_routes(), Route("/healthz", healthz, methods=["GET"]), *web_routes(), *console_routes()]


def create_app(
    settings: Settings,
    *,
    transport: MailTransport | None = None,
    run_sender: bool = True,
    run_scheduler: bool = True,
    migrate: bool = True,
) -> Starlette:
    """Build the app. Tests pass their own transport, or turn the background loops off;
    `madeinla serve` migrates before it starts the server, so its app doesn't again."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with database(settings.database_url, migrate=migrate):
            runtime = build_runtime(settings, transport=transport)
            app.state.runtime = runtime
            stop = asyncio.Event()
            tasks: list[asyncio.Task[None]] = []
            if run_sender:
                tasks.append(asyncio.create_task(runtime.sender.run(stop), name="sender"))
            background = await _start_optional(runtime, run_scheduler=run_scheduler)
            _freeze_startup_objects()
            try:
                yield
            finally:
                stop.set()
                for stop_background in reversed(background):
                    await stop_background()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait_for(task, timeout=10)
                await runtime.transport.close()

    from bot.web import exception_handlers

    app = Starlette(routes=_routes(), lifespan=lifespan, exception_handlers=exception_handlers())
    # Starlette's redirect for a trailing slash builds its Location from the Host header, which the
    # client chooses: `bot.web` answers those with a path on our own site instead.
    app.router.redirect_slashes = False
    app.state.settings = settings
    return app


def _freeze_startup_objects() -> None:
    """Leave what start-up built (modules, ORM metadata, templates, ZIP tables: ~100,000 objects
    that live as long as the process) out of every later garbage collection.

    Under load, objects that are alive for one request's length get promoted and trigger a full
    collection every few seconds; each one walked the whole heap and stalled every request for
    60-80 ms, which set the form's p99. Frozen objects are still freed as usual when nothing
    refers to them; only cycles among them would stay, and start-up objects are not garbage.
    A process serves one app; only the first start-up freezes (tests start many apps in one process).
    """
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


async def _start_optional(runtime: Runtime, *, run_scheduler: bool) -> list[Callable[[], Awaitable[None]]]:
    """Start the parts other modules own (scheduler, Slack); return their stop functions."""
    from bot.bounces import start_bounce_mailbox
    from bot.slack import start_slack

    stops = []
    if run_scheduler:
        stops.append(await start_scheduler(runtime))
        stops.append(watch_schedule(runtime))
    stop_mailbox = await start_bounce_mailbox(runtime.settings, runtime.bounces)
    if stop_mailbox is not None:
        stops.append(stop_mailbox)
    stop_slack = await start_slack(runtime)
    if stop_slack is not None:
        stops.append(stop_slack)
    return stops


def watch_schedule(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    """Sweep at once when another process schedules a campaign (see bot/schedule_watch.py)."""
    from bot.schedule_watch import start_schedule_watch

    scheduler: Any = runtime.extras["scheduler"]
    return start_schedule_watch(runtime.settings.database_url, scheduler.poke)


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime
