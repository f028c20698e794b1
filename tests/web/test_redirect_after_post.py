"""A form that worked answers with a redirect (303, Post/Redirect/Get): reloading the page that
follows, or going back to it, never sends the form again. The "check your email" page reads back
what was typed from a signed cookie, the same whatever became of the address."""

from __future__ import annotations

import re

import httpx

from outreach.models import Delivery
from subscribers.models import AuditEvent, Status, Subscriber
from subscribers.registry import suppress
from subscribers.signup import confirm
from tests.mailserver import MailServer
from tests.web.support import csrf_token, link_in, submit_signup, valid_form, wait_for_mail


def main_of(html: str) -> str:
    """What a visitor reads in <main>: no CSRF token, no line-break hints."""
    html = html.replace("<wbr>", "")
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r'name="csrf_token" value="[^"]+"', "", main)


async def test_a_sign_up_redirects_to_a_page_that_survives_a_reload(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    answer = await submit_signup(client, lang="es", email="Ana@Example.com", follow=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/check-email?lang=es"
    assert answer.headers["cache-control"] == "no-store"
    cookie = answer.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "path=/check-email" in cookie.lower()
    assert "Ana@Example.com" not in cookie  # signed and encoded, not the address in plain text
    for _ in range(3):  # the page, then reloads of it
        page = await client.get("/check-email?lang=es")
        assert page.status_code == 200 and "Revise su correo" in page.text
        assert "Ana@Example.com" in main_of(page.text)
    await wait_for_mail(mail_server, 1)
    assert await Subscriber.all().count() == 1 and await Delivery.all().count() == 1
    english = await client.get("/check-email?lang=en")  # the language switch keeps the read-back
    assert "Check your email" in english.text and "Ana@Example.com" in main_of(english.text)


async def test_the_check_email_page_without_its_cookie_names_no_address(client: httpx.AsyncClient) -> None:
    page = await client.get("/check-email")
    assert page.status_code == 200 and "Check your email" in page.text
    assert "the address you gave us" in page.text and "@" not in main_of(page.text)
    forged = await client.get("/check-email", headers={"Cookie": "madeinla_readback=mallory@example.com"})
    assert "mallory" not in forged.text


async def test_every_outcome_redirects_alike_and_reads_back_alike(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    """New, pending, active, complained, erased, or a bot in the honeypot: the same redirect, the
    same page; nothing says whether the address was known."""
    await submit_signup(client, email="active@example.com")
    await wait_for_mail(mail_server, 1)
    await confirm((await Subscriber.get(email="active@example.com")).id)
    await submit_signup(client, email="pending@example.com")
    await suppress("erased@example.com", "erased")
    await suppress("complained@example.com", "complained")
    pages = set()
    for email, extra in [
        ("new@example.com", {}),
        ("pending@example.com", {}),
        ("active@example.com", {}),
        ("complained@example.com", {}),
        ("erased@example.com", {}),
        ("bot@example.com", {"website": "http://spam.example"}),
    ]:
        answer = await submit_signup(client, email=email, follow=False, **extra)
        assert (answer.status_code, answer.headers["location"]) == (303, "/check-email?lang=en")
        page = await client.get(answer.headers["location"])
        pages.add(main_of(page.text).replace(email, "ADDRESS"))
    assert len(pages) == 1


async def test_a_refused_form_is_not_redirected(client: httpx.AsyncClient) -> None:
    """Errors come back on the form itself, filled in (a redirect would lose what was typed)."""
    page = await client.get("/")
    answer = await client.post("/", data={**valid_form(email="nope"), "csrf_token": csrf_token(page.text)})
    assert answer.status_code == 400 and "location" not in answer.headers


async def test_confirming_redirects_to_the_confirmed_page(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    await submit_signup(client, lang="es", email="bea@example.com", language="es")
    [message] = await wait_for_mail(mail_server, 1)
    path = link_in(message, "confirm")
    opened = await client.get(path)
    answer = await client.post(path + "?lang=es", data={"csrf_token": csrf_token(opened.text)})
    assert answer.status_code == 303 and answer.headers["location"] == f"{path}?lang=es"
    audits = await AuditEvent.all().count()
    for _ in range(2):
        page = await client.get(answer.headers["location"])
        assert page.status_code == 200 and "Su inscripción está confirmada" in page.text
    assert await AuditEvent.all().count() == audits
    assert (await Subscriber.get(email="bea@example.com")).status == Status.ACTIVE


async def test_saving_preferences_redirects_to_the_page_in_the_language_just_chosen(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    """Saved in English from the Spanish page: the page that follows is in English."""
    await submit_signup(client, lang="es", email="cy@example.com", language="es")
    [message] = await wait_for_mail(mail_server, 1)
    path = link_in(message, "preferences")
    page = await client.get(path)
    assert '<html lang="es">' in page.text
    answer = await client.post(
        f"{path}?lang=es",
        data={"csrf_token": csrf_token(page.text), "topics": ["pilot_updates"], "language": "en"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{path}?lang=en&saved=1"
    audits = await AuditEvent.filter(action="preferences").count()
    for _ in range(2):
        saved = await client.get(answer.headers["location"])
        assert '<html lang="en">' in saved.text and "Your preferences are saved." in saved.text
    assert await AuditEvent.filter(action="preferences").count() == audits == 1
    plain = await client.get(path)
    assert "Your preferences are saved." not in plain.text and '<html lang="en">' in plain.text
