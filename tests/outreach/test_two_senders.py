"""Two `madeinla worker` processes share one campaign on PostgreSQL: both work, nobody gets two."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from outreach.models import Campaign, CampaignStatus, Delivery, DeliveryState
from tests.mailserver import MailServer
from tests.outreach.sending import service_environment, spawn, started_campaign, stop, wait_until
from tests.outreach.test_crash import add_people

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


async def test_two_workers_share_a_campaign_without_sending_anything_twice(
    db: str, settings: Settings, mail_server: MailServer, tmp_path: Path
) -> None:
    everyone = await add_people(2000)
    campaign = await started_campaign(settings)
    env = service_environment(settings, mail_server.port, SEND_BATCH_SIZE="50", SWEEP_INTERVAL_SECONDS="1")
    log = tmp_path / "workers.log"
    workers = [spawn(["worker"], env, log) for _ in range(2)]
    try:

        async def finished() -> bool:
            for worker in workers:
                assert worker.poll() is None, log.read_text()[-3000:]
            return (await Campaign.get(id=campaign.id)).status == CampaignStatus.FINISHED

        await wait_until(finished, within=240, what="the campaign is finished")
    finally:
        for worker in workers:
            stop(worker)
    assert all(worker.returncode == 0 for worker in workers), log.read_text()[-3000:]

    counts = mail_server.handler.count_by_recipient()
    assert set(counts) == everyone
    assert set(counts.values()) == {1}
    rows = await Delivery.filter(campaign_id=campaign.id).values_list("state", "claimed_by")
    assert {state for state, _ in rows} == {DeliveryState.SENT}
    by_worker: dict[str, int] = {}
    for _, worker_id in rows:
        by_worker[worker_id] = by_worker.get(worker_id, 0) + 1
    assert len(by_worker) == 2, by_worker  # both processes did part of the work
    assert min(by_worker.values()) > 100, by_worker
