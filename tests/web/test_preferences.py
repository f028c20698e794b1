"""The preferences page behind every emailed link: besides topics and language, a manufacturer
corrects their ZIP codes and what they make (what `/madeinla find` searches), and anyone signed up
moves their emails to a new address, confirmed at that address; the old one keeps getting mail
until then, and the page never says whether the new address was already known."""

from __future__ import annotations

import re

import httpx
import pytest

from outreach.erasure import erase
from outreach.models import Delivery
from subscribers.email_change_models import EmailChange
from subscribers.models import AuditEvent, BusinessProfile, Role, Status, Subscriber
from subscribers.pool import search_pool
from subscribers.signup import confirm
from subscribers.tokens import Purpose
from tests.mailserver import MailServer
from tests.web.support import csrf_token, submit_signup, text_of, wait_for_mail

EMAIL_LINK = re.compile(r"http://testserver(/email/[A-Za-z0-9._-]+)")


def main_of(html: str) -> str:
    """The words of the page's <main>, as a visitor reads them (no tags, no CSRF token)."""
    main = html[html.index("<main") : html.index("</main>")]
    return " ".join(re.sub(r"<[^>]+>", "", main).split())


async def signed_up(
    client: httpx.AsyncClient,
    app,
    mail_server: MailServer,
    email: str,
    *,
    active: bool = True,
    **form: object,
) -> tuple[Subscriber, str]:
    """A person signed up through the form (and confirmed), and the path of their preferences page."""
    before = len(mail_server.received)
    await submit_signup(client, email=email, **form)
    person = await Subscriber.get(email=email)
    await wait_for_mail(mail_server, before + 1)
    if active:
        await confirm(person.id)
    token = app.state.runtime.signer.sign(Purpose.MANAGE, person.id)
    return await Subscriber.get(id=person.id), f"/preferences/{token}"


async def save(client: httpx.AsyncClient, path: str, lang: str = "en", **fields: object) -> httpx.Response:
    page = await client.get(f"{path}?lang={lang}")
    data: dict[str, object] = {
        "csrf_token": csrf_token(page.text),
        "topics": ["pilot_updates"],
        "language": lang,
        **fields,
    }
    return await client.post(f"{path}?lang={lang}", data=data)


# Business details -------------------------------------------------------------------------------


async def test_a_manufacturer_corrects_zip_codes_and_products_and_find_sees_them(
    client: httpx.AsyncClient, app, mail_server: MailServer
) -> None:
    person, path = await signed_up(client, app, mail_server, "ana@example.com")
    page = await client.get(path)
    assert 'name="principal_zip" type="text" value="90021"' in page.text
    assert 'name="production_zip" type="text" value="90011"' in page.text
    assert "Work uniforms\nFace masks</textarea>" in page.text
    answer = await save(
        client,
        path,
        name="Ana López",
        organization="López Uniforms",
        principal_zip="90023",
        production_zip="90058-1234",
        products="Scrubs and lab coats",
    )
    assert answer.status_code == 303
    profile = await BusinessProfile.get(subscriber_id=person.id)
    assert (profile.principal_zip, profile.production_zip, profile.products) == (
        "90023",
        "90058",
        "Scrubs and lab coats",
    )
    assert (await Subscriber.get(id=person.id)).zip == "90023"
    found = await search_pool("lab coats", interested=True)  # what staff find with /madeinla find
    assert found.interested_total == 1 and found.interested[0].zips == "90058"
    [audit] = await AuditEvent.filter(subscriber_id=person.id, action="profile")
    assert audit.new_value == "principal_zip production_zip products"  # which fields, never values
    saved = await client.get(answer.headers["location"])
    assert "Your preferences are saved." in saved.text and 'value="90023"' in saved.text


async def test_a_manufacturer_without_a_profile_gets_one(
    client: httpx.AsyncClient, app, mail_server: MailServer
) -> None:
    person, path = await signed_up(
        client,
        app,
        mail_server,
        "bo@example.com",
        legal_name="",
        principal_zip="",
        production_zip="",
        products="",
        naics="",
        employees="",
        years_in_county="",
        ca_small_business="",
        garment_work="",
    )
    assert not await BusinessProfile.filter(subscriber_id=person.id).exists()
    await save(client, path, products="Tortillas", production_zip="90022")
    profile = await BusinessProfile.get(subscriber_id=person.id)
    assert (profile.products, profile.production_zip) == ("Tortillas", "90022")


async def test_bad_business_details_are_refused_with_the_forms_own_words(
    client: httpx.AsyncClient, app, mail_server: MailServer
) -> None:
    person, path = await signed_up(client, app, mail_server, "cy@example.com")
    answer = await save(client, path, lang="es", principal_zip="9002", products="=HYPERLINK(1)")
    assert answer.status_code == 400
    assert "Escriba el código postal del lugar principal de su negocio con 5 dígitos" in answer.text
    assert 'value="9002"' in answer.text  # what was typed comes back
    assert (await BusinessProfile.get(subscriber_id=person.id)).principal_zip == "90021"


async def test_other_roles_have_no_business_questions(
    client: httpx.AsyncClient, app, mail_server: MailServer
) -> None:
    person, path = await signed_up(client, app, mail_server, "dee@example.com", role="county_staff")
    page = await client.get(path)
    assert "principal_zip" not in page.text and "products" not in page.text
    await save(client, path, products="Anything")  # ignored: not a manufacturer
    assert not await BusinessProfile.filter(subscriber_id=person.id).exists()
    assert (await Subscriber.get(id=person.id)).role == Role.COUNTY_STAFF


# Changing the email address ---------------------------------------------------------------------


async def test_a_new_address_is_confirmed_there_before_mail_moves(
    client: httpx.AsyncClient, app, mail_server: MailServer
) -> None:
    person, path = await signed_up(client, app, mail_server, "ana@example.com")
    before = len(mail_server.received)
    page = await client.get(path)
    assert "ana@example.com" in main_of(page.text)  # where the emails go now
    answer = await save(client, path, new_email=" Ana.New@Example.ORG ")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{path}?lang=en&saved=email"
    told = await client.get(answer.headers["location"])
    assert "We have sent a link to Ana.New@Example.ORG" in main_of(told.text)
    assert (await Subscriber.get(id=person.id)).email == "ana@example.com"  # not yet

    [sent] = (await wait_for_mail(mail_server, before + 1))[before:]
    assert sent["To"].addresses[0].addr_spec == "ana.new@example.org"
    body = text_of(sent)
    assert "Ana López" not in body and "/preferences/" not in body and "/unsubscribe/" not in body
    link = EMAIL_LINK.search(body)
    assert link, body
    opened = await client.get(link.group(1))
    assert opened.status_code == 200 and "ana.new@example.org" in main_of(opened.text)
    assert (await Subscriber.get(id=person.id)).email == "ana@example.com"  # opening changes nothing

    done = await client.post(link.group(1), data={"csrf_token": csrf_token(opened.text)})
    assert done.status_code == 303
    changed = await client.get(done.headers["location"])
    assert "We now send your emails to ana.new@example.org" in main_of(changed.text)
    person = await Subscriber.get(id=person.id)
    assert person.email == "ana.new@example.org" and person.status == Status.ACTIVE
    [audit] = await AuditEvent.filter(subscriber_id=person.id, action="email")
    assert "@" not in audit.old_value + audit.new_value
    assert not await EmailChange.all().exists()

    # The old address hears that its emails moved, without links to manage the new one.
    [notice] = (await wait_for_mail(mail_server, before + 2))[before + 1 :]
    assert notice["To"].addresses[0].addr_spec == "ana@example.com"
    assert "a***@example.org" in text_of(notice) and "/preferences/" not in text_of(notice)
    again = await client.get(link.group(1))
    assert again.status_code == 400  # used once


async def test_a_taken_address_is_not_revealed(
    client: httpx.AsyncClient, app, mail_server: MailServer
) -> None:
    """Asking for an address someone else has looks exactly like asking for a free one."""
    await signed_up(client, app, mail_server, "taken@example.com")
    person, path = await signed_up(client, app, mail_server, "ana@example.com")
    pages = []
    for new in ("free@example.com", "taken@example.com"):
        answer = await save(client, path, new_email=new)
        assert (answer.status_code, answer.headers["location"]) == (303, f"{path}?lang=en&saved=email")
        page = await client.get(answer.headers["location"])
        pages.append(main_of(page.text).replace(new, "NEW"))
    assert pages[0] == pages[1]
    assert await Delivery.filter(template="email_change", address="taken@example.com").count() == 0
    assert not await EmailChange.all().exists()  # the later request replaced the link to free@
    assert (await Subscriber.get(id=person.id)).email == "ana@example.com"


async def test_an_address_taken_before_the_link_is_used_stays_with_its_owner(
    client: httpx.AsyncClient, app, mail_server: MailServer
) -> None:
    person, path = await signed_up(client, app, mail_server, "ana@example.com")
    await save(client, path, new_email="late@example.com")
    change = await EmailChange.get(subscriber_id=person.id)
    token = app.state.runtime.signer.sign(Purpose.EMAIL_CHANGE, change.id)
    await submit_signup(client, email="late@example.com")  # someone signs up with it meanwhile
    opened = await client.get(f"/email/{token}")
    answer = await client.post(f"/email/{token}", data={"csrf_token": csrf_token(opened.text)})
    assert answer.status_code == 409
    assert "already gets our emails" in answer.text
    assert (await Subscriber.get(id=person.id)).email == "ana@example.com"


async def test_a_newer_request_replaces_the_older_link(
    client: httpx.AsyncClient, app, mail_server: MailServer
) -> None:
    person, path = await signed_up(client, app, mail_server, "ana@example.com")
    await save(client, path, new_email="first@example.com")
    first = await EmailChange.get(subscriber_id=person.id)
    await save(client, path, new_email="second@example.com")
    token = app.state.runtime.signer.sign(Purpose.EMAIL_CHANGE, first.id)
    assert (await client.get(f"/email/{token}")).status_code == 400
    assert [c.new_email for c in await EmailChange.filter(subscriber_id=person.id)] == ["second@example.com"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("not-an-address", "Enter an email address in the correct format"),
        ("josé@example.com", "before the @ can use only unaccented letters"),
    ],
)
async def test_a_bad_new_address_is_refused_on_the_page(
    client: httpx.AsyncClient, app, mail_server: MailServer, typed: str, message: str
) -> None:
    _person, path = await signed_up(client, app, mail_server, "ana@example.com")
    answer = await save(client, path, new_email=typed)
    assert answer.status_code == 400 and message in answer.text
    assert not await EmailChange.all().exists()


async def test_only_a_confirmed_sign_up_can_move(
    client: httpx.AsyncClient, app, mail_server: MailServer
) -> None:
    """A pending person's address isn't proven yet: they sign up again with the right one."""
    _person, path = await signed_up(client, app, mail_server, "pending@example.com", active=False)
    page = await client.get(path)
    assert 'name="new_email"' not in page.text
    await save(client, path, new_email="other@example.com")
    assert not await EmailChange.all().exists()


async def test_erasing_the_new_address_drops_the_pending_change(
    client: httpx.AsyncClient, app, mail_server: MailServer
) -> None:
    person, path = await signed_up(client, app, mail_server, "ana@example.com")
    await save(client, path, new_email="new@example.com")
    change = await EmailChange.get(subscriber_id=person.id)
    await erase("new@example.com", actor="cli")
    assert not await EmailChange.all().exists()
    token = app.state.runtime.signer.sign(Purpose.EMAIL_CHANGE, change.id)
    assert (await client.get(f"/email/{token}")).status_code == 400
