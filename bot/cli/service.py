"""Running the service: `serve`, `worker`, `migrate`, `makemigrations`."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket

import click

from bot.cli.common import UserError, check_new_database, migrate_database, run_with_db, settings_or_exit
from bot.db import tortoise_config
from bot.logs import configure_logging
from bot.settings import Settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on."
)
def serve(host: str, port: int) -> None:
    """Run the web app (form, Slack endpoint), the background sender and the scheduler.

    Pending database migrations are applied first. With no settings at all the service keeps its
    data in ./data (SQLite) and writes outgoing mail to ./data/outbox as .eml files. Without
    PUBLIC_BASE_URL, emailed links point at --host and --port.
    """
    settings = settings_or_exit()
    configure_logging(settings.log_level)
    settings = _with_public_base_url(settings, host, port)
    _hold_sqlite_lock(settings)  # before the slow imports: a second process is told at once

    from bot.app import create_app
    from bot.http_server import run_server

    migrate_database(settings)  # here too, so a database that can't be opened is one line, not a traceback
    app = create_app(settings, migrate=False)
    where = "SMTP " + settings.smtp_host if settings.smtp_host else f"the outbox folder {settings.outbox_dir}"
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"Made in LA Outreach on http://{shown_host}:{port}/ — mail goes to {where}")
    click.echo(f"  links in emails point at {settings.public_base_url}")
    run_server(app, host=host, port=port, log_level=settings.log_level)


def _with_public_base_url(settings: Settings, host: str, port: int) -> Settings:
    """PUBLIC_BASE_URL as set, or else the address this server listens on (every emailed link uses it)."""
    if settings.is_given("public_base_url"):
        return settings
    if _listens_everywhere(host):
        name = socket.getfqdn()
        click.secho(
            f"PUBLIC_BASE_URL is not set: emailed links will point at http://{name}:{port}; "
            "set it to the address people reach the form at",
            fg="yellow",
            err=True,
        )
        host = name
    shown_host = f"[{host}]" if ":" in host else host
    return settings.model_copy(update={"public_base_url": f"http://{shown_host}:{port}"})


def _listens_everywhere(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a host name
        return False


def _hold_sqlite_lock(settings: Settings) -> None:
    """On SQLite, be the only serve or worker on the database, or stop with one line."""
    from bot.db import sqlite_path
    from bot.process_lock import DatabaseInUse, hold_sqlite_lock
    from bot.settings import make_private_folder

    path = sqlite_path(settings.database_url)
    if path is None:
        return
    try:
        make_private_folder(path.parent)
        hold_sqlite_lock(path)  # held until the process ends
    except DatabaseInUse as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"could not lock the database {path}: {exc.strerror}") from None


@click.command()
def worker() -> None:
    """Run a sender (and, when it holds the lock, the scheduler) without the web server."""
    from bot.runtime import build_runtime, start_scheduler

    settings = settings_or_exit()
    configure_logging(settings.log_level)
    check_new_database(settings, may_create=False)
    _hold_sqlite_lock(settings)
    if not settings.is_given("public_base_url"):
        click.secho(
            f"PUBLIC_BASE_URL is not set: links in the mail this worker sends point at "
            f"{settings.public_base_url}; set it to the address people reach the form at",
            fg="yellow",
            err=True,
        )

    async def work() -> None:
        runtime = build_runtime(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        from bot.app import watch_schedule
        from bot.bounces import start_bounce_mailbox

        stops = [await start_scheduler(runtime)]
        stops.append(watch_schedule(runtime))
        stop_mailbox = await start_bounce_mailbox(settings, runtime.bounces)
        if stop_mailbox is not None:
            stops.append(stop_mailbox)
        click.echo(f"sender {runtime.sender.worker_id} running; Ctrl-C to stop")
        try:
            await runtime.sender.run(stop)
        finally:
            for stop_fn in reversed(stops):
                await stop_fn()
            await runtime.transport.close()

    run_with_db(settings, work)


@click.command()
def migrate() -> None:
    """Apply pending database migrations (serve does this on start too)."""
    settings = settings_or_exit()
    applied = migrate_database(settings)
    if not applied:
        click.echo("The database was already up to date; nothing to do.")
    elif any(name.startswith("0001_") for name in applied):
        click.echo(f"Created the database's tables ({len(applied)} migrations, up to {applied[-1]}).")
    else:
        click.echo(f"Applied {len(applied)} migration(s): {', '.join(applied)}.")


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
