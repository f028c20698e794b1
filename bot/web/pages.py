"""The public pages: landing and interest form, confirmation, preferences, unsubscribe, privacy.

Handlers stay thin: they check the request (rate limit, body, CSRF, signed link), call
`subscribers.signup`, and render a page. Whatever happened to an address, the pages say the same
thing, so nobody can use them to learn who is on the list.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response

from bot.runtime import Runtime
from bot.web import csrf
from bot.web.forms import UnreadableForm, parse_preferences, parse_signup, read_form
from bot.web.i18n import LANGUAGE_NAMES, LANGUAGES, duration, page_language, texts
from bot.web.ratelimit import RateLimiter, client_address
from bot.web.readback import ReadBack
from bot.web.templating import SECURITY_HEADERS, FieldMap, PageRenderer, local_path
from outreach.address_change import confirm_address_change, request_address_change
from outreach.signup import SignupBatcher
from outreach.timeline import Timeline, pilot_today, template_values
from subscribers.confirmation_limits import ConfirmationLimits
from subscribers.email_change import ChangeOutcome
from subscribers.email_change_models import EmailChange
from subscribers.models import BusinessProfile, Role, Status, Subscriber, Topic
from subscribers.signup import CONSENT_WORDING, ConfirmOutcome, confirm, unsubscribe, update_preferences
from subscribers.tokens import InvalidToken, Purpose

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class WebParts:
    """What the pages need, built once per running app from its Runtime."""

    runtime: Runtime
    renderer: PageRenderer
    csrf: csrf.CsrfGuard
    limiter: RateLimiter
    signups: SignupBatcher
    readback: ReadBack

    @classmethod
    def of(cls, request: Request) -> WebParts:
        runtime: Runtime = request.app.state.runtime
        parts = runtime.extras.get("web")
        if parts is None:
            settings = runtime.settings
            secure_cookies = settings.public_base_url.startswith("https://")
            parts = runtime.extras["web"] = cls(
                runtime=runtime,
                renderer=PageRenderer(
                    postal_addresses={lang: settings.postal_address_for(lang) for lang in LANGUAGES}
                ),
                csrf=csrf.CsrfGuard(settings.secret(), secure_cookie=secure_cookies),
                limiter=RateLimiter(settings.form_rate_limit_per_minute),
                signups=SignupBatcher(
                    confirm_link_hours=int(settings.confirm_token_max_age_hours),
                    limits=ConfirmationLimits(
                        per_mailbox_per_day=settings.confirmations_per_mailbox_per_day,
                        per_domain_per_hour=settings.confirmations_per_domain_per_hour,
                    ),
                ),
                readback=ReadBack(settings.secret(), secure_cookie=secure_cookies),
            )
        return parts  # type: ignore[return-value]

    def link_lifetime(self, lang: str) -> str:
        """How long a confirmation link works, in words (the email says the same)."""
        return duration(lang, self.runtime.settings.confirm_token_max_age_hours)


def page(handler: Handler) -> Handler:
    """Turn anything unexpected into a friendly 500 page in the visitor's language (and a log line)."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ClientDisconnect:
            # The client hung up before sending the whole form: nothing was saved and nobody is
            # left to answer. Worth a line (a flaky network shows up), never a traceback.
            log.info("page %s: the client disconnected before sending the whole form", handler.__name__)
            return Response(status_code=400)
        except Exception:
            log.exception("page %s failed", handler.__name__)  # not the path: it may hold a token
            return server_error_page(request)

    return wrapped


# Landing page and form ----------------------------------------------------------------------------


@page
async def landing(request: Request) -> Response:
    lang = page_language(request)
    return _form_page(request, lang, {"language": lang, "topics": []})


@page
async def submit_signup(request: Request) -> Response:
    web = WebParts.of(request)
    lang = page_language(request)
    wait = _limit_wait(request, web)
    try:
        form = await read_form(request)
    except UnreadableForm as exc:
        if wait is not None:
            return _too_many_page(request, lang, wait)
        return _unreadable(request, web, lang, exc)
    checked = parse_signup(form)
    if wait is not None:
        # Refused, but what the person typed is kept: the form comes back filled in, to send later.
        return _form_page(
            request,
            lang,
            checked.values,
            {"too_many": "err_too_many"},
            status=429,
            error_values={"seconds": wait},
            headers={"Retry-After": str(wait)},
        )
    if not web.csrf.is_valid(request, str(form.get(csrf.FIELD, ""))):
        return _form_page(request, lang, checked.values, {"csrf": "err_csrf", **checked.errors}, status=400)
    if form.get("website"):
        # The honeypot: only a bot fills a field people can't see. It gets the page a person would.
        log.info("sign-up dropped: honeypot filled")
        return _to_check_email(web, lang, checked.values.get("email", ""))
    if checked.request is None:
        return _form_page(request, lang, checked.values, checked.errors, status=400)
    result = await web.signups.sign_up(checked.request)
    if result.queued_mail:
        web.runtime.sender.wake()
    log.info("sign-up: %s (subscriber %s)", result.outcome.value, result.subscriber_id)
    return _to_check_email(web, lang, checked.values.get("email", ""))


def _form_page(
    request: Request,
    lang: str,
    values: dict[str, object],
    errors: dict[str, str] | None = None,
    *,
    status: int = 200,
    error_values: dict[str, object] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    web = WebParts.of(request)
    t = texts(lang)
    token, new_cookie = web.csrf.token_for(request)
    response = web.renderer.render(
        request,
        "index.html",
        lang,
        {
            "values": FieldMap(values),
            "csrf_token": token,
            "role_options": [(role.value, t[f"role_{role.value}"]) for role in Role],
            "topic_options": _topic_options(lang),
            "language_options": list(LANGUAGE_NAMES.items()),
            "yes_no_options": [("yes", t["yes"]), ("no", t["no"])],
            "consent_wording": CONSENT_WORDING[lang],
            # What the page says about the pilot follows its calendar (`outreach.timeline`).
            "pilot": template_values(Timeline(pilot_today(), web.runtime.settings.pilot_start_date), lang),
        },
        status=status,
        errors=errors,
        error_values=error_values,
        headers=headers,
    )
    if new_cookie:
        web.csrf.set_cookie(response, new_cookie)
    return response


def _topic_options(lang: str) -> list[tuple[str, str]]:
    t = texts(lang)
    return [(topic.value, t[f"topic_{topic.value}"]) for topic in Topic]


def _to_check_email(web: WebParts, lang: str, email: object) -> Response:
    """Whatever became of the address: the same redirect, the typed address carried to be read back."""
    response = see_other(f"/check-email?lang={lang}")
    web.readback.set(response, str(email), path="/check-email")
    return response


@page
async def check_email(request: Request) -> Response:
    """After a sign-up: where to look next. Reloading it is harmless (it only reads a cookie)."""
    web = WebParts.of(request)
    lang = page_language(request)
    context = {"email": web.readback.get(request), "link_lifetime": web.link_lifetime(lang)}
    return web.renderer.render(request, "check_email.html", lang, context)


def see_other(location: str) -> Response:
    """The answer to a form that worked (Post/Redirect/Get): a reload repeats the GET, not the POST.
    `location` is a path on this site (built by us, or through `local_path`)."""
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


# Confirmation (double opt-in) -----------------------------------------------------------------------
#
# The emailed link opens a page with a button; only the button's POST confirms. Mail security
# scanners (Outlook Safe Links, corporate gateways) fetch every link in an email, so confirming on
# GET would let a scanner confirm a sign-up that someone else typed for this address, which is
# exactly what double opt-in is meant to prevent. One extra tap is the price.


@page
async def confirm_page(request: Request) -> Response:
    web, _subscriber_id, person, lang = await _linked_person(request, Purpose.CONFIRM)
    if person is None or person.status not in (Status.PENDING, Status.ACTIVE):
        return _bad_link(request, web, lang)
    if person.status == Status.ACTIVE:
        return _confirmed_page(request, web, lang, person.id)
    return _confirm_form(request, web, lang)


@page
async def submit_confirm(request: Request) -> Response:
    web, subscriber_id, person, lang = await _linked_person(request, Purpose.CONFIRM)
    if (refused := _over_limit(request, web, lang)) is not None:
        return refused
    try:
        form = await read_form(request)
    except UnreadableForm as exc:
        return _unreadable(request, web, lang, exc)
    if subscriber_id is None or person is None:
        return _bad_link(request, web, lang)
    if not web.csrf.is_valid(request, str(form.get(csrf.FIELD, ""))):
        return _confirm_form(request, web, lang, errors={"csrf": "err_csrf"}, status=400)
    outcome = await confirm(subscriber_id)
    log.info("confirmation: %s (subscriber %s)", outcome.value, subscriber_id)
    if outcome == ConfirmOutcome.GONE:
        return _bad_link(request, web, lang)
    # The link's own page now says "confirmed".
    return see_other(f"{local_path(request.scope['path'])}?lang={lang}")


def _confirm_form(
    request: Request, web: WebParts, lang: str, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    token, new_cookie = web.csrf.token_for(request)
    response = web.renderer.render(
        request, "confirm.html", lang, {"csrf_token": token}, errors=errors, status=status
    )
    if new_cookie:
        web.csrf.set_cookie(response, new_cookie)
    return response


def _confirmed_page(request: Request, web: WebParts, lang: str, subscriber_id: int) -> Response:
    manage = web.runtime.signer.sign(Purpose.MANAGE, subscriber_id)
    return web.renderer.render(
        request, "confirmed.html", lang, {"preferences_url": f"/preferences/{manage}?lang={lang}"}
    )


# Preferences ----------------------------------------------------------------------------------------
#
# Everyone changes their name, organization, topics and language; a manufacturer also corrects the
# business details County buyers search; an active person can move their emails to a new address,
# which only becomes theirs from the link we send to it (`outreach.address_change`).


@page
async def preferences_page(request: Request) -> Response:
    web, _subscriber_id, person, lang = await _linked_person(request, Purpose.MANAGE)
    if person is None:
        return _bad_link(request, web, lang, manage=True)
    values: dict[str, object] = {
        "name": person.name,
        "organization": person.organization,
        "topics": person.topics,
        "language": person.language.value,
    }
    if _shows_business(person):
        profile = await BusinessProfile.get_or_none(subscriber_id=person.id)
        for name in ("principal_zip", "production_zip", "products"):
            values[name] = getattr(profile, name) if profile else ""
    saved = request.query_params.get("saved", "")
    notices: dict[str, object] = {
        "saved": saved in ("1", "email"),
        "email_sent": saved == "email",
        "email_sent_to": web.readback.get(request) if saved == "email" else None,
        "email_changed": request.query_params.get("changed") == "1",
    }
    return _preferences_form(request, web, lang, person, values, notices=notices)


@page
async def submit_preferences(request: Request) -> Response:
    web = WebParts.of(request)
    subscriber_id = _unsign(web, Purpose.MANAGE, request)
    lang = page_language(request)
    if (refused := _over_limit(request, web, lang)) is not None:
        return refused
    try:
        form = await read_form(request)
    except UnreadableForm as exc:
        return _unreadable(request, web, lang, exc)
    person = await _subscriber(subscriber_id)
    if person is None:
        return _bad_link(request, web, lang, manage=True)
    checked = parse_preferences(form, business=_shows_business(person), email=_can_move(person))
    errors = dict(checked.errors)
    if not web.csrf.is_valid(request, str(form.get(csrf.FIELD, ""))):
        errors = {"csrf": "err_csrf", **errors}
    if person.status not in (Status.PENDING, Status.ACTIVE):
        return _preferences_form(request, web, lang, person, checked.values)  # says: not signed up
    if errors:
        return _preferences_form(request, web, lang, person, checked.values, errors=errors, status=400)
    updated = await update_preferences(
        person.id,
        topics=checked.topics,
        language=checked.language,
        name=checked.name,
        organization=checked.organization,
        profile=checked.profile if _shows_business(person) else None,
    )
    if updated is None:
        return _bad_link(request, web, lang, manage=True)
    # In the language just chosen: saving English from the Spanish page leads to English.
    location = f"{local_path(request.scope['path'])}?lang={updated.language.value}&saved="
    if not checked.new_email or checked.new_email == updated.email:
        return see_other(location + "1")
    # Whatever becomes of the new address (free, someone else's, one we must not mail), the page
    # says the same: a link is on its way to the address typed.
    queued = await request_address_change(
        updated.id,
        checked.new_email,
        link_hours=int(web.runtime.settings.confirm_token_max_age_hours),
        limits=web.signups.limits,
    )
    if queued:
        web.runtime.sender.wake()
    log.info("email change asked for: subscriber %s (%s)", updated.id, "link sent" if queued else "no link")
    response = see_other(location + "email")
    web.readback.set(response, str(checked.values.get("new_email", "")), path="/preferences")
    return response


def _shows_business(person: Subscriber) -> bool:
    return person.role == Role.MANUFACTURER


def _can_move(person: Subscriber) -> bool:
    """Only a confirmed address can be moved: a pending person signs up again with the right one."""
    return person.status == Status.ACTIVE


def _preferences_form(
    request: Request,
    web: WebParts,
    lang: str,
    person: Subscriber,
    values: dict[str, object],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notices: dict[str, object] | None = None,
) -> Response:
    token, new_cookie = web.csrf.token_for(request)
    manage = request.path_params["token"]
    response = web.renderer.render(
        request,
        "preferences.html",
        lang,
        {
            "values": FieldMap(values),
            "csrf_token": token,
            "notices": FieldMap(notices or {}),
            "pending": person.status == Status.PENDING,
            "inactive": person.status not in (Status.PENDING, Status.ACTIVE),
            "business": _shows_business(person),
            "current_email": person.email if _can_move(person) else None,
            "topic_options": _topic_options(lang),
            "language_options": list(LANGUAGE_NAMES.items()),
            "unsubscribe_url": f"{local_path('/unsubscribe/' + manage)}?lang={lang}",
            "link_lifetime": web.link_lifetime(lang),
        },
        errors=errors,
        status=status,
    )
    if new_cookie:
        web.csrf.set_cookie(response, new_cookie)
    return response


# A new email address, confirmed at that address ----------------------------------------------------
#
# Like the sign-up's confirmation, the emailed link opens a page with a button; only the POST moves
# the address (mail scanners open every link).


@page
async def email_change_page(request: Request) -> Response:
    web = WebParts.of(request)
    change = await _linked_change(request, web)
    lang = page_language(request, change.subscriber.language.value if change else None)
    if change is None:
        return _bad_email_link(request, web, lang)
    return _email_change_form(request, web, lang, change.new_email)


@page
async def submit_email_change(request: Request) -> Response:
    web = WebParts.of(request)
    change_id = _unsign(web, Purpose.EMAIL_CHANGE, request)
    lang = page_language(request)
    if (refused := _over_limit(request, web, lang)) is not None:
        return refused
    try:
        form = await read_form(request)
    except UnreadableForm as exc:
        return _unreadable(request, web, lang, exc)
    change = await _linked_change(request, web)
    if change_id is None or change is None:
        return _bad_email_link(request, web, lang)
    if not web.csrf.is_valid(request, str(form.get(csrf.FIELD, ""))):
        return _email_change_form(
            request, web, lang, change.new_email, errors={"csrf": "err_csrf"}, status=400
        )
    outcome = await confirm_address_change(
        change_id, link_hours=web.runtime.settings.confirm_token_max_age_hours
    )
    log.info("email change: %s (subscriber %s)", outcome.value, change.subscriber.id)
    if outcome == ChangeOutcome.TAKEN:
        # Whoever follows the link reads that inbox: telling them it is on our list reveals nothing.
        t = texts(lang)
        return problem_page(request, lang, "email_taken_title", [t["email_taken_text"]], status=409)
    if outcome != ChangeOutcome.CHANGED:
        return _bad_email_link(request, web, lang)
    web.runtime.sender.wake()
    manage = web.runtime.signer.sign(Purpose.MANAGE, change.subscriber.id)
    return see_other(f"/preferences/{manage}?lang={lang}&changed=1")


def _bad_email_link(request: Request, web: WebParts, lang: str) -> Response:
    """A link to confirm a new address that is damaged, too old, used, or replaced by a newer one."""
    t = texts(lang)
    text = t["bad_email_link_text"].format(duration=web.link_lifetime(lang))
    return problem_page(request, lang, "bad_link_title", [text], status=400)


async def _linked_change(request: Request, web: WebParts) -> EmailChange | None:
    change_id = _unsign(web, Purpose.EMAIL_CHANGE, request)
    if change_id is None:
        return None
    return await EmailChange.get_or_none(id=change_id).prefetch_related("subscriber")


def _email_change_form(
    request: Request,
    web: WebParts,
    lang: str,
    new_email: str,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    token, new_cookie = web.csrf.token_for(request)
    response = web.renderer.render(
        request,
        "email_change.html",
        lang,
        {"csrf_token": token, "new_email": new_email},
        errors=errors,
        status=status,
    )
    if new_cookie:
        web.csrf.set_cookie(response, new_cookie)
    return response


# Unsubscribe ----------------------------------------------------------------------------------------


@page
async def unsubscribe_page(request: Request) -> Response:
    """The emailed link: a page with a button (GET never unsubscribes: link scanners fetch GETs)."""
    web, subscriber_id, _person, lang = await _linked_person(request, Purpose.MANAGE)
    if subscriber_id is None:
        return _bad_link(request, web, lang, manage=True)
    manage = request.path_params["token"]
    return web.renderer.render(
        request, "unsubscribe.html", lang, {"preferences_url": f"/preferences/{manage}?lang={lang}"}
    )


@page
async def submit_unsubscribe(request: Request) -> Response:
    """RFC 8058 one-click unsubscribe, and our own page's button: the same POST.

    A mail provider posts `List-Unsubscribe=One-Click` with no cookies, so there is no CSRF check
    and no rate limit here; the signed link is the proof. The answer is a plain 200 page, never a
    redirect, and posting twice is harmless. The body is not even read: its content changes nothing.
    """
    web = WebParts.of(request)
    subscriber_id = _unsign(web, Purpose.MANAGE, request)
    lang = page_language(request)
    if subscriber_id is None:
        return _bad_link(request, web, lang, manage=True)
    known = await unsubscribe(subscriber_id)
    log.info("unsubscribe: subscriber %s (%s)", subscriber_id, "done" if known else "unknown")
    return web.renderer.render(request, "unsubscribed.html", lang)


# Other pages ----------------------------------------------------------------------------------------


@page
async def privacy(request: Request) -> Response:
    web = WebParts.of(request)
    return web.renderer.render(request, "privacy.html", page_language(request))


def problem_page(
    request: Request, lang: str, title_key: str, paragraphs: list[str], *, status: int, **headers: str
) -> Response:
    web = WebParts.of(request)
    t = texts(lang)
    return web.renderer.render(
        request,
        "problem.html",
        lang,
        {"title": t[title_key], "paragraphs": paragraphs, "link_text": None},
        status=status,
        headers=headers,
    )


def server_error_page(request: Request) -> Response:
    lang = page_language(request)
    t = texts(lang)
    return problem_page(request, lang, "server_error_title", [t["server_error_text"]], status=500)


def not_found_page(request: Request) -> Response:
    lang = page_language(request)
    t = texts(lang)
    return problem_page(request, lang, "not_found_title", [t["not_found_text"]], status=404)


def method_not_allowed_page(request: Request, allowed: list[str]) -> Response:
    """A form or link used with a method it doesn't take (a script, an odd client): 405, with the
    Allow header naming what the address does take (RFC 9110 section 15.5.6)."""
    lang = page_language(request)
    t = texts(lang)
    return problem_page(
        request,
        lang,
        "method_not_allowed_title",
        [t["method_not_allowed_text"]],
        status=405,
        Allow=", ".join(allowed),
    )


# Shared checks --------------------------------------------------------------------------------------


def _over_limit(request: Request, web: WebParts, lang: str) -> Response | None:
    wait = _limit_wait(request, web)
    return None if wait is None else _too_many_page(request, lang, wait)


def _limit_wait(request: Request, web: WebParts) -> int | None:
    """Count this POST against its client's limit: None if allowed, else seconds until it is."""
    client = client_address(request, web.runtime.settings.trusted_proxy_hops)
    wait = web.limiter.hit(client)
    if wait is not None:
        log.warning("form rate limit reached by a client; retry in %ss", wait)
    return wait


def _too_many_page(request: Request, lang: str, wait: int) -> Response:
    t = texts(lang)
    return problem_page(
        request,
        lang,
        "too_many_title",
        [t["too_many_text"].format(seconds=wait)],
        status=429,
        **{"Retry-After": str(wait)},
    )


def _unreadable(request: Request, web: WebParts, lang: str, exc: UnreadableForm) -> Response:
    t = texts(lang)
    if exc.too_big:
        return problem_page(request, lang, "too_big_title", [t["too_big_text"]], status=413)
    status = 415 if exc.wrong_type else 400
    return problem_page(request, lang, "unreadable_title", [t["unreadable_text"]], status=status)


def _unsign(web: WebParts, purpose: Purpose, request: Request) -> int | None:
    token = request.path_params.get("token", "")
    if not token or len(token) > 300:
        return None
    try:
        return web.runtime.signer.unsign(purpose, token)
    except InvalidToken as exc:
        request.state.token_expired = exc.expired
        return None


def _expired(request: Request) -> bool:
    return bool(getattr(request.state, "token_expired", False))


async def _linked_person(
    request: Request, purpose: Purpose
) -> tuple[WebParts, int | None, Subscriber | None, str]:
    """Who an emailed link names (None for a bad link), and the page language: theirs, unless asked."""
    web = WebParts.of(request)
    subscriber_id = _unsign(web, purpose, request)
    person = await _subscriber(subscriber_id)
    return web, subscriber_id, person, page_language(request, person.language.value if person else None)


async def _subscriber(subscriber_id: int | None) -> Subscriber | None:
    return await Subscriber.get_or_none(id=subscriber_id) if subscriber_id is not None else None


def _bad_link(request: Request, web: WebParts, lang: str, *, manage: bool = False) -> Response:
    """The same answer for forged, damaged, expired and no-longer-useful links (HTTP 400).

    A preferences or unsubscribe link gets words of its own (not the confirmation link's lifetime),
    with how to stop the emails anyway; one that is merely old says so.
    """
    t = texts(lang)
    if manage:
        contact = web.runtime.settings.mail_reply_to or web.runtime.settings.mail_from_address.addr_spec
        key = "old_link_text" if _expired(request) else "bad_manage_link_text"
        paragraphs = [t[key].format(contact=contact)]
    else:
        paragraphs = [t["bad_link_text"].format(duration=web.link_lifetime(lang)), t["bad_link_next"]]
    return problem_page(request, lang, "bad_link_title", paragraphs, status=400)
