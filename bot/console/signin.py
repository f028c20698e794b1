"""Signing in and out: the emailed link, single sign-on, and sign-out.

The sign-in form answers the same whether or not the address is a staff account, so it tells
nobody who is staff. Requests are limited per address and per client.
"""

from __future__ import annotations

import logging
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from bot.console.access import (
    Handler,
    field,
    form_of,
    local_path,
    problem,
    public_staff_route,
    render,
    staff_route,
)
from bot.console.parts import BROWSER_COOKIE, ConsoleParts
from bot.console.sso import STATE_COOKIE, STATE_MAX_AGE_SECONDS, SsoError
from bot.web.ratelimit import client_address
from outreach.staff_mail import send_sign_in_link
from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.staff import find_active
from subscribers.staff_models import StaffRole
from subscribers.staff_sessions import LinkProblem, SignInRefused, end_session, start_session

log = logging.getLogger(__name__)

LINK_PROBLEMS = {
    LinkProblem.INVALID: "This sign-in link does not work. It may have been copied only in part.",
    LinkProblem.EXPIRED: "This sign-in link has expired: links work for 15 minutes.",
    LinkProblem.USED: "This sign-in link has been used already: each link works once.",
    LinkProblem.OTHER_BROWSER: (
        "This sign-in link was asked for in another browser. Open it in the browser where you asked "
        "for it, or ask for a new link here."
    ),
    LinkProblem.NO_ACCOUNT: "This staff account no longer exists.",
}


async def sign_in_page(request: Request) -> Response:
    parts = ConsoleParts.of(request)
    if await parts.signed_in(request) is not None:
        return RedirectResponse(local_path(request.query_params.get("next", "")), status_code=303)
    return _form(request, parts, {"email": ""})


def _form(
    request: Request,
    parts: ConsoleParts,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    *,
    status: int = 200,
) -> Response:
    return render(
        request,
        "sign_in.html",
        {
            "values": values,
            "sso": parts.sso is not None,
            "next": local_path(request.query_params.get("next", "")),
        },
        errors=errors,
        status=status,
    )


async def request_link(request: Request) -> Response:
    parts = ConsoleParts.of(request)
    form = form_of(request)
    raw = field(form, "email").strip()
    try:
        email = normalise_email(raw)
    except InvalidEmail as exc:
        return _form(request, parts, {"email": raw}, {"email": str(exc)}, status=400)
    client = client_address(request, parts.settings.trusted_proxy_hops)
    wait = parts.per_client.hit(client) or parts.per_address.hit(email)
    if wait is not None:
        log.warning("staff sign-in rate limit reached; retry in %ss", wait)
        return _form(
            request,
            parts,
            {"email": raw},
            {"email": f"Too many sign-in requests. Wait {wait} seconds, then ask again."},
            status=429,
        )
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if len(browser) != 43:
        browser = secrets.token_urlsafe(32)
    sent = await send_sign_in_link(email, browser, links=parts.links, base_url=parts.settings.public_base_url)
    if sent:
        parts.runtime.sender.wake()
    response = render(request, "sign_in_sent.html", {"email": email})
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        max_age=3600,
        httponly=True,
        secure=parts.secure,
        samesite="lax",
        path="/staff",
    )
    return response


async def follow_link(request: Request) -> Response:
    parts = ConsoleParts.of(request)
    token = request.path_params.get("token", "")
    browser = request.cookies.get(BROWSER_COOKIE, "")
    try:
        staff = await parts.links.redeem(token, browser)
    except SignInRefused as refused:
        return problem(
            request,
            "This link does not work",
            [LINK_PROBLEMS[refused.problem]],
            400,
            link=("Ask for a new sign-in link", "/staff/sign-in"),
        )
    return await _signed_in(request, parts, staff.id, method="link")


async def _signed_in(request: Request, parts: ConsoleParts, staff_id: int, *, method: str) -> Response:
    from subscribers.staff_models import StaffMember

    staff = await StaffMember.get(id=staff_id)
    old = request.cookies.get(parts.session_cookie, "")
    key = await start_session(staff, method=method, replaces=old)
    log.info("staff %s signed in by %s", staff.id, method)
    response = RedirectResponse("/staff/", status_code=303)
    parts.set_session_cookie(response, key)
    response.delete_cookie(BROWSER_COOKIE, path="/staff")
    return response


async def sign_out(request: Request) -> Response:
    parts = ConsoleParts.of(request)
    await end_session(request.cookies.get(parts.session_cookie, ""))
    response = render(request, "signed_out.html", {})
    parts.clear_session_cookie(response)
    return response


async def sso_start(request: Request) -> Response:
    parts = ConsoleParts.of(request)
    if parts.sso is None:
        return problem(
            request,
            "Single sign-on is not set up",
            ["Sign in by email instead."],
            404,
            link=("Sign in by email", "/staff/sign-in"),
        )
    try:
        url, cookie = await parts.sso.begin()
    except SsoError as exc:
        return problem(
            request,
            "Single sign-on did not work",
            [str(exc)],
            502,
            link=("Sign in by email", "/staff/sign-in"),
        )
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        STATE_COOKIE,
        cookie,
        max_age=STATE_MAX_AGE_SECONDS,
        httponly=True,
        secure=parts.secure,
        samesite="lax",
        path="/staff/sso",
    )
    return response


async def sso_callback(request: Request) -> Response:
    parts = ConsoleParts.of(request)
    if parts.sso is None:
        return problem(request, "Single sign-on is not set up", ["Sign in by email instead."], 404)
    query = {key: value for key, value in request.query_params.items() if len(value) < 4000}
    try:
        identity = await parts.sso.finish(query, request.cookies.get(STATE_COOKIE, ""))
    except SsoError as exc:
        response = problem(
            request,
            "Single sign-on did not work",
            [str(exc)],
            400,
            link=("Back to sign-in", "/staff/sign-in"),
        )
        response.delete_cookie(STATE_COOKIE, path="/staff/sso")
        return response
    staff = await find_active(identity.email)
    if staff is None:
        log.info("single sign-on: a verified identity that is not a staff account was refused")
        return problem(
            request,
            "No staff account for you",
            [
                "You signed in to the County, but your address is not a staff account of this console.",
                "Ask an admin to add you.",
            ],
            403,
            link=("Back to sign-in", "/staff/sign-in"),
        )
    response = await _signed_in(request, parts, staff.id, method="sso")
    response.delete_cookie(STATE_COOKIE, path="/staff/sso")
    return response


def routes() -> list[BaseRoute]:
    return [
        public_staff_route("/staff/sign-in", _by_method(sign_in_page, request_link), methods=["GET", "POST"]),
        public_staff_route("/staff/sign-in/{token}", follow_link),
        public_staff_route("/staff/sso/start", sso_start),
        public_staff_route("/staff/sso/callback", sso_callback),
        staff_route("/staff/sign-out", sign_out, role=StaffRole.VIEWER, methods=["POST"]),
    ]


def _by_method(get: Handler, post: Handler) -> Handler:
    """One route for a page and its form (see `bot.web._by_method`)."""

    async def endpoint(request: Request) -> Response:
        return await (post if request.method == "POST" else get)(request)

    endpoint.__name__ = get.__name__
    return endpoint
