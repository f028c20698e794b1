"""Helpers the console tests share: staff accounts, signing in over HTTP with the emailed link
(read from the real SMTP server), and posting console forms with their CSRF token."""

from __future__ import annotations

import asyncio
import re
import time
from email.message import EmailMessage

import httpx

from subscribers import staff as accounts
from subscribers.staff_audit import Actor
from subscribers.staff_models import StaffMember, StaffRole
from tests.mailserver import MailServer
from tests.web.support import csrf_token, text_of

SIGN_IN_LINK = re.compile(r"https?://[^/\s]+(/staff/sign-in/[A-Za-z0-9._-]+)")
TEST_ACTOR = Actor.system("test")


async def make_staff(email: str, role: StaffRole | str, name: str = "") -> StaffMember:
    return await accounts.add_staff(email, StaffRole(role), name=name, actor=TEST_ACTOR)


def sign_in_path(message: EmailMessage) -> str:
    match = SIGN_IN_LINK.search(text_of(message))
    assert match, "no sign-in link in the email"
    return match.group(1)


async def request_link(client: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await client.get("/staff/sign-in")
    return await client.post("/staff/sign-in", data={"email": email, "csrf_token": csrf_token(page.text)})


async def emailed_link(client: httpx.AsyncClient, server: MailServer, email: str) -> str:
    """Ask for a link for `email` and return its path, from the message the SMTP server got."""
    before = len(server.handler.messages_to(email))
    response = await request_link(client, email)
    assert response.status_code == 200, response.text
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mine = server.handler.messages_to(email)
        if len(mine) > before:
            return sign_in_path(mine[-1].message)
        await asyncio.sleep(0.02)
    raise AssertionError(f"no sign-in email reached {email}")


async def sign_in(client: httpx.AsyncClient, server: MailServer, email: str) -> httpx.Response:
    """The whole sign-in by emailed link; returns the response that lands on the console."""
    path = await emailed_link(client, server, email)
    response = await client.get(path)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/staff/"
    return response


async def post_form(
    client: httpx.AsyncClient, page_path: str, action: str, data: dict[str, object]
) -> httpx.Response:
    """Open `page_path` (for its CSRF token) and post `data` to `action`, as the browser would."""
    page = await client.get(page_path)
    assert page.status_code == 200, page.text
    return await client.post(action, data={"csrf_token": csrf_token(page.text), **data})
