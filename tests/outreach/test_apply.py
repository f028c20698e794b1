"""The application invitation's personal link: followed once → recorded, then on to the application."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest

from outreach.models import Campaign, Delivery
from subscribers.tokens import Purpose
from tests.outreach.people import person


async def _invitation(language: str = "en") -> Delivery:
    ana = await person("ana@example.com", language=language)
    campaign = await Campaign.create(kind="application_invitation", template="application_invitation")
    return await Delivery.create(
        campaign=campaign,
        subscriber=ana,
        address=ana.email,
        template="application_invitation",
        language=language,
        next_attempt_at=dt.datetime.now(dt.UTC),
    )


async def test_following_the_link_records_the_first_click_and_redirects(
    app, client: httpx.AsyncClient
) -> None:
    delivery = await _invitation()
    token = app.state.runtime.signer.sign(Purpose.INVITATION, delivery.id)
    response = await client.get(f"/apply/{token}")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/application/")  # their own application
    assert response.headers["referrer-policy"] == "no-referrer"
    first = (await Delivery.get(id=delivery.id)).clicked_at
    assert first is not None
    again = await client.get(f"/apply/{token}")
    assert again.status_code == 303
    assert (await Delivery.get(id=delivery.id)).clicked_at == first  # only the first click counts


async def test_spanish_invitations_land_on_the_spanish_page(app, client: httpx.AsyncClient) -> None:
    delivery = await _invitation("es")
    token = app.state.runtime.signer.sign(Purpose.INVITATION, delivery.id)
    response = await client.get(f"/apply/{token}")
    assert response.headers["location"].endswith("?lang=es")
    page = await client.get(response.headers["location"])
    assert page.status_code == 200
    assert "Solicite participar en el programa piloto Made in Los Angeles" in page.text
    assert 'value="ana@example.com"' in page.text  # prefilled: the contact address


async def test_the_application_url_setting_is_where_people_go(app, client: httpx.AsyncClient) -> None:
    app.state.settings.application_url = "https://apply.example.gov/made-in-la"
    delivery = await _invitation()
    token = app.state.runtime.signer.sign(Purpose.INVITATION, delivery.id)
    response = await client.get(f"/apply/{token}")
    assert response.headers["location"] == "https://apply.example.gov/made-in-la"


@pytest.mark.parametrize(
    "token",
    ["nonsense", "MQ.abc.def", "x" * 400, "%3Cscript%3E"],
)
async def test_a_damaged_link_gets_a_friendly_page(app, client: httpx.AsyncClient, token: str) -> None:
    response = await client.get(f"/apply/{token}")
    assert response.status_code == 400
    assert "This link does not work" in response.text
    assert "http://testserver/apply" in response.text
    assert await Delivery.filter(clicked_at__isnull=False).count() == 0


async def test_another_purposes_token_is_refused(app, client: httpx.AsyncClient) -> None:
    delivery = await _invitation()
    manage = app.state.runtime.signer.sign(Purpose.MANAGE, delivery.id)
    assert (await client.get(f"/apply/{manage}")).status_code == 400
    assert (await Delivery.get(id=delivery.id)).clicked_at is None


async def test_an_expired_link_says_so_and_still_points_to_the_application(
    app, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivery = await _invitation()
    long_ago = time.time() - 401 * 24 * 3600
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: long_ago)
        token = app.state.runtime.signer.sign(Purpose.INVITATION, delivery.id)
    response = await client.get(f"/apply/{token}", headers={"accept-language": "es-MX,es;q=0.9"})
    assert response.status_code == 400
    assert "Este enlace ha vencido" in response.text
    assert (await Delivery.get(id=delivery.id)).clicked_at is None


async def test_a_link_to_a_delivery_that_is_gone_still_leads_on(app, client: httpx.AsyncClient) -> None:
    token = app.state.runtime.signer.sign(Purpose.INVITATION, 987654)
    response = await client.get(f"/apply/{token}")
    assert response.status_code == 303
