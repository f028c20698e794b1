"""The application to the pilot: start it, fill it in (saved as you go), submit it, see the result.

- `/apply`: anyone types their email address and gets a personal link (as the interest form
  confirms an address first, nothing is stored for an address until its owner opens that link).
- `/apply/{token}`: an application invitation's personal link (names a Delivery): the click is
  recorded, then the person lands on their application, prefilled from their interest-form
  profile. With APPLICATION_URL set, invitations lead there instead.
- `/application/{token}`: the applicant's own link (names an Application): the form while it is a
  draft or staff asked for more, the screening result and status once submitted.

Handlers stay thin: checks of the request (rate limit, body, CSRF, signed link) here; the rules
in `subscribers.applications`; the mail in `outreach.application_mail`.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.settings import Settings
from bot.web import csrf
from bot.web.forms import UnreadableForm, read_form
from bot.web.i18n import LANGUAGE_NAMES, page_language, texts
from bot.web.pages import (
    WebParts,
    _limit_wait,
    _too_many_page,
    _unreadable,
    page,
    problem_page,
    see_other,
)
from bot.web.templating import FieldMap, local_path
from outreach import application_mail
from outreach.models import Delivery
from subscribers import applications
from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.application_models import OPEN_STATUSES, Application
from subscribers.product_categories import options as category_options
from subscribers.tokens import InvalidToken, Purpose

log = logging.getLogger(__name__)

HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
MAX_APPLICATION_BYTES = 96 * 1024  # every answer at its longest, in accented Spanish, fits
REVENUE_BANDS = tuple(applications.REVENUE_BANDS)


def application_link(request: Request, application_id: int) -> str:
    """The applicant's personal link (what the emails carry)."""
    settings: Settings = request.app.state.settings
    token = request.app.state.runtime.signer.sign(Purpose.APPLICATION, application_id)
    return f"{settings.public_base_url}/application/{token}"


# Starting: /apply -----------------------------------------------------------------------------------


@page
async def start_page(request: Request) -> Response:
    lang = page_language(request)
    return _start_form(request, lang, {"language": lang})


@page
async def submit_start(request: Request) -> Response:
    web = WebParts.of(request)
    lang = page_language(request)
    wait = _limit_wait(request, web)
    try:
        form = await read_form(request)
    except UnreadableForm as exc:
        return (
            _too_many_page(request, lang, wait) if wait is not None else _unreadable(request, web, lang, exc)
        )
    values: dict[str, object] = {
        "email": str(form.get("email", "")).strip()[:254],
        "language": str(form.get("language", "")),
    }
    if wait is not None:
        return _start_form(request, lang, values, {"too_many": "err_too_many"}, status=429, seconds=wait)
    errors: dict[str, str] = {}
    if not web.csrf.is_valid(request, str(form.get(csrf.FIELD, ""))):
        errors["csrf"] = "err_csrf"
    email = ""
    if not values["email"]:
        errors["email"] = "err_email_missing"
    else:
        try:
            email = normalise_email(str(values["email"]))
        except InvalidEmail:
            errors["email"] = "err_email_format"
    if values["language"] not in LANGUAGE_NAMES:
        errors["language"] = "err_language_missing"
    if errors:
        return _start_form(request, lang, values, errors, status=400)
    language = str(values["language"])
    response = see_other(f"/apply/sent?lang={language}")
    web.readback.set(response, str(values["email"]), path="/apply/sent")
    if form.get("website"):
        log.info("application link dropped: honeypot filled")
        return response
    queued = await application_mail.send_application_link(
        email, language, lambda i: application_link(request, i), limits=web.signups.limits
    )
    if queued:
        web.runtime.sender.wake()
    log.info("application link: %s", "queued" if queued else "over the allowance")
    return response


def _start_form(
    request: Request,
    lang: str,
    values: dict[str, object],
    errors: dict[str, str] | None = None,
    *,
    status: int = 200,
    seconds: int | None = None,
) -> Response:
    web = WebParts.of(request)
    token, new_cookie = web.csrf.token_for(request)
    response = web.renderer.render(
        request,
        "apply_start.html",
        lang,
        {
            "values": FieldMap(values),
            "csrf_token": token,
            "language_options": list(LANGUAGE_NAMES.items()),
        },
        status=status,
        errors=errors,
        error_values={"seconds": seconds} if seconds is not None else None,
        headers={"Retry-After": str(seconds)} if seconds is not None else None,
    )
    if new_cookie:
        web.csrf.set_cookie(response, new_cookie)
    return response


@page
async def sent_page(request: Request) -> Response:
    web = WebParts.of(request)
    lang = page_language(request)
    return web.renderer.render(request, "apply_sent.html", lang, {"email": web.readback.get(request)})


# The invitation's personal link ------------------------------------------------------------------


@page
async def follow_invitation(request: Request) -> Response:
    web = WebParts.of(request)
    token = request.path_params["token"]
    try:
        if len(token) > 300:
            raise InvalidToken(expired=False)
        delivery_id = web.runtime.signer.unsign(Purpose.INVITATION, token)
    except InvalidToken as exc:
        return _bad_link(request, page_language(request), expired=exc.expired)
    await Delivery.filter(id=delivery_id, clicked_at__isnull=True).update(clicked_at=applications.utcnow())
    found = await Delivery.filter(id=delivery_id).values("language", "subscriber_id", "created_at")
    language = str(found[0]["language"]) if found else page_language(request)
    settings: Settings = request.app.state.settings
    if settings.application_url:  # DEO runs the application elsewhere
        return RedirectResponse(settings.application_url, status_code=303, headers=HEADERS)
    application = None
    if found and found[0]["subscriber_id"] is not None:
        application = await applications.application_for_invitation(
            found[0]["subscriber_id"], delivery_id, found[0]["created_at"]
        )
    if application is None:  # the person was erased since: they can still apply
        return see_other(f"/apply?lang={language}")
    signed = web.runtime.signer.sign(Purpose.APPLICATION, application.id)
    return see_other(f"/application/{signed}?lang={application.language}")


# The application itself ---------------------------------------------------------------------------


async def _linked(request: Request) -> Application | None:
    token = request.path_params.get("token", "")
    if not token or len(token) > 300:
        return None
    try:
        application_id = request.app.state.runtime.signer.unsign(Purpose.APPLICATION, token)
    except InvalidToken:
        return None
    return await Application.get_or_none(id=application_id)


@page
async def application_page(request: Request) -> Response:
    application = await _linked(request)
    lang = page_language(request, application.language if application else None)
    if application is None:
        return _bad_link(request, lang)
    await applications.mark_confirmed(application)
    if application.status not in OPEN_STATUSES:
        return _status_page(request, lang, application)
    saved = request.query_params.get("saved") == "1"
    return _application_form(request, lang, application, dict(application.answers), saved=saved)


@page
async def submit_application(request: Request) -> Response:
    web = WebParts.of(request)
    application = await _linked(request)
    lang = page_language(request, application.language if application else None)
    wait = _limit_wait(request, web)
    if wait is not None:
        return _too_many_page(request, lang, wait)
    try:
        form = await read_form(request, max_bytes=MAX_APPLICATION_BYTES)
    except UnreadableForm as exc:
        return _unreadable(request, web, lang, exc)
    if application is None:
        return _bad_link(request, lang)
    raw = {name: str(form.get(name, "")) for name in applications.QUESTIONS}
    if not web.csrf.is_valid(request, str(form.get(csrf.FIELD, ""))):
        # Nothing saved: the form comes back as typed, to send again.
        return _application_form(request, lang, application, raw, errors={"csrf": "err_csrf"}, status=400)
    here = local_path(request.scope["path"])
    link = application_link(request, application.id)
    if form.get("action") == "save":
        saved, checked = await applications.save_draft(application.id, raw)
        if saved is None:
            return _closed(request, lang)
        await application_mail.resend_link(saved, link, limits=web.signups.limits)
        web.runtime.sender.wake()
        if checked.errors:  # saved as typed all the same: the page says which answers to change
            return _application_form(
                request, lang, saved, checked.values, errors=checked.errors, status=400, saved=True
            )
        return see_other(f"{here}?lang={lang}&saved=1")
    submission = await application_mail.submit_application(application.id, raw, link)
    if submission.application is None:
        return _closed(request, lang)
    if submission.screening is None:
        errors = submission.checked.errors
        return _application_form(
            request,
            lang,
            submission.application,
            submission.checked.values,
            errors=errors,
            status=400,
            saved=True,
        )
    web.runtime.sender.wake()
    log.info("application %s submitted", application.id)
    return see_other(f"{here}?lang={lang}&submitted=1")


def _application_form(
    request: Request,
    lang: str,
    application: Application,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    saved: bool = False,
) -> Response:
    web = WebParts.of(request)
    t = texts(lang)
    token, new_cookie = web.csrf.token_for(request)
    response = web.renderer.render(
        request,
        "application.html",
        lang,
        {
            "values": FieldMap(values),
            "csrf_token": token,
            "action": f"{local_path(request.scope['path'])}?lang={lang}",
            "saved": saved,
            "staff_request": application.staff_request
            if application.status.value == "info_requested"
            else "",
            "yes_no_options": [("yes", t["yes"]), ("no", t["no"])],
            "revenue_options": [(band, t[f"app_revenue_{band}"]) for band in REVENUE_BANDS],
            "category_options": category_options(lang),
        },
        errors=errors,
        status=status,
        headers=HEADERS,
    )
    if new_cookie:
        web.csrf.set_cookie(response, new_cookie)
    return response


def _status_page(request: Request, lang: str, application: Application) -> Response:
    web = WebParts.of(request)
    context = {
        "status": application.status.value,
        "just_submitted": request.query_params.get("submitted") == "1",
        "verdict_words": applications.verdict_words(application.verdict, lang) if application.verdict else "",
        "screening_text": applications.screening_text(application.screening),
        "decline_reason": application.decline_reason,
    }
    return web.renderer.render(request, "application_status.html", lang, context, headers=HEADERS)


def _closed(request: Request, lang: str) -> Response:
    t = texts(lang)
    return problem_page(request, lang, "app_closed_title", [t["app_closed_text"]], status=409)


def _bad_link(request: Request, lang: str, *, expired: bool = False) -> Response:
    t = texts(lang)
    settings: Settings = request.app.state.settings
    start = f"{settings.public_base_url}/apply" + ("?lang=es" if lang == "es" else "")
    key = "app_expired" if expired else "app_bad_link"
    return problem_page(request, lang, f"{key}_title", [t[f"{key}_text"].format(apply=start)], status=400)


def routes() -> list[BaseRoute]:
    from bot.web import _by_method

    return [
        Route("/apply", _by_method(start_page, submit_start), methods=["GET", "POST"]),
        Route("/apply/sent", sent_page, methods=["GET"]),
        Route("/apply/{token}", follow_invitation, methods=["GET"]),
        Route(
            "/application/{token}",
            _by_method(application_page, submit_application),
            methods=["GET", "POST"],
        ),
    ]
