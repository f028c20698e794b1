"""A sending campaign outside SEND_WINDOW says so on its console page, in the list, and in
`madeinla campaigns show`. The window is a day other than today in Los Angeles, so the test holds
whenever it runs."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.settings import Settings, load_settings
from outreach.windows import DAYS, LOS_ANGELES
from tests.cli.test_cli_campaigns import _db, cli, env  # noqa: F401 (env: the CLI's fixture)
from tests.console.conftest import SignedInClient
from tests.console.test_campaigns import sending_campaign

TOMORROW = DAYS[(dt.datetime.now(LOS_ANGELES).weekday() + 1) % 7].capitalize()


@pytest.fixture
def smtp_settings(smtp_settings: Settings) -> Settings:
    return load_settings(**{**smtp_settings.model_dump(), "send_window": f"{TOMORROW} 09:00-10:00"})


async def test_a_campaign_outside_the_window_says_it_waits(signed_in: SignedInClient) -> None:
    campaign = await sending_campaign(size=2)
    viewer = await signed_in("v@lacounty.gov", "viewer")
    page = await viewer.get(f"/staff/campaigns/{campaign.id}")
    assert page.status_code == 200
    assert f"Waiting: outside the send window ({TOMORROW} 09:00-10:00); goes on at " in page.text
    assert "09:00 P" in page.text  # PST or PDT, Los Angeles time
    listing = await viewer.get("/staff/campaigns")
    assert "(waiting for the send window)" in listing.text


def test_campaigns_show_says_it_waits(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("SEND_WINDOW", f"{TOMORROW} 09:00-10:00")

    async def sending() -> int:
        return (await sending_campaign(size=1)).id

    campaign_id = _db(env["DATABASE_URL"], sending)
    shown = cli("show", str(campaign_id))
    assert shown.exit_code == 0, shown.output
    assert f"waiting:   outside the send window ({TOMORROW} 09:00-10:00); goes on at " in shown.stdout
    data = json.loads(cli("show", str(campaign_id), "--json").stdout)
    assert data["waiting"] and data["window_opens_at"] and data["send_window"] == f"{TOMORROW} 09:00-10:00"
