"""Signing in by emailed link, sessions and their ends: the security rules of issue 12."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from starlette.applications import Starlette

from bot.console.parts import BROWSER_COOKIE, SESSION_COOKIE
from subscribers import staff as accounts
from subscribers.staff_models import SignInLink, StaffAction, StaffRole, StaffSession
from subscribers.staff_sessions import SignInLinks, digest
from tests.console.conftest import SignedInClient
from tests.console.support import TEST_ACTOR, emailed_link, make_staff, request_link, sign_in
from tests.mailserver import MailServer

STAFF = "ana@lacounty.gov"


def new_client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_emailed_link_signs_in_once(client: httpx.AsyncClient, mail_server: MailServer) -> None:
    """The link from the real SMTP server signs in; the session cookie is HttpOnly and SameSite=Lax;
    the same link a second time is refused."""
    await make_staff(STAFF, "viewer", name="Ana")
    path = await emailed_link(client, mail_server, STAFF)
    [message] = [item.message for item in mail_server.handler.messages_to(STAFF)]
    assert message["Subject"] == "Your sign-in link for the Made in LA staff console"
    response = await client.get(path)
    assert response.status_code == 303 and response.headers["location"] == "/staff/"
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    home = await client.get("/staff/")
    assert home.status_code == 200 and "Signed in as ana@lacounty.gov" in home.text
    again = await client.get(path)
    assert again.status_code == 400 and "used already" in again.text
    assert await StaffAction.filter(action="staff.sign_in", actor=STAFF).count() == 1


async def test_unknown_address_gets_the_same_page_and_no_mail(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    response = await request_link(client, "nobody@lacounty.gov")
    assert response.status_code == 200 and "Check your email" in response.text
    await make_staff(STAFF, "viewer")
    await emailed_link(client, mail_server, STAFF)  # the sender is running: a real one arrives
    assert mail_server.handler.messages_to("nobody@lacounty.gov") == []


async def test_link_from_another_browser_is_refused(
    app: Starlette, client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    await make_staff(STAFF, "viewer")
    path = await emailed_link(client, mail_server, STAFF)
    async with new_client(app) as other:
        response = await other.get(path)
        assert response.status_code == 400 and "another browser" in response.text
        assert (await other.get("/staff/")).status_code == 303
    assert (await client.get(path)).status_code == 303  # still good in the browser that asked


async def test_expired_and_forged_links_are_refused(client: httpx.AsyncClient, settings) -> None:
    member = await make_staff(STAFF, "viewer")
    client.cookies.set(BROWSER_COOKIE, "b" * 43)
    links = SignInLinks(settings.secret())
    old = await links.create(member, "b" * 43, now=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    response = await client.get(f"/staff/sign-in/{old}")
    assert response.status_code == 400 and "expired" in response.text
    forged = SignInLinks("another-secret-key-0123456789")
    token = await forged.create(member, "b" * 43)
    response = await client.get(f"/staff/sign-in/{token}")
    assert response.status_code == 400 and "does not work" in response.text
    assert (await client.get("/staff/sign-in/garbage")).status_code == 400
    assert await StaffSession.all().count() == 0


async def test_session_fixation_a_planted_key_is_never_used(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    """A session key set in the browser before sign-in is not adopted: sign-in makes a new one."""
    await make_staff(STAFF, "viewer")
    planted = "p" * 43
    client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
    await sign_in(client, mail_server, STAFF)
    assert client.cookies.get(SESSION_COOKIE) != planted
    assert not await StaffSession.filter(key_hash=digest(planted)).exists()
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver", cookies={SESSION_COOKIE: planted}
    ) as attacker:
        assert (await attacker.get("/staff/")).status_code == 303


async def test_sign_in_again_ends_the_previous_session(
    client: httpx.AsyncClient, mail_server: MailServer, settings
) -> None:
    member = await make_staff(STAFF, "viewer")
    await sign_in(client, mail_server, STAFF)
    first = client.cookies.get(SESSION_COOKIE)
    assert (await client.get("/staff/sign-in")).status_code == 303  # signed in: no form
    client.cookies.set(BROWSER_COOKIE, "c" * 43, domain="testserver.local", path="/staff")
    token = await SignInLinks(settings.secret()).create(member, "c" * 43)
    assert (await client.get(f"/staff/sign-in/{token}")).status_code == 303
    assert client.cookies.get(SESSION_COOKIE) != first
    row = await StaffSession.get(key_hash=digest(first or ""))
    assert row.ended_at is not None and row.ended_reason == "replaced at sign-in"


async def test_removed_staff_session_ends_and_role_change_counts_at_once(
    signed_in: SignedInClient,
) -> None:
    admin = await signed_in("boss@lacounty.gov", "admin")
    viewer = await signed_in(STAFF, "editor")
    assert (await viewer.get("/staff/audit")).status_code == 200
    await accounts.change_role(STAFF, StaffRole.VIEWER, actor=TEST_ACTOR)
    assert (await viewer.get("/staff/audit")).status_code == 303  # sessions end on a role change
    assert (await admin.get("/staff/accounts")).status_code == 200
    page = await admin.get("/staff/accounts")
    from tests.web.support import csrf_token

    response = await admin.post(
        "/staff/accounts/change",
        data={"csrf_token": csrf_token(page.text), "email": STAFF, "action": "remove"},
    )
    assert response.status_code == 303
    assert await StaffSession.filter(staff__email=STAFF, ended_at__isnull=True).count() == 0


async def test_removed_account_loses_a_live_session_even_without_ending_it(
    signed_in: SignedInClient,
) -> None:
    """The account is read on every request: removing it counts even if its session row stays."""
    viewer = await signed_in(STAFF, "viewer")
    await make_staff("boss@lacounty.gov", "admin")
    from subscribers.staff_models import StaffMember

    await StaffMember.filter(email=STAFF).update(removed_at=dt.datetime.now(dt.UTC))
    assert (await viewer.get("/staff/")).status_code == 303
    session = await StaffSession.get(staff__email=STAFF)
    assert session.ended_reason == "account removed"


async def test_idle_and_absolute_timeouts(signed_in: SignedInClient) -> None:
    viewer = await signed_in(STAFF, "viewer")
    now = dt.datetime.now(dt.UTC)
    await StaffSession.filter(staff__email=STAFF).update(last_seen_at=now - dt.timedelta(minutes=61))
    assert (await viewer.get("/staff/")).status_code == 303
    assert (await StaffSession.get(staff__email=STAFF)).ended_reason == "idle"

    other = await signed_in("bo@lacounty.gov", "viewer")
    await StaffSession.filter(staff__email="bo@lacounty.gov").update(expires_at=now - dt.timedelta(seconds=1))
    assert (await other.get("/staff/")).status_code == 303
    assert (await StaffSession.get(staff__email="bo@lacounty.gov")).ended_reason == "too old"


async def test_sign_out_ends_the_session(signed_in: SignedInClient) -> None:
    viewer = await signed_in(STAFF, "viewer")
    key = viewer.cookies.get(SESSION_COOKIE) or ""
    page = await viewer.get("/staff/")
    from tests.web.support import csrf_token

    response = await viewer.post("/staff/sign-out", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 200 and "signed out" in response.text
    row = await StaffSession.get(key_hash=digest(key))
    assert row.ended_reason == "signed out"
    async with httpx.AsyncClient(
        transport=viewer._transport, base_url="http://testserver", cookies={SESSION_COOKIE: key}
    ) as replay:
        assert (await replay.get("/staff/")).status_code == 303


async def test_sign_in_requests_are_rate_limited_per_address(client: httpx.AsyncClient) -> None:
    await make_staff(STAFF, "viewer")
    statuses = [(await request_link(client, STAFF)).status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5 and statuses[5] == 429
    assert await SignInLink.all().count() == 5
    response = await request_link(client, "someone.else@lacounty.gov")
    assert response.status_code == 200  # another address is not blocked by this one


async def test_sign_in_requests_are_rate_limited_per_client(client: httpx.AsyncClient) -> None:
    statuses = [(await request_link(client, f"p{i}@lacounty.gov")).status_code for i in range(12)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429


@pytest.mark.parametrize("email", ["", "not an address", "a@b"])
async def test_bad_address_is_a_field_error(client: httpx.AsyncClient, email: str) -> None:
    response = await request_link(client, email)
    assert response.status_code == 400
    assert 'id="email-error"' in response.text and 'aria-invalid="true"' in response.text


async def test_secure_cookie_when_the_base_url_is_https(smtp_settings, mail_server: MailServer) -> None:
    from bot.app import create_app

    settings = smtp_settings.model_copy(update={"public_base_url": "https://madeinla.example.gov"})
    application = create_app(settings, run_scheduler=False)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="https://madeinla.example.gov"
        ) as http,
    ):
        await make_staff(STAFF, "viewer")
        path = await emailed_link(http, mail_server, STAFF)
        response = await http.get(path)
        cookie = next(
            v for k, v in response.headers.multi_items() if k == "set-cookie" and "madeinla_staff=" in v
        )
        assert cookie.startswith("__Host-madeinla_staff=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
        assert (await http.get("/staff/")).status_code == 200
