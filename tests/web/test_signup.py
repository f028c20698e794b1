"""subscribers.signup: what a form submission, a confirmation, a preferences change and an
unsubscribe do to the registry, on the real database."""

from __future__ import annotations

import asyncio
import datetime as dt

from tortoise.exceptions import IntegrityError

from outreach.models import Delivery
from outreach.signup import SignupBatcher, sign_up, sign_up_many
from subscribers.addresses import email_hash
from subscribers.models import (
    AuditEvent,
    BusinessProfile,
    Language,
    Role,
    Status,
    Subscriber,
    Suppression,
    Topic,
)
from subscribers.registry import change_status, suppress
from subscribers.signup import (
    CONSENT_WORDING_VERSION,
    RESEND_AFTER,
    BusinessDetails,
    ConfirmOutcome,
    Outcome,
    SignupRequest,
    confirm,
    unsubscribe,
    update_preferences,
)

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


def request(**changes: object) -> SignupRequest:
    values: dict[str, object] = {
        "email": "ana@example.com",
        "role": Role.MANUFACTURER,
        "language": Language.ES,
        "topics": frozenset({Topic.PILOT_UPDATES, Topic.APPLICATION_INVITATIONS}),
        "name": "Ana",
        "organization": "López Uniforms",
        "business": BusinessDetails(principal_zip="90021", naics="315250", employees=12, garment_work=True),
    }
    values.update(changes)
    return SignupRequest(**values)  # type: ignore[arg-type]


async def deliveries(template: str | None = None) -> list[Delivery]:
    query = Delivery.all().order_by("id")
    if template:
        query = query.filter(template=template)
    return await query


async def test_new_address_is_pending_with_profile_consent_audit_and_one_confirmation(db: str) -> None:
    """A first sign-up writes the person, the business profile, the audit row and one queued email."""
    result = await sign_up(request(), now=NOW, confirm_link_hours=48)
    assert result.outcome == Outcome.CREATED and result.queued_mail
    person = await Subscriber.get(id=result.subscriber_id)
    assert person.status == Status.PENDING
    assert person.consent_at is None  # consent counts from the confirmation
    assert person.consent_wording_version == CONSENT_WORDING_VERSION
    assert person.consent_method.value == "form"
    assert person.language == Language.ES
    assert sorted(person.topics) == ["application_invitations", "pilot_updates"]
    assert person.zip == "90021"
    profile = await BusinessProfile.get(subscriber_id=person.id)
    assert (profile.naics, profile.employees, profile.garment_work, profile.ca_small_business) == (
        "315250",
        12,
        True,
        None,
    )
    [queued] = await deliveries()
    assert (queued.template, queued.language, queued.address) == ("confirm", "es", "ana@example.com")
    assert queued.context == {"link_valid_hours": 48}
    [audit] = await AuditEvent.filter(subscriber_id=person.id)
    assert (audit.action, audit.new_value, audit.actor) == ("status", "pending", "form")


async def test_business_answers_of_other_roles_are_not_kept(db: str) -> None:
    """Only manufacturers have a business profile."""
    result = await sign_up(request(role=Role.COUNTY_STAFF), now=NOW)
    assert await BusinessProfile.filter(subscriber_id=result.subscriber_id).count() == 0


async def test_resubmitting_a_pending_address_resends_at_most_once_per_window(db: str) -> None:
    """Pending again: one person; a second confirmation only after RESEND_AFTER; latest answers kept."""
    first = await sign_up(request(), now=NOW)
    soon = await sign_up(request(name="Ana María"), now=NOW + dt.timedelta(minutes=1))
    later = await sign_up(request(), now=NOW + RESEND_AFTER + dt.timedelta(seconds=1))
    assert [first.outcome, soon.outcome, later.outcome] == [Outcome.CREATED, Outcome.PENDING, Outcome.RESENT]
    assert not soon.queued_mail
    assert first.subscriber_id == soon.subscriber_id == later.subscriber_id
    assert await Subscriber.all().count() == 1
    assert await BusinessProfile.all().count() == 1
    assert len(await deliveries("confirm")) == 2


async def test_resubmitting_an_active_address_sends_a_notice_not_a_confirmation(db: str) -> None:
    """Active: nothing about the person changes; at most one 'already signed up' notice per window."""
    created = await sign_up(request(), now=NOW)
    await confirm(created.subscriber_id)
    later = NOW + RESEND_AFTER * 2
    again = await sign_up(request(name="Mallory", topics=frozenset({Topic.WORKING_GROUP})), now=later)
    quiet = await sign_up(request(), now=later + dt.timedelta(minutes=1))
    assert (again.outcome, quiet.outcome) == (Outcome.ALREADY_ACTIVE, Outcome.ACTIVE_QUIET)
    person = await Subscriber.get(id=created.subscriber_id)
    assert person.status == Status.ACTIVE and person.name == "Ana"
    assert sorted(person.topics) == ["application_invitations", "pilot_updates"]
    assert [d.template for d in await deliveries()] == ["confirm", "already_subscribed"]


async def test_an_unsubscribed_address_signs_up_afresh(db: str) -> None:
    """Unsubscribed: pending again with a new consent and a new confirmation; the suppression entry
    and the details the person once confirmed stay until they confirm (anyone can type an address)."""
    created = await sign_up(request(), now=NOW)
    await confirm(created.subscriber_id)
    await unsubscribe(created.subscriber_id)
    suppressed = Suppression.filter(email_hash=email_hash("ana@example.com"))
    assert await suppressed.exists()
    later = NOW + RESEND_AFTER * 2
    again = await sign_up(
        request(language=Language.EN, name="Win cash at scam.example today", organization="Mallory Inc"),
        now=later,
    )
    assert again.outcome == Outcome.RESTARTED and again.subscriber_id == created.subscriber_id
    person = await Subscriber.get(id=created.subscriber_id)
    assert person.status == Status.PENDING and person.consent_at is None
    assert (person.name, person.organization, person.language) == ("Ana", "López Uniforms", Language.ES)
    assert await suppressed.exists(), "a form post alone must not lift the suppression"
    assert len(await deliveries("confirm")) == 2
    # Submitting again while pending still changes nothing of theirs.
    await sign_up(request(name="Mallory"), now=later + dt.timedelta(minutes=1))
    assert (await Subscriber.get(id=person.id)).name == "Ana"
    assert await confirm(person.id) == ConfirmOutcome.CONFIRMED
    assert (await Subscriber.get(id=person.id)).consent_at is not None
    assert not await suppressed.exists(), "confirming lifts it"


async def test_restarting_a_left_address_is_rate_limited_like_a_pending_one(db: str) -> None:
    """The form can't be used to flood someone who unsubscribed: one confirmation per RESEND_AFTER."""
    created = await sign_up(request(), now=NOW)
    await confirm(created.subscriber_id)
    await unsubscribe(created.subscriber_id)
    quiet = await sign_up(request(), now=NOW + dt.timedelta(minutes=1))  # confirmation sent a minute ago
    assert quiet.outcome == Outcome.LEFT_QUIET and not quiet.queued_mail
    assert (await Subscriber.get(id=created.subscriber_id)).status == Status.UNSUBSCRIBED
    later = NOW + RESEND_AFTER + dt.timedelta(seconds=1)
    outcomes = [(await sign_up(request(), now=later + dt.timedelta(seconds=n))).outcome for n in range(5)]
    assert outcomes == [Outcome.RESTARTED] + [Outcome.PENDING] * 4
    assert len(await deliveries("confirm")) == 2


async def test_a_bounced_address_signs_up_afresh(db: str) -> None:
    created = await sign_up(request(), now=NOW)
    person = await Subscriber.get(id=created.subscriber_id)
    await change_status(person, Status.BOUNCED, actor="sender")
    again = await sign_up(request(), now=NOW + RESEND_AFTER * 2)
    assert again.outcome == Outcome.RESTARTED and again.queued_mail
    assert await Suppression.filter(email_hash=email_hash("ana@example.com"), reason="bounced").exists()


async def test_a_complained_address_is_never_mailed_from_the_form(db: str) -> None:
    """They reported our mail as spam: an anonymous form post changes nothing and mails nothing."""
    created = await sign_up(request(), now=NOW)
    await confirm(created.subscriber_id)
    person = await Subscriber.get(id=created.subscriber_id)
    await change_status(person, Status.COMPLAINED, actor="sender")
    for n in range(3):
        result = await sign_up(request(name="Mallory"), now=NOW + RESEND_AFTER * (n + 2))
        assert result.outcome == Outcome.COMPLAINED and not result.queued_mail
    person = await Subscriber.get(id=created.subscriber_id)
    assert (person.status, person.name) == (Status.COMPLAINED, "Ana")
    assert len(await deliveries("confirm")) == 1
    assert await Suppression.filter(email_hash=email_hash("ana@example.com"), reason="complained").exists()


async def test_an_erased_address_stores_and_sends_nothing(db: str) -> None:
    """Erasure is final: the form can't bring the address back, and nothing says so."""
    await suppress("ana@example.com", "erased")
    result = await sign_up(request(), now=NOW)
    assert result.outcome == Outcome.REFUSED and not result.queued_mail
    assert await Subscriber.all().count() == 0
    assert await Delivery.all().count() == 0


async def test_simultaneous_sign_ups_of_one_address_make_one_person(db: str) -> None:
    """Racing submissions of a new address: one person, no error."""
    results = await asyncio.gather(*(sign_up(request(), now=NOW) for _ in range(5)))
    assert await Subscriber.all().count() == 1
    assert len({r.subscriber_id for r in results}) == 1
    assert [r.outcome for r in results].count(Outcome.CREATED) == 1
    assert len(await deliveries("confirm")) == 1


async def test_confirm_activates_once_and_records_consent(db: str) -> None:
    created = await sign_up(request(), now=NOW)
    assert await confirm(created.subscriber_id) == ConfirmOutcome.CONFIRMED
    assert await confirm(created.subscriber_id) == ConfirmOutcome.ALREADY_ACTIVE
    person = await Subscriber.get(id=created.subscriber_id)
    assert person.status == Status.ACTIVE and person.consent_at is not None
    actions = (
        await AuditEvent.filter(subscriber_id=person.id).order_by("id").values_list("action", "new_value")
    )
    assert actions == [
        ("status", "pending"),
        ("status", "active"),
        ("consent", f"form {CONSENT_WORDING_VERSION}"),
    ]


async def test_confirm_does_nothing_for_people_gone_since(db: str) -> None:
    """A confirmation link can't re-activate someone who unsubscribed after signing up."""
    created = await sign_up(request(), now=NOW)
    await unsubscribe(created.subscriber_id)
    assert await confirm(created.subscriber_id) == ConfirmOutcome.GONE
    assert await confirm(987654) == ConfirmOutcome.GONE
    assert (await Subscriber.get(id=created.subscriber_id)).status == Status.UNSUBSCRIBED


async def test_update_preferences_audits_topics_and_language_but_not_the_name(db: str) -> None:
    created = await sign_up(request(), now=NOW)
    person = await update_preferences(
        created.subscriber_id, topics=frozenset({Topic.WORKING_GROUP}), language=Language.EN, name="Ana L."
    )
    assert person is not None and person.topics == ["working_group"] and person.name == "Ana L."
    [event] = await AuditEvent.filter(action="preferences")
    assert event.old_value == "topics=pilot_updates+application_invitations language=es"
    assert event.new_value == "topics=working_group language=en"
    assert "Ana" not in event.old_value + event.new_value
    await update_preferences(
        created.subscriber_id, topics=frozenset({Topic.WORKING_GROUP}), language=Language.EN, name="A"
    )
    assert await AuditEvent.filter(action="preferences").count() == 1  # no change, no audit row
    assert await update_preferences(424242, topics=frozenset(), language=Language.EN, name="") is None


async def test_unsubscribe_is_idempotent_and_suppresses(db: str) -> None:
    created = await sign_up(request(), now=NOW)
    await confirm(created.subscriber_id)
    assert await unsubscribe(created.subscriber_id) is True
    assert await unsubscribe(created.subscriber_id) is True
    assert (await Subscriber.get(id=created.subscriber_id)).status == Status.UNSUBSCRIBED
    assert await AuditEvent.filter(action="status", new_value="unsubscribed").count() == 1
    assert (await Suppression.get(email_hash=email_hash("ana@example.com"))).reason == "unsubscribed"
    assert await unsubscribe(55555) is False


async def test_a_failed_write_leaves_nothing_half_written(db: str, monkeypatch) -> None:
    """If queueing the email fails, the person and the audit row are rolled back with it."""
    import outreach.signup as signup_module

    async def broken(**kwargs: object) -> None:
        raise RuntimeError("queue unavailable")

    monkeypatch.setattr(signup_module, "enqueue_transactional", broken)
    try:
        await sign_up(request(), now=NOW)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the failure should reach the caller")
    assert await Subscriber.all().count() == 0
    assert await AuditEvent.all().count() == 0
    assert await BusinessProfile.all().count() == 0


async def test_a_batch_gives_each_submission_its_own_outcome_in_order(db: str) -> None:
    """New, repeated-in-batch, pending, active and erased addresses in one transaction."""
    await sign_up(request(email="pending@example.com"), now=NOW)
    active = await sign_up(request(email="active@example.com"), now=NOW)
    await confirm(active.subscriber_id)
    await suppress("erased@example.com", "erased")
    later = NOW + RESEND_AFTER * 2
    batch = [
        request(email="new@example.com"),
        request(email="new@example.com"),
        request(email="pending@example.com"),
        request(email="active@example.com"),
        request(email="erased@example.com"),
        request(email="other@example.com", role=Role.COUNTY_STAFF),
    ]
    results = await sign_up_many(batch, now=later)
    assert [r.outcome for r in results] == [
        Outcome.CREATED,
        Outcome.PENDING,  # the second submission of a new address is a re-submission
        Outcome.RESENT,
        Outcome.ALREADY_ACTIVE,
        Outcome.REFUSED,
        Outcome.CREATED,
    ]
    assert results[0].subscriber_id == results[1].subscriber_id
    assert await Subscriber.filter(email="new@example.com").count() == 1
    assert not await Subscriber.filter(email="erased@example.com").exists()
    assert await BusinessProfile.filter(subscriber_id=results[5].subscriber_id).count() == 0


async def test_a_batch_writes_the_same_rows_as_one_by_one(db: str) -> None:
    """The multi-row insert path and the ORM path leave identical people, profiles, audit and mail."""
    [batched] = await sign_up_many([request(email="batch@example.com")], now=NOW, confirm_link_hours=24)
    single = await sign_up(request(email="single@example.com"), now=NOW, confirm_link_hours=24)

    def person_fields(person: Subscriber) -> dict[str, object]:
        values = dict(person)
        for name in ("id", "email", "created_at", "updated_at"):
            values.pop(name)
        return values

    a, b = await Subscriber.get(id=batched.subscriber_id), await Subscriber.get(id=single.subscriber_id)
    assert person_fields(a) == person_fields(b)
    assert a.created_at is not None and a.updated_at is not None
    pa = await BusinessProfile.get(subscriber_id=a.id).values()
    pb = await BusinessProfile.get(subscriber_id=b.id).values()
    for row in (pa, pb):
        for name in ("id", "subscriber_id", "updated_at"):
            row.pop(name)
    assert pa == pb
    da = await Delivery.get(subscriber_id=a.id)
    db_ = await Delivery.get(subscriber_id=b.id)
    assert (da.template, da.language, da.priority, da.state, da.context) == (
        db_.template,
        db_.language,
        db_.priority,
        db_.state,
        db_.context,
    )
    assert da.context == {"link_valid_hours": 24} and da.next_attempt_at == NOW
    audit_a = await AuditEvent.filter(subscriber_id=a.id).values_list(
        "action", "old_value", "new_value", "actor"
    )
    audit_b = await AuditEvent.filter(subscriber_id=b.id).values_list(
        "action", "old_value", "new_value", "actor"
    )
    assert audit_a == audit_b == [("status", "", "pending", "form")]


async def test_batcher_groups_concurrent_sign_ups_and_answers_each(db: str) -> None:
    """Many sign-ups at once: each caller gets its own result; every person is written once."""
    batcher = SignupBatcher(max_batch=7)
    emails = [f"p{i}@example.com" for i in range(30)] + ["p3@example.com"]
    results = await asyncio.gather(*(batcher.sign_up(request(email=e)) for e in emails))
    assert [r.outcome for r in results].count(Outcome.CREATED) == 30
    assert results[-1].outcome == Outcome.PENDING and results[-1].subscriber_id == results[3].subscriber_id
    assert await Subscriber.all().count() == 30
    assert await Delivery.all().count() == 30


async def test_batcher_falls_back_to_one_by_one_when_a_batch_fails(db: str, monkeypatch) -> None:
    """A batch that fails as a whole (another process took an address) is retried person by person,
    so one bad sign-up can't fail the others."""
    import outreach.signup as signup_module

    async def conflicting_batch(*args: object, **kwargs: object) -> list[object]:
        raise IntegrityError("UNIQUE constraint failed: subscriber.email")

    monkeypatch.setattr(signup_module, "sign_up_many", conflicting_batch)
    batcher = SignupBatcher()
    results = await asyncio.gather(*(batcher.sign_up(request(email=f"q{i}@example.com")) for i in range(5)))
    assert [r.outcome for r in results] == [Outcome.CREATED] * 5
    assert await Subscriber.all().count() == 5


async def test_batcher_reports_a_failure_to_its_caller_only(db: str, monkeypatch) -> None:
    import outreach.signup as signup_module

    real = signup_module.sign_up

    async def fails_for_one(req: SignupRequest, **kwargs: object) -> object:
        if req.email == "bad@example.com":
            raise RuntimeError("disk full")
        return await real(req, **kwargs)

    async def conflicting_batch(*args: object, **kwargs: object) -> list[object]:
        raise IntegrityError("conflict")

    monkeypatch.setattr(signup_module, "sign_up_many", conflicting_batch)
    monkeypatch.setattr(signup_module, "sign_up", fails_for_one)
    batcher = SignupBatcher()
    results = await asyncio.gather(
        batcher.sign_up(request(email="good@example.com")),
        batcher.sign_up(request(email="bad@example.com")),
        return_exceptions=True,
    )
    assert results[0].outcome == Outcome.CREATED  # type: ignore[union-attr]
    assert isinstance(results[1], RuntimeError)


async def test_a_full_batch_of_new_addresses_is_written_in_one_go(db: str) -> None:
    """200 new people (thousands of statement parameters) in one batch, on either database."""
    results = await sign_up_many([request(email=f"n{i}@example.com") for i in range(200)], now=NOW)
    assert {r.outcome for r in results} == {Outcome.CREATED}
    assert len({r.subscriber_id for r in results}) == 200
    assert await Subscriber.all().count() == 200
    assert await BusinessProfile.all().count() == 200
    assert await Delivery.filter(template="confirm").count() == 200
