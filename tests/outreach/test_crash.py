"""`kill -9` of `madeinla serve` in the middle of a campaign loses nothing.

The service runs as a user runs it (a subprocess, on PostgreSQL, mail to aiosmtpd in this process).
It is killed three times while sending and restarted each time. In the end everyone has the
campaign, and the crashes caused at most SMTP_POOL_SIZE duplicates each: only messages the server had
taken whose outcome wasn't written yet can go twice, and a worker writes its last outcome before
it hands the server its next message.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from pathlib import Path

import pytest

from bot.settings import Settings
from outreach.models import Campaign, CampaignStatus, Delivery, DeliveryState
from subscribers.models import Language, Role, Status, Subscriber
from tests.mailserver import MailServer, free_port
from tests.outreach.sending import service_environment, spawn, started_campaign, stop, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RECIPIENTS = 3000
POOL = 4


async def add_people(count: int) -> set[str]:
    await Subscriber.bulk_create(
        [
            Subscriber(
                email=f"person{i}@example.com",
                name=f"Persona {i}",
                role=Role.MANUFACTURER,
                language=Language.ES if i % 2 else Language.EN,
                topic_pilot_updates=True,
                status=Status.ACTIVE,
                consent_at=dt.datetime.now(dt.UTC),
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
    return {f"person{i}@example.com" for i in range(count)}


def duplicates(server: MailServer) -> int:
    return sum(n - 1 for n in server.handler.count_by_recipient().values())


async def test_kill_9_mid_campaign_loses_nothing_and_duplicates_at_most_the_pool(
    db: str, settings: Settings, mail_server: MailServer, tmp_path: Path
) -> None:
    everyone = await add_people(RECIPIENTS)
    campaign = await started_campaign(settings)
    env = service_environment(
        settings,
        mail_server.port,
        SMTP_POOL_SIZE=str(POOL),
        SEND_LEASE_SECONDS="5",  # the smallest allowed: a restart takes the dead process's rows soon
        SEND_BATCH_SIZE="100",
        SWEEP_INTERVAL_SECONDS="1",
    )
    log = tmp_path / "serve.log"
    per_crash = []  # duplicates that appeared between one kill and the next
    before, dead = 0, set()
    killed_mid_send = 0
    for target in (RECIPIENTS // 4, RECIPIENTS // 2, 3 * RECIPIENTS // 4):
        service = spawn(["serve", "--port", str(free_port())], env, log)
        try:

            async def progressed(target: int = target, dead: set[str] = dead, service=service) -> bool:  # type: ignore[no-untyped-def]
                assert service.poll() is None, log.read_text()[-3000:]
                # Also wait until the dead process's rows are taken over, so its duplicates are
                # counted against its own crash.
                left = await Delivery.filter(state=DeliveryState.SENDING, claimed_by__in=dead).exists()
                return not left and len(mail_server.handler.count_by_recipient()) >= target

            await wait_until(progressed, within=60, what=f"{target} people have mail")
            os.kill(service.pid, signal.SIGKILL)
            service.wait(10)
        finally:
            stop(service)
        now = duplicates(mail_server)
        per_crash.append(now - before)
        before = now
        dead = set(await Delivery.filter(state=DeliveryState.SENDING).values_list("claimed_by", flat=True))
        killed_mid_send += bool(dead)  # it held claimed rows (a kill between two passes holds none)

    service = spawn(["serve", "--port", str(free_port())], env, log)
    try:

        async def finished() -> bool:
            assert service.poll() is None, log.read_text()[-3000:]
            return (await Campaign.get(id=campaign.id)).status == CampaignStatus.FINISHED

        await wait_until(finished, within=240, what="the campaign is finished")
    finally:
        stop(service)
    per_crash.append(duplicates(mail_server) - before)

    counts = mail_server.handler.count_by_recipient()
    assert killed_mid_send >= 2, killed_mid_send  # the test did crash the service mid-send
    assert set(counts) == everyone  # everyone got the campaign
    assert per_crash[0] == 0  # nothing had crashed before the first kill
    # Each kill leaves at most POOL messages at the server without their outcome on disk. Which
    # interval counts a copy can shift (a message still in the server's buffers at a kill, or rows a
    # short-lived run didn't get to take over), so the bound holds for the run as a whole.
    assert sum(per_crash) <= POOL * (len(per_crash) - 1), per_crash
    rows = await Delivery.filter(campaign_id=campaign.id).values_list("state", "message_id", "address")
    assert {state for state, _, _ in rows} == {DeliveryState.SENT}
    # A copy sent twice is the same message: same Message-ID, so mail programs show it once.
    ids = {address: message_id for _, message_id, address in rows}
    for received in mail_server.received:
        assert received.message["Message-ID"] == ids[received.rcpt_tos[0]]
    print(f"duplicates per crash (pool {POOL}): {per_crash[1:]}")
