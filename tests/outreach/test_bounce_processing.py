"""Processing what comes back: matching to our deliveries, the effects on people (through the
registry), idempotency, the soft-bounce score with decay, VERP, and the whole corpus replayed."""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from bot.settings import Settings
from outreach.bounces.models import BounceEvent, InboundMessage
from outreach.bounces.reports import ReportKind
from outreach.bounces.store import BatchStore
from outreach.bounces.verp import VerpSigner
from outreach.models import Campaign, CampaignStatus, Delivery, DeliveryState
from outreach.signup import sign_up
from subscribers.models import AuditEvent, Language, Role, Status, Subscriber, Topic
from subscribers.registry import suppression_reason
from subscribers.signup import SignupRequest
from tests.outreach.bouncing import CORPUS, complaint, message_id, processor, returned, sent_delivery
from tests.outreach.people import person
from tests.outreach.sending import started_campaign

EXPECTED: list[dict[str, Any]] = tomllib.loads((CORPUS / "expected.toml").read_text())["message"]


async def _one(address: str = "ana@example.com", **kwargs: Any) -> tuple[Subscriber, Delivery]:
    subscriber = await person(address, **kwargs)
    return subscriber, await sent_delivery(subscriber.id, address)


async def test_hard_bounce_bounces_the_delivery_and_the_person(db: str) -> None:
    """A 5.1.1 from the relay: delivery bounced with code and words, person bounced, suppressed,
    audited; the event says what happened."""
    ana, delivery = await _one()
    [outcome] = await processor().process(
        [returned("hard", address=ana.email, our_message_id=delivery.message_id)], source="file"
    )
    assert outcome.kind is ReportKind.BOUNCE and outcome.bounce_type == "hard"
    assert "now bounced and suppressed" in outcome.effect
    row = await Delivery.get(id=delivery.id)
    assert row.state == DeliveryState.BOUNCED and row.bounce_status == "5.1.1" and row.bounce_type == "hard"
    assert row.bounced_at is not None and "User unknown" in row.bounce_diagnostic
    assert "@" not in row.bounce_diagnostic
    assert (await Subscriber.get(id=ana.id)).status == Status.BOUNCED
    assert await suppression_reason(ana.email) == "bounced"
    audit = await AuditEvent.filter(subscriber_id=ana.id).order_by("id").values_list("action", "new_value")
    assert ("bounce", f"hard 5.1.1 on delivery {delivery.id}") in audit and ("status", "bounced") in audit
    event = await BounceEvent.get(delivery_id=delivery.id)
    assert (event.matched_by, event.status, event.kind) == ("message-id", "5.1.1", "bounce")


async def test_the_same_report_twice_changes_nothing_the_second_time(db: str) -> None:
    """Idempotent: a report read again (from the mailbox or a file) is recognised and skipped."""
    ana, delivery = await _one()
    raw = returned("hard", address=ana.email, our_message_id=delivery.message_id)
    first = await processor().process([raw], source="imap")
    audit = await AuditEvent.all().count()
    again = await processor().process([raw, raw.replace(b"\n", b"\r\n")], source="file")
    assert not first[0].duplicate and all(o.duplicate for o in again)
    assert await AuditEvent.all().count() == audit
    assert await BounceEvent.all().count() == 1 and await InboundMessage.all().count() == 1


async def test_a_second_report_about_the_same_message_counts_once(db: str) -> None:
    """Another DSN about a delivery that already bounced (a relay sending two) changes nothing."""
    ana, delivery = await _one()
    bounce = processor()
    await bounce.process(
        [returned("soft", address=ana.email, our_message_id=delivery.message_id)], source="f"
    )
    [again] = await bounce.process(
        [returned("soft", address=ana.email, our_message_id=delivery.message_id)], source="f"
    )
    assert not again.duplicate and "already recorded" in again.effect
    assert await AuditEvent.filter(subscriber_id=ana.id, action="bounce").count() == 1


async def test_soft_bounces_bounce_a_person_on_the_third_day_within_the_window(db: str) -> None:
    """Mailbox full on three different days within 14 days makes the person bounced; two don't, and
    two on the same day count once."""
    ana = await person("ana@example.com")
    start = dt.datetime(2026, 12, 1, 17, tzinfo=dt.UTC)
    moments = [
        start,
        start + dt.timedelta(hours=1),
        start + dt.timedelta(days=5),
        start + dt.timedelta(days=9),
    ]
    effects = []
    for moment in moments:
        delivery = await sent_delivery(ana.id, ana.email, sent_at=moment - dt.timedelta(minutes=1))
        bounce = processor(clock=lambda moment=moment: moment)
        [outcome] = await bounce.process(
            [returned("soft", address=ana.email, our_message_id=delivery.message_id)], source="f"
        )
        effects.append(outcome.effect)
        status = (await Subscriber.get(id=ana.id)).status
        assert status == (Status.BOUNCED if moment == moments[-1] else Status.ACTIVE), effects
    assert "score 1 of 3" in effects[0] and "score 1 of 3" in effects[1] and "score 2 of 3" in effects[2]
    assert "3 of 3" in effects[3] and "now bounced" in effects[3]
    assert await suppression_reason(ana.email) == "bounced"


async def test_old_soft_bounces_decay(db: str) -> None:
    """Soft bounces older than BOUNCE_SCORE_DAYS no longer count."""
    ana = await person("ana@example.com")
    start = dt.datetime(2026, 11, 1, 17, tzinfo=dt.UTC)
    for days in (0, 1, 20):  # the first two are more than 14 days before the third
        moment = start + dt.timedelta(days=days)
        delivery = await sent_delivery(ana.id, ana.email, sent_at=moment - dt.timedelta(minutes=1))
        await processor(clock=lambda moment=moment: moment).process(
            [returned("soft", address=ana.email, our_message_id=delivery.message_id)], source="f"
        )
    assert (await Subscriber.get(id=ana.id)).status == Status.ACTIVE


async def test_a_refusal_of_our_message_leaves_the_person_alone(db: str) -> None:
    """554 5.7.1 spam: the delivery bounced (refused), the person active and not suppressed."""
    ana, delivery = await _one()
    [outcome] = await processor().process(
        [returned("refused", address=ana.email, our_message_id=delivery.message_id)], source="f"
    )
    assert outcome.bounce_type == "refused" and "not changed" in outcome.effect
    row = await Delivery.get(id=delivery.id)
    assert row.state == DeliveryState.BOUNCED and row.bounce_status == "5.7.1"
    assert (await Subscriber.get(id=ana.id)).status == Status.ACTIVE
    assert await suppression_reason(ana.email) is None


async def test_delay_warnings_and_auto_replies_change_nothing(db: str) -> None:
    ana, delivery = await _one("ana@manufacturer.example.com")
    outcomes = await processor().process(
        [
            returned("delayed", address=ana.email, our_message_id=delivery.message_id),
            returned("vacation", address=ana.email, our_message_id=delivery.message_id),
        ],
        source="f",
    )
    assert [o.kind for o in outcomes] == [ReportKind.DELAYED, ReportKind.AUTO_REPLY]
    assert all(o.delivery_id == delivery.id for o in outcomes)  # matched, and shown to staff
    row = await Delivery.get(id=delivery.id)
    assert row.state == DeliveryState.SENT and row.bounced_at is None
    assert (await Subscriber.get(id=ana.id)).status == Status.ACTIVE


async def test_a_complaint_suppresses_for_good_and_the_form_mails_nothing(
    db: str, settings: Settings
) -> None:
    """ARF abuse report: complained, suppressed; signing up again on the form sends nothing."""
    ana, delivery = await _one()
    [outcome] = await processor().process([complaint(our_message_id=delivery.message_id)], source="f")
    assert outcome.kind is ReportKind.COMPLAINT and "never mailed again" in outcome.effect
    assert (await Delivery.get(id=delivery.id)).complained_at is not None
    assert (await Subscriber.get(id=ana.id)).status == Status.COMPLAINED
    assert await suppression_reason(ana.email) == "complained"
    queued = await Delivery.all().count()
    request = SignupRequest(
        email=ana.email, role=Role.MANUFACTURER, language=Language.EN, topics=frozenset({Topic.PILOT_UPDATES})
    )
    result = await sign_up(request)
    assert result.outcome.value == "complained"
    assert await Delivery.all().count() == queued  # no confirmation queued


async def test_a_person_who_confirmed_again_is_not_bounced_by_an_old_message(db: str) -> None:
    ana, delivery = await _one()
    ana.consent_at = dt.datetime.now(dt.UTC)  # after the message was sent
    await ana.save()
    [outcome] = await processor().process(
        [returned("hard", address=ana.email, our_message_id=delivery.message_id)], source="f"
    )
    assert "confirmed again" in outcome.effect
    assert (await Subscriber.get(id=ana.id)).status == Status.ACTIVE


async def test_without_verp_the_recipient_field_matches_the_latest_message_we_sent(db: str) -> None:
    """No Message-ID of ours in it: the DSN's recipient names the person's latest sent message."""
    ana = await person("ana@example.com")
    await sent_delivery(ana.id, ana.email, sent_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    latest = await sent_delivery(ana.id, ana.email)
    raw = returned("hard", address=ana.email, our_message_id="<not-ours@elsewhere.example>")
    [outcome] = await processor().process([raw], source="f")
    assert outcome.delivery_id == latest.id
    assert (await BounceEvent.get(delivery_id=latest.id)).matched_by == "recipient"


async def test_a_bounce_for_someone_we_never_mailed_does_nothing(db: str) -> None:
    ana = await person("ana@example.com")  # on the list, but never sent anything
    [outcome] = await processor().process(
        [returned("hard", address=ana.email, our_message_id="<x@elsewhere.example>")], source="f"
    )
    assert "no message of ours matched" in outcome.effect
    assert (await Subscriber.get(id=ana.id)).status == Status.ACTIVE


VERP = VerpSigner("test-secret-key-0123456789", "bounces@example.gov")


async def test_verp_names_the_delivery_even_when_the_dsn_names_another_address(db: str) -> None:
    """Forwarded mail bouncing at the forward target: the token still names our delivery."""
    ana, delivery = await _one()
    raw = returned(
        "hard",
        address="forwarded@elsewhere.example",
        our_message_id="<lost@elsewhere.example>",
        envelope_to=VERP.address(delivery.id),
    )
    [outcome] = await processor(verp=VERP).process([raw], source="f")
    assert outcome.delivery_id == delivery.id
    assert (await BounceEvent.get(delivery_id=delivery.id)).matched_by == "verp"
    assert (await Subscriber.get(id=ana.id)).status == Status.BOUNCED


async def test_with_verp_a_forged_bounce_does_nothing(db: str) -> None:
    """With BOUNCE_ADDRESS set, a bounce naming a person we mailed, with a forged token and no
    Message-ID of ours, changes nothing: recipient matching is off."""
    ana, delivery = await _one()
    forged = VerpSigner("not-our-secret-0123456789", "bounces@example.gov").address(delivery.id)
    raw = returned("hard", address=ana.email, our_message_id="<x@elsewhere.example>", envelope_to=forged)
    [outcome] = await processor(verp=VERP).process([raw], source="f")
    assert outcome.delivery_id is None
    assert (await Subscriber.get(id=ana.id)).status == Status.ACTIVE
    assert (await Delivery.get(id=delivery.id)).state == DeliveryState.SENT


async def test_verp_complaint_matches_by_the_returned_return_path(db: str) -> None:
    ana, delivery = await _one()
    raw = complaint(our_message_id="<x@elsewhere.example>", return_path=VERP.address(delivery.id))
    [outcome] = await processor(verp=VERP).process([raw], source="f")
    assert outcome.delivery_id == delivery.id
    assert (await Subscriber.get(id=ana.id)).status == Status.COMPLAINED


async def test_bounces_that_come_back_later_pause_a_campaign_still_sending(
    db: str, settings: Settings
) -> None:
    """The failure-rate pause counts bounces: 50 sent, then 6 hard bounces (12% > 10%)."""
    people = [await person(f"p{i}@example.com") for i in range(50)]
    campaign = await started_campaign(settings)
    await Delivery.filter(campaign_id=campaign.id).update(
        state=DeliveryState.SENT, sent_at=dt.datetime.now(dt.UTC)
    )
    rows = await Delivery.filter(campaign_id=campaign.id).order_by("id")
    for row in rows:
        row.message_id = message_id()
        await row.save(update_fields=["message_id"])
    raws = [returned("hard", address=r.address, our_message_id=r.message_id) for r in rows[:6]]
    await processor(failure_pause_min_attempts=50).process(raws, source="f")
    paused = await Campaign.get(id=campaign.id)
    assert paused.status == CampaignStatus.PAUSED and "bounced back" in paused.paused_reason
    assert len(people) == 50


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["file"] for e in EXPECTED])
async def test_each_corpus_message_does_what_it_says(db: str, entry: dict[str, Any]) -> None:
    """Every real message replayed against people we mailed (the addresses it names): bounced,
    complained, unsubscribed or untouched, as the message says."""
    raw = (CORPUS / entry["file"]).read_bytes()
    named = [f[0] for f in entry.get("failures", [])] + entry.get("recipients", [])
    people = {}
    for address in dict.fromkeys(named):
        subscriber = await person(address)
        await sent_delivery(subscriber.id, subscriber.email)
        people[address] = subscriber
    [outcome] = await processor().process([raw], source="file")
    assert outcome.kind.value == entry["kind"]
    statuses = {a: (await Subscriber.get(id=s.id)).status for a, s in people.items()}
    changed = {a: status for a, status in statuses.items() if status != Status.ACTIVE}
    expected: dict[str, Status] = {}
    if entry["kind"] == "bounce" and people:
        first = next(f for f in entry["failures"] if f[0] in people)
        if first[2] == "hard":
            expected[first[0]] = Status.BOUNCED
    elif entry["kind"] == "complaint" and people:
        expected[next(iter(people))] = Status.COMPLAINED
    elif entry["kind"] == "opt_out" and people:
        expected[next(iter(people))] = Status.UNSUBSCRIBED
    assert changed == expected, outcome.effect
    assert (outcome.for_a_person) == (entry["kind"] in ("unrecognised", "other_report"))


@settings(
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    deadline=None,
)
@given(st.lists(st.binary(max_size=2000), min_size=1, max_size=5))
async def test_garbage_never_stops_processing(db: str, raws: list[bytes]) -> None:
    """Whatever bytes arrive, each gets an outcome and nothing raises."""
    outcomes = await processor().process(raws, source="file")
    assert len(outcomes) == len(raws)
    assert all(isinstance(o.kind, ReportKind) for o in outcomes)


async def test_a_batch_finds_its_rows_by_index_whatever_the_plan(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each lookup of a batch (processed keys, deliveries by Message-ID or token, soft bounces) can be
    served by an index, also as PostgreSQL's generic plan, which a statement gets after five runs:
    `IN ($1, ..., $100)` as the ORM wrote it became a scan comparing every row with every value, and
    the Message-ID lookup could never use its index (bench/bounces.py, docs/benchmarks.md)."""
    statements: list[tuple[str, list[Any]]] = []

    async def capture(self: BatchStore, statement: str, values: list[Any]) -> list[dict[str, Any]]:
        statements.append((self.bulk.sql(statement), values))
        return []

    monkeypatch.setattr(BatchStore, "_fetch", capture)
    store = BatchStore()
    await store.seen(["a" * 64, "b" * 64])
    await store.deliveries_by_message_id(["<x@example.gov>", "<y@example.gov>"])
    await store.deliveries_by_id([1, 2])
    await store.soft_bounces([1, 2], dt.datetime.now(dt.UTC))
    monkeypatch.undo()
    conn = get_connection("default")
    for statement, values in statements:
        if conn.capabilities.dialect == "postgres":
            async with in_transaction() as tx:
                # Planners prefer to read a small table whole (scanned, or hashed against the batch);
                # forbidding that shows whether an index can find each value.
                await tx.execute_script(
                    "SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off; "
                    "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_hashjoin = off; "
                    "SET LOCAL enable_mergejoin = off"
                )
                await tx.execute_script(f"PREPARE lookup AS {statement}")
                arguments = ", ".join(_literal(value) for value in values)
                _, rows = await tx.execute_query(f"EXPLAIN EXECUTE lookup({arguments})")
                await tx.execute_script("DEALLOCATE lookup")
            lines = [str(row[0]) for row in rows]
            plan = "\n".join(lines)
            assert "Seq Scan" not in plan, plan
            # an index read whole (no condition) is a scan too
            for line, after in itertools.pairwise(lines):
                reads_index = "Index Scan" in line or "Index Only Scan" in line
                assert not reads_index or "Index Cond" in after, plan
        else:
            _, rows = await conn.execute_query(f"EXPLAIN QUERY PLAN {statement}", values)
            plan = "\n".join(str(row[-1]) for row in rows)
            assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), plan


def _literal(value: Any) -> str:
    if isinstance(value, list):
        return "ARRAY[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
