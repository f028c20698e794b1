"""The database: Tortoise configuration, start-up and migrations.

All models live in one Tortoise app called "models" (so foreign keys read `models.Subscriber`);
migrations are the top-level `migrations` package, written by Tortoise's own `makemigrations`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection

from bot.settings import make_private_folder

MODEL_MODULES = [
    "subscribers.models",
    "subscribers.staff_models",
    "outreach.models",
    "subscribers.confirmation_limit_models",
    "subscribers.email_change_models",
    "outreach.bounces.models",
    "subscribers.erasure_models",
    "subscribers.application_models",
    "bot.slack.replay_models",
    "outreach.metrics.models",
]


def sqlite_path(database_url: str) -> Path | None:
    """The SQLite file a URL names; None for PostgreSQL or an in-memory database."""
    if not database_url.startswith("sqlite://"):
        return None
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def tortoise_config(database_url: str) -> dict[str, Any]:
    connection: str | dict[str, Any] = database_url
    if database_url.startswith("sqlite://"):
        path = sqlite_path(database_url)
        if path is not None:
            _create_private_file(path)
        # The CLI and the server may share the file: wait for a lock instead of failing at once.
        # In WAL mode (Tortoise's default) synchronous=NORMAL still survives a killed process and
        # never corrupts the file; only a power cut can lose the last commits. It halves commit cost.
        for pragma in ("busy_timeout=10000", "synchronous=NORMAL"):
            if pragma.split("=")[0] not in database_url:
                database_url += ("&" if "?" in database_url else "?") + pragma
        # Write transactions wait for the lock (see bot/sqlite_client.py).
        connection = {**expand_db_url(database_url), "engine": "bot.sqlite_client"}
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _create_private_file(path: Path) -> None:
    """Create the database file (and its folder) readable by this user only: it holds personal data.

    SQLite gives its -wal and -shm files the database file's permissions.
    """
    if path.exists():
        return
    make_private_folder(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


async def apply_migrations(database_url: str) -> list[str]:
    """Bring the schema up to date; return the names of the migrations applied (none if it was).

    Safe to call on every start: applied migrations are skipped. Several processes may start at
    once (a `serve` and a `worker`, or two replicas); each takes the migration lock first, so one
    migrates and the others then find nothing left to do, instead of both creating the same tables.
    """
    from tortoise.migrations.api import migrate
    from tortoise.migrations.executor import PlanStep

    applied: list[str] = []

    def note(connection_name: str, plan: list[PlanStep], fake: bool, dry_run: bool) -> None:
        applied.extend(step.migration.name for step in plan if not step.backward)

    async with migration_lock(database_url):
        try:
            await migrate(config=tortoise_config(database_url), reporter=note)
        finally:
            await Tortoise.close_connections()
    return applied


# Options of the ORM's URL that configure its pool (or the ORM itself), not a connection.
_POOL_OPTIONS = frozenset(
    {"minsize", "maxsize", "max_queries", "max_inactive_connection_lifetime", "schema", "application_name"}
)


def _connect_options(database_url: str) -> dict[str, Any]:
    """What asyncpg.connect takes to reach the database as the ORM does (TLS and all), from the
    ORM's own reading of the URL. An option asyncpg doesn't know fails here as it would there."""
    credentials = expand_db_url(database_url)["credentials"]
    return {key: value for key, value in credentials.items() if key not in _POOL_OPTIONS}


# pg_advisory_lock key for migrations ("MLAM"); the scheduler's and the digest's are others.
MIGRATION_LOCK_KEY = 0x4D4C414D


@asynccontextmanager
async def migration_lock(database_url: str) -> AsyncIterator[None]:
    """Hold the database's migration lock for the block, waiting for another process's to end.

    PostgreSQL: a session advisory lock on a connection of its own (gone with the process if it
    dies). SQLite: an exclusive `flock` on a file beside the database (`<file>.migrate-lock`),
    which the kernel also drops with the process; SQLite's own locks can't serve, as Tortoise
    commits each migration separately. An in-memory database has one process by definition.
    """
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://").split("?", 1)[0]
        if path in ("", ":memory:"):
            yield
            return
        lock_path = Path(path).with_name(Path(path).name + ".migrate-lock")
        make_private_folder(lock_path.parent)
        with os.fdopen(os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as lock_file:
            # Blocking, so in a thread: the event loop keeps serving while another process migrates.
            await asyncio.to_thread(fcntl.flock, lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)
        return
    conn = await asyncpg.connect(**_connect_options(database_url))
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        yield
    finally:
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        await conn.close()


@asynccontextmanager
async def database(database_url: str, *, migrate: bool = False) -> AsyncIterator[None]:
    """Open the ORM for the life of the block.

    The global fallback makes the connection visible to every task (APScheduler jobs, Slack
    listeners), not only to the task that opened it.
    """
    if migrate:
        await apply_migrations(database_url)
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        yield
    finally:
        await Tortoise.close_connections()


async def is_reachable() -> bool:
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception:  # any driver error means "not reachable" to a health check
        return False
    return True


def dialect() -> str:
    return get_connection("default").capabilities.dialect
