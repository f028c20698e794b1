"""Every /staff/ route names its least role, and the check holds: no session, each role below it,
CSRF missing or forged. The route table is walked, so a new route made without
`bot.console.access.staff_route` fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

from bot.app import create_app
from bot.console.access import PUBLIC, ROLE_MARK
from bot.settings import Settings
from subscribers.staff_models import RANK, StaffRole
from tests.console.conftest import SignedInClient
from tests.web.support import csrf_token

# The sign-in pages are the only console routes that work without a session.
PUBLIC_PATHS = {"/staff/sign-in", "/staff/sign-in/{token}", "/staff/sso/start", "/staff/sso/callback"}


def walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    for route in routes:
        if isinstance(route, Mount):
            yield from walk(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route


def staff_routes(app: Starlette) -> list[tuple[str, Route]]:
    return [(path, route) for path, route in walk(list(app.routes)) if path.startswith("/staff")]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_staff_route_names_its_role(settings: Settings) -> None:
    found = staff_routes(create_app(settings, run_sender=False, run_scheduler=False))
    assert len(found) > 5
    for path, route in found:
        mark = getattr(route.endpoint, ROLE_MARK, None)
        assert mark is not None, f"{path} was not made with staff_route(): it has no role check"
        if path in PUBLIC_PATHS:
            assert mark == PUBLIC
        else:
            assert isinstance(mark, StaffRole), f"{path} is public but not a sign-in page"


def guarded(app: Starlette) -> list[tuple[str, str, StaffRole]]:
    """(method, path, role) for every guarded route."""
    out = []
    for path, route in staff_routes(app):
        role = getattr(route.endpoint, ROLE_MARK)
        if role == PUBLIC:
            continue
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                out.append((method, concrete(path), role))
    return out


async def test_no_page_or_action_without_a_session(app: Starlette, client: httpx.AsyncClient) -> None:
    checked = 0
    page = await client.get("/staff/sign-in")
    token = csrf_token(page.text)  # a valid CSRF token does not stand in for a session
    for method, path, _role in guarded(app):
        if method == "GET":
            response = await client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/staff/sign-in?next=")
        else:
            response = await client.request(method, path, data={"csrf_token": token})
            assert response.status_code == 401, path
            assert "Please sign in" in response.text
        checked += 1
    assert checked > 5


@pytest.mark.parametrize("role", [r for r in StaffRole if r != StaffRole.ADMIN])
async def test_each_role_is_refused_what_it_may_not_do(
    app: Starlette, signed_in: SignedInClient, role: StaffRole
) -> None:
    """A 403 page (never a 500, never the action) for every route above the account's role."""
    client = await signed_in(f"{role.value}@lacounty.gov", role)
    token = csrf_token((await client.get("/staff/")).text)
    above = [(m, p, r) for m, p, r in guarded(app) if RANK[r] > RANK[role]]
    assert above
    for method, path, needed in above:
        response = await client.request(
            method, path, data={"csrf_token": token} if method == "POST" else None
        )
        assert response.status_code == 403, (path, response.status_code)
        assert f"needs the {needed.value} role" in response.text


async def test_csrf_missing_or_forged_is_refused(signed_in: SignedInClient) -> None:
    admin = await signed_in("boss@lacounty.gov", "admin")
    data = {"email": "new@lacounty.gov", "name": "", "role": "viewer"}
    missing = await admin.post("/staff/accounts/add", data=data)
    assert missing.status_code == 403 and "Your form expired" in missing.text
    forged = await admin.post("/staff/accounts/add", data={**data, "csrf_token": "x" * 40})
    assert forged.status_code == 403
    other = await signed_in("other@lacounty.gov", "admin")
    someone_elses = csrf_token((await other.get("/staff/")).text)  # valid, but for another browser
    assert (
        await admin.post("/staff/accounts/add", data={**data, "csrf_token": someone_elses})
    ).status_code == 403
    from subscribers.staff_models import StaffMember

    assert not await StaffMember.filter(email="new@lacounty.gov").exists()
    ok = await admin.post(
        "/staff/accounts/add", data={**data, "csrf_token": csrf_token((await admin.get("/staff/")).text)}
    )
    assert ok.status_code == 303


async def test_pages_carry_security_headers(signed_in: SignedInClient) -> None:
    viewer = await signed_in("v@lacounty.gov", "viewer")
    response = await viewer.get("/staff/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"


def test_htmx_is_the_npm_package_copy() -> None:
    """The served htmx is the one package.json names (scripts/vendor-htmx copies it)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    installed = root / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
    assert installed.exists(), "run npm install (scripts/test does)"
    assert (root / "templates" / "web" / "static" / "htmx.min.js").read_bytes() == installed.read_bytes()
