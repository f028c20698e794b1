"""Helpers the web tests share: fill the real form over HTTP and read what the SMTP server got."""

from __future__ import annotations

import asyncio
import re
import time
from email.message import EmailMessage

import httpx

from tests.mailserver import MailServer

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"http://localhost(/(?:confirm|preferences|unsubscribe)/[A-Za-z0-9._-]+)")


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def valid_form(**changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "email": "ana@example.com",
        "name": "Ana López",
        "organization": "López Uniforms",
        "role": "manufacturer",
        "topics": ["pilot_updates", "application_invitations"],
        "language": "en",
        "legal_name": "López Uniforms LLC",
        "principal_zip": "90021",
        "production_zip": "90011",
        "products": "Work uniforms\nFace masks",
        "naics": "315250",
        "employees": "12",
        "years_in_county": "8",
        "ca_small_business": "yes",
        "garment_work": "yes",
        "consent": "yes",
        "website": "",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


async def submit_signup(
    client: httpx.AsyncClient, lang: str = "en", *, follow: bool = True, **changes: object
) -> httpx.Response:
    """Open the form (which sets the CSRF cookie), then send it like a browser would: following the
    redirect to the "check your email" page unless `follow` is False."""
    page = await client.get(f"/?lang={lang}")
    data = valid_form(**changes)
    data.setdefault("csrf_token", csrf_token(page.text))
    return await client.post(f"/?lang={lang}", data=data, follow_redirects=follow)


async def wait_for_mail(server: MailServer, count: int, within: float = 10.0) -> list[EmailMessage]:
    """Wait (without blocking the loop the app's sender runs on) until `count` messages arrived."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        received = server.received
        if len(received) >= count:
            return [item.message for item in received]
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} messages, got {len(server.received)} within {within}s")


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def link_in(message: EmailMessage, kind: str) -> str:
    """The path of the first `kind` link (confirm, preferences, unsubscribe) in the email."""
    for path in LINK.findall(text_of(message)):
        if path.startswith(f"/{kind}/"):
            return path
    raise AssertionError(f"no {kind} link in the email")
