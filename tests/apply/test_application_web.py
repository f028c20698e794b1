"""The public application over the real app: ask for a link, open it from the email, save a draft,
see errors next to each field in both languages, submit, read the screening, and the email that
says the same. Mail goes through the Delivery queue to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import re

import httpx

from subscribers.application_models import Application, ApplicationStatus
from tests.apply.support import answers
from tests.mailserver import MailServer
from tests.web.support import csrf_token, text_of, wait_for_mail

APPLICATION_LINK = re.compile(r"http://localhost(/application/[A-Za-z0-9._-]+)")


async def _ask_for_link(
    client: httpx.AsyncClient, email: str = "ana@example.com", lang: str = "en"
) -> httpx.Response:
    page = await client.get(f"/apply?lang={lang}")
    assert page.status_code == 200
    return await client.post(
        f"/apply?lang={lang}",
        data={"email": email, "language": lang, "csrf_token": csrf_token(page.text), "website": ""},
    )


async def _link_from_mail(mail_server: MailServer, count: int = 1) -> str:
    messages = await wait_for_mail(mail_server, count)
    found = APPLICATION_LINK.search(text_of(messages[count - 1]))
    assert found, "no application link in the email"
    return found.group(1)


async def _post(client: httpx.AsyncClient, path: str, action: str, values: dict[str, str]) -> httpx.Response:
    page = await client.get(path)
    return await client.post(path, data={**values, "action": action, "csrf_token": csrf_token(page.text)})


async def test_from_the_email_link_to_a_screened_submission(
    app, client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    asked = await _ask_for_link(client)
    assert asked.status_code == 303 and asked.headers["location"] == "/apply/sent?lang=en"
    sent = await client.get(asked.headers["location"])
    assert "ana@<wbr>example<wbr>.com" in sent.text
    path = await _link_from_mail(mail_server)

    form = await client.get(path)
    assert form.status_code == 200
    assert "Legal name of the business" in form.text
    assert "Garment Worker Protection Act, SB 62" in form.text  # the law, named in plain words
    assert 'value="ana@example.com"' in form.text  # the contact address, prefilled

    # Half done: saved as typed, and the link to come back is emailed.
    saved = await _post(client, path, "save", {"legal_name": "López Uniforms LLC", "employees": "twelve"})
    assert saved.status_code == 400
    assert "Enter the number of workers as a whole number, like 12" in saved.text
    assert "Your answers are saved, but some need a change before you can submit." in saved.text
    application = await Application.get(email="ana@example.com")
    assert application.answers["legal_name"] == "López Uniforms LLC"
    assert application.status == ApplicationStatus.DRAFT
    await wait_for_mail(mail_server, 2)

    submitted = await _post(client, path, "submit", answers())
    assert submitted.status_code == 303
    result = await client.get(submitted.headers["location"])
    assert result.status_code == 200
    assert "Application submitted" in result.text
    assert "Los Angeles County decides" in result.text
    assert "What happens next" in result.text
    application = await Application.get(email="ana@example.com")
    assert application.status == ApplicationStatus.SUBMITTED
    words = application.verdict.replace("_", " ")
    assert f"<strong>{words}</strong>" in result.text
    assert "Made in LA pilot" in result.text and "LACC" in result.text  # Slack's checks and citations

    mails = await wait_for_mail(mail_server, 3)
    confirmation = text_of(mails[2]).replace("\r\n", "\n")
    assert mails[2]["Subject"] == "We received your Made in LA application"
    assert f"says your business {words} for the pilot" in confirmation
    assert application.screening["text"] in confirmation  # the very text Slack shows

    # Locked once submitted: a second post changes nothing.
    again = await client.post(
        path, data={**answers(legal_name="Changed"), "action": "save", "csrf_token": csrf_token(form.text)}
    )
    assert again.status_code == 409
    assert (await Application.get(id=application.id)).answers["legal_name"] == "López Uniforms LLC"


async def test_saving_again_and_again_does_not_fill_the_inbox(
    app, client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    """Each save emails the link to come back, within the inbox's daily allowance (the /apply mail
    counts too): whoever holds the link can't flood the applicant. Every save is kept all the same."""
    await _ask_for_link(client)
    path = await _link_from_mail(mail_server)
    for n in range(8):
        saved = await _post(client, path, "save", {"legal_name": f"López Uniforms {n}"})
        assert saved.status_code in (303, 400)
    assert (await Application.get(email="ana@example.com")).answers["legal_name"] == "López Uniforms 7"
    await wait_for_mail(mail_server, 5)
    await asyncio.sleep(1)  # time for any message beyond the allowance to arrive, if one were queued
    assert len(mail_server.received) == 5  # CONFIRMATIONS_PER_MAILBOX_PER_DAY's default


async def test_spanish_errors_next_to_each_field(
    app, client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    await _ask_for_link(client, "rosa@example.com", "es")
    path = await _link_from_mail(mail_server)
    response = await _post(
        client,
        path + "?lang=es",
        "submit",
        answers(principal_zip="9002", garment_registration="", consent="", contact_email="rosa@example.com"),
    )
    assert response.status_code == 400
    assert 'id="principal_zip-error"' in response.text
    assert "Escriba el código postal con 5 dígitos, como 90021" in response.text
    assert "Escriba su número de registro de confección" in response.text
    assert "Marque la casilla para aceptar" in response.text
    assert (await Application.get(email="rosa@example.com")).status == ApplicationStatus.DRAFT


async def test_forms_without_a_valid_csrf_token_change_nothing(
    app, client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    await _ask_for_link(client)
    path = await _link_from_mail(mail_server)
    response = await client.post(path, data={**answers(), "action": "submit", "csrf_token": "forged"})
    assert response.status_code == 400
    assert (await Application.get(email="ana@example.com")).status == ApplicationStatus.DRAFT
    start = await client.post("/apply", data={"email": "x@example.com", "language": "en", "csrf_token": "x"})
    assert start.status_code == 400
    assert await Application.filter(email="x@example.com").count() == 0


async def test_bad_links_and_bad_addresses_get_clear_pages(app, client: httpx.AsyncClient) -> None:
    response = await client.get("/application/not-a-token")
    assert response.status_code == 400
    assert "This link does not work" in response.text
    page = await client.get("/apply")
    wrong = await client.post(
        "/apply", data={"email": "not an address", "language": "en", "csrf_token": csrf_token(page.text)}
    )
    assert wrong.status_code == 400
    assert "Enter an email address in the correct format" in wrong.text
