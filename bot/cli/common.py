"""What every command needs: settings that fail with one clear line, and a database to work in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from bot.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


class UserError(click.ClickException):
    """A mistake in what the user typed or gave us: printed as one line, exit status 2."""

    exit_code = 2


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise UserError(f"configuration error: {exc}") from None


def run_with_db(settings: Settings, work: Callable[[], Awaitable[T]], *, migrate: bool = True) -> T:
    """Run `work` with the ORM open (migrating first, so a fresh checkout just works)."""

    from bot.db import database  # imported here: Tortoise costs ~0.5 s, and `check` needs no database

    async def main() -> T:
        async with database(settings.database_url, migrate=migrate):
            return await work()

    return asyncio.run(main())
