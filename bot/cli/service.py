"""Running the service: `serve`, `worker`, `migrate`, `makemigrations`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import click

from bot.cli.common import migrate_database, run_with_db, settings_or_exit
from bot.db import tortoise_config
from bot.logs import configure_logging


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on."
)
def serve(host: str, port: int) -> None:
    """Run the web app (form, Slack endpoint), the background sender and the scheduler.

    Pending database migrations are applied first. With no settings at all the service keeps its
    data in ./data (SQLite) and writes outgoing mail to ./data/outbox as .eml files.
    """
    import uvicorn

    from bot.app import create_app

    settings = settings_or_exit()
    configure_logging(settings.log_level)
    migrate_database(settings)  # here too, so a database that can't be opened is one line, not a traceback
    app = create_app(settings, migrate=False)
    where = "SMTP " + settings.smtp_host if settings.smtp_host else f"the outbox folder {settings.outbox_dir}"
    click.echo(f"Made in LA Outreach on http://{host}:{port}/ — mail goes to {where}")
    # Access logs would record tokens from emailed links (and client addresses): keep them off.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level=settings.log_level, lifespan="on")


@click.command()
def worker() -> None:
    """Run a sender (and, when it holds the lock, the scheduler) without the web server."""
    from bot.runtime import build_runtime, start_scheduler

    settings = settings_or_exit()
    configure_logging(settings.log_level)

    async def work() -> None:
        runtime = build_runtime(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)

        stops = [await start_scheduler(runtime)]
        click.echo(f"sender {runtime.sender.worker_id} running; Ctrl-C to stop")
        try:
            await runtime.sender.run(stop)
        finally:
            for stop_fn in stops:
                await stop_fn()
            await runtime.transport.close()

    run_with_db(settings, work)


@click.command()
def migrate() -> None:
    """Apply pending database migrations (serve does this on start too)."""
    settings = settings_or_exit()
    migrate_database(settings)
    click.echo("database is up to date")


@click.command()
@click.option("--name", default=None, help="Name for the migration file.")
def makemigrations(name: str | None) -> None:
    """Write a migration for model changes into migrations/ (for developers)."""
    from tortoise.cli.cli import run_cli_async

    settings = settings_or_exit()
    import bot.db as db_module

    db_module.TORTOISE_ORM = tortoise_config(settings.database_url)  # type: ignore[attr-defined]
    argv = ["-c", "bot.db.TORTOISE_ORM", "makemigrations"] + (["--name", name] if name else [])
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    raise SystemExit(asyncio.run(run_cli_async(argv)))
