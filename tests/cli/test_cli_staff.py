"""`madeinla staff`: the first admin, roles, removal, and who did it in the audit log."""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from click.testing import CliRunner
from tortoise.contrib.test import truncate_all_models

from bot.cli import main
from bot.db import database
from subscribers.staff_models import StaffAction, StaffMember
from tests.conftest import ON_POSTGRES

T = TypeVar("T")


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for key, value in {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "cli-test-secret-0123456789",
    }.items():
        monkeypatch.setenv(key, value)
    if ON_POSTGRES:
        _db(database_url, truncate_all_models)
    return database_url


def _db(url: str, work: Callable[[], Awaitable[T]]) -> T:
    async def run() -> T:
        async with database(url):
            return await work()

    return asyncio.run(run())


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_first_admin_then_roles_and_removal(env: str) -> None:
    code, out = run("staff", "list")
    assert code == 0 and "Add the first admin" in out
    code, out = run("staff", "add", "Rosa@LACounty.gov", "--role", "admin", "--name", "Rosa")
    assert code == 0 and "Added rosa@lacounty.gov as admin" in out
    assert run("staff", "add", "ben@lacounty.gov", "--role", "editor", "--as", "rosa@lacounty.gov")[0] == 0
    code, out = run("staff", "add", "ben@lacounty.gov", "--role", "viewer")
    assert code == 2 and "already a staff account" in out
    code, out = run("staff", "role", "ben@lacounty.gov", "approver")
    assert code == 0 and "now approver" in out
    code, out = run("staff", "list", "--json")
    assert {row["email"]: row["role"] for row in json.loads(out)} == {
        "ben@lacounty.gov": "approver",
        "rosa@lacounty.gov": "admin",
    }
    code, out = run("staff", "remove", "rosa@lacounty.gov")
    assert code == 2 and "last admin" in out
    assert run("staff", "remove", "ben@lacounty.gov")[0] == 0
    code, out = run("staff", "list", "--all")
    assert "ben@lacounty.gov" in out and "(removed)" in out

    async def log() -> list[tuple[str, str, str]]:
        return [(a.action, a.actor, a.source.value) for a in await StaffAction.all().order_by("id")]

    me = f"cli:{getpass.getuser()}"
    assert _db(env, log) == [
        ("staff.add", me, "cli"),
        ("staff.add", "rosa@lacounty.gov", "cli"),
        ("staff.role", me, "cli"),
        ("staff.remove", me, "cli"),
    ]


def test_bad_input_is_one_clear_line(env: str) -> None:
    code, out = run("staff", "add", "not-an-address", "--role", "viewer")
    assert code == 2 and "email address" in out and "Traceback" not in out
    code, out = run("staff", "add", "a@lacounty.gov", "--role", "king")
    assert code == 2 and "king" in out
    code, out = run("staff", "role", "nobody@lacounty.gov", "viewer")
    assert code == 2 and "no staff account" in out
    code, out = run("staff", "add", "a@lacounty.gov", "--role", "viewer", "--as", "ghost@lacounty.gov")
    assert code == 2 and "--as ghost@lacounty.gov" in out
    assert _db(env, lambda: StaffMember.all().count()) == 0


def test_other_commands_record_who_acted(env: str, tmp_path: Path) -> None:
    """`--as EMAIL` names the staff account in the audit log; without it, the operating-system user."""
    assert run("staff", "add", "rosa@lacounty.gov", "--role", "admin")[0] == 0
    people = tmp_path / "people.csv"
    people.write_text("email\nana@example.com\n")
    code, out = run(
        "subscribers", "import", str(people), "--consent-source", "list", "--as", "rosa@lacounty.gov"
    )
    assert code == 0, out
    assert run("subscribers", "erase", "ana@example.com", "--yes")[0] == 0
    code, out = run(
        "campaigns",
        "create",
        "--name",
        "Test",
        "--kind",
        "pilot_update",
        "--template",
        "pilot_update",
        "--send-at",
        "2099-01-01T09:00",
        "--as",
        "rosa@lacounty.gov",
        "--json",
    )
    assert code == 0, out
    campaign = str(json.loads(out)["id"])  # not always 1: PostgreSQL's sequences outlive a truncate
    assert run("campaigns", "pause", campaign, "--reason", "wrong date", "--as", "rosa@lacounty.gov")[0] == 0
    assert run("campaigns", "cancel", campaign)[0] == 0

    async def log() -> list[tuple[str, str, bool]]:
        rows = await StaffAction.filter(action__not="staff.add").order_by("id")
        return [(a.action, a.actor, a.campaign_id == int(campaign)) for a in rows]

    me = f"cli:{getpass.getuser()}"
    assert _db(env, log) == [
        ("people.import", "rosa@lacounty.gov", False),
        ("person.erase", me, False),
        ("campaign.draft", "rosa@lacounty.gov", True),
        ("campaign.submit", "rosa@lacounty.gov", True),
        ("campaign.pause", "rosa@lacounty.gov", True),
        ("campaign.cancel", me, True),
    ]
