"""Every link and redirect built from a request stays on our site: a crafted path can't turn the
language switch, a form's action or a redirect into a link to another host (an open redirect)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from bot.web.templating import local_path
from outreach.signup import sign_up
from subscribers.models import Language, Role, Topic
from subscribers.signup import SignupRequest
from subscribers.tokens import Purpose

# Paths as they come off the wire: slashes and backslashes encoded or not, tabs and newlines (which
# browsers drop from inside a URL), and a scheme.
HOSTILE_PATHS = [
    b"/%2F%2Fevil.example",
    b"//evil.example/",
    b"//evil.example",
    b"///evil.example/",
    b"/%5Cevil.example/",
    b"/\\evil.example/",
    b"/%5C%5Cevil.example",
    b"/%2F%5Cevil.example",
    b"/%09/evil.example",
    b"/%0A/evil.example",
    b"/%0D%0A/evil.example",
    b"/%20//evil.example",
    b"/http:%2F%2Fevil.example",
    b"/%2F%2Fevil.example/privacy/",
    b"//evil.example/privacy/",
]

ATTRIBUTE = re.compile(r'(?:href|action|src)="([^"]*)"')


def stays_on_site(link: str) -> bool:
    """True when a browser resolves `link` to our own host, whatever it does with odd characters:
    WHATWG URL parsing treats a backslash as a slash and drops tabs and newlines."""
    cleaned = re.sub(r"[\t\n\r]", "", link.strip()).replace("\\", "/")
    if cleaned.startswith("#"):
        return True
    parts = urlsplit(cleaned)
    return not parts.scheme and not parts.netloc and cleaned.startswith("/") and not cleaned.startswith("//")


def test_the_check_itself_catches_what_browsers_follow_off_site() -> None:
    for bad in ("//evil.example", "/\\evil.example", "/\t/evil.example", "http://evil.example/", "\\\\evil"):
        assert not stays_on_site(bad), bad
    assert stays_on_site("/privacy?lang=es") and stays_on_site("#main")


@pytest.mark.parametrize("raw", HOSTILE_PATHS, ids=lambda raw: raw.decode())
async def test_a_crafted_path_gets_only_local_links_and_no_foreign_redirect(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    url = httpx.URL("http://testserver/").copy_with(raw_path=raw + b"?lang=en")
    answer = await client.get(url, headers={"Host": "evil.example"})
    assert answer.status_code in (404, 308), answer.status_code
    location = answer.headers.get("location")
    if location is not None:
        assert stays_on_site(location), location
    links = ATTRIBUTE.findall(answer.text)
    assert links, "the page has no links at all"
    for link in links:
        assert stays_on_site(link), (raw, link)


async def test_a_trailing_slash_redirects_to_the_page_on_our_own_host(client: httpx.AsyncClient) -> None:
    """`/privacy/` still finds the privacy notice, with a relative Location: the Host header (which
    the client chooses) never reaches a redirect."""
    answer = await client.get("/privacy/?lang=es", headers={"Host": "evil.example"})
    assert answer.status_code == 308
    assert answer.headers["location"] == "/privacy?lang=es"
    assert (await client.get("/no-such-page/")).status_code == 404
    staff = await client.get("/staff", headers={"Host": "evil.example"})  # and the other way round
    assert (staff.status_code, staff.headers["location"]) == (308, "/staff/")


async def test_pages_behind_emailed_links_post_to_their_own_path(client: httpx.AsyncClient, app) -> None:
    """Forms on token pages post back to the page's own path, encoded, on our own host."""
    result = await sign_up(
        SignupRequest(
            email="ana@example.com",
            role=Role.OTHER,
            language=Language.EN,
            topics=frozenset({Topic.PILOT_UPDATES}),
        )
    )
    signer = app.state.runtime.signer
    assert result.subscriber_id is not None
    for path in (
        f"/confirm/{signer.sign(Purpose.CONFIRM, result.subscriber_id)}",
        f"/preferences/{signer.sign(Purpose.MANAGE, result.subscriber_id)}",
        f"/unsubscribe/{signer.sign(Purpose.MANAGE, result.subscriber_id)}",
    ):
        page = await client.get(path, headers={"Host": "evil.example"})
        assert page.status_code == 200
        actions = re.findall(r'action="([^"]*)"', page.text)
        assert actions and all(action.startswith(path + "?lang=") for action in actions), actions
        assert all(stays_on_site(link) for link in ATTRIBUTE.findall(page.text))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "/"),
        ("/privacy", "/privacy"),
        ("//evil.example", "/evil.example"),
        ("/\\evil.example", "/%5Cevil.example"),
        ("/\t/evil.example", "/%09/evil.example"),
        ("/a b?c#d", "/a%20b%3Fc%23d"),
        ("/confirm/abc.DEF-_", "/confirm/abc.DEF-_"),
        ("", "/"),
        ("evil.example", "/evil.example"),
        ("/ñ", "/%C3%B1"),
    ],
)
def test_local_path(path: str, expected: str) -> None:
    assert local_path(path) == expected
    assert stays_on_site(local_path(path))
