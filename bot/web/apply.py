"""The personal link in an application invitation: record that it was followed, then send the
person on to the application.

The token names one Delivery (signed, purpose "invitation"), so staff can see invited → clicked
per campaign. Only the first click is recorded. The application itself lives at APPLICATION_URL;
when that isn't set, a short page here tells people how to apply.
"""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.settings import Settings
from bot.web.i18n import page_language
from bot.web.pages import WebParts, page
from outreach.models import Delivery
from subscribers.tokens import InvalidToken, Purpose

HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

TEXT = {
    "en": {
        "title": "Apply to the Made in Los Angeles pilot",
        "body": (
            "Thank you for your interest in the Made in Los Angeles pilot. The Los Angeles County "
            "Department of Economic Opportunity (DEO) runs the applications. To apply, reply to "
            "your invitation email or write to {contact}, and we will send you the application "
            "and help you fill it in."
        ),
        "bad_title": "This link does not work",
        "bad": (
            "The link may have been copied only in part. Open it again from your invitation email, "
            "or go to the application page: {apply}"
        ),
        "expired_title": "This link has expired",
        "expired": "You can still apply. Go to the application page: {apply}",
    },
    "es": {
        "title": "Solicite participar en el programa piloto Made in Los Angeles",
        "body": (
            "Gracias por su interés en el programa piloto Made in Los Angeles. El Departamento de "
            "Oportunidades Económicas (DEO) del Condado de Los Ángeles gestiona las solicitudes. "
            "Para presentar su solicitud, responda a su correo de invitación o escriba a {contact}, "
            "y le enviaremos la solicitud y le ayudaremos a llenarla."
        ),
        "bad_title": "Este enlace no funciona",
        "bad": (
            "Es posible que el enlace se haya copiado solo en parte. Ábralo de nuevo desde su correo "
            "de invitación o vaya a la página de solicitud: {apply}"
        ),
        "expired_title": "Este enlace ha vencido",
        "expired": "Todavía puede presentar su solicitud. Vaya a la página de solicitud: {apply}",
    },
}


def application_url(request: Request, language: str) -> str:
    settings: Settings = request.app.state.settings
    if settings.application_url:
        return settings.application_url
    return f"{settings.public_base_url}/apply" + ("?lang=es" if language == "es" else "")


@page
async def follow_invitation(request: Request) -> Response:
    runtime = request.app.state.runtime
    token = request.path_params["token"]
    try:
        if len(token) > 300:
            raise InvalidToken(expired=False)
        delivery_id = runtime.signer.unsign(Purpose.INVITATION, token)
    except InvalidToken as exc:
        key = "expired" if exc.expired else "bad"
        return _page(request, page_language(request), f"{key}_title", key, 400)
    now = dt.datetime.now(dt.UTC)
    await Delivery.filter(id=delivery_id, clicked_at__isnull=True).update(clicked_at=now)
    languages = await Delivery.filter(id=delivery_id).values_list("language", flat=True)
    language = str(languages[0]) if languages else page_language(request)
    return RedirectResponse(application_url(request, language), status_code=303, headers=HEADERS)


@page
async def how_to_apply(request: Request) -> Response:
    return _page(request, page_language(request), "title", "body", 200)


def _page(request: Request, language: str, title_key: str, body_key: str, status: int) -> Response:
    """A page in the site's own layout (the public pages' renderer and security headers)."""
    settings = request.app.state.settings
    text = TEXT[language]
    contact = settings.mail_reply_to or settings.mail_from_address.addr_spec
    paragraph = text[body_key].format(contact=contact, apply=application_url(request, language))
    return WebParts.of(request).renderer.render(
        request,
        "problem.html",
        language,
        {"title": text[title_key], "paragraphs": [paragraph], "link_text": None},
        status=status,
        headers=HEADERS,
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/apply", how_to_apply, methods=["GET"]),
        Route("/apply/{token}", follow_invitation, methods=["GET"]),
    ]
