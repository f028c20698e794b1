"""A new administrator's first hour: which database a command uses, what `migrate` did, `info`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.service.process import clean_environment, madeinla


def test_a_command_in_the_wrong_folder_refuses_to_start_a_new_database(tmp_path: Path) -> None:
    """Run from a folder with no database, an import says where it looked and how to go on, in one
    line, and creates nothing (DATA_DIR defaults to ./data of the current folder)."""
    (tmp_path / "people.csv").write_text("email\nana@example.com\n")
    args = ["subscribers", "import", "people.csv", "--consent-source", "test list"]
    result = madeinla(args, clean_environment(), tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Error: there is no database at {tmp_path}/data/madeinla.sqlite3. Run the command in the folder "
        "you run `madeinla serve` in, or set DATA_DIR or DATABASE_URL to the database it uses; to start "
        "a new, empty one here, run it as `madeinla --create ...`"
    ]
    assert not (tmp_path / "data").exists()


def test_create_says_which_database_it_made(tmp_path: Path) -> None:
    """`madeinla --create ...` makes the database and names it; the next run says nothing about it."""
    env = clean_environment()
    first = madeinla(["--create", "subscribers", "list"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stderr == f"Creating a new SQLite database: {tmp_path}/data/madeinla.sqlite3\n"
    second = madeinla(["subscribers", "list"], env, tmp_path)
    assert (second.returncode, second.stderr) == (0, "")


def test_migrate_says_what_it_did(tmp_path: Path) -> None:
    """On an empty database `migrate` says it created the tables (and the file); then: nothing to do."""
    env = clean_environment(DATA_DIR=str(tmp_path / "srv"))
    first = madeinla(["migrate"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Created the database's tables (")
    assert first.stderr == f"Creating a new SQLite database: {tmp_path}/srv/madeinla.sqlite3\n"
    again = madeinla(["migrate"], env, tmp_path)
    assert again.stdout == "The database was already up to date; nothing to do.\n"


def test_info_shows_the_settings_in_force_with_secrets_hidden(tmp_path: Path) -> None:
    """`madeinla info` names the database file, marks what was set, and never prints a secret."""
    (tmp_path / ".env").write_text("SMTP_HOST=relay.example.gov\nSMTP_PASSWORD=hunter2-relay\n")
    env = clean_environment(
        SLACK_BOT_TOKEN="xoxb-secret-token", DATABASE_URL="postgres://u:pw-secret@db.example/x"
    )
    result = madeinla(["info"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    for secret in ("hunter2-relay", "xoxb-secret-token", "pw-secret"):
        assert secret not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == "Database: PostgreSQL at db.example/x as u"
    assert "* SMTP_HOST" in result.stdout and "relay.example.gov" in result.stdout
    assert any(line.startswith("* SMTP_PASSWORD") and line.endswith("(set, hidden)") for line in lines)
    assert any(line.startswith("  SMTP_PORT") and line.endswith("587") for line in lines)
    as_json = json.loads(madeinla(["info", "--json"], clean_environment(), tmp_path).stdout)
    assert as_json["database"] == f"SQLite file {tmp_path}/data/madeinla.sqlite3 (not created yet)"
    assert not (tmp_path / "data").exists()
