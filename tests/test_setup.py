"""The README's test command sets up a fresh Debian machine: the Debian packages it needs (installed
as root, else named in one line) and the PostgreSQL database it is pointed at."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.conftest import TEST_DATABASE_URL, _admin
from tests.database_setup import ensure_database

ROOT = Path(__file__).parents[1]


def _checkout_with(tmp_path: Path, packages: str, *, uid: int) -> tuple[Path, Path]:
    """A copy of the installer with its own package list, and a PATH where `id` says `uid` and
    `apt-get` only writes down what it was asked (the real ones are outside a test's reach)."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "install-debian-packages", tmp_path / ".ci")
    (tmp_path / ".ci" / "debian-packages").write_text(packages)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt-get.log"
    stubs = {"id": f"echo {uid}", "apt-get": f'echo "$@" >> {log}', "chromium": "true"}
    for name, body in stubs.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    (bin_dir / "dirname").symlink_to(shutil.which("dirname") or "/usr/bin/dirname")
    return bin_dir, log


def _install(checkout: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    script = str(checkout / ".ci" / "install-debian-packages")
    return subprocess.run(["/bin/bash", script], env={"PATH": str(bin_dir)}, capture_output=True, text=True)


PACKAGES = "# comment\nchromium chromium\nmadeinla-test-pkg madeinla_no_such_program\n"


def test_not_root_names_what_to_install_in_one_line(tmp_path: Path) -> None:
    bin_dir, log = _checkout_with(tmp_path, PACKAGES, uid=1000)
    result = _install(tmp_path, bin_dir)
    assert result.returncode == 1
    assert result.stderr == (
        "The tests need these Debian packages: run as root: apt-get install madeinla-test-pkg\n"
    )
    assert not log.exists()


def test_root_installs_only_what_is_missing(tmp_path: Path) -> None:
    bin_dir, log = _checkout_with(tmp_path, PACKAGES, uid=0)
    result = _install(tmp_path, bin_dir)
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        "update -qq",
        "install -y -qq --no-install-recommends madeinla-test-pkg",
    ]


def test_ci_and_the_test_command_share_one_package_list() -> None:
    listed = [
        line.split()[0]
        for line in (ROOT / ".ci" / "debian-packages").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {"chromium", "dovecot-imapd", "nodejs", "npm"} <= set(listed)
    for script in (ROOT / "scripts" / "test", ROOT / ".ci" / "run"):
        assert ".ci/install-debian-packages" in script.read_text()
    readme = (ROOT / "README.md").read_text()
    assert "Node.js" in readme and "npm" in readme


@pytest.mark.postgres
def test_the_test_database_is_created_when_missing() -> None:
    base = TEST_DATABASE_URL.rstrip("/").rpartition("/")[0]
    name = f"madeinla_setup_{uuid.uuid4().hex[:8]}"
    try:
        assert asyncio.run(ensure_database(f"{base}/{name}")) is True
        assert asyncio.run(ensure_database(f"{base}/{name}")) is False  # there now: left alone
    finally:
        asyncio.run(_admin(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}"'))
