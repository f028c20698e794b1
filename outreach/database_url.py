"""The ORM's database URL as asyncpg takes it, for the connections that hold advisory locks
(the scheduler's leadership, the Slack digest's, migrations) outside Tortoise's pool."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def asyncpg_dsn(database_url: str) -> str | None:
    """The ORM's URL as asyncpg wants it (no pool options in the query), or None for SQLite."""
    if database_url.startswith("sqlite://"):
        return None
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
