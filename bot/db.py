"""The database: Tortoise configuration, start-up and migrations.

All models live in one Tortoise app called "models" (so foreign keys read `models.Subscriber`);
migrations are the top-level `migrations` package, written by Tortoise's own `makemigrations`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.connection import get_connection

MODEL_MODULES = [
    "subscribers.models",
    "subscribers.staff_models",
    "outreach.models",
    "subscribers.confirmation_limit_models",
    "subscribers.email_change_models",
    "bot.slack.replay_models",
]


def tortoise_config(database_url: str) -> dict[str, Any]:
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://").split("?", 1)[0]
        if path not in ("", ":memory:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The CLI and the server may share the file: wait for a lock instead of failing at once.
        # In WAL mode (Tortoise's default) synchronous=NORMAL still survives a killed process and
        # never corrupts the file; only a power cut can lose the last commits. It halves commit cost.
        for pragma in ("busy_timeout=10000", "synchronous=NORMAL"):
            if pragma.split("=")[0] not in database_url:
                database_url += ("&" if "?" in database_url else "?") + pragma
    return {
        "connections": {"default": database_url},
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


async def apply_migrations(database_url: str) -> None:
    """Bring the schema up to date. Safe to call on every start: applied migrations are skipped."""
    from tortoise.migrations.api import migrate

    try:
        await migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


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
