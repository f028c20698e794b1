"""Staff review in the console: the queue, an application's page, decisions by editors (emailed to
the applicant in their language, audited), read-only for viewers, the pool, its CSV and the
products list."""

from __future__ import annotations

import asyncio
import time

import httpx
from tortoise.transactions import in_transaction

from subscribers.application_models import Application, ApplicationStatus, PoolEntry
from subscribers.applications import submit
from subscribers.staff_models import StaffAction
from tests.apply.support import answers
from tests.console.conftest import SignedInClient
from tests.console.support import post_form
from tests.mailserver import MailServer
from tests.web.support import text_of


async def _submitted(email: str = "rosa@example.com", language: str = "es") -> Application:
    application = await Application.create(email=email, language=language)
    async with in_transaction():
        done = await submit(application.id, answers(contact_email=email, legal_name="Costura Rosa"))
    assert done.screening is not None
    return application


async def _mail_to(server: MailServer, address: str, count: int) -> list[str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mine = server.handler.messages_to(address)
        if len(mine) >= count:
            return [text_of(item.message).replace("\r\n", "\n") for item in mine]
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} messages to {address}")


async def test_an_editor_asks_for_information_then_qualifies(
    signed_in: SignedInClient, mail_server: MailServer, client: httpx.AsyncClient
) -> None:
    application = await _submitted()
    editor = await signed_in("maria@lacounty.gov", "editor")
    queue = await editor.get("/staff/applications")
    assert queue.status_code == 200
    assert "Costura Rosa" in queue.text
    page_path = f"/staff/applications/{application.id}"
    page = await editor.get(page_path)
    assert "Screening checks" in page.text and "LACC" in page.text

    empty = await post_form(editor, page_path, f"{page_path}/decide", {"decision": "ask", "text": ""})
    assert empty.status_code == 400
    assert "Write the request" in empty.text

    asked = await post_form(
        editor,
        page_path,
        f"{page_path}/decide",
        {"decision": "ask", "text": "Envíe su número de registro vigente."},
    )
    assert asked.status_code == 303
    assert (await Application.get(id=application.id)).status == ApplicationStatus.INFO_REQUESTED
    [mail] = await _mail_to(mail_server, "rosa@example.com", 1)
    assert "necesita más información" in mail
    assert "Envíe su número de registro vigente." in mail
    assert "/application/" in mail  # the link back

    # The applicant opens the link: the request is on the form, which is open again.
    link = mail.split("http://testserver", 1)[1].split()[0]
    form = await client.get(link)
    assert "El personal del DEO pidió más información" in form.text
    assert "Envíe su número de registro vigente." in form.text

    qualified = await post_form(editor, page_path, f"{page_path}/decide", {"decision": "qualify", "text": ""})
    assert qualified.status_code == 303
    entry = await PoolEntry.get(application_id=application.id)
    assert entry.name == "Costura Rosa" and entry.category == "315"
    mails = await _mail_to(mail_server, "rosa@example.com", 2)
    assert "fue calificado" in mails[1]

    marked = await post_form(editor, page_path, f"{page_path}/locally-owned", {"locally_owned": "yes"})
    assert marked.status_code == 303
    assert (await PoolEntry.get(id=entry.id)).locally_owned

    actions = (
        await StaffAction.filter(action__startswith="application.")
        .order_by("id")
        .values_list("action", "actor")
    )
    assert actions == [
        ("application.info_requested", "maria@lacounty.gov"),
        ("application.qualified", "maria@lacounty.gov"),
        ("application.locally_owned", "maria@lacounty.gov"),
    ]

    found = await editor.get("/staff/pool?q=camisetas")
    assert "Costura Rosa" in found.text and "rosa@example.com" in found.text and "Locally Owned" in found.text
    export = await editor.get("/staff/pool.csv?q=uniformes")
    assert export.status_code == 200 and "Costura Rosa" in export.text and "rosa@example.com" in export.text
    products = await editor.get("/staff/pool/products")
    assert "Clothing and apparel" in products.text
    products_csv = await editor.get("/staff/pool/products.csv")
    assert "315,Clothing and apparel,Ropa y prendas de vestir,1,1," in products_csv.text


async def test_a_decline_tells_the_applicant_politely(
    signed_in: SignedInClient, mail_server: MailServer
) -> None:
    application = await _submitted("joe@example.com", "en")
    editor = await signed_in("maria@lacounty.gov", "editor")
    page_path = f"/staff/applications/{application.id}"
    declined = await post_form(
        editor,
        page_path,
        f"{page_path}/decide",
        {"decision": "decline", "text": "Production is outside Los Angeles County."},
    )
    assert declined.status_code == 303
    [mail] = await _mail_to(mail_server, "joe@example.com", 1)
    assert "Thank you for applying" in mail and "Production is outside Los Angeles County." in mail
    again = await post_form(editor, page_path, f"{page_path}/decide", {"decision": "qualify", "text": ""})
    assert again.status_code == 400
    assert "is declined" in again.text and "be decided now" in again.text
    assert not await PoolEntry.filter(application_id=application.id).exists()


async def test_a_viewer_reads_but_cannot_decide(signed_in: SignedInClient) -> None:
    application = await _submitted()
    viewer = await signed_in("val@lacounty.gov", "viewer")
    page_path = f"/staff/applications/{application.id}"
    page = await viewer.get(page_path)
    assert page.status_code == 200
    assert "Record the decision" not in page.text
    refused = await post_form(viewer, page_path, f"{page_path}/decide", {"decision": "qualify", "text": ""})
    assert refused.status_code == 403
    assert (await Application.get(id=application.id)).status == ApplicationStatus.SUBMITTED
    assert (await viewer.get("/staff/pool")).status_code == 200
    assert (await viewer.get("/staff/pool.csv")).status_code == 403  # contact addresses: editors
    assert (await viewer.get("/staff/applications/999999")).status_code == 404
    assert (await viewer.get("/staff/applications?status=nonsense")).status_code == 400
