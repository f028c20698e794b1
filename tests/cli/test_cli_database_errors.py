"""A database that can't be opened: every command says so in one line and exits 2, never a traceback.

Real `madeinla` processes against a PostgreSQL port nothing listens on, a role the server doesn't know,
and SQLite paths that can't be opened or written. Each run is bounded: Tortoise used to hang for
ever on a SQLite file it couldn't open, so a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import TEST_DATABASE_URL

MADEINLA = Path(sys.executable).with_name("madeinla")
SECRET = "s3cret-pw"  # in DATABASE_URL, and never in what a command prints


def madeinla(args: list[str], database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        DATABASE_URL=database_url,
        DATA_DIR=str(tmp_path / "data"),
        SECRET_KEY="cli-test-secret-0123456789",
        PUBLIC_BASE_URL="http://testserver",
    )
    return subprocess.run(
        [str(MADEINLA), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for phrase in phrases:
        assert phrase in lines[0]
    assert SECRET not in result.stderr


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port that refuses connections: bound (so nothing else takes it) but not listening."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


COMMANDS = [
    ["subscribers", "list"],
    ["campaigns", "list"],
    ["migrate"],
    ["serve", "--port", "1"],  # refused before it would listen
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_unreachable_postgres(args: list[str], closed_port: int, tmp_path: Path) -> None:
    url = f"postgres://madeinla:{SECRET}@127.0.0.1:{closed_port}/outreach"
    result = madeinla(args, url, tmp_path)
    assert_one_clear_line(
        result,
        f"could not open the database (PostgreSQL at 127.0.0.1:{closed_port}/outreach as madeinla)",
        "connection refused",
    )


@pytest.mark.postgres
def test_a_role_the_server_does_not_know(tmp_path: Path) -> None:
    server = urlsplit(TEST_DATABASE_URL)
    url = f"postgres://no_such_role:{SECRET}@{server.hostname}:{server.port or 5432}/test"
    result = madeinla(["campaigns", "list"], url, tmp_path)
    assert_one_clear_line(result, 'role "no_such_role" does not exist')


def test_postgres_option_in_libpq_spelling(closed_port: int, tmp_path: Path) -> None:
    url = f"postgres://madeinla@127.0.0.1:{closed_port}/outreach?sslmode=require"
    result = madeinla(["subscribers", "list"], url, tmp_path)
    assert_one_clear_line(result, "doesn't know: sslmode", "ssl=require")


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder this user can't create files in: /proc for root (who may write anywhere else)."""
    if os.geteuid() == 0:
        yield Path("/proc")
        return
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


@pytest.mark.parametrize(
    "args", [["--create", *COMMANDS[0]], ["--create", *COMMANDS[1]], ["migrate"]], ids=" ".join
)
def test_sqlite_file_in_a_read_only_folder(args: list[str], read_only_folder: Path, tmp_path: Path) -> None:
    path = read_only_folder / "madeinla.sqlite3"
    result = madeinla(args, f"sqlite://{path}", tmp_path)
    assert_one_clear_line(result, f"(SQLite file {path})", str(path))
    assert not path.exists()


def test_sqlite_folder_that_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("a file where the data folder should be\n")
    path = tmp_path / "not-a-folder" / "db" / "madeinla.sqlite3"
    result = madeinla(["--create", "subscribers", "list"], f"sqlite://{path}", tmp_path)
    assert_one_clear_line(result, "can't create the folder", "a file is in the way")


def test_sqlite_path_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("DATABASE_URL should name the database file, not this one.\n" * 100)
    result = madeinla(["campaigns", "list"], f"sqlite://{path}", tmp_path)
    assert_one_clear_line(result, "file is not a database")
    assert path.read_text().startswith("DATABASE_URL should name")  # left as it was


def test_a_working_database_still_opens(tmp_path: Path) -> None:
    """The checks stand aside for a database that is fine: a fresh SQLite file in a new folder."""
    path = tmp_path / "new-folder" / "madeinla.sqlite3"
    result = madeinla(["--create", "subscribers", "list"], f"sqlite://{path}", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "No subscribers yet."
    assert result.stderr.strip() == f"Creating a new SQLite database: {path}"
    assert path.exists()


@pytest.mark.postgres
def test_a_database_the_server_does_not_have(tmp_path: Path) -> None:
    """A DATABASE_URL naming a database that doesn't exist says so, not "can't establish connection"."""
    server = urlsplit(TEST_DATABASE_URL)
    url = f"postgres://{server.username or 'postgres'}@{server.hostname}:{server.port or 5432}/no_such_db"
    result = madeinla(["campaigns", "list"], url, tmp_path)
    assert_one_clear_line(result, 'database "no_such_db" does not exist', "createdb")
