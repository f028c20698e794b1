"""What every command needs: settings that fail with one clear line, and a database to work in."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import re
import socket
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar
from urllib.parse import urlsplit

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


def run_with_db(
    settings: Settings, work: Callable[[], Awaitable[T]], *, migrate: bool = True, may_create: bool = False
) -> T:
    """Run `work` with the ORM open (migrating first, so a fresh checkout just works).

    A database that can't be opened is a UserError (see `opening_database`), and so is a SQLite
    file that doesn't exist yet, unless the command may create one (see `check_new_database`).
    Errors raised by `work` itself pass through unchanged: a file the command can't write is not a
    database problem.
    """
    from bot.db import database  # imported here: Tortoise costs ~0.5 s, and `check` needs no database

    new = check_new_database(settings, may_create=may_create)

    async def main() -> T:
        async with contextlib.AsyncExitStack() as stack:
            with opening_database(settings.database_url):
                await stack.enter_async_context(database(settings.database_url, migrate=migrate))
            if new is not None:
                click.echo(f"Creating a new SQLite database: {new}", err=True)
            return await work()

    return asyncio.run(main())


def migrate_database(settings: Settings) -> list[str]:
    """Bring the schema up to date; return the migrations applied. A database that can't be opened
    is a UserError. serve and migrate may create a new SQLite file (and say so)."""
    from bot.db import apply_migrations

    new = check_new_database(settings, may_create=True)
    with opening_database(settings.database_url):
        applied = asyncio.run(apply_migrations(settings.database_url))
    if new is not None:
        click.echo(f"Creating a new SQLite database: {new}", err=True)
    return applied


def check_new_database(settings: Settings, *, may_create: bool) -> str | None:
    """A SQLite file that doesn't exist yet: return its path (to say it was created), or refuse.

    DATA_DIR defaults to ./data of the current folder, so a command run from another folder would
    otherwise work on a new, empty database and "succeed" there. Only serve and migrate make one
    unasked; other commands need `madeinla --create ...`.
    """
    from bot.db import sqlite_path

    path = sqlite_path(settings.database_url)
    if path is None or path.exists():
        return None
    where = _shown_path(os.path.abspath(path))
    if not (may_create or _create_flag()):
        raise UserError(
            f"there is no database at {where}. Run the command in the folder you run `madeinla serve` "
            "in, or set DATA_DIR or DATABASE_URL to the database it uses; to start a new, empty one "
            "here, run it as `madeinla --create ...`"
        )
    return where


def _create_flag() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().params.get("create"))


@contextlib.contextmanager
def opening_database(database_url: str) -> Iterator[None]:
    """Open (and migrate) the database inside this block; if it can't be, say why in one line.

    Covers what the drivers raise when opening: OSError (connection refused, unknown host, timeout,
    a folder that can't be created), asyncpg's refusals (unknown role, wrong password, no such
    database, too many connections, server shutting down), Tortoise's DBConnectionError and
    ConfigurationError (a port that is not a number), and SQLite's errors (a file that can't be
    opened or written, or that is not a database).
    """
    try:
        _try_sqlite_file(database_url)
        yield
    except _open_errors() as exc:
        raise UserError(
            f"could not open the database ({describe_database(database_url)}): {_reason(exc)}"
        ) from None
    except TypeError as exc:
        # asyncpg refuses a query option it doesn't know (libpq's `?sslmode=require`) this way.
        option = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
        if option is None:
            raise
        hint = " (asyncpg spells it ssl=require)" if option.group(1) == "sslmode" else ""
        raise UserError(
            f"DATABASE_URL has an option PostgreSQL's driver doesn't know: {option.group(1)}{hint}"
        ) from None


def describe_database(database_url: str) -> str:
    """Which database, for messages: the SQLite file, or PostgreSQL's host and database (no password)."""
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://").split("?", 1)[0]
        return f"SQLite file {_shown_path(path)}" if path else "SQLite, but DATABASE_URL names no file"
    parts = urlsplit(database_url)
    user, _, where = parts.netloc.rpartition("@")
    user = user.partition(":")[0]
    return f"PostgreSQL at {where or 'localhost'}{parts.path}" + (f" as {user}" if user else "")


def _try_sqlite_file(database_url: str) -> None:
    """Open a SQLite database file as Tortoise is about to, and let its error out.

    Tortoise 1.1 hangs on a file it can't open (in a read-only folder, a directory, a file that
    isn't a database): its failed connection keeps a lock, and the migrations, having swallowed the
    error, wait for that lock for ever. Opening it here first turns that into an error. A file that
    opens but can't be written would fail only at a command's first write, so it is refused here too.
    """
    if not database_url.startswith("sqlite://"):
        return
    from bot.db import tortoise_config  # creates the file's folder, as opening the database does

    credentials = tortoise_config(database_url)["connections"]["default"]["credentials"]
    path = credentials["file_path"]
    if path == ":memory:":
        return
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, "the file is read-only for this user")
    busy_seconds = int(credentials.get("busy_timeout", 10_000)) / 1000
    # Under the migration lock (bot.db.migration_lock's file): setting the journal mode needs the
    # file to itself, and a second process starting with a migration in flight got "database is
    # locked" at once instead of waiting.
    lock_path = f"{path}.migrate-lock"
    with open(os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as lock_file:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        with contextlib.closing(sqlite3.connect(path, timeout=busy_seconds)) as db:
            mode = str(credentials.get("journal_mode", "WAL"))
            if mode.isalpha():
                db.execute(f"PRAGMA journal_mode={mode}")  # what fails in a read-only folder


def _open_errors() -> tuple[type[BaseException], ...]:
    import asyncpg
    from tortoise.exceptions import ConfigurationError, DBConnectionError, OperationalError

    return (
        OSError,
        sqlite3.Error,
        DBConnectionError,
        ConfigurationError,
        OperationalError,  # the migrations' SQL refused (e.g. no permission to create tables)
        asyncpg.PostgresConnectionError,
        asyncpg.InvalidAuthorizationSpecificationError,  # unknown role, wrong password
        asyncpg.InvalidCatalogNameError,
        asyncpg.InsufficientResourcesError,  # too many connections
        asyncpg.OperatorInterventionError,  # starting up, shutting down
        asyncpg.InterfaceError,  # e.g. an ssl= value it can't use
    )


def _reason(exc: BaseException) -> str:
    """The error in words, on one line."""
    import asyncpg

    if isinstance(exc.__cause__, asyncpg.InvalidCatalogNameError):
        exc = exc.__cause__  # Tortoise's "can't establish connection" hides which database is missing
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"{exc} on that server (create it with createdb, or correct DATABASE_URL)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the database server running, and on that port?)"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, (FileExistsError, NotADirectoryError)) and exc.filename:
        return f"can't create the folder {_shown_path(exc.filename)}: a file is in the way"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror + (f": {_shown_path(exc.filename)}" if exc.filename else "")
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "unable to open database file" in text:
        return f"{text} (does the folder exist, and may this user create files in it?)"
    if "readonly database" in text:
        return f"{text} (the file or its folder is read-only for this user)"
    return text


def _shown_path(path: object) -> str:
    """A path as people write it ("sqlite:////srv/x" gives Tortoise "//srv/x")."""
    text = str(path)
    return "/" + text.lstrip("/") if text.startswith("/") else text
