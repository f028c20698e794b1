"""`madeinla` as an administrator runs it: real processes in a folder of their own, on a real port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.mailserver import free_port
from tests.outreach.sending import stop

MADEINLA = Path(sys.executable).with_name("madeinla")
_OURS = (
    "SLACK_",
    "SMTP_",
    "MAIL_",
    "SEND_",
    "RETRY_",
    "DATABASE_URL",
    "DATA_DIR",
    "SECRET_KEY",
    "PUBLIC_BASE_URL",
)


def clean_environment(**settings: str) -> dict[str, str]:
    """The environment of a shell with none of our settings, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(_OURS)}
    env.update(LOG_LEVEL="warning", **settings)
    return env


def madeinla(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MADEINLA), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


class Service:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running_service(
    env: dict[str, str], cwd: Path, *, args: tuple[str, ...] = (), within: float = 60
) -> Iterator[Service]:
    """`madeinla serve --port <free>` in `cwd`, stopped (SIGTERM) at the end of the block."""
    port = free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(MADEINLA), "serve", "--port", str(port), *args], env=env, cwd=cwd, stdout=out, stderr=out
        )
    service = Service(process, port, log)
    try:
        deadline = time.monotonic() + within
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve stopped: {service.output()}")
            try:
                if httpx.get(f"{service.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"serve did not answer within {within}s: {service.output()}")
            time.sleep(0.1)
        yield service
    finally:
        stop(process)
