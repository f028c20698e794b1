"""`madeinla campaigns`: the contract other tools rely on, and clear answers to bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from tortoise.contrib.test import truncate_all_models

from bot.cli import main
from bot.db import database
from outreach.models import Campaign, Delivery, DeliveryState
from tests.conftest import ON_POSTGRES
from tests.outreach.people import person

COUNT_KEYS = {"queued", "sending", "sent", "deferred", "failed", "suppressed"}


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "cli-test-secret-0123456789",
        "PUBLIC_BASE_URL": "http://testserver",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    _db(database_url, _nothing)  # PostgreSQL: start from empty tables
    return values


async def _nothing() -> None:
    return None


def _db(url: str, work: Callable[[], Awaitable[object]]) -> object:
    async def run() -> object:
        async with database(url):
            if ON_POSTGRES and work is _nothing:
                await truncate_all_models()
            return await work()

    return asyncio.run(run())


def _people(url: str, *specs: dict) -> None:
    async def work() -> None:
        for index, spec in enumerate(specs):
            await person(f"p{index}@example.com", **spec)

    _db(url, work)


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["campaigns", *args], catch_exceptions=False)


def create(*args: str) -> str:
    """Create a campaign; its id, as text for the next command."""
    result = cli("create", "--kind", "pilot_update", "--template", "pilot_update", *args, "--json")
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["id"])


def test_create_now_then_show_as_json(env: dict[str, str]) -> None:
    _people(env["DATABASE_URL"], {"role": "manufacturer"}, {"role": "working_group"})
    created = cli(
        "create",
        "--kind",
        "pilot_update",
        "--template",
        "pilot_update",
        "--audience",
        "role=manufacturer",
        "--now",
        "--json",
    )
    assert created.exit_code == 0, created.output
    campaign = json.loads(created.stdout)
    assert campaign["status"] == "scheduled" and isinstance(campaign["id"], int)
    assert campaign["audience"] == {"role": ["manufacturer"], "status": ["active"]}

    shown = cli("show", str(campaign["id"]), "--json")
    assert shown.exit_code == 0
    data = json.loads(shown.stdout)
    assert data["id"] == campaign["id"] and data["status"] == "scheduled"
    assert set(data["counts"]) >= COUNT_KEYS

    listed = json.loads(cli("list", "--json").stdout)
    assert [row["id"] for row in listed] == [campaign["id"]]
    text = cli("show", str(campaign["id"])).stdout
    assert "status:    scheduled" in text and "audience:  role=manufacturer,status=active" in text


def test_create_prints_what_it_made(env: dict[str, str]) -> None:
    _people(env["DATABASE_URL"], {"role": "manufacturer"})
    result = cli(
        "create", "--kind", "pilot_update", "--template", "pilot_update", "--send-at", "2099-03-03T09:00"
    )
    assert result.exit_code == 0, result.output
    assert "created: pilot_update, template pilot_update" in result.stdout
    assert "sends: 2099-03-03 09:00 PST" in result.stdout
    assert "(1 people right now)" in result.stdout


def test_cron_first_tuesday(env: dict[str, str]) -> None:
    result = cli(
        "create", "--kind", "pilot_update", "--template", "pilot_update", "--cron", "0 9 * * 2#1", "--json"
    )
    assert result.exit_code == 0, result.output
    first = dt.datetime.fromisoformat(json.loads(result.stdout)["send_at"]).astimezone(
        ZoneInfo("America/Los_Angeles")
    )
    assert (first.weekday(), first.hour, first.minute) == (1, 9, 0) and first.day <= 7
    assert "first Tuesday" in cli("create", "--help").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--audience", "role=chef", "--now"], "audience: role=chef is not allowed"),
        (["--audience", "zip=9002", "--now"], "zip=9002 is not a 5-digit ZIP code"),
        (["--send-at", "2020-01-01T09:00"], "is in the past"),
        (["--send-at", "next tuesday"], "is not a date and time"),
        (["--cron", "every day"], "has 2 fields"),
        ([], "say when: give exactly one of --now, --send-at or --cron"),
        (["--now", "--cron", "0 9 * * 1"], "say when"),
        (["--now", "--var", "novalue"], "--var 'novalue' needs the form NAME=VALUE"),
        (["--cron", "0 9 * * 1", "--wait"], "--wait watches one send"),
    ],
)
def test_bad_input_is_one_clear_line(env: dict[str, str], args: list[str], message: str) -> None:
    result = cli("create", "--kind", "pilot_update", "--template", "pilot_update", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert _db(env["DATABASE_URL"], lambda: Campaign.all().count()) == 0


def test_unknown_template_and_missing_values(env: dict[str, str]) -> None:
    result = cli("create", "--kind", "pilot_update", "--template", "nope", "--now")
    assert result.exit_code == 2 and "there is no email template called 'nope'" in result.output
    result = cli("create", "--kind", "working_group_notice", "--template", "working_group_notice", "--now")
    assert result.exit_code == 2 and "--var meeting_when=..." in result.output
    result = cli(
        "create",
        "--kind",
        "working_group_notice",
        "--template",
        "working_group_notice",
        "--now",
        "--var",
        "meeting_when=Tuesday, December 8, 10:00",
        "--var",
        "meeting_where=Online",
    )
    assert result.exit_code == 0, result.output


def test_pause_resume_cancel(env: dict[str, str]) -> None:
    cid = create("--send-at", "2099-03-03T09:00")
    assert cli("pause", cid, "--reason", "checking the dates").stdout == f"Campaign {cid} is now paused.\n"
    assert "status:    paused (checking the dates)" in cli("show", cid).stdout
    result = cli("pause", cid)
    assert result.exit_code == 2
    assert f"campaign {cid} is paused; only a scheduled or sending campaign" in result.output
    resumed = cli("resume", cid)
    assert resumed.exit_code == 0 and "is now scheduled" in resumed.stdout
    assert "it will start at 2099-03-03 09:00 PST" in resumed.stdout
    assert cli("cancel", cid).stdout == f"Campaign {cid} is now cancelled.\n"
    assert cli("resume", cid).exit_code == 2
    missing = cli("pause", "987654")
    assert missing.exit_code == 2 and "there is no campaign 987654" in missing.output


def test_preview_and_test_send(env: dict[str, str]) -> None:
    _people(env["DATABASE_URL"], {"language": "es", "name": "Ana"})
    cid = create("--now")
    shown = cli("preview", cid, "--email", "p0@example.com")
    assert shown.exit_code == 0
    assert "Subject: Programa piloto Made in Los Angeles: novedades" in shown.stdout
    assert "Hola Ana:" in shown.stdout
    assert "<html" in cli("preview", cid, "--email", "p0@example.com", "--html").stdout
    assert cli("preview", cid, "--email", "nobody@example.com").exit_code == 2

    sent = cli("test-send", cid, "--to", "staff@example.gov")
    assert sent.exit_code == 0, sent.output
    assert "Test sent (delivery" in sent.stdout and "250 written to" in sent.stdout
    [eml] = list((Path(env["DATA_DIR"]) / "outbox").glob("*.eml"))
    assert b"Subject: [TEST] Made in Los Angeles pilot: an update" in eml.read_bytes()
    history = json.loads(cli("history", "staff@example.gov", "--json").stdout)
    assert history[0]["state"] == "sent" and history[0]["kind"] == "transactional"
    assert cli("history", "nobody@example.com").stdout == "Nothing has been sent to that address.\n"
    assert cli("history", "not-an-address").exit_code == 2


def test_wait_gives_up_with_a_hint_when_no_service_is_running(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWEEP_INTERVAL_SECONDS", "0.1")
    _people(env["DATABASE_URL"], {})
    result = cli(
        "create",
        "--kind",
        "pilot_update",
        "--template",
        "pilot_update",
        "--now",
        "--wait",
        "--give-up-after",
        "1",
    )
    assert result.exit_code == 1
    assert "no service has started it. Is `madeinla serve` or `madeinla worker` running?" in result.output


@pytest.mark.slow
def test_wait_follows_a_real_worker_to_the_end(env: dict[str, str], tmp_path: Path) -> None:
    """End to end: `madeinla worker` in its own process sends what `create --now --wait` queued."""
    _people(env["DATABASE_URL"], *({"language": "es" if i % 2 else "en"} for i in range(12)))
    worker_env = {**os.environ, **env, "SWEEP_INTERVAL_SECONDS": "0.5", "LOG_LEVEL": "warning"}
    worker = subprocess.Popen(
        [Path(sys.executable).parent / "madeinla", "worker"],
        env=worker_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        result = cli(
            "create", "--kind", "pilot_update", "--template", "pilot_update", "--now", "--wait", "--json"
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0].decode()
    assert result.exit_code == 0, result.output + output
    summary = json.loads(result.stdout)
    assert summary["status"] == "finished"
    assert summary["counts"]["sent"] == 12 and summary["counts"]["total"] == 12
    assert len(list((Path(env["DATA_DIR"]) / "outbox").glob("*.eml"))) == 12
    states = _db(env["DATABASE_URL"], lambda: Delivery.filter(state=DeliveryState.SENT).count())
    assert states == 12


def test_a_var_that_is_not_utf8_is_refused_at_create_and_test_send_says_so(env: dict[str, str]) -> None:
    # Python reads argv bytes that aren't UTF-8 (b"caf\xe9" from a Latin-1 terminal) as lone surrogates.
    result = cli(
        "create",
        *("--kind", "working_group_notice", "--template", "working_group_notice", "--now"),
        *("--var", "meeting_when=caf\udce9", "--var", "meeting_where=Online"),
    )
    assert result.exit_code == 2
    assert result.output == (
        "Error: campaign value meeting_when is not valid UTF-8 text (bytes like \\xe9 from a terminal "
        "or file in another encoding): retype it, or save the file as UTF-8\n"
    )

    if ON_POSTGRES:
        return  # PostgreSQL never stored such a value (its JSON refuses lone surrogates); SQLite did

    async def stored_before_the_check() -> int:
        campaign = await Campaign.create(
            kind="working_group_notice",
            template="working_group_notice",
            context={"meeting_when": "caf\udce9", "meeting_where": "Online"},
            created_by="cli",
        )
        return campaign.id

    campaign_id = _db(env["DATABASE_URL"], stored_before_the_check)
    sent = CliRunner().invoke(main, ["campaigns", "test-send", str(campaign_id), "--to", "staff@example.gov"])
    assert sent.exit_code == 2, sent.output
    assert sent.output.startswith(f"Error: campaign {campaign_id} has a value that is not valid UTF-8 text")
    assert "Traceback" not in sent.output
