"""Coming back after leaving, end to end: a person who unsubscribed and signs up again gets their
confirmation while still on the suppression list, and leaves the list only by confirming."""

from __future__ import annotations

import httpx

from subscribers.addresses import email_hash
from subscribers.models import Status, Subscriber, Suppression
from subscribers.signup import confirm, unsubscribe
from tests.mailserver import MailServer
from tests.web.support import csrf_token, link_in, submit_signup, wait_for_mail


async def test_a_person_who_left_can_sign_up_again_by_confirming(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    await submit_signup(client, email="eve@example.com")
    await wait_for_mail(mail_server, 1)
    person = await Subscriber.get(email="eve@example.com")
    await confirm(person.id)
    await unsubscribe(person.id)
    await Subscriber.filter(id=person.id).update(confirmation_sent_at=None)  # the resend window is over

    await submit_signup(client, email="eve@example.com", name="Someone Else")
    [_, again] = await wait_for_mail(mail_server, 2)
    suppressed = Suppression.filter(email_hash=email_hash("eve@example.com"))
    assert (await Subscriber.get(id=person.id)).status == Status.PENDING and await suppressed.exists()
    path = link_in(again, "confirm")
    page = await client.get(path)
    done = await client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 303
    assert (await Subscriber.get(id=person.id)).status == Status.ACTIVE
    assert not await suppressed.exists()
    assert (await Subscriber.get(id=person.id)).name == "Ana López"  # kept: the earlier, confirmed name
