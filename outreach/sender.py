"""The background sender: claim due deliveries, build each message, send it, record the answer.

It runs inside `madeinla serve` and alone in `madeinla worker`; on PostgreSQL any number of them,
on any number of machines, share the work (claims skip rows another process holds). Web requests
only write a delivery row and `wake()` the sender, so no request waits on the mail server.

One pass (`send_due`):

1. Reserve rate-limit budget (outreach.ratelimit), then claim a batch: transactional mail first,
   then the campaigns that are `sending`, oldest first (outreach.queue).
2. Up to SMTP_POOL_SIZE workers each take the next delivery, build its message (for a campaign,
   from a compiled skeleton: outreach.compose), send it, and hand the outcome to the recorder. A
   worker builds its next message before sending the current one, so the next envelope can travel
   with this content (outreach.smtp: one write and one round trip a message).
3. The recorder writes outcomes in groups (one UPDATE, one commit, for every worker's outcome; on
   PostgreSQL on a connection the pass holds), and a worker hands the server its next message's
   content only once the outcome of its previous one is written. So at any moment at most
   SMTP_POOL_SIZE messages have reached the mail server without their outcome being on disk: after
   a `kill -9`, those are the only ones that can go out twice (with the same Message-ID, so mail
   programs show them once). On PostgreSQL a worker builds its next message during that commit.
4. Once half the batch is left, and the server has taken a message since the last claim, the next
   batch is claimed in the background (budget and transactional mail first, as in 1; what it
   brings that is transactional goes to the front): the connections never wait for a claim, and
   the pass goes on until the queue is empty, the budget is spent, or something stops it.
5. Meanwhile a watcher renews the leases of what the pass still holds and re-reads the campaigns'
   statuses twice a second: a campaign paused mid-pass stops within half a second, and what it
   didn't send goes back to the queue.

What the mail server says decides what happens next (outreach.mailer.classify_reply): sent; a
temporary failure is retried with exponential backoff and jitter until RETRY_FOR_HOURS after the
delivery was created; a refusal of the recipient fails the delivery and marks the person bounced
(which suppresses the address); a refusal of the message itself (a content filter, a policy)
fails the delivery and leaves the person alone, and REFUSALS_BEFORE_PAUSE of them pause the
campaign (it is our message or our account); a quota or rate-limit reply holds all sending until
the next hour, the message and the rest of the pass deferred to then without spending attempts; a problem
with our own configuration (authentication, TLS, our sender address refused) pauses every sending
campaign with the reason and keeps transactional mail waiting, without spending its attempts; a
server that can't be reached at all defers the whole batch rather than trying each message. A
campaign whose failure rate passes FAILURE_PAUSE_RATIO pauses itself.

Campaign mail goes out only inside SEND_WINDOW (outreach.windows): outside it no campaign is
claimed, and a pass that reaches the window's end puts what it holds back in the queue. Campaign
mail to a domain with a SEND_RATE_PER_DOMAIN limit takes that domain's budget as it is claimed;
what is over it goes back to the queue until the domain's window ends.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import functools
import json
import logging
import os
import random
import re
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, overload

from outreach.campaigns import complete_finished_campaigns, message_context, pause_campaign
from outreach.compose import CompiledCampaign
from outreach.mailer import MailTransport, Outcome, OutgoingMessage, SendResult
from outreach.messages import MessageBuilder, Recipient
from outreach.models import Campaign, CampaignStatus, DeliveryState, Priority
from outreach.queue import (
    ClaimedDelivery,
    DeliveryUpdate,
    QueueConnection,
    campaign_statuses,
    campaign_tally,
    claim_lane,
    default_connection,
    held_connection,
    record_results,
    renew_leases,
    sending_campaigns,
    utcnow,
)
from outreach.ratelimit import DomainBudget, Reservation, SendBudget
from outreach.rendering import TemplateError, one_line
from outreach.windows import DomainLimit, SendWindow
from subscribers.models import Status

log = logging.getLogger(__name__)

# Who may still receive what: campaign mail only reaches active people; a confirmation email is
# exactly for a person who is still pending.
ALLOWED_STATUSES = {
    Priority.TRANSACTIONAL: {Status.PENDING.value, Status.ACTIVE.value},
    Priority.BULK: {Status.ACTIVE.value},
}
WATCH_SECONDS = 0.5  # how often a pass re-reads campaign statuses (pause latency)
TALLY_SECONDS = 60.0  # how often a campaign's sent/failed counts are re-read (other processes' work)
MAX_BACKOFF_SECONDS = 6 * 3600
MAX_CONFIG_BACKOFF_SECONDS = 300
MAX_HOLD_SECONDS = 60  # during an outage, look again at least this often
SENDING = CampaignStatus.SENDING.value
CANCELLED = CampaignStatus.CANCELLED.value
_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")
GROUP_COMMIT_SECONDS = 0.001  # how long the recorder waits for every worker's outcome to be in
REFUSALS_BEFORE_PAUSE = 3  # refusals of the message itself (not the address) that pause a campaign


def next_hour(now: dt.datetime) -> dt.datetime:
    """When sending resumes after a quota reply: relays count quotas per minute, hour or day, and
    one message an hour is a cheap way to find out which it was."""
    return now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SendOptions:
    """How the sender paces, retries and gives up (`bot.runtime` makes it from the SEND_*, RETRY_*
    and FAILURE_PAUSE_* settings; see the README's settings table for what each means)."""

    batch_size: int
    lease_seconds: int
    rate_per_minute: int  # 0: no limit
    rate_per_hour: int
    retry_base_seconds: float
    retry_for_hours: float
    failure_pause_ratio: float
    failure_pause_min_attempts: int
    # SEND_WINDOW: when campaign mail may go out (here by default always; the setting's default is
    # weekday office hours), and SEND_RATE_PER_DOMAIN.
    window: SendWindow = field(default_factory=SendWindow)
    domain_limits: Mapping[str, DomainLimit] = field(default_factory=dict)


def default_worker_id() -> str:
    return f"{socket.gethostname()[:48]}:{os.getpid()}"


@dataclass
class _Tally:
    """A campaign's sent and failed counts as this process knows them, for its failure rate."""

    sent: int
    failed: int
    read_at: float
    paused: bool = False


class Sender:
    def __init__(
        self,
        options: SendOptions,
        transport: MailTransport,
        builder: MessageBuilder,
        *,
        worker_id: str | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        envelope_sender: Callable[[int], str] | None = None,
    ) -> None:
        self.options = options
        # With BOUNCE_ADDRESS: a delivery's envelope sender (VERP, outreach.bounces.verp) names it.
        self.envelope_sender = envelope_sender
        self.transport = transport
        self.builder = builder
        self.worker_id = (worker_id or default_worker_id())[:64]
        self.clock = clock
        self.budget = SendBudget(options.rate_per_minute, options.rate_per_hour)
        self.window = options.window
        self.domains = DomainBudget(dict(options.domain_limits))
        self.quota_until: dt.datetime | None = None  # after a quota reply: no sending before this
        self._refusals: dict[int, int] = {}  # campaign id -> refusals of the message since its last pause
        self._wake = asyncio.Event()
        self._compiled: dict[int, tuple[tuple[Any, ...], CompiledCampaign]] = {}
        self._tallies: dict[int, _Tally] = {}
        self._config_backoff = 0.0
        self._config_reply = ""
        self._outage = 0  # consecutive passes that found the mail server unreachable
        self._hold_until = 0.0  # (monotonic) during an outage: don't claim again before this

    def wake(self) -> None:
        """Ask the sender to look for work now (a confirmation was just queued)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, idle_seconds: float = 1.0) -> None:
        worked = False
        while not stop.is_set():
            try:
                handled = await self.send_due(stop)
                if not handled and worked:  # the queue just ran dry: some campaigns may be done
                    worked = False
                    await complete_finished_campaigns(self.clock())
            except Exception:  # a database hiccup must not kill the loop; the leases protect the rows
                log.exception("sender pass failed; retrying")
                handled = 0
            if handled:
                worked = True
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(idle_seconds):
                    await _first(self._wake.wait(), stop.wait())

    async def send_due(self, stop: asyncio.Event | None = None) -> int:
        """Send a batch of due deliveries, and while the mail server keeps taking them, the batches
        after it (each claimed while the one before is still going out). Returns how many were
        handled."""
        if time.monotonic() < self._hold_until:
            return 0  # the mail server was unreachable a moment ago: don't churn through the queue
        if self.quota_until is not None:
            if self.clock() < self.quota_until:
                return 0  # the relay said we are over our quota
            self.quota_until = None
        async with held_connection() as conn:
            items, reservation = await self._claim(conn, self.clock())
            if not items:
                return 0
            batch = _Pass(self, conn, stop)
            try:
                await batch.run(items, reservation)
            finally:
                await self._give_back(batch)
        return batch.claimed

    async def _give_back(self, batch: _Pass) -> None:
        """Budget the relay never used goes back, also when a pass fails or is cancelled: then what
        is still in its queue was never sent (it stays leased and a later pass claims it anew).
        What the workers had in hand (two messages each at most) stays counted: erring on the
        side of sending less."""
        try:
            for reservation, unused in batch.unused_budget():
                await self.budget.give_back(reservation, unused)
        except Exception:  # the budget only errs on the side of sending less; never fail for it
            log.warning("could not give back unused sending budget", exc_info=True)

    async def _claim(
        self, conn: QueueConnection, now: dt.datetime
    ) -> tuple[list[ClaimedDelivery], Reservation]:
        """Transactional mail first, then campaigns in the order they started, within the budget."""
        size, lease = self.options.batch_size, self.options.lease_seconds
        items: list[ClaimedDelivery] = []
        grant = await self.budget.reserve(size, now=now, transactional=True)
        if grant.count:
            items += await claim_lane(
                self.worker_id, grant.count, now=now, lease_seconds=lease, campaign_id=None, conn=conn
            )
            await self.budget.give_back(grant, grant.count - len(items))
        last = grant
        if not self.window.is_open(now):
            return items, last  # outside SEND_WINDOW: transactional mail only
        for campaign_id in await sending_campaigns(conn):
            room = size - len(items)
            if room <= 0:
                break
            grant = await self.budget.reserve(room, now=now, transactional=False)
            if not grant.count:
                break
            got = await claim_lane(
                self.worker_id,
                grant.count,
                now=now,
                lease_seconds=lease,
                campaign_id=campaign_id,
                conn=conn,
            )
            await self.budget.give_back(grant, grant.count - len(got))
            items += got
            last = grant
        return items, last

    # What to send, and what the answer means ------------------------------------------------------

    def unsendable(self, item: ClaimedDelivery) -> str | None:
        """Why this delivery must not be sent any more (the person left, bounced, was erased)."""
        if not item.address or (item.campaign_id is not None and item.subscriber_id is None):
            return "the person was erased"
        lane = Priority.TRANSACTIONAL if item.priority < Priority.BULK else Priority.BULK
        if item.subscriber_id is not None and item.status not in ALLOWED_STATUSES[lane]:
            return f"subscriber is {item.status or 'erased'}"
        if item.suppressed and not _rejoining(item):
            return f"the address is on the suppression list ({item.suppressed})"
        return None

    def message(self, item: ClaimedDelivery, campaign: CompiledCampaign | None) -> OutgoingMessage:
        """Raises TemplateError when the template doesn't render."""
        recipient = Recipient(
            address=item.address,
            subscriber_id=item.subscriber_id,
            name=one_line(item.name),  # a name is one line: no line breaks to smuggle anywhere
            organization=one_line(item.organization),
            role=item.role,
            language=item.language,
            topics=item.topics,
        )
        message_id = self.builder.delivery_message_id(item.id)
        if campaign is None:
            message = self.builder.build(
                item.template, recipient, list_mail=False, extra=item.context, message_id=message_id
            )
        else:
            message = campaign.message(recipient, delivery_id=item.id, message_id=message_id)
        if self.envelope_sender is not None:
            message = replace(message, sender=self.envelope_sender(item.id))
        return message

    def compiled_campaign(self, row: dict[str, Any]) -> CompiledCampaign:
        """A campaign's compiled messages, kept while its template, subject and values stay the same."""
        key = (row["template"], row["subject"], json.dumps(row["context"], sort_keys=True), str(row["kind"]))
        cached = self._compiled.get(row["id"])
        if cached is None or cached[0] != key:
            campaign = Campaign(kind=row["kind"], template=row["template"], context=row["context"] or {})
            compiled = CompiledCampaign(
                self.builder,
                template=row["template"],
                subject=row["subject"],
                values_for=lambda language: message_context(campaign, language),
                list_id=self.builder.list_id(str(getattr(row["kind"], "value", row["kind"]))),
            )
            self._compiled[row["id"]] = cached = (key, compiled)
        return cached[1]

    def outcome(
        self, item: ClaimedDelivery, result: SendResult, message_id: str, now: dt.datetime
    ) -> DeliveryUpdate:
        if result.outcome is Outcome.SENT:
            self._config_backoff = 0.0
            self._outage = 0
            return DeliveryUpdate(item.id, DeliveryState.SENT, result.reply, message_id, at=now)
        if result.outcome is Outcome.PERMANENT:
            return DeliveryUpdate(
                item.id, DeliveryState.FAILED, result.reply, bounce_subscriber=item.subscriber_id
            )
        if result.outcome is Outcome.REFUSED:  # our message, not their address: the person stays
            return DeliveryUpdate(item.id, DeliveryState.FAILED, result.reply)
        if result.outcome is Outcome.CONFIG:
            return self.config_deferral(item, result.reply, now)
        if result.outcome is Outcome.QUOTA:
            return self.quota_deferral(item, result.reply, now)
        return self.retry(item, result.reply, now)

    def quota_deferral(self, item: ClaimedDelivery, reply: str, now: dt.datetime) -> DeliveryUpdate:
        """Over the relay's quota: try again when it resumes, without spending an attempt."""
        if now >= item.created_at + dt.timedelta(hours=self.options.retry_for_hours):
            return self.retry(item, reply, now)
        resume = self.quota_until or next_hour(now)
        return DeliveryUpdate(item.id, DeliveryState.DEFERRED, reply, at=resume, refund_attempt=True)

    def on_quota(self, reply: str, now: dt.datetime) -> None:
        self.quota_until = next_hour(now)
        log.warning(
            "the mail server says we are over a sending quota; sending resumes at %s: %s",
            self.quota_until.isoformat(timespec="minutes"),
            _ADDRESS.sub("<address>", reply),
        )

    def refusal_repeats(self, campaign_id: int) -> bool:
        """Count a refusal of a campaign's message itself; True when it is time to pause. The count
        is of refusals in a row (`message_accepted` clears it): one domain's spam filter in a large
        campaign is not a reason to stop it, the same refusal for everyone is."""
        count = self._refusals.get(campaign_id, 0) + 1
        self._refusals[campaign_id] = count
        if count < REFUSALS_BEFORE_PAUSE:
            return False
        self._refusals[campaign_id] = 0  # after staff resume, as many again before the next pause
        return True

    def message_accepted(self, campaign_id: int | None) -> None:
        if campaign_id is not None:
            self._refusals.pop(campaign_id, None)

    async def pause_for_refusals(self, campaign_id: int, reply: str) -> None:
        reply = _ADDRESS.sub("<address>", reply)
        reason = (
            f"the mail server refused the message itself {REFUSALS_BEFORE_PAUSE} times (the addresses "
            f"are fine, nobody was marked bounced): {reply}"
        )[:240] + ". Check the content and the relay's limits, then resume"
        log.warning("campaign %s paused: %s", campaign_id, reason)
        await pause_campaign(campaign_id, reason=reason, actor="sender")

    def retry(self, item: ClaimedDelivery, reply: str, now: dt.datetime) -> DeliveryUpdate:
        """Deferred with backoff, or failed once it has been retried for RETRY_FOR_HOURS."""
        give_up_at = item.created_at + dt.timedelta(hours=self.options.retry_for_hours)
        if now >= give_up_at:
            hours = f"{self.options.retry_for_hours:g}"
            return DeliveryUpdate(item.id, DeliveryState.FAILED, f"gave up after {hours} hours: {reply}")
        retry_at = min(now + dt.timedelta(seconds=self.backoff_seconds(item.attempts)), give_up_at)
        return DeliveryUpdate(item.id, DeliveryState.DEFERRED, reply, at=retry_at)

    def config_deferral(self, item: ClaimedDelivery, reply: str, now: dt.datetime) -> DeliveryUpdate:
        """Our configuration is wrong: wait (doubling, up to 5 minutes) without spending an attempt."""
        if now >= item.created_at + dt.timedelta(hours=self.options.retry_for_hours):
            return self.retry(item, reply, now)
        return DeliveryUpdate(
            item.id,
            DeliveryState.DEFERRED,
            reply,
            at=now + dt.timedelta(seconds=self._config_backoff),
            refund_attempt=True,
        )

    def backoff_seconds(self, attempts: int) -> float:
        """Exponential backoff with jitter: base * 2^(attempt-1), between half and all of it."""
        doublings = min(max(attempts - 1, 0), 30)
        ceiling = min(self.options.retry_base_seconds * 2**doublings, MAX_BACKOFF_SECONDS)
        return random.uniform(ceiling / 2, ceiling)

    def on_outage(self) -> None:
        """The mail server can't be reached: hold off claiming for a backoff (doubling, with jitter)."""
        self._outage += 1
        self._hold_until = time.monotonic() + min(self.backoff_seconds(self._outage), MAX_HOLD_SECONDS)

    async def on_config_problem(self, reply: str) -> None:
        """Pause every sending campaign with the reason; say it once in the log, not per message."""
        self._config_backoff = min(
            max(self._config_backoff * 2, self.options.retry_base_seconds), MAX_CONFIG_BACKOFF_SECONDS
        )
        reply = _ADDRESS.sub("<address>", reply)  # "554 5.7.1 <someone@…>: Relay access denied"
        if reply != self._config_reply:
            self._config_reply = reply
            log.error("the mail server refused our configuration; campaigns paused: %s", reply)
        reason = f"the mail server refused our configuration: {reply}"
        for campaign_id in await sending_campaigns():
            await pause_campaign(campaign_id, reason=reason, actor="sender")

    # Failure rate ----------------------------------------------------------------------------------

    async def read_tallies(self, campaign_ids: set[int]) -> None:
        now = time.monotonic()
        for campaign_id in campaign_ids:
            tally = self._tallies.get(campaign_id)
            if tally is None or now - tally.read_at > TALLY_SECONDS:
                sent, failed = await campaign_tally(campaign_id)
                paused = tally.paused if tally else False
                self._tallies[campaign_id] = _Tally(sent, failed, now, paused)

    async def count(self, campaign_id: int, *, sent: int, failed: int) -> bool:
        """Add outcomes to a campaign's tally; pause it (once) if its failure rate is too high.
        Returns True when this paused the campaign."""
        tally = self._tallies.setdefault(campaign_id, _Tally(0, 0, time.monotonic()))
        tally.sent += sent
        tally.failed += failed
        attempts = tally.sent + tally.failed
        ratio = self.options.failure_pause_ratio
        if tally.paused or attempts < self.options.failure_pause_min_attempts:
            return False
        if tally.failed <= ratio * attempts:
            return False
        tally.paused = True
        reason = (
            f"failure rate {tally.failed / attempts:.0%} over the {ratio:.0%} threshold "
            f"({tally.failed} of {attempts} messages failed); check the addresses and the mail server's "
            "replies, then resume"
        )
        log.warning("campaign %s paused: %s", campaign_id, reason)
        await pause_campaign(campaign_id, reason=reason, actor="sender")
        return True


class _Pass:
    """Claimed deliveries on their way out: workers, the recorder, the watcher, and the claim of
    the next batch while this one is still being sent."""

    def __init__(self, sender: Sender, conn: QueueConnection, stop: asyncio.Event | None) -> None:
        self.sender = sender
        self.conn = conn  # the recorder's; claims ahead, the watcher and rare writes use the pool
        self.stop = stop
        self.todo: collections.deque[ClaimedDelivery] = collections.deque()
        self.campaign_of: dict[int, int | None] = {}
        self.in_flight: set[int] = set()
        self.halt: SendResult | None = None  # the server is unreachable or refuses our configuration
        self.campaigns: dict[int, CompiledCampaign] = {}
        self.statuses: dict[int, str] = {}
        self.pending: list[tuple[DeliveryUpdate, asyncio.Future[None] | None]] = []
        self.flush = asyncio.Event()
        self.closing = False
        self.workers = 0  # still running
        self.waiting = 0  # pending outcomes a worker waits for
        self.taken = asyncio.Event()  # set as the recorder takes the pending outcomes to write
        self.stopped: Exception | None = None  # why the recorder stopped, if it failed
        # Budget: each claim's reservation, and how much of it went unused (to give back).
        self.reservations: list[Reservation] = []
        self.unused: list[int] = []
        self.reservation_of: dict[int, int] = {}  # delivery id -> index in `reservations`
        # SEND_RATE_PER_DOMAIN: the same for each domain's reservations.
        self.domain_reservations: list[Reservation] = []
        self.domain_unused: list[int] = []
        self.domain_reservation_of: dict[int, int] = {}
        # SEND_WINDOW: when campaign mail must stop (None: it needn't).
        self.window_closes = sender.window.closes_at(sender.clock())
        self.claimed = 0
        # Claiming ahead: only after a full batch (there is probably more), and only once the
        # server has taken a message since the last claim (no claiming through an outage).
        self.more = False
        self.progress = False
        self.ahead: asyncio.Task[None] | None = None
        self.low_water = max(sender.options.batch_size // 2, 2 * sender.transport.concurrency)

    async def run(self, items: list[ClaimedDelivery], reservation: Reservation) -> None:
        sender = self.sender
        await self._take(items, reservation)
        recorder = asyncio.create_task(self._recorder())
        watcher = asyncio.create_task(self._watch())
        try:
            self.workers = min(sender.transport.concurrency, len(self.todo))
            async with asyncio.TaskGroup() as workers:
                for _ in range(self.workers):
                    workers.create_task(self._work())
            await self._claimed_ahead()  # what it claimed is this pass's to settle
            self._settle_leftovers()
        finally:
            await self._claimed_ahead()
            watcher.cancel()
            self.closing = True
            self.flush.set()
            with contextlib.suppress(asyncio.CancelledError):
                await recorder

    def unused_budget(self) -> list[tuple[Reservation, int]]:
        """Each claim's reservation and how much of it the relay never used; what is still queued
        (the pass failed or was cancelled) never reached it either."""
        unused = list(self.unused)
        domain_unused = list(self.domain_unused)
        for item in self.todo:
            unused[self.reservation_of[item.id]] += 1
            if item.id in self.domain_reservation_of:
                domain_unused[self.domain_reservation_of[item.id]] += 1
        return [
            *zip(self.reservations, unused, strict=True),
            *zip(self.domain_reservations, domain_unused, strict=True),
        ]

    async def _take(self, items: list[ClaimedDelivery], reservation: Reservation) -> None:
        """Add claimed deliveries to the pass: their campaigns' compiled messages and statuses,
        transactional mail ahead of what is left."""
        sender = self.sender
        ids = {item.campaign_id for item in items if item.campaign_id is not None}
        if ids:
            rows = await Campaign.filter(id__in=list(ids)).values(
                "id", "status", "template", "subject", "context", "kind"
            )
            for row in rows:
                self.campaigns[row["id"]] = sender.compiled_campaign(row)
                # A status this pass already holds wins: it may be a pause the pass made itself
                # while this read was under way (the watcher re-reads every status soon anyway).
                self.statuses.setdefault(row["id"], str(getattr(row["status"], "value", row["status"])))
            await sender.read_tallies(ids)
            if self.window_closes is None:  # the pass began with transactional mail alone
                self.window_closes = sender.window.closes_at(sender.clock())
        index = len(self.reservations)
        self.reservations.append(reservation)
        self.unused.append(0)
        for item in items:
            self.campaign_of[item.id] = item.campaign_id
            self.reservation_of[item.id] = index
        if sender.domains.limits:
            items = await self._within_domain_limits(items)
        self.todo.extend(item for item in items if item.priority >= Priority.BULK)
        self.todo.extendleft(reversed([item for item in items if item.priority < Priority.BULK]))
        self.claimed += len(items)
        self.more = len(items) >= sender.options.batch_size
        self.progress = False

    async def _within_domain_limits(self, items: list[ClaimedDelivery]) -> list[ClaimedDelivery]:
        """Campaign mail to a limited domain takes that domain's budget (one reservation per
        domain a claim); what is over it goes back to the queue until the domain's window ends."""
        sender, now = self.sender, self.sender.clock()
        by_domain: dict[str, list[ClaimedDelivery]] = {}
        for item in items:
            if item.campaign_id is not None:
                domain = item.address.rpartition("@")[2].lower()
                if sender.domains.limited(domain):
                    by_domain.setdefault(domain, []).append(item)
        over: set[int] = set()
        for domain, group in by_domain.items():
            grant = await sender.domains.reserve(domain, len(group), now=now)
            if grant.count:
                index = len(self.domain_reservations)
                self.domain_reservations.append(grant)
                self.domain_unused.append(0)
                for item in group[: grant.count]:
                    self.domain_reservation_of[item.id] = index
            wait_until = grant.retry_at or sender.domains.window(domain, now)[2]
            for item in group[grant.count :]:
                over.add(item.id)
                self._unsent(item)
                self._record(DeliveryUpdate(item.id, DeliveryState.QUEUED, at=wait_until), wait=False)
        return [item for item in items if item.id not in over] if over else items

    def _held_back(self, item: ClaimedDelivery) -> bool:
        """Its campaign stopped (paused, cancelled) while its envelope was on its way: withdraw it."""
        return item.campaign_id is not None and self.statuses.get(item.campaign_id) != SENDING

    def _window_closed(self) -> bool:
        return self.window_closes is not None and self.sender.clock() >= self.window_closes

    def _claim_ahead_if_low(self) -> None:
        """Claim the next batch once this one runs low, so no connection waits for a claim."""
        if (
            self.ahead is None
            and self.more
            and self.progress
            and len(self.todo) <= self.low_water
            and not self._stopping()
        ):
            self.ahead = asyncio.create_task(self._claim_ahead())

    async def _claim_ahead(self) -> None:
        try:
            # Through the pool: the held connection is the recorder's, and a claim mustn't hold
            # up a commit that workers wait for.
            items, reservation = await self.sender._claim(default_connection(), self.sender.clock())
            if items:
                try:
                    await self._take(items, reservation)
                except Exception:  # claimed but not taken: the rows wait out their lease, unsent
                    await self.sender.budget.give_back(reservation, len(items))
                    raise
            else:
                self.more = False
        except Exception:  # the pass still sends what it has; the next pass claims again
            log.exception("claiming the next batch failed")
            self.more = False
        finally:
            self.ahead = None

    async def _claimed_ahead(self) -> None:
        """Wait for a claim under way: what it claimed belongs to this pass."""
        if self.ahead is not None:
            await asyncio.wait([self.ahead])

    def _stopping(self) -> bool:
        return self.halt is not None or (self.stop is not None and self.stop.is_set())

    async def _work(self) -> None:
        # `previous`: the outcome of this worker's last message that the server may have taken.
        # The next message's envelope goes out at once, its content only once that outcome is
        # written: so "sent but not recorded" is at most one message per worker. `following` is
        # built before the current message goes, so its envelope can travel with this content.
        sender = self.sender
        previous: asyncio.Future[None] | None = None
        announced: OutgoingMessage | None = None  # the next message, its envelope maybe on its way
        current = await self._next(wait=True)
        try:
            while current is not None:
                item, message = current
                following = await self._next(wait=False)  # None once the pass is stopping
                announced = following[1] if following else None  # withdrawn in `finally` if never sent
                result = await sender.transport.send(message, ready=previous, then=announced)
                update = sender.outcome(item, result, message.message_id, sender.clock())
                if result.outcome is Outcome.CONFIG and self.halt is None:
                    self.halt = result
                    for campaign_id in self.statuses:
                        self.statuses[campaign_id] = "paused"
                    await sender.on_config_problem(result.reply)
                elif result.outcome is Outcome.QUOTA and self.halt is None:
                    self.halt = result
                    sender.on_quota(result.reply, sender.clock())
                elif result.unavailable and self.halt is None:
                    self.halt = result
                    sender.on_outage()
                elif (
                    result.outcome is Outcome.REFUSED
                    and item.campaign_id is not None
                    and self.statuses.get(item.campaign_id) == SENDING  # counted until it pauses
                    and sender.refusal_repeats(item.campaign_id)
                ):
                    self.statuses[item.campaign_id] = "paused"  # before the write: stop the others now
                    await sender.pause_for_refusals(item.campaign_id, result.reply)
                if result.outcome is Outcome.SENT:
                    sender.message_accepted(item.campaign_id)
                    taken = self.taken
                    previous = self._record(update, wait=True)
                    previous.add_done_callback(functools.partial(_forget, self.in_flight, item.id))
                    self.progress = True
                    self._claim_ahead_if_low()
                    if self.conn.postgres:
                        # The commit is the database server's work (and its disk's): build the
                        # next message while it runs, not before it starts, since it waits for
                        # every worker's outcome. On SQLite the commit is this process's own CPU:
                        # waiting would only add a task switch a message.
                        await taken.wait()
                else:
                    self._record(update, wait=False)
                    self.in_flight.discard(item.id)
                if following is not None and (self.halt is not None or self._held_back(following[0])):
                    sender.transport.withdraw(following[1])
                    self.todo.appendleft(following[0])  # settled with the rest of the batch
                    self.in_flight.discard(following[0].id)
                    following = None
                current = following if following is not None else await self._next(wait=True)
        finally:
            if announced is not None:  # the pass failed between announcing a message and sending it
                sender.transport.withdraw(announced)
            self.workers -= 1
            self.flush.set()  # the recorder may stop waiting for this worker
            if previous is not None:
                await previous

    async def _next(self, *, wait: bool) -> tuple[ClaimedDelivery, OutgoingMessage] | None:
        """The next delivery to send and its message; what must not be sent is recorded on the way.
        With `wait`, an empty queue waits for a claim under way."""
        sender = self.sender
        while not self._stopping():
            if not self.todo:
                self._claim_ahead_if_low()
                if not wait or self.ahead is None:
                    return None
                await asyncio.wait([self.ahead])
                continue
            item = self.todo.popleft()
            self._claim_ahead_if_low()
            if item.campaign_id is not None and (
                self.statuses.get(item.campaign_id) != SENDING or self._window_closed()
            ):
                self._record(self._release(item), wait=False)
                continue
            reason = sender.unsendable(item)
            if reason:
                self._unsent(item)
                self._record(
                    DeliveryUpdate(item.id, DeliveryState.SUPPRESSED, f"not sent: {reason}"), wait=False
                )
                continue
            try:
                message = sender.message(
                    item, self.campaigns.get(item.campaign_id) if item.campaign_id else None
                )
            except TemplateError as exc:
                if item.campaign_id is None:
                    self._unsent(item)
                    self._record(DeliveryUpdate(item.id, DeliveryState.FAILED, str(exc)), wait=False)
                    continue
                if self.statuses.get(item.campaign_id) == SENDING:
                    self.statuses[item.campaign_id] = "paused"
                    await pause_campaign(item.campaign_id, reason=f"template problem: {exc}", actor="sender")
                self._record(self._release(item), wait=False)
                continue
            except ValueError as exc:
                # This one person's message can't be built (an address the email package refuses,
                # stored before the form refused such addresses): fail it, not the whole pass.
                log.warning("delivery %s: could not build the message: %s", item.id, type(exc).__name__)
                self._unsent(item)
                reason = f"could not build the message: {type(exc).__name__}"
                self._record(DeliveryUpdate(item.id, DeliveryState.FAILED, reason), wait=False)
                continue
            self.in_flight.add(item.id)
            return item, message
        return None

    def _unsent(self, item: ClaimedDelivery) -> None:
        """Its budget goes back: the relay never saw it."""
        self.unused[self.reservation_of[item.id]] += 1
        domain_reservation = self.domain_reservation_of.pop(item.id, None)
        if domain_reservation is not None:
            self.domain_unused[domain_reservation] += 1

    def _release(self, item: ClaimedDelivery) -> DeliveryUpdate:
        """A delivery this pass won't send: back to the queue, or, if its campaign was cancelled
        meanwhile, withdrawn as `cancel_campaign` withdraws the rows it can see (nothing would
        ever claim a queued row of a cancelled campaign)."""
        self._unsent(item)
        if item.campaign_id is not None and self.statuses.get(item.campaign_id) == CANCELLED:
            return DeliveryUpdate(item.id, DeliveryState.SUPPRESSED, "not sent: campaign cancelled")
        return DeliveryUpdate(item.id, DeliveryState.QUEUED, at=self.sender.clock())

    def _settle_leftovers(self) -> None:
        """What the pass didn't get to: deferred like the failure that stopped it, else released."""
        sender, now = self.sender, self.sender.clock()
        while self.todo:
            item = self.todo.popleft()
            halt = self.halt
            if halt is not None and halt.outcome is Outcome.CONFIG:
                if item.campaign_id is None:
                    update = sender.config_deferral(item, halt.reply, now)
                    self._unsent(item)
                else:
                    update = self._release(item)
            elif halt is not None and halt.outcome is Outcome.QUOTA:  # every one would hit it too
                update = sender.quota_deferral(item, halt.reply, now)
                self._unsent(item)
            elif halt is not None:  # unreachable: as if each had been tried, without trying each
                update = sender.retry(item, halt.reply, now)
                self._unsent(item)
            else:
                update = self._release(item)
            self.pending.append((update, None))
        self.flush.set()

    @overload
    def _record(self, update: DeliveryUpdate, *, wait: Literal[True]) -> asyncio.Future[None]: ...

    @overload
    def _record(self, update: DeliveryUpdate, *, wait: Literal[False]) -> None: ...

    def _record(self, update: DeliveryUpdate, *, wait: bool) -> asyncio.Future[None] | None:
        """Queue an outcome for the recorder; with `wait`, get a future that is done once it's written."""
        written = asyncio.get_running_loop().create_future() if wait else None
        if written is not None and self.stopped is not None:
            written.set_exception(self.stopped)
        self.pending.append((update, written))
        self.waiting += wait
        self.flush.set()
        return written

    async def _recorder(self) -> None:
        """Group commit: write whatever outcomes are waiting, in one transaction, as often as it can."""
        sender = self.sender
        batch: list[tuple[DeliveryUpdate, asyncio.Future[None] | None]] = []
        try:
            while True:
                if not self.pending:
                    if self.closing:
                        return
                    await self.flush.wait()
                    self.flush.clear()
                    continue
                if self.waiting < self.workers and not self.closing:
                    await self._gather_more()
                batch, self.pending, self.waiting = self.pending, [], 0
                self.taken.set()
                self.taken = asyncio.Event()
                updates = [update for update, _ in batch]
                await record_results(sender.worker_id, updates, self.conn)
                for _, written in batch:
                    if written is not None and not written.done():
                        written.set_result(None)
                batch = []
                await self._count(updates)
        except BaseException as exc:
            # No worker may wait for a write that won't happen: it would hold the pass forever.
            self.stopped = exc if isinstance(exc, Exception) else ConnectionError("the recorder stopped")
            self.taken.set()
            for _, written in (*batch, *self.pending):
                if written is not None and not written.done():
                    written.set_exception(self.stopped)
            raise

    async def _gather_more(self) -> None:
        """Wait (a millisecond at most) for the other workers' outcomes to join this write: one
        commit for all of them costs a quarter of four (measured: CPU per message -20%)."""
        self.flush.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(GROUP_COMMIT_SECONDS):
                while self.waiting < self.workers and not self.closing:
                    await self.flush.wait()
                    self.flush.clear()

    async def _count(self, updates: list[DeliveryUpdate]) -> None:
        by_campaign: dict[int, list[int]] = {}
        for update in updates:
            # Written: the pass is done with this delivery (a long pass would otherwise keep an
            # entry per recipient of the campaign).
            campaign_id = self.campaign_of.pop(update.id, None)
            self.reservation_of.pop(update.id, None)
            self.domain_reservation_of.pop(update.id, None)
            if campaign_id is not None and update.state in (DeliveryState.SENT, DeliveryState.FAILED):
                counts = by_campaign.setdefault(campaign_id, [0, 0])
                counts[update.state is DeliveryState.FAILED] += 1
        for campaign_id, (sent, failed) in by_campaign.items():
            if await self.sender.count(campaign_id, sent=sent, failed=failed):
                self.statuses[campaign_id] = "paused"

    async def _watch(self) -> None:
        sender = self.sender
        lease = sender.options.lease_seconds
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if self.statuses:
                fresh = await campaign_statuses(list(self.statuses))
                for campaign_id, status in fresh.items():
                    if self.statuses.get(campaign_id) == SENDING:
                        self.statuses[campaign_id] = status
            if time.monotonic() - renewed > lease / 3:
                renewed = time.monotonic()
                held = [item.id for item in self.todo] + list(self.in_flight)
                until = sender.clock() + dt.timedelta(seconds=lease)
                await renew_leases(sender.worker_id, held, until=until)


def _forget(in_flight: set[int], delivery_id: int, _written: asyncio.Future[None]) -> None:
    """Once a sent message's outcome is written, it is no longer in flight (a done callback)."""
    in_flight.discard(delivery_id)


async def _first(*aws: Awaitable[object]) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


# Someone who unsubscribed or bounced and asked on the form to come back stays on the suppression
# list until they confirm (subscribers.signup): their confirmation is the one mail that may reach them.
REJOIN_SUPPRESSIONS = frozenset({"unsubscribed", "bounced"})


# Mail a person asked for themselves, about something other than our lists: a staff member's
# sign-in link (or the weekly digest they are listed for) reaches them even if they once unsubscribed
# from the updates at that address. Mail about one's own application, too: it is not list mail.
SELF_REQUESTED_TEMPLATES = frozenset({"staff_sign_in", "staff_digest", "application"})


def _rejoining(item: ClaimedDelivery) -> bool:
    if item.campaign_id is None and item.subscriber_id is None and item.template in SELF_REQUESTED_TEMPLATES:
        return True
    return (
        item.campaign_id is None
        and item.template == "confirm"
        and item.status == Status.PENDING.value
        and item.suppressed in REJOIN_SUPPRESSIONS
    )
