"""The background sender: claim due deliveries, build each message, send it, record the answer.

It runs inside `madeinla serve` (and alone in `madeinla worker`). Web requests only write a
delivery row and `wake()` the sender, so no request ever waits on the mail server.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import socket
from collections.abc import Callable

from bot.settings import Settings
from outreach.mailer import MailTransport, Outcome, SendResult
from outreach.messages import MessageBuilder, Recipient
from outreach.models import DeliveryState, Priority
from outreach.queue import ClaimedDelivery, claim_due_deliveries, mark_deferred, mark_final, mark_sent, utcnow
from outreach.rendering import TemplateError
from subscribers.models import Status, Subscriber
from subscribers.registry import change_status

log = logging.getLogger(__name__)

# Who may still receive what: campaign mail only reaches active people; a confirmation email is
# exactly for a person who is still pending.
ALLOWED_STATUSES = {
    Priority.TRANSACTIONAL: {Status.PENDING.value, Status.ACTIVE.value},
    Priority.BULK: {Status.ACTIVE.value},
}


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Sender:
    def __init__(
        self,
        settings: Settings,
        transport: MailTransport,
        builder: MessageBuilder,
        *,
        worker_id: str | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.builder = builder
        self.worker_id = worker_id or default_worker_id()
        self.clock = clock
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Ask the sender to look for work now (a confirmation was just queued)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, idle_seconds: float = 1.0) -> None:
        while not stop.is_set():
            try:
                sent = await self.send_due()
            except Exception:  # a database hiccup must not kill the loop; the lease protects the rows
                log.exception("sender pass failed; retrying")
                sent = 0
            if sent:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(idle_seconds):
                    await _first(self._wake.wait(), stop.wait())

    async def send_due(self) -> int:
        """Send one batch of due deliveries; returns how many were handled."""
        now = self.clock()
        batch = await claim_due_deliveries(
            self.worker_id,
            self.settings.send_batch_size,
            now=now,
            lease_seconds=self.settings.send_lease_seconds,
        )
        if batch:
            await asyncio.gather(*(self._deliver(item) for item in batch))
        return len(batch)

    async def _deliver(self, item: ClaimedDelivery) -> None:
        allowed = ALLOWED_STATUSES[Priority.TRANSACTIONAL if item.priority < Priority.BULK else Priority.BULK]
        if not item.address or (item.subscriber_id is not None and item.status not in allowed):
            await mark_final(
                item.id, DeliveryState.SUPPRESSED, reply=f"not sent: subscriber is {item.status or 'erased'}"
            )
            return
        recipient = Recipient(
            address=item.address,
            subscriber_id=item.subscriber_id,
            name=item.name,
            organization=item.organization,
            role=item.role,
            language=item.language,
        )
        try:
            message = self.builder.build(
                item.template,
                recipient,
                list_mail=item.campaign_id is not None,
                delivery_id=item.id if item.campaign_id is not None else None,
                extra=item.context,
            )
        except TemplateError as exc:
            await mark_final(item.id, DeliveryState.FAILED, reply=str(exc)[:500])
            return
        result = await self.transport.send(message)
        await self._record(item, result, message.message_id)

    async def _record(self, item: ClaimedDelivery, result: SendResult, message_id: str) -> None:
        now = self.clock()
        if result.outcome is Outcome.SENT:
            await mark_sent(item.id, reply=result.reply, message_id=message_id, now=now)
        elif result.outcome is Outcome.PERMANENT:
            await mark_final(item.id, DeliveryState.FAILED, reply=result.reply)
            if item.subscriber_id is not None:
                subscriber = await Subscriber.get_or_none(id=item.subscriber_id)
                if subscriber is not None:
                    await change_status(subscriber, Status.BOUNCED, actor="sender")
        else:
            give_up_at = item.created_at + dt.timedelta(hours=self.settings.retry_for_hours)
            retry_at = now + dt.timedelta(seconds=self.backoff_seconds(item.attempts))
            if retry_at > give_up_at:
                await mark_final(
                    item.id, DeliveryState.FAILED, reply=f"gave up retrying: {result.reply}"[:500]
                )
            else:
                await mark_deferred(item.id, reply=result.reply, retry_at=retry_at)
            if result.outcome is Outcome.CONFIG:
                log.error("mail server refused our configuration: %s", result.reply)

    def backoff_seconds(self, attempts: int) -> float:
        """Exponential backoff with full jitter: base * 2^(attempt-1), at most six hours."""
        ceiling = min(self.settings.retry_base_seconds * 2 ** max(attempts - 1, 0), 6 * 3600)
        return random.uniform(ceiling / 2, ceiling)


async def _first(*aws: object) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]  # type: ignore[arg-type]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
