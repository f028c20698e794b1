"""Who may open what: the one place every /staff/ route is checked.

Every console route is made with `staff_route(path, endpoint, role=...)`, which names the least
role that may use it. Before the endpoint runs, the wrapper made here checks, in this order:

1. a live session (else GET goes to the sign-in page, anything else gets 401 with a page);
2. the account's current role against the route's (else 403 with a page: the role is read from
   the database on every request, so a changed role counts at once);
3. for a POST, the form and its CSRF token (else 400 or 403 with a page), and the endpoint reads
   the already-checked form from `request.state.form`;

then anything unexpected in the endpoint becomes a 500 page, never a traceback. The sign-in pages
themselves are the only routes without a session, made with `public_staff_route` (CSRF is still
checked on their POSTs). tests/console/test_access.py walks the app's route table and fails for
any /staff/ route made another way.

Adding a page (for other teams): write `async def my_page(request) -> Response`, add
`staff_route("/staff/my-thing", my_page, role=StaffRole.VIEWER)` to your module's `routes()`, list
the module in `bot.console.PAGE_MODULES`, render with `render(request, "my_thing.html", {...})`
and extend `layout.html` in the template.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.console.parts import ConsoleParts
from bot.web.csrf import FIELD as CSRF_FIELD
from bot.web.forms import UnreadableForm, read_form
from subscribers.staff_models import StaffMember, StaffRole
from subscribers.staff_sessions import SignedIn

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]

ROLE_MARK = "staff_role"  # the attribute a checked endpoint carries: its role, or "public"
PUBLIC = "public"
MAX_FORM_BYTES = 512 * 1024  # a campaign's text in two languages fits many times over
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # subscribers.importing.MAX_FILE_BYTES


def staff_route(
    path: str,
    endpoint: Handler,
    *,
    role: StaffRole,
    methods: Sequence[str] = ("GET",),
    name: str | None = None,
) -> Route:
    """A console route that needs a session with at least `role`."""
    if not path.startswith("/staff"):
        raise ValueError(f"console routes live under /staff/, not {path}")
    return Route(path, _guarded(endpoint, role), methods=list(methods), name=name or endpoint.__name__)


def public_staff_route(path: str, endpoint: Handler, *, methods: Sequence[str] = ("GET",)) -> Route:
    """A sign-in page: no session needed (CSRF is still checked on POST)."""
    return Route(path, _public(endpoint), methods=list(methods), name=endpoint.__name__)


def _guarded(endpoint: Handler, role: StaffRole) -> Handler:
    @functools.wraps(endpoint)
    async def checked(request: Request) -> Response:
        parts = ConsoleParts.of(request)
        signed_in = await parts.signed_in(request)
        if signed_in is None:
            return _signed_out(request, parts)
        _remember(request, parts, signed_in)
        if not signed_in.staff.role.includes(role):
            log.info("console: %s refused to staff %s (needs %s)", request.url.path, signed_in.staff.id, role)
            return forbidden(request, role)
        if request.method == "POST":
            refused = await _check_form(request, parts)
            if refused is not None:
                return refused
        return await _run(endpoint, request)

    setattr(checked, ROLE_MARK, role)
    return checked


def _public(endpoint: Handler) -> Handler:
    @functools.wraps(endpoint)
    async def checked(request: Request) -> Response:
        parts = ConsoleParts.of(request)
        request.state.staff_page = _page_values(request, parts, None)
        if request.method == "POST":
            refused = await _check_form(request, parts)
            if refused is not None:
                return refused
        return await _run(endpoint, request)

    setattr(checked, ROLE_MARK, PUBLIC)
    return checked


async def _run(endpoint: Handler, request: Request) -> Response:
    try:
        return await endpoint(request)
    except Exception:
        log.exception("console page %s failed", endpoint.__name__)
        return problem(request, "Something went wrong", ["The page could not be shown. Try again."], 500)


def _remember(request: Request, parts: ConsoleParts, signed_in: SignedIn) -> None:
    request.state.staff = signed_in.staff
    request.state.staff_session = signed_in.session
    request.state.staff_page = _page_values(request, parts, signed_in.staff)


def _page_values(request: Request, parts: ConsoleParts, staff: StaffMember | None) -> dict[str, Any]:
    """What the layout shows on every page: who is signed in, the menu, the CSRF token."""
    from bot.console import navigation

    token, new_cookie = parts.csrf.token_for(request)
    request.state.new_csrf_cookie = new_cookie
    return {
        "staff": staff,
        "csrf_token": token,
        "nav": navigation(staff.role) if staff is not None else [],
        "can": (lambda role: staff is not None and staff.role.includes(StaffRole(role))),
        "notice": notice_of(request, parts),
    }


def current_staff(request: Request) -> StaffMember:
    """The signed-in account (set by the route's check before any endpoint runs)."""
    staff: StaffMember = request.state.staff
    return staff


def form_of(request: Request) -> FormData:
    """The POSTed form, already read and CSRF-checked by the route's check."""
    form: FormData = request.state.form
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


async def _check_form(request: Request, parts: ConsoleParts) -> Response | None:
    try:
        form = await _read(request)
    except UnreadableForm as exc:
        if exc.too_big:
            return problem(request, "That is too much to send", ["The form or file is too large."], 413)
        return problem(request, "The form could not be read", ["Go back and send the form again."], 400)
    if not parts.csrf.is_valid(request, field(form, CSRF_FIELD)):
        return problem(
            request,
            "Your form expired",
            [
                "Nothing was changed. Go back, reload the page and send the form again.",
                "If this keeps happening, allow cookies for this site.",
            ],
            403,
        )
    request.state.form = form
    return None


async def _read(request: Request) -> FormData:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + 64 * 1024:
            raise UnreadableForm(too_big=True)
        try:
            return await request.form(max_files=1, max_fields=50, max_part_size=MAX_FORM_BYTES)
        except Exception:  # python-multipart and Starlette raise several kinds for a bad body
            raise UnreadableForm() from None
    return await read_form(request, max_bytes=MAX_FORM_BYTES)


def _signed_out(request: Request, parts: ConsoleParts) -> Response:
    request.state.staff_page = _page_values(request, parts, None)
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/staff/sign-in?next={quote(target, safe='')}", status_code=303)
    return problem(
        request,
        "Please sign in",
        ["You are not signed in, or your session ended. Nothing was changed."],
        401,
        link=("Sign in", "/staff/sign-in"),
    )


def forbidden(request: Request, role: StaffRole) -> Response:
    return problem(
        request,
        "You can't do this",
        [
            f"This needs the {role.value} role or higher. Your account has the "
            f"{current_staff(request).role.value} role.",
            "An admin can change your role if you need this.",
        ],
        403,
        link=("Back to the staff console", "/staff/"),
    )


def problem(
    request: Request,
    title: str,
    paragraphs: list[str],
    status: int,
    *,
    link: tuple[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return render(
        request,
        "problem.html",
        {"title": title, "paragraphs": paragraphs, "link": link},
        status=status,
        headers=headers,
    )


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render a console page (the layout's values are filled in by the route's check)."""
    parts = ConsoleParts.of(request)
    if not hasattr(request.state, "staff_page"):
        request.state.staff_page = _page_values(request, parts, getattr(request.state, "staff", None))
    response = parts.renderer.render(
        request, template, context, status=status, errors=errors, headers=headers
    )
    new_cookie = getattr(request.state, "new_csrf_cookie", None)
    if new_cookie:
        parts.csrf.set_cookie(response, new_cookie)
    return response


def redirect(request: Request, path: str, *, notice: str = "") -> RedirectResponse:
    """After a POST, back to a page (303), optionally with a one-line notice for it to show. The
    notice is signed, so a link from elsewhere can't make our pages say something we didn't."""
    if notice:
        signed = ConsoleParts.of(request).notices.dumps(notice[:300])
        path += ("&" if "?" in path else "?") + "notice=" + quote(str(signed), safe="")
    return RedirectResponse(path, status_code=303)


def notice_of(request: Request, parts: ConsoleParts) -> str:
    raw = request.query_params.get("notice", "")
    if not raw or len(raw) > 1000:
        return ""
    try:
        value = parts.notices.loads(raw, max_age=600)
    except BadSignature:
        return ""
    return value if isinstance(value, str) else ""


def local_path(value: str, default: str = "/staff/") -> str:
    """A `next` address we may send a browser to after sign-in: a console path, nothing else."""
    if value.startswith("/staff") and not value.startswith("//") and "\\" not in value and "\n" not in value:
        return value
    return default
