"""Issue 11: a test send's unsubscribe link points at the staff member's own test, not at a
subscriber (it used to sign subscriber 0), and following it, or one-click posting it, changes
nothing."""

from __future__ import annotations

import re

import httpx

from bot.runtime import Runtime
from outreach import campaigns as service
from subscribers.models import Status, Subscriber
from subscribers.tokens import Purpose
from tests.mailserver import MailServer
from tests.outreach.people import person

LINK = re.compile(r"http://localhost(/test-send/[A-Za-z0-9._-]+)")


async def test_a_test_sends_links_lead_to_the_test_itself(
    app: object, client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    runtime: Runtime = app.state.runtime  # type: ignore[attr-defined]
    staff = await person("staff@example.gov")  # on the list too: the test must not touch that
    campaign = await service.create_campaign(
        kind="pilot_update",
        template="pilot_update",
        name="December update",
        builder=runtime.builder,
        immediately=True,
        created_by="t",
    )
    result = await service.test_send(
        campaign.id, "staff@example.gov", builder=runtime.builder, transport=runtime.transport
    )
    assert result.sent
    [received] = mail_server.handler.messages_to("staff@example.gov")
    message = received.message
    header = message["List-Unsubscribe"].strip()
    [path] = LINK.findall(header)
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert path in body and "/unsubscribe/" not in body and "/preferences/" not in body
    assert message["List-Id"] == "Made in LA pilot update <pilot-update.example.gov>"

    page = await client.get(path)
    assert page.status_code == 200
    assert "This was a test email" in page.text and f"campaign #{campaign.id}" in page.text
    one_click = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert (await Subscriber.get(id=staff.id)).status == Status.ACTIVE
    spanish = await client.get(path + "?lang=es")
    assert "Este fue un correo de prueba" in spanish.text

    forged = await client.get("/test-send/" + "x" * 40)
    assert forged.status_code == 400
    # A real subscriber's manage token is no test-send token (the purpose is the signing salt).
    manage = runtime.signer.sign(Purpose.MANAGE, staff.id)
    assert (await client.get(f"/test-send/{manage}")).status_code == 400
