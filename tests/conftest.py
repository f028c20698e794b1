"""Shared fixtures: a real database (SQLite or PostgreSQL), settings, a real SMTP server, the app.

The database comes from TEST_DATABASE_URL: unset means SQLite; `postgres://...` means a fresh
database on that server for this pytest process (dropped at the end), truncated between tests.
Run SQLite and PostgreSQL in separate pytest processes: Tortoise caches SQL per connection name,
not per dialect (see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from tortoise.contrib.test import truncate_all_models

from bot.app import create_app
from bot.db import apply_migrations, database
from bot.settings import Settings, load_settings
from tests.imapserver import Dovecot
from tests.mailserver import MailServer

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith(("postgres://", "postgresql://"))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from fixtures, never from the developer's shell or a stray .env."""
    for name in list(os.environ):
        if name.startswith(
            ("SLACK_", "SMTP_", "MAIL_", "SEND_", "RETRY_", "CONFIRMATIONS_", "BOUNCE_")
        ) or name in (
            "DATABASE_URL",
            "DATA_DIR",
            "SECRET_KEY",
            "PUBLIC_BASE_URL",
            "OUTBOX_DIR",
            "FORM_RATE_LIMIT_PER_MINUTE",
            "STAFF_SLACK_USER_IDS",
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(Settings.model_config, "env_file", None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # PostgreSQL-only tests (row claims shared by processes, advisory locks) need the real thing;
    # on the SQLite run they are deselected, not skipped, because SQLite has no such feature to test.
    if ON_POSTGRES:
        return
    kept = [item for item in items if "postgres" not in item.keywords]
    deselected = [item for item in items if "postgres" in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database with every migration applied, once per test run."""
    if ON_POSTGRES:
        server_url = TEST_DATABASE_URL.rstrip("/")
        base, _, _ = server_url.rpartition("/")
        name = f"madeinla_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
        url = f"{base}/{name}?maxsize=20"
        asyncio.run(apply_migrations(url))
        yield url
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("db") / "template.sqlite3"
        url = f"sqlite://{path}"
        asyncio.run(apply_migrations(url))
        yield url


async def _admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    """This test's database: a copy of the migrated SQLite file, or the shared PostgreSQL one."""
    if ON_POSTGRES:
        return migrated_database
    path = Path(migrated_database.removeprefix("sqlite://"))
    copy = tmp_path / "test.sqlite3"
    shutil.copy(path, copy)
    return f"sqlite://{copy}"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """The ORM, open on an empty, migrated database, for the length of one test."""
    async with database(database_url):
        if ON_POSTGRES:
            await truncate_all_models()
        yield database_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-0123456789",
        public_base_url="http://testserver",
        mail_from="Made in LA <madeinla@example.gov>",
        form_rate_limit_per_minute=0,
        retry_base_seconds=0.05,
    )


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


@pytest.fixture
def smtp_settings(settings: Settings, mail_server: MailServer) -> Settings:
    return settings.model_copy(
        update={"smtp_host": mail_server.host, "smtp_port": mail_server.port, "smtp_tls": "none"}
    )


@pytest.fixture
async def app(smtp_settings: Settings) -> AsyncIterator:
    """The real app with its lifespan running (database, background sender) and mail to aiosmtpd."""
    if ON_POSTGRES:  # before the lifespan starts the sender, or an earlier test's mail could go out here
        async with database(smtp_settings.database_url):
            await truncate_all_models()
    application = create_app(smtp_settings, run_scheduler=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """Debian's Dovecot on free loopback ports, started once per run (tests/imapserver.py)."""
    root = Path(tempfile.mkdtemp(prefix="madeinla-dovecot-"))
    root.chmod(0o755)  # Dovecot's mail processes run as its own user
    server = Dovecot(root).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap(dovecot: Dovecot) -> Dovecot:
    """The Dovecot server with an empty mailbox."""
    dovecot.reset()
    return dovecot
