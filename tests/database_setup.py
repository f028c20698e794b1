"""Create the PostgreSQL database TEST_DATABASE_URL names when it doesn't exist yet (scripts/test).

The tests connect to that database to create and drop one of their own per run, so it must exist;
on a fresh server it doesn't. Run as `python -m tests.database_setup postgres://...`.
"""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import urlsplit, urlunsplit

import asyncpg


async def ensure_database(url: str) -> bool:
    """Create the database `url` names if it is missing; True if it was created."""
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("TEST_DATABASE_URL names no database, like postgres://postgres@127.0.0.1:5432/test")
    server = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    conn = await asyncpg.connect(server)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        await conn.execute(f'CREATE DATABASE "{name.replace(chr(34), "")}"')
        return True
    finally:
        await conn.close()


if __name__ == "__main__":
    if asyncio.run(ensure_database(sys.argv[1])):
        print(f"created the test database {urlsplit(sys.argv[1]).path.lstrip('/')}")
