"""The migrations in migrations/ create exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.autodetector import MigrationAutodetector

from bot.db import database, tortoise_config
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, _admin

MADEINLA = Path(sys.executable).with_name("madeinla")


async def test_models_and_migrations_agree(db: str) -> None:
    """makemigrations would write nothing: every model change has its migration."""
    config = tortoise_config(db)
    changes = await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
    assert changes == []


async def test_migrations_created_every_table(db: str) -> None:
    """The migrated database has a table for each model (the fixture ran the real migrations)."""
    from tortoise.connection import get_connection

    conn = get_connection("default")
    for model in Tortoise.apps.get_models_iterable():
        rows = await conn.execute_query_dict(f'SELECT COUNT(*) AS n FROM "{model._meta.db_table}"')
        assert rows[0]["n"] == 0


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database nobody has migrated: a new SQLite file, or a new PostgreSQL database."""
    if not ON_POSTGRES:
        yield f"sqlite://{tmp_path / 'fresh.sqlite3'}"
        return
    server_url = TEST_DATABASE_URL.rstrip("/")
    name = f"madeinla_fresh_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    yield f"{server_url.rpartition('/')[0]}/{name}"
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.slow
def test_two_processes_migrating_a_fresh_database_at_once_both_succeed(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """A `serve` and a `worker` started together both migrate on start: one waits for the other's
    migration lock and then finds nothing left to do, instead of creating the same tables twice."""
    env = {**os.environ, "DATABASE_URL": fresh_database_url, "DATA_DIR": str(tmp_path / "data")}
    for round_ in range(3):  # without the lock, every try of this failed (SQLite and PostgreSQL)
        if not ON_POSTGRES and round_:
            for leftover in tmp_path.glob("fresh.sqlite3*"):
                leftover.unlink()
        elif ON_POSTGRES and round_:
            break  # one database per test on PostgreSQL: one round
        both = [
            subprocess.Popen(
                [str(MADEINLA), "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=120)[0].decode() for process in both]
        assert [process.returncode for process in both] == [0, 0], outputs
    asyncio.run(_check_schema(fresh_database_url))


async def _check_schema(url: str) -> None:
    async with database(url):
        config = tortoise_config(url)
        assert await MigrationAutodetector(Tortoise.apps, config["apps"]).changes() == []
        conn = get_connection("default")
        for model in Tortoise.apps.get_models_iterable():
            await conn.execute_query(f'SELECT COUNT(*) FROM "{model._meta.db_table}"')
