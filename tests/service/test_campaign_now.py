"""A campaign created with `--now` from the CLI starts at once in the serving process, not at the
next sweep (SWEEP_INTERVAL_SECONDS is 10 minutes here, so only the schedule watch can start it)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from bot.db import database
from bot.settings import Settings
from outreach.models import Campaign, CampaignStatus
from tests.conftest import ON_POSTGRES
from tests.outreach.people import person
from tests.service.process import clean_environment, madeinla, running_service


async def _status(url: str, campaign_id: int) -> CampaignStatus:
    async with database(url):
        return (await Campaign.get(id=campaign_id)).status


async def _prepare(url: str) -> None:
    async with database(url):
        if ON_POSTGRES:
            from tortoise.contrib.test import truncate_all_models

            await truncate_all_models()
        await person("ana@example.com", language="es")


def test_a_campaign_created_now_starts_within_moments(settings: Settings, tmp_path: Path) -> None:
    """The CLI creates it; `madeinla serve` starts it well before its next sweep would."""
    url = settings.database_url
    asyncio.run(_prepare(url))
    env = clean_environment(
        DATABASE_URL=url,
        DATA_DIR=str(tmp_path / "data"),
        SECRET_KEY="cli-test-secret-0123456789",
        SWEEP_INTERVAL_SECONDS="600",
    )
    with running_service(env, tmp_path) as service:
        time.sleep(1)  # past the sweep serve runs as it starts
        what = ["--kind", "pilot_update", "--template", "pilot_update"]
        created = madeinla(["campaigns", "create", *what, "--now", "--json"], env, tmp_path)
        assert created.returncode == 0, created.stderr
        campaign_id = json.loads(created.stdout)["id"]
        started = time.monotonic()
        while asyncio.run(_status(url, campaign_id)) == CampaignStatus.SCHEDULED:
            assert time.monotonic() - started < 30, service.output()
            time.sleep(0.1)
        print(f"started {time.monotonic() - started:.2f}s after the CLI returned")
