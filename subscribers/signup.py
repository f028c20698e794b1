"""Signing up through the public form: double opt-in, re-submissions, preferences, unsubscribing.

The web pages only parse and render; what a sign-up does to the registry is decided here. Whatever
the outcome, the person who typed the address sees the same "check your email" page, so these
functions report the outcome to the caller (for tests and the sender's wake-up) and never to the
page.

This side knows nothing about mail. `record_sign_up` and `record_sign_ups` run inside their caller's
transaction and say, with each result, what the person must now be told (`Notice`: please confirm,
or you are already signed up); `outreach.signup` opens the transaction, calls them and writes that
notice as a queued email in the same transaction, so the person, their business profile, the audit
trail and the email are written together or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tortoise.connection import get_connection
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from subscribers.addresses import email_hash
from subscribers.bulk_insert import insert_many, placeholders
from subscribers.confirmation_limits import ConfirmationLimits, claim_confirmations
from subscribers.models import (
    AuditEvent,
    BusinessProfile,
    ConsentMethod,
    Language,
    Role,
    Status,
    Subscriber,
    Topic,
)
from subscribers.profile_corrections import ProfileCorrection, correct_profile
from subscribers.registry import change_status, record, suppression_reason

# The consent wording the form shows, word for word, under a version we store with each person.
# Change the wording only together with the version.
CONSENT_WORDING_VERSION = "2026-11-v1"
CONSENT_WORDING = {
    "en": (
        "I agree that the Los Angeles County Department of Economic Opportunity can email me about "
        "the Made in Los Angeles pilot, on the topics I chose. I can unsubscribe at any time."
    ),
    "es": (
        "Acepto que el Departamento de Oportunidades Económicas del Condado de Los Ángeles me envíe "
        "correos sobre el programa piloto Made in Los Angeles, sobre los temas que elegí. Puedo "
        "cancelar mi suscripción en cualquier momento."
    ),
}

# A person who submits the form again gets at most one email per this long (confirmation or
# "you are already signed up"), so the form can't be used to flood someone's inbox.
RESEND_AFTER = dt.timedelta(minutes=15)

ACTOR = "form"


class NoticeKind(StrEnum):
    """What a sign-up obliges us to tell the address's owner (the mail side picks the template)."""

    CONFIRM = "confirm"  # follow this link to confirm (double opt-in)
    ALREADY_SUBSCRIBED = "already_subscribed"  # you are signed up already; nothing changed


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing to tell one person, in their language: the caller queues it in the same transaction."""

    kind: NoticeKind
    subscriber_id: int
    address: str
    language: Language


@dataclass(frozen=True, slots=True)
class BusinessDetails:
    """A manufacturer's answers about their business; every field is optional."""

    legal_name: str = ""
    principal_zip: str = ""
    production_zip: str = ""
    products: str = ""
    naics: str = ""
    employees: int | None = None
    years_in_county: int | None = None
    ca_small_business: bool | None = None
    garment_work: bool | None = None

    def is_empty(self) -> bool:
        return self == BusinessDetails()


@dataclass(frozen=True, slots=True)
class SignupRequest:
    """A validated form submission. `email` is already normalised (see `normalise_email`)."""

    email: str
    role: Role
    language: Language
    topics: frozenset[Topic]
    name: str = ""
    organization: str = ""
    business: BusinessDetails = field(default_factory=BusinessDetails)


class Outcome(StrEnum):
    CREATED = "created"  # a new person, pending; confirmation queued
    RESTARTED = (
        "restarted"  # had unsubscribed or bounced: pending again (still suppressed); confirmation queued
    )
    RESENT = "resent"  # still pending; confirmation queued again
    PENDING = "pending"  # still pending and mailed recently: nothing queued
    LEFT_QUIET = "left_quiet"  # unsubscribed or bounced and mailed recently: nothing changed or queued
    COMPLAINED = "complained"  # reported our mail as spam: nothing changed, nothing queued
    ALREADY_ACTIVE = "already_active"  # active; an "already signed up" notice queued
    ACTIVE_QUIET = "active_quiet"  # active and mailed recently: nothing queued
    REFUSED = "refused"  # the address was erased: nothing stored, nothing queued
    LIMITED = "limited"  # its mailbox or domain had all the form's mail it may: nothing new stored or queued


QUEUING = {Outcome.CREATED, Outcome.RESTARTED, Outcome.RESENT, Outcome.ALREADY_ACTIVE}


@dataclass(frozen=True, slots=True)
class SignupResult:
    outcome: Outcome
    subscriber_id: int | None
    notice: Notice | None = None  # what to tell the person; set exactly for the QUEUING outcomes

    @property
    def queued_mail(self) -> bool:
        """True when an email was queued: the caller should wake the sender."""
        return self.outcome in QUEUING


async def record_sign_up(
    request: SignupRequest, *, now: dt.datetime, limits: ConfirmationLimits
) -> SignupResult:
    """Record a form submission, inside the caller's transaction. Never creates a second person for
    an address already known. Raises IntegrityError when another transaction created the address
    meanwhile (run it again in a new transaction: it is then a re-submission).

    `limits` caps the mail the form sends one mailbox or domain (`subscribers.confirmation_limits`).
    """
    if await suppression_reason(request.email) == "erased":
        return SignupResult(Outcome.REFUSED, None)
    return await _sign_up(request, now, limits)


async def record_sign_ups(
    requests: list[SignupRequest], *, now: dt.datetime, limits: ConfirmationLimits
) -> list[SignupResult]:
    """`record_sign_up` for several submissions, inside the caller's transaction, same outcomes.

    New addresses, the common case, are written with one multi-row statement per table; anything
    else (an address already known, or twice in the batch) goes through the one-by-one path. Raises
    IntegrityError if another process created one of the new addresses meanwhile.
    """
    emails = list({r.email: None for r in requests})
    hashes = {email_hash(email): email for email in emails}
    conn = get_connection("default")
    # Who is known already, and who was erased: one plain query (building ORM queries costs
    # more than running them). Known people are locked again on the one-by-one path.
    places = placeholders(conn, len(emails) * 2)
    by_email, by_hash = ", ".join(places[: len(emails)]), ", ".join(places[len(emails) :])
    statement = (
        f"SELECT 'known' AS kind, email AS value FROM subscriber WHERE email IN ({by_email}) "  # noqa: S608
        f"UNION ALL SELECT 'erased', email_hash FROM suppression "
        f"WHERE reason = 'erased' AND email_hash IN ({by_hash})"
    )
    rows = await conn.execute_query_dict(statement, [*emails, *hashes])
    known = {row["value"] for row in rows if row["kind"] == "known"}
    erased = {hashes[row["value"]] for row in rows if row["kind"] == "erased"}
    fresh: dict[str, int] = {}  # email -> position of the request that creates the person
    for position, r in enumerate(requests):
        if r.email not in erased and r.email not in known and r.email not in fresh:
            fresh[r.email] = position
    granted = await claim_confirmations(list(fresh), now=now, limits=limits)
    limited = {email for email, ok in zip(fresh, granted, strict=True) if not ok}
    new = [requests[i] for email, i in fresh.items() if email not in limited]
    created = await _create_people(new, now)
    results = []
    for position, r in enumerate(requests):
        if r.email in erased:
            results.append(SignupResult(Outcome.REFUSED, None))
        elif fresh.get(r.email) == position:
            if r.email in limited:
                results.append(SignupResult(Outcome.LIMITED, None))
            else:
                notice = Notice(NoticeKind.CONFIRM, created[r.email], r.email, r.language)
                results.append(SignupResult(Outcome.CREATED, created[r.email], notice))
        else:
            results.append(await _sign_up(r, now, limits))
    return results


async def _create_people(requests: list[SignupRequest], now: dt.datetime) -> dict[str, int]:
    """Insert new pending people with their audit row and business profile.

    One multi-row INSERT per table: building ORM instances costs more than the rest of a sign-up
    together, and these rows are plain. The values are the ones the one-by-one path writes.
    """
    if not requests:
        return {}
    people = []
    for request in requests:
        person = {"email": request.email, "status": Status.PENDING}
        _take_details(person, request)
        _take_consent(person, now)
        people.append(person)
    rows = await insert_many(Subscriber, people, returning=("id", "email"))
    ids = {row["email"]: row["id"] for row in rows}
    await insert_many(
        AuditEvent,
        [
            {
                "subscriber_id": ids[r.email],
                "action": "status",
                "new_value": Status.PENDING.value,
                "actor": ACTOR,
            }
            for r in requests
        ],
    )
    profiles = [
        {"subscriber_id": ids[r.email], **_business_values(r)}
        for r in requests
        if r.role == Role.MANUFACTURER and not r.business.is_empty()
    ]
    await insert_many(BusinessProfile, profiles)
    return ids


async def _sign_up(request: SignupRequest, now: dt.datetime, limits: ConfirmationLimits) -> SignupResult:
    person = await Subscriber.filter(email=request.email).select_for_update().first()
    if person is None:
        if not await _may_mail(request.email, now, limits):
            return SignupResult(Outcome.LIMITED, None)
        person = Subscriber(email=request.email, status=Status.PENDING)
        _take_details(person, request)
        _take_consent(person, now)
        await person.save()
        await record(person.id, "status", "", Status.PENDING.value, ACTOR)
        await _save_business(person, request)
        return SignupResult(Outcome.CREATED, person.id, _notice(person, NoticeKind.CONFIRM))

    if person.status == Status.ACTIVE:
        # Whoever typed the address may not own it: an active person's details stay as they are.
        if await _claim_mail_slot(person, now):
            if not await _may_mail(person.email, now, limits):
                return SignupResult(Outcome.LIMITED, person.id)
            return SignupResult(
                Outcome.ALREADY_ACTIVE, person.id, _notice(person, NoticeKind.ALREADY_SUBSCRIBED)
            )
        return SignupResult(Outcome.ACTIVE_QUIET, person.id)

    # Pending, or gone (unsubscribed, bounced, complained). Whoever typed the address may not own
    # it, and someone who left is still on the suppression list until they confirm (`confirm`).
    suppressed = await suppression_reason(person.email)
    if person.status == Status.COMPLAINED or suppressed == "complained":
        # They reported our mail as spam: an anonymous form post must not mail them again.
        return SignupResult(Outcome.COMPLAINED, person.id)

    if person.status == Status.PENDING:
        if suppressed is None:
            # Nothing but the confirmation has been mailed to a never-confirmed person, so the
            # latest answers replace the earlier ones. A person who left and asked to come back
            # (still suppressed) keeps the details they once confirmed until they confirm again.
            _take_details(person, request)
            await person.save()
            await _save_business(person, request)
        if await _claim_mail_slot(person, now):
            if not await _may_mail(person.email, now, limits):
                return SignupResult(Outcome.LIMITED, person.id)
            return SignupResult(Outcome.RESENT, person.id, _notice(person, NoticeKind.CONFIRM))
        return SignupResult(Outcome.PENDING, person.id)

    # Unsubscribed or bounced: a new double opt-in. They become pending with a new (unconfirmed)
    # consent and get a confirmation, at most one per RESEND_AFTER; their details, and the
    # suppression entry, stay as they are until they follow the link (then they can change
    # their topics on the preferences page).
    if not await _claim_mail_slot(person, now):
        return SignupResult(Outcome.LEFT_QUIET, person.id)
    if not await _may_mail(person.email, now, limits):
        return SignupResult(Outcome.LIMITED, person.id)
    _take_consent(person, now)
    await person.save(update_fields=[*_CONSENT_FIELDS, "updated_at"])
    await change_status(person, Status.PENDING, actor=ACTOR)
    return SignupResult(Outcome.RESTARTED, person.id, _notice(person, NoticeKind.CONFIRM))


def _take_details(person: Subscriber | dict[str, Any], request: SignupRequest) -> None:
    _assign(person, _details(request))


_CONSENT_FIELDS = (
    "consent_method",
    "consent_wording_version",
    "consent_source",
    "consent_at",
    "confirmation_sent_at",
)


def _take_consent(person: Subscriber | dict[str, Any], now: dt.datetime) -> None:
    """A new consent by form: it counts from confirmation (`consent_at` is set then)."""
    values = (ConsentMethod.FORM, CONSENT_WORDING_VERSION, "", None, now)
    _assign(person, dict(zip(_CONSENT_FIELDS, values, strict=True)))


def _details(request: SignupRequest) -> dict[str, Any]:
    details: dict[str, Any] = {
        "name": request.name,
        "organization": request.organization,
        "role": request.role,
        "language": request.language,
    }
    for topic in Topic:
        details[f"topic_{topic.value}"] = topic in request.topics
    if request.role == Role.MANUFACTURER and request.business.principal_zip:
        details["zip"] = request.business.principal_zip
    return details


def _assign(person: Subscriber | dict[str, Any], values: dict[str, Any]) -> None:
    if isinstance(person, dict):
        person.update(values)
    else:
        for name, value in values.items():
            setattr(person, name, value)


async def _save_business(person: Subscriber, request: SignupRequest) -> None:
    """Keep a manufacturer's business profile; other roles have none (their answers are dropped)."""
    if request.role != Role.MANUFACTURER or request.business.is_empty():
        return
    values = _business_values(request)
    updated = await BusinessProfile.filter(subscriber_id=person.id).update(**values)
    if not updated:
        await BusinessProfile.create(subscriber_id=person.id, **values)


def _business_values(request: SignupRequest) -> dict[str, Any]:
    business = request.business
    return {
        "legal_name": business.legal_name,
        "principal_zip": business.principal_zip,
        "production_zip": business.production_zip,
        "products": business.products,
        "naics": business.naics,
        "employees": business.employees,
        "years_in_county": business.years_in_county,
        "ca_small_business": business.ca_small_business,
        "garment_work": business.garment_work,
    }


async def _claim_mail_slot(person: Subscriber, now: dt.datetime) -> bool:
    """Take the right to mail this person now, at most once per RESEND_AFTER.

    One conditional UPDATE, so two simultaneous re-submissions can't both win.
    """
    cutoff = now - RESEND_AFTER
    due = Q(confirmation_sent_at__isnull=True) | Q(confirmation_sent_at__lt=cutoff)
    claimed = await Subscriber.filter(due, id=person.id).update(confirmation_sent_at=now)
    return bool(claimed)


async def _may_mail(email: str, now: dt.datetime, limits: ConfirmationLimits) -> bool:
    """Room in the mailbox's and the domain's allowance for one more email from the form."""
    [granted] = await claim_confirmations([email], now=now, limits=limits)
    return granted


def _notice(person: Subscriber, kind: NoticeKind) -> Notice:
    return Notice(kind, person.id, person.email, person.language)


class ConfirmOutcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_ACTIVE = "already_active"
    GONE = "gone"  # erased, or unsubscribed/bounced since: the link no longer confirms anything


async def confirm(subscriber_id: int) -> ConfirmOutcome:
    """Activate a pending person who followed their confirmation link (double opt-in)."""
    async with in_transaction():
        person = await Subscriber.filter(id=subscriber_id).select_for_update().first()
        if person is None:
            return ConfirmOutcome.GONE
        if person.status == Status.ACTIVE:
            return ConfirmOutcome.ALREADY_ACTIVE
        if person.status != Status.PENDING:
            return ConfirmOutcome.GONE
        await change_status(person, Status.ACTIVE, actor=ACTOR)
        await record(
            person.id, "consent", "", f"{person.consent_method.value} {person.consent_wording_version}", ACTOR
        )
        return ConfirmOutcome.CONFIRMED


async def update_preferences(
    subscriber_id: int,
    *,
    topics: frozenset[Topic],
    language: Language,
    name: str,
    organization: str | None = None,
    profile: ProfileCorrection | None = None,
) -> Subscriber | None:
    """Save what a person chose on their preferences page; audits topic and language changes, and
    which business details a manufacturer corrected (`profile`; ignored for other roles)."""
    async with in_transaction():
        person = await Subscriber.filter(id=subscriber_id).select_for_update().first()
        if person is None:
            return None
        old = describe_preferences(person)
        person.topics = {topic.value for topic in topics}
        person.language = language
        person.name = name
        if organization is not None:
            person.organization = organization
        await person.save(
            update_fields=[f"topic_{t.value}" for t in Topic]
            + ["language", "name", "organization", "updated_at"]
        )
        new = describe_preferences(person)
        if new != old:
            await record(person.id, "preferences", old, new, ACTOR)
        if profile is not None and person.role == Role.MANUFACTURER:
            corrected = await correct_profile(person, profile)
            if corrected:
                await record(person.id, "profile", "", " ".join(corrected), ACTOR)
        return person


def describe_preferences(person: Subscriber) -> str:
    """Topics and language as the audit trail keeps them (no personal data)."""
    return f"topics={'+'.join(person.topics) or 'none'} language={person.language.value}"


async def unsubscribe(subscriber_id: int, *, actor: str = "unsubscribe-link") -> bool:
    """Stop all mail to this person. Idempotent; True when the person exists (or existed)."""
    async with in_transaction():
        person = await Subscriber.filter(id=subscriber_id).select_for_update().first()
        if person is None:
            return False
        if person.status in (Status.PENDING, Status.ACTIVE):
            await change_status(person, Status.UNSUBSCRIBED, actor=actor)
        return True
