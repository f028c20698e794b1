"""`madeinla subscribers` as staff run it: import, list, export, erase, in-process and as a real command."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result
from tortoise.contrib.test import truncate_all_models

from bot.cli import main
from bot.db import database
from outreach.models import Delivery
from subscribers.models import AuditEvent, Status, Subscriber
from subscribers.registry import suppression_reason
from tests.conftest import ON_POSTGRES

T = TypeVar("T")
MADEINLA = Path(sys.executable).with_name("madeinla")
SOURCE = "Made in LA Coalition member list, 2026-10"
PEOPLE = (
    "email,name,organization,role,language,zip,phone\n"
    "ana@example.com,Ana García,Taller Ana,manufacturer,es,90011,555-0100\n"
    "BO@example.com,Bo Lee,Lee Foods,,,90012,\n"
    "cy@example.com,Cy Núñez,,working_group,es,,\n"
)


def in_db(url: str, work: Callable[[], Awaitable[T]]) -> T:
    async def run() -> T:
        async with database(url):
            return await work()

    return asyncio.run(run())


class Cli:
    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | bytes | None = None) -> Result:
        return self.runner.invoke(main, ["subscribers", *args], input=input, catch_exceptions=False)

    def people(self) -> list[dict[str, Any]]:
        result = self("list", "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    if ON_POSTGRES:
        in_db(database_url, truncate_all_models)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-0123456789")
    monkeypatch.chdir(tmp_path)
    yield Cli(database_url)


@pytest.fixture
def people_csv(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    return path


# import -------------------------------------------------------------------------------------------


def test_import_with_consent_source_then_list_as_json(cli: Cli, people_csv: Path) -> None:
    result = cli("import", str(people_csv), "--consent-source", SOURCE)
    assert result.exit_code == 0, result.output
    assert "people.csv: 3 lines with people." in result.stdout
    assert "Imported 3 new people as active." in result.stdout
    assert 'Ignored columns: "phone".' in result.stdout
    assert "By role: manufacturer 1, other 1, working_group 1." in result.stdout

    people = cli.people()
    assert [p["email"] for p in people] == ["ana@example.com", "bo@example.com", "cy@example.com"]
    for person in people:
        assert {"email", "status", "role", "language", "topics"} <= set(person)
        assert person["status"] == "active"
        assert person["consent_source"] == SOURCE
    assert people[0]["topics"] == ["pilot_updates", "application_invitations"]
    assert (people[1]["role"], people[1]["language"]) == ("other", "en")


def test_import_without_consent_source_makes_pending_people_with_confirmations(
    cli: Cli, people_csv: Path
) -> None:
    result = cli("import", str(people_csv), "--role", "manufacturer", "--language", "es")
    assert result.exit_code == 0, result.output
    assert "Imported 3 new people as pending." in result.stdout
    assert "Queued 3 confirmation emails" in result.stdout
    people = cli.people()
    assert {p["status"] for p in people} == {"pending"}
    assert [(p["role"], p["language"]) for p in people] == [
        ("manufacturer", "es"),
        ("manufacturer", "es"),  # the defaults fill what the row leaves blank
        ("working_group", "es"),
    ]
    assert in_db(cli.url, lambda: Delivery.filter(template="confirm").count()) == 3


def test_rejected_lines_block_everything_and_say_why(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("email,name,role\nana@example.com,Ana,\nana@@x,Bad,\nbo@example.com,=HYPERLINK(1),chef\n")
    result = cli("import", str(path), "--consent-source", SOURCE)
    assert result.exit_code == 2
    assert "Rejected 2 lines:" in result.stdout
    assert 'line 3: email "ana@@x" is not a valid address' in result.stdout
    assert "line 4: name " in result.stdout and 'role "chef" is not one of' in result.stdout
    assert "Nothing was imported because 2 lines were rejected" in result.stderr
    assert cli.people() == []

    again = cli("import", str(path), "--consent-source", SOURCE, "--skip-invalid")
    assert again.exit_code == 0, again.output
    assert "Imported 1 new person as active." in again.stdout
    assert [p["email"] for p in cli.people()] == ["ana@example.com"]


def test_importing_the_same_file_twice_skips_everyone(cli: Cli, people_csv: Path) -> None:
    assert cli("import", str(people_csv), "--consent-source", SOURCE).exit_code == 0
    result = cli("import", str(people_csv), "--consent-source", SOURCE)
    assert result.exit_code == 0
    assert "No new people to import." in result.stdout
    assert "line 2: ana@example.com is already in the registry (active)" in result.stdout
    assert len(cli.people()) == 3


def test_dry_run_writes_nothing(cli: Cli, people_csv: Path) -> None:
    result = cli("import", str(people_csv), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was written. Would import 3 new people as pending." in result.stdout
    assert cli.people() == []


def test_report_file_lists_every_line(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.cli.subscribers.SHOWN_LINES", 2)
    path = tmp_path / "list.csv"
    path.write_text("email\n" + "".join(f"bad{i}@@x\n" for i in range(5)))
    result = cli("import", str(path), "--report", str(tmp_path / "report.csv"))
    assert result.exit_code == 2
    assert "... and 3 more (--report FILE lists every line)" in result.stdout
    rows = list(csv.DictReader(io.StringIO((tmp_path / "report.csv").read_text("utf-8-sig"))))
    assert [(r["line"], r["outcome"]) for r in rows] == [(str(n), "rejected") for n in range(2, 7)]


@pytest.mark.parametrize("where", ["missing-folder/report.csv", "a-folder"])
def test_a_report_that_cannot_be_written_stops_the_import_before_it_starts(
    cli: Cli, people_csv: Path, tmp_path: Path, where: str
) -> None:
    """Exit 2 means nothing imported: a bad --report path is found before anything is written."""
    (tmp_path / "a-folder").mkdir()
    result = cli("import", str(people_csv), "--consent-source", SOURCE, "--report", str(tmp_path / where))
    assert result.exit_code == 2
    if where == "a-folder":  # click itself refuses a folder, before the command runs
        assert "is a directory" in result.stderr
    else:
        assert "can't write the report" in result.stderr and "Nothing was imported." in result.stderr
        assert "missing-folder does not exist" in result.stderr
    assert cli.people() == []
    assert not list(tmp_path.rglob("*.partial"))


def test_a_report_that_fails_after_the_import_says_the_import_was_done(
    cli: Cli, people_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bot.cli.subscribers._write_report", disk_full)
    report = tmp_path / "report.csv"
    result = cli("import", str(people_csv), "--consent-source", SOURCE, "--report", str(report))
    assert result.exit_code == 3
    assert "Imported 3 new people as active." in result.stdout
    assert "could not write the report" in result.stderr and "No space left on device" in result.stderr
    assert "The import itself is done" in result.stderr
    assert len(cli.people()) == 3
    assert not report.exists() and not list(tmp_path.glob(".report.csv.*"))


def test_import_from_standard_input(cli: Cli) -> None:
    result = cli("import", "-", "--consent-source", SOURCE, input=codecs.BOM_UTF8 + PEOPLE.encode())
    assert result.exit_code == 0, result.output
    assert "standard input: 3 lines with people." in result.stdout
    assert len(cli.people()) == 3


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "list.csv: the file is empty"),
        (b"name\nAna\n", "list.csv: there is no email column"),
        ("email,name\nana@example.com,José\n".encode("latin-1"), "list.csv: the file is not UTF-8: line 2"),
        ("email\nana@example.com\n".encode("utf-16"), "list.csv: the file is UTF-16 text"),
        (b"PK\x03\x04" + bytes(100), "list.csv: this is an Excel workbook (.xlsx)"),
        (b"email\n", "list.csv: the file has a header row but no people in it"),
    ],
)
def test_unusable_files_get_one_clear_line(cli: Cli, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(content)
    result = cli("import", str(path), "--consent-source", SOURCE)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {message}" or result.stderr.startswith(f"Error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--consent-source", "  "], "--consent-source can't be empty"),
        (["--consent-source", "a\nb"], "--consent-source must be one line"),
        (
            ["--topics", "news"],
            'topic "news" is not one of pilot_updates, application_invitations, working_group',
        ),
        (["--topics", ","], "name at least one topic"),
        (["--role", "chef"], "'chef' is not one of 'manufacturer', 'working_group', 'county_staff', 'other'"),
        (["--language", "fr"], "'fr' is not one of 'en', 'es'"),
    ],
)
def test_bad_options_are_explained(cli: Cli, people_csv: Path, args: list[str], message: str) -> None:
    result = cli("import", str(people_csv), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert cli.people() == []


def test_missing_file(cli: Cli) -> None:
    result = cli("import", "nowhere.csv")
    assert result.exit_code == 2
    assert "'nowhere.csv' does not exist" in result.stderr


# list ---------------------------------------------------------------------------------------------


def test_list_table_filters_and_limits(cli: Cli, people_csv: Path) -> None:
    cli("import", str(people_csv), "--consent-source", SOURCE)
    table = cli("list")
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["id", "email", "name", "role", "status", "lang", "topics", "created"]
    assert "Ana García" in table.stdout and "updates invitations" in table.stdout
    assert lines[-1] == "3 subscribers."

    only = cli("list", "--role", "working_group")
    assert "cy@example.com" in only.stdout and "ana@example.com" not in only.stdout
    assert cli("list", "--status", "pending").stdout.strip() == "No subscribers match."
    assert cli("list", "--limit", "2").stdout.splitlines()[-1] == "2 of 3 shown: --limit 0 shows everyone."
    assert [p["email"] for p in json.loads(cli("list", "--json", "--limit", "1").stdout)] == [
        "ana@example.com"
    ]
    assert json.loads(cli("list", "--json", "--status", "bounced").stdout) == []


def test_list_on_an_empty_registry(cli: Cli) -> None:
    result = cli("list")
    assert result.exit_code == 0
    assert result.stdout.strip() == "No subscribers yet."


def test_list_rejects_unknown_filters_naming_the_allowed_values(cli: Cli) -> None:
    result = cli("list", "--status", "gone")
    assert result.exit_code == 2
    assert (
        "'gone' is not one of 'pending', 'active', 'unsubscribed', 'bounced', 'complained'" in result.stderr
    )


def test_names_print_as_typed_not_as_markup(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("email,name\nana@example.com,[bold red]Ana[/]\n")
    cli("import", str(path), "--consent-source", SOURCE)
    assert "[bold red]Ana[/]" in cli("list").stdout


# export -------------------------------------------------------------------------------------------


def test_export_writes_a_private_file_and_never_overwrites(
    cli: Cli, people_csv: Path, tmp_path: Path
) -> None:
    cli("import", str(people_csv), "--consent-source", SOURCE)
    target = tmp_path / "out.csv"
    result = cli("export", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Wrote 3 subscribers to {target} (readable only by you)."
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8-sig"))))
    assert [r["email"] for r in rows] == ["ana@example.com", "bo@example.com", "cy@example.com"]
    assert rows[0]["name"] == "Ana García"
    assert oct(target.stat().st_mode & 0o777) == "0o600"

    refused = cli("export", str(target))
    assert refused.exit_code == 2
    assert "already exists: choose another name, or pass --force" in refused.stderr
    assert cli("export", str(target), "--force", "--role", "manufacturer").exit_code == 0
    assert len(target.read_text("utf-8-sig").splitlines()) == 2


# erase --------------------------------------------------------------------------------------------


def test_erase_deletes_outbox_copies_and_says_how_many(cli: Cli, people_csv: Path, tmp_path: Path) -> None:
    """Mail the embedded transport wrote as files (DATA_DIR/outbox by default) goes too."""
    cli("import", str(people_csv), "--consent-source", SOURCE)
    outbox = tmp_path / "data" / "outbox"
    outbox.mkdir(parents=True)
    for n, to in enumerate(["Ana García <ana@example.com>", "ANA@example.com", "Bo Lee <bo@example.com>"]):
        (outbox / f"{n}.5-abc{n}.eml").write_bytes(f"To: {to}\r\nSubject: Hi\r\n\r\nHello Ana\r\n".encode())
    done = cli("erase", "ana@example.com", "--yes")
    assert done.exit_code == 0, done.output
    assert f"Deleted 2 copies of mail to them from the outbox ({outbox})." in done.stdout
    assert [path.name for path in outbox.iterdir()] == ["2.5-abc2.eml"]


def test_erase_asks_first_then_erases(cli: Cli, people_csv: Path) -> None:
    cli("import", str(people_csv), "--consent-source", SOURCE)
    declined = cli("erase", "ana@example.com", input="n\n")
    assert declined.exit_code == 1
    assert "Erase subscriber #" in declined.stdout and "Nothing changed." in declined.stdout
    assert len(cli.people()) == 3

    done = cli("erase", "Ana@Example.com", input="y\n")
    assert done.exit_code == 0, done.output
    assert "their record and business profile are deleted" in done.stdout
    assert [p["email"] for p in cli.people()] == ["bo@example.com", "cy@example.com"]
    assert in_db(cli.url, lambda: suppression_reason("ana@example.com")) == "erased"
    assert in_db(cli.url, lambda: AuditEvent.filter(action="erased", actor__startswith="cli:").count()) == 1

    again = cli("erase", "ana@example.com", "--yes")
    assert again.exit_code == 0
    assert "erased before" in again.stdout

    reimport = cli("import", str(people_csv), "--consent-source", SOURCE)
    assert "line 2: this address was erased at the person's request: never imported" in reimport.stdout


def test_erasing_an_unknown_address(cli: Cli) -> None:
    result = cli("erase", "nobody@example.com", "--yes")
    assert result.exit_code == 1
    assert "No subscriber has that address." in result.stdout
    assert in_db(cli.url, lambda: suppression_reason("nobody@example.com")) == "erased"

    not_an_address = cli("erase", "nobody at example", "--yes")
    assert not_an_address.exit_code == 2
    assert '"nobody at example" is not an email address' in not_an_address.stderr


@pytest.mark.parametrize(
    "command, words",
    [
        ([], "Import, list, export and erase subscribers."),
        (["import"], "nothing is imported"),
        (["list"], "JSON array"),
        (["export"], "leading apostrophe"),
        (["erase"], "suppression list"),
    ],
)
def test_help_everywhere(cli: Cli, command: list[str], words: str) -> None:
    for flag in ("--help", "-h"):
        result = cli(*command, flag)
        assert result.exit_code == 0
        assert words in " ".join(result.stdout.split())


# as a real command --------------------------------------------------------------------------------


def command_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """The test's migrated database (a command never starts a new one unasked: see first-hour tests)."""
    return dict(
        os.environ, DATA_DIR=str(tmp_path / "data"), DATABASE_URL=database_url, COLUMNS="100", TERM="xterm"
    )


def run_with_terminal_stderr(
    args: list[str], env: dict[str, str], cwd: Path, *, until: bytes | None = None, timeout: float = 120
) -> tuple[subprocess.Popen[bytes], bytes]:
    """Run a command whose stderr is a terminal (a pty), as when staff type it; return what it drew.

    With `until`, return as soon as that text appears (the process still running).
    """
    leader, follower = pty.openpty()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=follower, env=env, cwd=cwd)
    os.close(follower)
    drawn = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the process closed the terminal
                    break
                if not chunk:
                    break
                drawn += chunk
                if until is not None and until in drawn:
                    return process, drawn
            elif process.poll() is not None:
                break
        else:
            process.kill()
            pytest.fail(f"{args} did not finish in {timeout} s")
    finally:
        os.close(leader)
    return process, drawn


@pytest.mark.slow
def test_the_installed_command_imports_with_a_progress_bar(
    database_url: str, tmp_path: Path, people_csv: Path
) -> None:
    if ON_POSTGRES:
        in_db(database_url, truncate_all_models)
    env = command_env(tmp_path, database_url)
    process, drawn = run_with_terminal_stderr(
        [str(MADEINLA), "subscribers", "import", str(people_csv), "--consent-source", SOURCE], env, tmp_path
    )
    assert process.wait(timeout=30) == 0
    summary = process.stdout.read().decode() if process.stdout else ""
    assert "Imported 3 new people as active." in summary
    assert b"Reading the file" in drawn and b"Writing" in drawn and b"3/3" in drawn

    # stdout and stderr both redirected (cron, a log file): no bar, no escape codes, same summary.
    listed = subprocess.run(
        [str(MADEINLA), "subscribers", "list", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert [p["email"] for p in json.loads(listed.stdout)] == [
        "ana@example.com",
        "bo@example.com",
        "cy@example.com",
    ]
    again = subprocess.run(
        [str(MADEINLA), "subscribers", "import", str(people_csv)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert again.returncode == 0
    assert b"\x1b" not in again.stdout + again.stderr
    assert b"No new people to import." in again.stdout


@pytest.mark.slow
def test_killing_the_import_mid_write_leaves_nothing_half_written(database_url: str, tmp_path: Path) -> None:
    if ON_POSTGRES:
        in_db(database_url, truncate_all_models)
    env = command_env(tmp_path, database_url)
    big = tmp_path / "big.csv"
    big.write_text(
        "email,name\n" + "".join(f"person{i}@example{i % 97}.org,Persona {i}\n" for i in range(40_000))
    )
    args = [str(MADEINLA), "subscribers", "import", str(big), "--consent-source", SOURCE]

    process, _drawn = run_with_terminal_stderr(args, env, tmp_path, until=b"Writing")
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL

    url = database_url
    assert in_db(url, lambda: Subscriber.all().count()) == 0
    assert in_db(url, lambda: AuditEvent.all().count()) == 0

    rerun = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert b"Imported 40,000 new people as active." in rerun.stdout
    assert in_db(url, lambda: Subscriber.filter(status=Status.ACTIVE).count()) == 40_000
