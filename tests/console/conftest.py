"""Console fixtures: the app with its sender mailing a real SMTP server, and signed-in clients."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from subscribers.staff_models import StaffRole
from tests.console.support import make_staff, sign_in
from tests.mailserver import MailServer, free_port

SignedInClient = Callable[[str, StaffRole | str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def signed_in(app: Starlette, mail_server: MailServer) -> AsyncIterator[SignedInClient]:
    """`await signed_in("ana@lacounty.gov", "editor")`: a client signed in as a new staff account."""
    clients: list[httpx.AsyncClient] = []

    async def make(email: str, role: StaffRole | str) -> httpx.AsyncClient:
        await make_staff(email, role)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(client)
        await sign_in(client, mail_server, email)
        return client

    yield make
    for client in clients:
        await client.aclose()


@dataclass
class OidcProvider:
    issuer: str
    client_id: str = "madeinla-console"
    client_secret: str = "console-test-secret"


@contextlib.contextmanager
def running_oidc_provider(redirect_uri: str) -> Iterator[OidcProvider]:
    """Start tests/console/oidc_provider.mjs (npm's oidc-provider) on a free loopback port."""
    port = free_port()
    provider = OidcProvider(issuer=f"http://127.0.0.1:{port}")
    script = Path(__file__).with_name("oidc_provider.mjs")
    process = subprocess.Popen(
        ["node", str(script), str(port), provider.client_id, provider.client_secret, redirect_uri],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ready"), (
            f"the OpenID provider did not start: {line} {process.stderr.read() if process.stderr else ''}"
        )
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
