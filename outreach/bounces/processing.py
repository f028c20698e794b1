"""One processing function for everything that comes back, however it arrived (mailbox or files).

For a batch of raw messages: read each (`reports`), skip what was processed before (its key is in
`inbound_message`), match the rest to the Delivery they are about, and apply what each says, in one
transaction with the `inbound_message` rows. So a crash before the commit leaves nothing done (the
messages are read again), and after it everything done once (they are recognised and only moved).

Matching, most trusted first:
1. a genuine VERP token (BOUNCE_ADDRESS set): names the delivery, whatever the DSN's recipient;
2. our Message-ID in the returned message: unguessable, so it is as good as a token;
3. only without BOUNCE_ADDRESS: the report's recipient, if we sent that person a message (the most
   recent one). Anyone can forge a bounce naming an address, so with VERP on this is off.

What a report does (the person only through `subscribers.registry`):
- hard bounce (5.1.1...): the delivery `bounced`, the person `bounced` and suppressed;
- soft bounce (4.x.x, mailbox full): the delivery `bounced`; the person becomes `bounced` once
  their soft bounces fall on BOUNCE_SCORE_THRESHOLD different days within BOUNCE_SCORE_DAYS (as
  Mailman counts at most one bounce a day, so one bad day at a provider doesn't remove anyone);
- refused (5.7.x spam or policy, too big): the delivery `bounced`, the person left alone;
- complaint: `complained_at` on the delivery, the person `complained` and suppressed for good;
- opt-out report: the person `unsubscribed`;
- delay warnings, auto-replies, success reports: recorded, nothing changed.
A person who confirmed again after the message was sent is not bounced by its late bounce. Bounces
count toward their campaign's failure rate, which pauses a campaign still sending.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError
from tortoise.transactions import in_transaction

from outreach.bounces.reports import HANDLED, BounceType, Failure, Report, ReportKind, ReportReader
from outreach.bounces.store import BatchStore, DeliveryChange, Person, person_of
from outreach.campaigns import pause_campaign
from outreach.models import CampaignStatus, DeliveryState
from outreach.queue import campaign_statuses, campaign_tally
from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.models import Status
from subscribers.registry import change_status_many, record_many

log = logging.getLogger(__name__)

ACTOR = "bounces"
CAN_BOUNCE = (Status.ACTIVE, Status.PENDING)
# A delivery in these states was (or may have been) taken by the relay: a bounce proves it was.
BOUNCEABLE = (DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.DEFERRED)
RECIPIENT_MATCH_DAYS = 90  # without VERP, a bounce names a message we sent this recently
_TYPE_RANK = {"": 0, BounceType.REFUSED.value: 1, BounceType.SOFT.value: 2, BounceType.HARD.value: 3}


@dataclasses.dataclass(frozen=True, slots=True)
class BounceOptions:
    """The rules, from the settings (BOUNCE_SCORE_*, FAILURE_PAUSE_*, whether BOUNCE_ADDRESS is set)."""

    score_threshold: int = 3
    score_days: float = 14
    failure_pause_ratio: float = 0.10
    failure_pause_min_attempts: int = 50
    match_by_recipient: bool = True  # False once BOUNCE_ADDRESS is set: tokens and Message-IDs only


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """What one message did: for `bounces read` to print and the poller to file."""

    key: str
    kind: ReportKind
    effect: str
    duplicate: bool = False  # processed before: nothing done again
    delivery_id: int | None = None
    campaign_id: int | None = None
    address: str = ""  # the delivery's address, for staff (never logged)
    status: str = ""
    bounce_type: str = ""

    @property
    def for_a_person(self) -> bool:
        """Goes to the Unrecognised folder: nobody could read it automatically."""
        return self.kind not in HANDLED


class DatabaseUnavailable(Exception):
    """The database failed while processing: nothing was done, try the same messages later."""


@dataclasses.dataclass
class _Match:
    delivery: dict[str, Any] | None = None
    subscriber: Person | None = None
    matched_by: str = ""
    failure: Failure | None = None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Contended(Exception):
    """Another process claimed a message of this batch between our read and our write."""


@dataclasses.dataclass
class _Plan:
    """Everything a batch will write, decided before the transaction starts."""

    source: str
    now: dt.datetime
    deliveries: dict[int, dict[str, Any]] = dataclasses.field(default_factory=dict)  # bounced
    complaints: list[int] = dataclasses.field(default_factory=list)  # delivery ids
    moves: dict[Status, dict[int, tuple[Person, Status]]] = dataclasses.field(default_factory=dict)
    audits: list[tuple[int | None, str, str, str]] = dataclasses.field(default_factory=list)
    events: list[list[Any]] = dataclasses.field(default_factory=list)  # bounce_event rows
    soft_days: dict[int, set[dt.date]] = dataclasses.field(default_factory=dict)
    bounced_campaigns: set[int] = dataclasses.field(default_factory=set)

    def move(self, person: Person, status: Status) -> None:
        """Plan a status change; the person's status is set now, so later reports in the batch see it."""
        self.moves.setdefault(status, {})[person.id] = (person, person.status)
        person.status = status

    async def write(self, store: BatchStore) -> None:
        await store.bounce(
            [
                DeliveryChange(
                    id=row["id"],
                    state=str(row["state"]),
                    bounced_at=row["bounced_at"],
                    bounce_type=row["bounce_type"],
                    bounce_status=row["bounce_status"],
                    bounce_diagnostic=row["bounce_diagnostic"],
                )
                for row in self.deliveries.values()
            ]
        )
        await store.complained(self.complaints, self.now)
        await record_many(self.audits, ACTOR)
        # In the order a person can go through them in one batch: bounced, then unsubscribed or
        # complained (a complaint is the last word).
        for status in (Status.BOUNCED, Status.UNSUBSCRIBED, Status.COMPLAINED):
            planned = self.moves.get(status, {})
            for person, before in planned.values():
                person.status = before  # as it was when the batch was read; the registry moves it
            await change_status_many([person for person, _ in planned.values()], status, actor=ACTOR)
        await store.events(self.events)


class BounceProcessor:
    def __init__(
        self,
        reader: ReportReader,
        options: BounceOptions | None = None,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.reader = reader
        self.options = options or BounceOptions()
        self.clock = clock

    async def process(self, raws: Sequence[bytes], *, source: str) -> list[Outcome]:
        """Process a batch; returns one outcome per message, in order. Raises DatabaseUnavailable
        (nothing done) when the database fails; a message our own code chokes on is reported as
        unrecognised instead, so one bad message never holds up the rest."""
        # In a thread: reading is CPU work that must not hold up the event loop (the web app).
        # Not overlapped with the database work: the two threads would fight over the GIL, and
        # each database round trip would wait for it (measured: slower, bench/bounces.py).
        reports = await asyncio.to_thread(lambda: [self.reader.read(raw) for raw in raws])
        try:
            try:
                return await self._process(reports, source)
            except _Contended:  # read again: what the other process recorded now counts as seen
                return await self._process(reports, source)
        except _DATABASE_ERRORS as exc:
            raise DatabaseUnavailable(type(exc).__name__) from exc
        except Exception:
            if len(reports) == 1:
                log.exception("could not process an incoming message; left for a person")
                return [_failed(reports[0])]
        outcomes = []
        for report in reports:  # one at a time, to find the one that fails
            try:
                try:
                    outcomes += await self._process([report], source)
                except _Contended:
                    outcomes += await self._process([report], source)
            except _DATABASE_ERRORS as exc:
                raise DatabaseUnavailable(type(exc).__name__) from exc
            except Exception:
                log.exception("could not process an incoming message; left for a person")
                outcomes.append(_failed(report))
        return outcomes

    async def _process(self, reports: list[Report], source: str) -> list[Outcome]:
        """Decide everything first (reading what the batch needs in a few queries), then write it
        in one transaction: a few statements for the whole batch, however many messages."""
        now = self.clock()
        seen = await BatchStore().seen(sorted({report.key for report in reports}))
        fresh: list[Report] = []  # not processed before, each key once
        for report in reports:
            if report.key not in seen:
                seen.add(report.key)
                fresh.append(report)
        matches = await self._match(fresh)
        plan = _Plan(source=source, now=now)
        plan.soft_days = await self._soft_days(
            [
                m.subscriber.id
                for m in matches
                if m.subscriber and m.failure and m.failure.type is BounceType.SOFT
            ],
            now,
        )
        decided: dict[str, Outcome] = {}
        for report, match in zip(fresh, matches, strict=True):
            if report.key not in decided:
                decided[report.key] = self._decide(report, match, plan)
        async with in_transaction() as tx:
            store = BatchStore(tx)
            claimed = await store.claim([(r.key, decided[r.key].kind.value) for r in fresh], source, now)
            if claimed != {r.key for r in fresh}:  # another process took some meanwhile: decide again
                raise _Contended()
            await plan.write(store)
        await self._check_failure_rates(plan.bounced_campaigns)
        firsts = {id(report) for report in fresh}
        return [decided[r.key] if id(r) in firsts else _duplicate(r) for r in reports]

    # Matching ------------------------------------------------------------------------------------

    async def _match(self, reports: list[Report]) -> list[_Match]:
        # One dict per delivery, shared by every report about it: what one report decides about a
        # delivery (it bounced) is what the next report in the batch sees.
        rows: dict[int, dict[str, Any]] = {}

        def keep(row: dict[str, Any]) -> dict[str, Any]:
            return rows.setdefault(row["id"], row)

        store = BatchStore()
        by_id = sorted({r.verp_delivery for r in reports if r.verp_delivery is not None})
        message_ids = sorted({f"<{mid}>" for r in reports for mid in r.message_ids})
        for row in await store.deliveries_by_id(by_id):
            keep(row)
        by_message_id = {
            row["message_id"].lower(): keep(row) for row in await store.deliveries_by_message_id(message_ids)
        }
        matches = []
        for report in reports:
            match = _Match()
            if report.verp_delivery is not None and report.verp_delivery in rows:
                match.delivery, match.matched_by = rows[report.verp_delivery], "verp"
            else:
                for mid in report.message_ids:
                    if f"<{mid}>" in by_message_id:
                        match.delivery, match.matched_by = by_message_id[f"<{mid}>"], "message-id"
                        break
            matches.append(match)
        unmatched = [(r, m) for r, m in zip(reports, matches, strict=True) if m.delivery is None]
        if self.options.match_by_recipient and unmatched:  # only what nothing better matched
            latest = await self._latest_sent_to({a for r, _m in unmatched for a in _named_recipients(r) if a})
            by_recipient = {address: keep(row) for address, row in latest.items()}
            for report, match in unmatched:
                for address in _named_recipients(report):
                    if address in by_recipient:
                        match.delivery, match.matched_by = by_recipient[address], "recipient"
                        break
        people: dict[int, Person] = {}  # one object a person, shared like the deliveries
        for report, match in zip(reports, matches, strict=True):
            match.failure = _failure_for(report, match.delivery)
            person = person_of(match.delivery) if match.delivery else None
            if person is not None:
                match.subscriber = people.setdefault(person.id, person)
        return matches

    async def _latest_sent_to(self, addresses: set[str]) -> dict[str, dict[str, Any]]:
        """For each address of a person on our list: the latest message we sent them."""
        normalised = {}
        for address in addresses:
            try:
                normalised[normalise_email(address)] = address
            except InvalidEmail:
                continue
        since = self.clock() - dt.timedelta(days=RECIPIENT_MATCH_DAYS)
        latest: dict[str, dict[str, Any]] = {}
        for row in await BatchStore().latest_sent_to(sorted(normalised), since):
            latest[normalised[row["person_email"]]] = row  # oldest first: the last one written wins
        return latest

    # Deciding ------------------------------------------------------------------------------------

    async def _soft_days(self, subscriber_ids: list[int], now: dt.datetime) -> dict[int, set[dt.date]]:
        """Days within BOUNCE_SCORE_DAYS on which each person had a soft bounce (older ones decayed)."""
        days: dict[int, set[dt.date]] = {}
        if not subscriber_ids:
            return days
        since = now - dt.timedelta(days=self.options.score_days)
        for subscriber_id, moment in await BatchStore().soft_bounces(subscriber_ids, since):
            days.setdefault(subscriber_id, set()).add(moment.astimezone(dt.UTC).date())
        return days

    def _decide(self, report: Report, match: _Match, plan: _Plan) -> Outcome:
        delivery, person, failure = match.delivery, match.subscriber, match.failure
        bounce_kind = ""
        if delivery is None:
            effect = _unmatched_effect(report)
        elif report.kind is ReportKind.BOUNCE and failure is not None and failure.type is not None:
            bounce_kind = failure.type.value
            effect = self._bounce(delivery, person, failure, plan)
        elif report.kind is ReportKind.COMPLAINT:
            effect = self._complaint(delivery, person, plan)
        elif report.kind is ReportKind.OPT_OUT:
            effect = self._opt_out(person, plan)
        else:
            effect = _no_effect(report)
        status = failure.status if failure else ""
        plan.events.append(
            [
                report.key,
                plan.now,
                report.kind.value,
                bounce_kind,
                status,
                failure.diagnostic if failure else "",
                delivery["id"] if delivery else None,
                person.id if person else None,
                match.matched_by,
                effect[:200],
                plan.source[:10],
            ]
        )
        return Outcome(
            key=report.key,
            kind=report.kind,
            effect=effect,
            delivery_id=delivery["id"] if delivery else None,
            campaign_id=delivery["campaign_id"] if delivery else None,
            address=delivery["address"] if delivery else "",
            status=status,
            bounce_type=bounce_kind,
        )

    def _bounce(self, delivery: dict[str, Any], person: Person | None, failure: Failure, plan: _Plan) -> str:
        assert failure.type is not None
        kind = failure.type.value
        code = f" {failure.status}" if failure.status else ""
        earlier = str(delivery["bounce_type"] or "")
        if earlier and _TYPE_RANK[earlier] >= _TYPE_RANK[kind]:
            return f"{kind} bounce{code}: already recorded for this message; nothing changed"
        update: dict[str, Any] = {
            "bounced_at": delivery["bounced_at"] or plan.now,
            "bounce_type": kind,
            "bounce_status": failure.status,
            "bounce_diagnostic": failure.diagnostic,
            "state": DeliveryState.BOUNCED if delivery["state"] in BOUNCEABLE else delivery["state"],
        }
        delivery.update(update)
        plan.deliveries[delivery["id"]] = delivery
        if delivery["campaign_id"] is not None:
            plan.bounced_campaigns.add(delivery["campaign_id"])
        words = {
            "hard": f"hard bounce{code}: the address does not work",
            "soft": f"soft bounce{code}: not delivered for now",
            "refused": f"refused{code}: the receiving server refused our message, not the address",
        }[kind]
        if person is None:
            return f"{words}; no person to change (erased, or not on the list)"
        if failure.type is BounceType.REFUSED:
            return f"{words}; the person is not changed"
        if _confirmed_since(person, delivery):
            return f"{words}; the person confirmed again after this message, so they are not changed"
        plan.audits.append((person.id, "bounce", "", f"{kind}{code} on delivery {delivery['id']}"))
        if failure.type is BounceType.SOFT:
            days = plan.soft_days.setdefault(person.id, set())
            days.add(plan.now.astimezone(dt.UTC).date())
            window = f"{len(days)} of {self.options.score_threshold} within {self.options.score_days:g} days"
            if len(days) < self.options.score_threshold:
                return f"{words}; bounce score {window}"
            words += f"; bounce score {window}"
        if person.status not in CAN_BOUNCE:
            return f"{words}; the person was already {person.status.value}"
        plan.move(person, Status.BOUNCED)
        return f"{words}; the person is now bounced and suppressed"

    def _complaint(self, delivery: dict[str, Any], person: Person | None, plan: _Plan) -> str:
        if delivery["complained_at"] is None:
            delivery["complained_at"] = plan.now
            plan.complaints.append(delivery["id"])
        if person is None:
            return "complaint (marked as spam); no person to change (erased, or not on the list)"
        if person.status == Status.COMPLAINED:
            return "complaint (marked as spam); the person had already complained"
        plan.audits.append((person.id, "complaint", "", f"marked delivery {delivery['id']} as spam"))
        plan.move(person, Status.COMPLAINED)
        return "complaint (marked as spam): the person is now complained and never mailed again"

    def _opt_out(self, person: Person | None, plan: _Plan) -> str:
        if person is None:
            return "opt-out report; no person to change"
        if person.status not in CAN_BOUNCE:
            return f"opt-out report; the person was already {person.status.value}"
        plan.move(person, Status.UNSUBSCRIBED)
        return "opt-out report: the person is now unsubscribed"

    async def _check_failure_rates(self, campaign_ids: set[int]) -> None:
        """Bounces that come back while a campaign is still sending count toward its failure rate
        (the campaigns' states read in one query; only those still sending are counted)."""
        statuses = await campaign_statuses(sorted(campaign_ids))
        for campaign_id, status in statuses.items():
            if status == CampaignStatus.SENDING:
                await self._check_failure_rate(campaign_id)

    async def _check_failure_rate(self, campaign_id: int) -> None:
        sent, failed = await campaign_tally(campaign_id)
        attempts = sent + failed
        ratio = self.options.failure_pause_ratio
        if attempts < self.options.failure_pause_min_attempts or failed <= ratio * attempts:
            return
        reason = (
            f"failure rate {failed / attempts:.0%} over the {ratio:.0%} threshold ({failed} of {attempts} "
            "messages failed or bounced back); check `madeinla bounces list`, then resume"
        )
        if await pause_campaign(campaign_id, reason=reason, actor=ACTOR):
            log.warning("campaign %s paused: %s", campaign_id, reason)


_DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    DBConnectionError,
    OperationalError,
    TransactionManagementError,
    OSError,
    ConnectionError,
)


def _named_recipients(report: Report) -> list[str]:
    return [f.recipient for f in report.failures if f.recipient] + list(report.recipients)


def _failure_for(report: Report, delivery: dict[str, Any] | None) -> Failure | None:
    """The failure about this delivery's address if the report names it, else the one that decides."""
    if delivery is not None:
        for failure in report.failures:
            if failure.recipient and failure.recipient == str(delivery["address"]).lower():
                return failure
    return report.worst


def _confirmed_since(person: Person, delivery: dict[str, Any]) -> bool:
    sent_at = delivery["sent_at"]
    return bool(person.consent_at and sent_at and person.consent_at > sent_at)


def _unmatched_effect(report: Report) -> str:
    if report.kind in (ReportKind.BOUNCE, ReportKind.DELAYED, ReportKind.COMPLAINT, ReportKind.OPT_OUT):
        return f"{report.kind.value.replace('_', ' ')}: no message of ours matched; nothing changed"
    return _no_effect(report)


def _no_effect(report: Report) -> str:
    failure = report.worst
    code = f" {failure.status}" if failure and failure.status else ""
    return {
        ReportKind.BOUNCE: "bounce without a usable failure; nothing changed",
        ReportKind.DELAYED: f"delay warning{code}: the relay is still trying; nothing changed",
        ReportKind.AUTO_REPLY: "auto-reply (out of office or similar); nothing changed",
        ReportKind.DELIVERED: "delivery report: delivered; nothing changed",
        ReportKind.OTHER_REPORT: (
            f"feedback report ({report.feedback_type or 'other'}): for the mail administrator to read"
        ),
        ReportKind.UNRECOGNISED: f"not recognised ({report.note or 'unknown'}): left for a person to read",
    }.get(report.kind, "nothing changed")


def _duplicate(report: Report) -> Outcome:
    return Outcome(
        key=report.key, kind=report.kind, effect="processed before; nothing done again", duplicate=True
    )


def _failed(report: Report) -> Outcome:
    return Outcome(
        key=report.key,
        kind=ReportKind.UNRECOGNISED,
        effect="could not be processed (see the service log); left for a person to read",
    )
