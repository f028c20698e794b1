"""The migrations in migrations/ create exactly the schema the models describe."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from bot.db import tortoise_config


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
