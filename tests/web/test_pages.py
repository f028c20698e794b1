"""The public pages over HTTP, through the real app with its background sender mailing aiosmtpd."""

from __future__ import annotations

import re

import httpx
import pytest
from tortoise.contrib.test import truncate_all_models

from bot.app import create_app
from bot.settings import Settings
from outreach.models import Delivery
from subscribers.models import AuditEvent, BusinessProfile, Status, Subscriber
from subscribers.registry import suppress
from subscribers.signup import CONSENT_WORDING, CONSENT_WORDING_VERSION, confirm, unsubscribe
from subscribers.tokens import Purpose
from tests.conftest import ON_POSTGRES
from tests.mailserver import MailServer
from tests.web.support import csrf_token, link_in, submit_signup, text_of, valid_form, wait_for_mail


def main_of(html: str) -> str:
    """The page's <main> with the CSRF token and line-break hints taken out: what a visitor reads."""
    html = html.replace("<wbr>", "")
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r'name="csrf_token" value="[^"]+"', "", main)


async def test_landing_page_explains_the_pilot_and_offers_both_languages(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "Made in Los Angeles pilot" in page.text
    assert 'href="/?lang=es"' in page.text and 'hreflang="es"' in page.text
    assert "novalidate" in page.text and "*" not in main_of(page.text)
    assert CONSENT_WORDING["en"] in page.text
    assert (
        "madeinla_csrf=" in page.headers["set-cookie"]
        and "samesite=lax" in page.headers["set-cookie"].lower()
    )
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no scripts
    spanish = await client.get("/?lang=es")
    assert '<html lang="es">' in spanish.text and "Inscríbase" in spanish.text
    assert CONSENT_WORDING["es"] in spanish.text
    assert 'value="es" checked' in spanish.text  # the email language follows the page language


async def test_browser_language_picks_spanish_without_a_query(client: httpx.AsyncClient) -> None:
    page = await client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in page.text


async def test_stylesheet_is_served(client: httpx.AsyncClient) -> None:
    css = await client.get("/static/site.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


async def test_privacy_notice_covers_what_people_need_to_know(client: httpx.AsyncClient) -> None:
    page = await client.get("/privacy")
    assert page.status_code == 200
    for phrase in (
        "California Public Records Act",
        "once a month",
        "do not track",
        "unsubscribe",
        "How long",
    ):
        assert phrase in page.text
    assert "Registros Públicos" in (await client.get("/privacy?lang=es")).text


async def test_sign_up_confirm_preferences_unsubscribe_end_to_end(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    """The whole double opt-in journey, with the real email read from the SMTP server."""
    answer = await submit_signup(client, lang="es", email="  Ana.Lopez@Example.COM ", language="es")
    assert answer.status_code == 200
    assert "Revise su correo" in answer.text and "Ana.Lopez@Example.COM" in main_of(answer.text)
    assert "funciona durante 3 días" in answer.text

    [message] = await wait_for_mail(mail_server, 1)
    assert message["To"].addresses[0].addr_spec == "ana.lopez@example.com"
    assert '<html lang="es">' in message.get_body(("html",)).get_content()
    body = text_of(message)
    assert "Confirmar mi inscripción" in body and "3 días" in body
    confirm_path = link_in(message, "confirm")
    preferences_path = link_in(message, "preferences")
    unsubscribe_path = link_in(message, "unsubscribe")

    person = await Subscriber.get(email="ana.lopez@example.com")
    assert person.status == Status.PENDING

    # Opening the link shows a button and changes nothing (link scanners open links too).
    opened = await client.get(confirm_path)
    assert opened.status_code == 200 and '<html lang="es">' in opened.text
    assert (await Subscriber.get(id=person.id)).status == Status.PENDING

    confirmed = await client.post(
        confirm_path, data={"csrf_token": csrf_token(opened.text)}, follow_redirects=True
    )
    assert confirmed.status_code == 200 and "Su inscripción está confirmada" in confirmed.text
    person = await Subscriber.get(id=person.id)
    assert person.status == Status.ACTIVE and person.consent_at is not None
    assert person.consent_wording_version == CONSENT_WORDING_VERSION
    assert await BusinessProfile.filter(subscriber_id=person.id, naics="315250").exists()

    # Preferences: change topics and language.
    prefs = await client.get(preferences_path)
    assert prefs.status_code == 200 and 'value="pilot_updates" checked' in prefs.text
    saved = await client.post(
        preferences_path + "?lang=en",
        data={
            "csrf_token": csrf_token(prefs.text),
            "name": "Ana L.",
            "topics": ["working_group"],
            "language": "en",
        },
        follow_redirects=True,
    )
    assert saved.status_code == 200 and "Your preferences are saved." in saved.text
    person = await Subscriber.get(id=person.id)
    assert person.topics == ["working_group"] and person.language.value == "en" and person.name == "Ana L."
    assert await AuditEvent.filter(subscriber_id=person.id, action="preferences").count() == 1

    # Unsubscribe: the GET page has a button and changes nothing; the POST unsubscribes.
    page = await client.get(unsubscribe_path)
    assert page.status_code == 200 and 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert (await Subscriber.get(id=person.id)).status == Status.ACTIVE
    done = await client.post(unsubscribe_path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "unsubscribed" in done.text
    assert (await Subscriber.get(id=person.id)).status == Status.UNSUBSCRIBED


async def test_one_click_unsubscribe_works_without_cookies_and_twice(
    app, client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    """RFC 8058: a mail provider's POST has no cookies or CSRF token; the answer is 200, no redirect."""
    await submit_signup(client, email="bo@example.com")
    [message] = await wait_for_mail(mail_server, 1)
    path = link_in(message, "unsubscribe")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as provider:
        for _ in range(2):
            answer = await provider.post(
                path,
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert answer.status_code == 200 and "location" not in answer.headers
    person = await Subscriber.get(email="bo@example.com")
    assert person.status == Status.UNSUBSCRIBED
    assert await AuditEvent.filter(subscriber_id=person.id, new_value="unsubscribed").count() == 1


async def test_every_outcome_shows_the_same_page(client: httpx.AsyncClient, mail_server: MailServer) -> None:
    """New, pending, active, unsubscribed and erased addresses get identical answers (no enumeration)."""
    await submit_signup(client, email="pending@example.com")
    active = await submit_signup(client, email="active@example.com")
    assert active.status_code == 200
    await wait_for_mail(mail_server, 2)
    person = await Subscriber.get(email="active@example.com")
    await confirm(person.id)
    gone = await submit_signup(client, email="gone@example.com")
    assert gone.status_code == 200
    await unsubscribe((await Subscriber.get(email="gone@example.com")).id)
    await suppress("erased@example.com", "erased")

    pages = {}
    for address in (
        "new@example.com",
        "pending@example.com",
        "active@example.com",
        "gone@example.com",
        "erased@example.com",
    ):
        answer = await submit_signup(client, email=address)
        assert answer.status_code == 200
        pages[address] = main_of(answer.text).replace(address, "ADDRESS")
    assert len(set(pages.values())) == 1
    assert not await Subscriber.filter(email="erased@example.com").exists()


async def test_pending_resubmission_does_not_mail_again_at_once(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    await submit_signup(client, email="cy@example.com")
    await submit_signup(client, email="CY@example.com")
    await wait_for_mail(mail_server, 1)
    assert await Subscriber.filter(email="cy@example.com").count() == 1
    assert await Delivery.filter(address="cy@example.com").count() == 1


async def test_honeypot_gets_the_same_page_but_nothing_is_stored(client: httpx.AsyncClient) -> None:
    answer = await submit_signup(client, email="bot@example.com", website="http://spam.example")
    assert answer.status_code == 200 and "Check your email" in answer.text
    assert await Subscriber.all().count() == 0 and await Delivery.all().count() == 0


async def test_errors_are_summarised_and_answers_kept(client: httpx.AsyncClient) -> None:
    """GOV.UK pattern: 'Error:' title, a focused summary linking to each field, messages by the fields."""
    answer = await submit_signup(
        client, email="not-an-address", name="Ana", topics=[], consent=None, principal_zip="9002"
    )
    assert answer.status_code == 400
    html = answer.text
    assert "<title>Error: " in html
    assert 'class="error-summary"' in html and "autofocus" in html and "There is a problem" in html
    summary = html[html.index("error-summary-list") : html.index("</ul>", html.index("error-summary-list"))]
    assert re.findall(r'href="#([^"]+)"', summary) == [
        "field-email",
        "field-topics",
        "field-principal_zip",
        "field-consent",
    ]
    assert 'id="email-error"' in html and 'aria-invalid="true"' in html
    assert 'value="not-an-address"' in html and 'value="Ana"' in html  # answers are kept
    assert "Enter an email address in the correct format, like name@example.com" in html
    assert await Subscriber.all().count() == 0


async def test_errors_in_spanish(client: httpx.AsyncClient) -> None:
    answer = await submit_signup(client, lang="es", email="", role="")
    assert answer.status_code == 400
    assert "Hay un problema" in answer.text and "Escriba su correo electrónico" in answer.text
    assert "Seleccione la opción que le describe mejor" in answer.text


async def test_missing_csrf_cookie_re_shows_the_form_with_the_answers(app) -> None:
    """A browser without our cookie (or a forged cross-site POST) stores nothing and can try again."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as fresh:
        token = csrf_token((await fresh.get("/")).text)
        fresh.cookies.clear()
        answer = await fresh.post("/", data={**valid_form(), "csrf_token": token})
    assert answer.status_code == 400
    assert "Your form timed out" in answer.text and 'href="#submit"' in answer.text
    assert 'value="ana@example.com"' in answer.text
    assert "madeinla_csrf=" in answer.headers["set-cookie"]  # a new cookie, so the next try works
    assert await Subscriber.all().count() == 0


@pytest.fixture
async def limited_app(smtp_settings: Settings):
    """The app with the per-client form rate limit on (3 a minute)."""
    settings = smtp_settings.model_copy(update={"form_rate_limit_per_minute": 3})
    application = create_app(settings, run_scheduler=False)
    async with application.router.lifespan_context(application):
        if ON_POSTGRES:
            await truncate_all_models()
        yield application


async def test_rate_limit_answers_429_in_the_page_language(limited_app) -> None:
    transport = httpx.ASGITransport(app=limited_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        statuses = []
        for number in range(4):
            answer = await submit_signup(client, lang="es", email=f"p{number}@example.com")
            statuses.append(answer.status_code)
        assert statuses == [200, 200, 200, 429]
        assert '<html lang="es">' in answer.text
        wait = int(answer.headers["retry-after"])
        assert 1 <= wait <= 60
        # The form comes back filled in, with the reason at the top: nothing typed is lost.
        summary = answer.text[answer.text.index('class="error-summary"') : answer.text.index("</ul>")]
        assert "Envió este formulario demasiadas veces en poco tiempo" in summary
        assert f"espere {wait} segundos" in summary and 'href="#submit"' in summary
        assert 'value="p3@example.com"' in answer.text and "López Uniforms LLC" in answer.text
        assert 'value="315250"' in answer.text and "Work uniforms" in answer.text
        assert csrf_token(answer.text)  # ready to send again
        assert await Subscriber.all().count() == 3
        # A body that can't be read while over the limit gets the plain 429 page.
        unreadable = await client.post("/?lang=es", content=b"\xff", headers={"Content-Type": "text/plain"})
        assert unreadable.status_code == 429 and "Demasiados intentos" in unreadable.text
        english = await submit_signup(client, lang="en", email="p4@example.com")
        assert english.status_code == 429 and "You have sent this form too many times" in english.text
        # Unsubscribing is never rate limited: mail providers post from shared addresses.
        person = await Subscriber.get(email="p0@example.com")
        token = limited_app.state.runtime.signer.sign(Purpose.MANAGE, person.id)
        assert (await client.post(f"/unsubscribe/{token}")).status_code == 200


async def test_links_work_from_the_sign_up_language_page(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    """Token pages speak the person's language unless ?lang= says otherwise."""
    await submit_signup(client, email="dee@example.com", language="es")
    [message] = await wait_for_mail(mail_server, 1)
    prefs = await client.get(link_in(message, "preferences"))
    assert '<html lang="es">' in prefs.text
    english = await client.get(link_in(message, "preferences") + "?lang=en")
    assert '<html lang="en">' in english.text


async def test_app_wide_404_and_500_pages_are_friendly(smtp_settings: Settings) -> None:
    """bot.web.exception_handlers() gives the whole app pages in the visitor's language, not plain text."""
    from starlette.routing import Route

    from bot.web import exception_handlers

    async def broken(request):
        raise RuntimeError("a bug")

    application = create_app(smtp_settings, run_scheduler=False)
    application.router.routes.append(Route("/broken", broken))
    application.exception_handlers.update(exception_handlers())
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            missing = await http.get("/no-such-page?lang=es")
            assert missing.status_code == 404 and "No encontramos la página" in missing.text
            failing = await http.get("/broken")
            assert failing.status_code == 500 and "Sorry, there is a problem with the service" in failing.text
            assert "RuntimeError" not in failing.text


async def test_an_active_person_who_signs_up_again_gets_a_notice_with_their_preferences_link(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    import datetime as dt

    await submit_signup(client, email="eve@example.com", language="en")
    await wait_for_mail(mail_server, 1)
    person = await Subscriber.get(email="eve@example.com")
    await confirm(person.id)
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    await Subscriber.filter(id=person.id).update(confirmation_sent_at=an_hour_ago)

    answer = await submit_signup(client, email="eve@example.com")
    assert "Check your email" in answer.text
    _, notice = await wait_for_mail(mail_server, 2)
    assert notice["Subject"] == "You already get Made in LA updates"
    assert "You are already signed up" in text_of(notice)
    assert "/confirm/" not in text_of(notice)
    preferences = await client.get(link_in(notice, "preferences"))
    assert preferences.status_code == 200 and "Your email preferences" in preferences.text


async def test_mail_to_an_unconfirmed_address_never_carries_the_typed_name(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    """Anyone can make us mail any address from the form: what they typed as a name must not appear
    in that mail (greeting or To display name), so the County can't be made to send their text."""
    spam = "Win cash at scam.com today"
    await submit_signup(client, email="dee@example.com", name=spam, organization="Prize Office")
    [confirmation] = await wait_for_mail(mail_server, 1)
    person = await Subscriber.get(email="dee@example.com")
    await confirm(person.id)
    # Active now: a re-submission (after the resend window) gets an "already signed up" notice.
    await Subscriber.filter(id=person.id).update(confirmation_sent_at=None)
    await submit_signup(client, email="dee@example.com", name=spam)
    [_, notice] = await wait_for_mail(mail_server, 2)
    assert await Delivery.filter(template="already_subscribed").count() == 1
    for message in (confirmation, notice):
        raw = message.as_string()
        assert "Win cash" not in raw and "Prize Office" not in raw and "scam" not in raw
        assert message["To"].addresses[0].display_name == ""
        assert text_of(message).lstrip().startswith("Hello,")


async def test_mail_to_active_people_still_greets_them_by_name(settings: Settings) -> None:
    """Only the mail an anonymous form post can trigger loses the name; list mail keeps it."""
    from email import message_from_bytes
    from email.policy import default

    from bot.runtime import build_runtime
    from outreach.messages import Recipient

    builder = build_runtime(settings).builder
    ana = Recipient(address="ana@example.com", subscriber_id=7, name="Ana López", language="es")

    def parsed(template: str):
        data = builder.build(template, ana, list_mail=template == "pilot_update").data
        return message_from_bytes(data, policy=default)

    update = parsed("pilot_update")
    assert update["To"].addresses[0].display_name == "Ana López"
    assert "Hola Ana López:" in text_of(update)
    for template in ("confirm", "already_subscribed"):
        message = parsed(template)
        assert message["To"].addresses[0].display_name == ""
        assert "Ana" not in message.as_string() and text_of(message).lstrip().startswith("Hola:")


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("PUT", "/", "GET, HEAD, POST"),
        ("DELETE", "/", "GET, HEAD, POST"),
        ("PUT", "/unsubscribe/some-token", "GET, HEAD, POST"),
        ("PATCH", "/confirm/some-token", "GET, HEAD, POST"),
        ("PUT", "/preferences/some-token", "GET, HEAD, POST"),
        ("POST", "/privacy", "GET, HEAD"),
        ("PUT", "/static/site.css", "GET, HEAD"),
    ],
)
async def test_a_wrong_method_gets_a_friendly_page_naming_the_right_ones(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    answer = await client.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allowed
    assert answer.headers["content-type"].startswith("text/html")
    assert "This page cannot do that" in answer.text and '<html lang="en">' in answer.text
    spanish = await client.request(method, path + "?lang=es")
    assert spanish.status_code == 405 and "Esta página no puede hacer eso" in spanish.text
    assert spanish.headers["allow"] == allowed


async def test_an_internationalised_domain_is_one_person_in_ascii_everywhere(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    """ana@bücher.de is stored, mailed and matched as ana@xn--bcher-kva.de, however it is typed."""
    from outreach import contact_import
    from subscribers import importing

    answer = await submit_signup(client, email="Ana@Bücher.de")
    assert answer.status_code == 200
    [message] = await wait_for_mail(mail_server, 1)
    assert message["To"].addresses[0].addr_spec == "ana@xn--bcher-kva.de"
    assert "=?utf-8?" not in str(message["To"]) and "xn--bcher-kva.de" in message.as_string()
    assert mail_server.received[0].rcpt_tos == ["ana@xn--bcher-kva.de"]

    again = await submit_signup(client, email="ANA@XN--BCHER-KVA.DE")
    assert again.status_code == 200
    assert [p.email for p in await Subscriber.all()] == ["ana@xn--bcher-kva.de"]

    parsed = importing.read_csv("email\nana@bücher.de\nana@xn--bcher-kva.de\n".encode())
    report = await contact_import.import_people(parsed, consent_source="Coalition list")
    assert report.imported == 0 and len(report.skipped) == 2
    assert await Subscriber.all().count() == 1
