"""`madeinla campaigns`: the contract other tools rely on, and clear answers to bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from tortoise.contrib.test import truncate_all_models

from bot.cli import main
from bot.db import database
from outreach.models import Campaign, Delivery, DeliveryState
from subscribers.staff_models import StaffAction
from tests.conftest import ON_POSTGRES
from tests.outreach.people import person
from tests.slack.fakeslack import BOT_TOKEN, FakeSlack

COUNT_KEYS = {"queued", "sending", "sent", "deferred", "failed", "suppressed"}


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "cli-test-secret-0123456789",
        "PUBLIC_BASE_URL": "http://localhost",
        "SEND_WINDOW": "always",  # not the wall clock's business
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
    """`madeinla campaigns ARGS`; `create` gets a name, and `--yes` with `--now`, unless given."""
    if args[:1] == ("create",) and "--help" not in args:
        args = (*args, *(() if "--name" in args else ("--name", "Test update")))
        args = (*args, *(("--yes",) if "--now" in args and "--yes" not in args else ()))
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
    assert "“Test update” created: pilot_update, template pilot_update, scheduled" in result.stdout
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
    meeting = ["--kind", "working_group_notice", "--template", "working_group_notice", "--now"]
    meeting += ["--var", "meeting_when=Tuesday, December 8, 10:00", "--var", "meeting_where=Online"]
    result = cli("create", *meeting)
    assert result.exit_code == 2 and "meeting_when is only in English" in result.output
    assert "tick “send the English text to Spanish readers”" in result.output
    result = cli("create", *meeting, "--english-for-spanish")
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
        *(
            "--name",
            "December meeting",
            "--kind",
            "working_group_notice",
            "--template",
            "working_group_notice",
        ),
        "--now",
        *("--var", "meeting_when=caf\udce9", "--var", "meeting_where=Online"),
    )
    assert result.exit_code == 2
    assert result.output.startswith(
        "Error: campaign value meeting_when is not valid UTF-8 text (bytes like \\xe9 from a terminal "
        "or file in another encoding): retype it, or save the file as UTF-8"
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


def test_history_after_an_erasure_says_when_and_how_much(env: dict[str, str]) -> None:
    """`campaigns history ADDRESS` of an erased person says when they were erased and how many
    messages their record held, not "nothing has been sent"; the address itself is not kept."""
    _people(env["DATABASE_URL"], {"name": "Ana"})
    cid = create("--now")
    for _ in range(2):
        assert cli("test-send", cid, "--to", "p0@example.com").exit_code == 0
    erased = CliRunner().invoke(
        main, ["subscribers", "erase", "P0@Example.com", "--yes"], catch_exceptions=False
    )
    assert erased.exit_code == 0, erased.output
    today = dt.datetime.now(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%d")
    lines = cli("history", "p0@example.com").stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"This address was erased on {today} ")
    assert "the record then held 2 messages" in lines[0]
    assert lines[1] == "Nothing sent to that address since."
    assert json.loads(cli("history", "p0@example.com", "--json").stdout) == []
    assert "erased" not in cli("history", "p1@example.com").stdout

    async def stored() -> list[tuple[object, ...]]:
        from subscribers.erasure_models import ErasureRecord

        return await ErasureRecord.all().values_list("email_hash", "messages")

    [(key, messages)] = _db(env["DATABASE_URL"], stored)  # type: ignore[misc]
    assert messages == 2 and "@" not in str(key) and "p0" not in str(key)


LONG_ADDRESS = "maria.gonzalez-hernandez@longdomainname-manufacturing.example.com"


def test_lists_read_well_at_80_columns(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """At 80 columns `subscribers list`, `campaigns list` and `campaigns history` keep every value
    whole: no address split, nothing cut to "working_g…", no line wider than the terminal; --json
    is the same as at any width."""
    _people(env["DATABASE_URL"], {"name": "María González Hernández", "role": "working_group"})

    async def long_address() -> None:
        await person(LONG_ADDRESS, name="María González Hernández", role="working_group", language="es")

    _db(env["DATABASE_URL"], long_address)
    cid = create("--now", "--kind", "application_invitation", "--template", "application_invitation")
    assert cli("test-send", cid, "--to", LONG_ADDRESS).exit_code == 0
    commands = [["subscribers", "list"], ["campaigns", "list"], ["campaigns", "history", LONG_ADDRESS]]
    wide: dict[str, str] = {}
    for columns in ("80", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        for command in commands:
            result = CliRunner().invoke(main, command, catch_exceptions=False)
            assert result.exit_code == 0, result.output
            text = result.stdout
            if columns == "200":
                wide[" ".join(command[:2])] = text
                continue
            assert "…" not in text
            assert all(len(line) <= 80 for line in text.splitlines()), text
            words = text.split()
            for whole in ("working_group", "application_invitation"):
                assert not any(word.startswith(whole[:6]) and whole not in word for word in words), text
            if command == ["subscribers", "list"]:
                assert LONG_ADDRESS in text.splitlines()  # whole, on a line of its own
            if command[1] == "history":
                message_id = json.loads(cli("history", LONG_ADDRESS, "--json").stdout)[0]["message_id"]
                assert message_id in words[words.index("Message-ID:") + 1]
    assert LONG_ADDRESS in wide["subscribers list"] and "María González Hernández" in wide["subscribers list"]
    for command in commands:
        as_json = [*command, "--json"]
        monkeypatch.setenv("COLUMNS", "80")
        narrow = CliRunner().invoke(main, as_json, catch_exceptions=False).stdout
        monkeypatch.setenv("COLUMNS", "200")
        assert json.loads(narrow) == json.loads(
            CliRunner().invoke(main, as_json, catch_exceptions=False).stdout
        )


def test_staff_words_for_staff_mistakes(env: dict[str, str]) -> None:
    """A service email offered as a campaign template, a campaign number that isn't one, a mistyped
    command: each gets one line saying what is wrong and what would be right."""
    refused = cli("create", "--kind", "pilot_update", "--template", "confirm", "--now")
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines()[-1] == (
        "Error: 'confirm' is an email the service sends by itself, not one for campaigns; "
        "campaign templates: application_invitation, pilot_update, working_group_notice"
    )
    assert (
        "confirm"
        not in " ".join(cli("create", "--help").stdout.split()).split("--template")[1].split("--")[0]
    )
    assert "'abc' is not a campaign number (like 3)" in cli("show", "abc").stderr
    typo = CliRunner().invoke(main, ["campaign", "list"])
    assert typo.exit_code == 2
    assert "there is no command 'campaign'; did you mean 'campaigns'?" in typo.stderr
    for result in (refused, typo):
        assert "Traceback" not in result.output and "UndefinedError" not in result.output


# Names, confirmation and approval ------------------------------------------------------------------


def _staff(*accounts: tuple[str, str]) -> None:
    for email, role in accounts:
        result = CliRunner().invoke(main, ["staff", "add", email, "--role", role], catch_exceptions=False)
        assert result.exit_code == 0, result.output


def test_a_campaign_needs_a_name(env: dict[str, str]) -> None:
    bare = CliRunner().invoke(
        main,
        ["campaigns", "create", "--kind", "pilot_update", "--template", "pilot_update", "--now", "--yes"],
    )
    assert bare.exit_code == 2 and "Missing option '--name'" in bare.output
    blank = cli("create", "--kind", "pilot_update", "--template", "pilot_update", "--now", "--name", "  ")
    assert blank.exit_code == 2 and "give the campaign a name" in blank.output
    assert _db(env["DATABASE_URL"], lambda: Campaign.all().count()) == 0


def test_now_asks_first_showing_the_audience(env: dict[str, str]) -> None:
    _people(env["DATABASE_URL"], {"language": "es"}, {"language": "es"}, {"language": "en"})
    args = [
        "campaigns",
        "create",
        "--name",
        "Now",
        "--kind",
        "pilot_update",
        "--template",
        "pilot_update",
        "--now",
    ]
    declined = CliRunner().invoke(main, args, input="n\n")
    assert declined.exit_code == 2
    assert "goes out now to 3 people (1 in English, 2 in Spanish)" in declined.output
    assert "nothing was created" in declined.output
    assert _db(env["DATABASE_URL"], lambda: Campaign.all().count()) == 0
    accepted = CliRunner().invoke(main, args, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert _db(env["DATABASE_URL"], lambda: Campaign.all().count()) == 1


def test_a_large_send_waits_for_a_second_person(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPROVAL_THRESHOLD", "2")
    _people(env["DATABASE_URL"], {}, {}, {})
    _staff(("ana@lacounty.gov", "approver"), ("bo@lacounty.gov", "approver"), ("cy@lacounty.gov", "sender"))
    made = cli(
        "create",
        "--kind",
        "pilot_update",
        "--template",
        "pilot_update",
        "--send-at",
        "2099-03-03T09:00",
        "--as",
        "ana@lacounty.gov",
    )
    assert made.exit_code == 0, made.output
    assert (
        "awaiting approval" in made.output and "3 people is more than APPROVAL_THRESHOLD (2)" in made.output
    )
    cid = made.output.split()[1]
    own = cli("approve", cid, "--as", "ana@lacounty.gov")
    assert own.exit_code == 2 and "someone else must approve it" in own.output
    sender = cli("approve", cid, "--as", "cy@lacounty.gov")
    assert sender.exit_code == 2 and "approving needs the approver role" in sender.output
    anonymous = cli("approve", cid)
    assert anonymous.exit_code == 2 and "Missing option '--as'" in anonymous.output
    approved = cli("approve", cid, "--as", "bo@lacounty.gov")
    assert approved.exit_code == 0, approved.output
    assert "approved and scheduled: it starts at 2099-03-03 09:00 PST" in approved.output
    shown = cli("show", cid).stdout
    assert "approved:  by bo@lacounty.gov (3 people when submitted)" in shown
    actions = _db(
        env["DATABASE_URL"],
        lambda: StaffAction.filter(campaign_id=int(cid)).order_by("id").values_list("action", "actor"),
    )
    assert ("campaign.submit", "ana@lacounty.gov") in actions
    assert ("campaign.approve", "bo@lacounty.gov") in actions


def test_a_small_send_needs_no_approval_and_reject_sends_back(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _people(env["DATABASE_URL"], {})
    assert (
        json.loads(
            cli("create", "--kind", "pilot_update", "--template", "pilot_update", "--now", "--json").stdout
        )["status"]
        == "scheduled"
    )
    monkeypatch.setenv("APPROVAL_THRESHOLD", "0")  # 0: every campaign needs approval
    _staff(("bo@lacounty.gov", "approver"))
    cid = create("--send-at", "2099-03-03T09:00")
    assert json.loads(cli("show", cid, "--json").stdout)["status"] == "awaiting_approval"
    refused = cli("reject", cid, "--as", "bo@lacounty.gov", "--reason", " ")
    assert refused.exit_code == 2 and "say why" in refused.output
    rejected = cli("reject", cid, "--as", "bo@lacounty.gov", "--reason", "Wrong month in the text")
    assert rejected.exit_code == 0, rejected.output
    summary = json.loads(cli("show", cid, "--json").stdout)
    assert summary["status"] == "draft" and summary["approval_note"] == "Wrong month in the text"


@pytest.fixture
def fake_slack_thread() -> Iterator[FakeSlack]:
    """The fake Slack Web API in a loop of its own thread: the CLI runs its own asyncio.run."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = asyncio.run_coroutine_threadsafe(FakeSlack().start(), loop).result(10)
    yield fake
    asyncio.run_coroutine_threadsafe(fake.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_a_large_send_from_the_cli_is_posted_for_approval_in_slack(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, fake_slack_thread: FakeSlack
) -> None:
    monkeypatch.setenv("APPROVAL_THRESHOLD", "0")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake_slack_thread.base_url)
    monkeypatch.setenv("SLACK_NOTIFY_CHANNEL", "CNOTIFY")
    cid = create("--send-at", "2099-03-03T09:00")
    [posted] = fake_slack_thread.calls_to("chat.postMessage")
    assert posted["channel"] == "CNOTIFY"
    blocks = posted["blocks"] if isinstance(posted["blocks"], list) else json.loads(posted["blocks"])
    assert f"{env['PUBLIC_BASE_URL']}/staff/campaigns/{cid}" in blocks[0]["text"]["text"]
    assert [b["value"] for b in blocks[1]["elements"]] == [cid, cid]
