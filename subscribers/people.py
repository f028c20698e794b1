"""One person, for staff: add someone who consented elsewhere, correct their details, and read
everything we hold about them. Each change is audited twice: in the person's own trail
(`AuditEvent`, which holds no personal data and survives erasure) and in the staff audit log.

Adding goes through the import (`subscribers.importing`), so one person added by hand meets
exactly the rules of a contact list: never re-subscribe someone who left, never add an erased
address, a confirmation email when there is no consent source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from subscribers import importing
from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.models import AuditEvent, BusinessProfile, Language, Role, Status, Subscriber, Topic
from subscribers.person_text import InvalidText, clean_name
from subscribers.registry import record, suppression_reason
from subscribers.staff_audit import Actor, record_action
from subscribers.staff_models import StaffAction

REASON_LIMIT = 300
SOURCE_HELP = "Say where this person agreed to be emailed, in one line of under 200 characters"


class PersonError(ValueError):
    """The change can't be made; `errors` maps form fields to messages fit to show staff."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class PersonDetails:
    """What staff may type about a person (already checked: see `check_details`)."""

    email: str
    name: str
    organization: str
    role: Role
    language: Language
    zip: str
    topics: frozenset[Topic]


def check_details(values: dict[str, str], topics: list[str]) -> PersonDetails:
    """The form's values, checked by the rules the public form and the import use."""
    errors: dict[str, str] = {}
    email = ""
    try:
        email = normalise_email(values.get("email", ""))
    except InvalidEmail as exc:
        errors["email"] = str(exc)
    texts: dict[str, str] = {}
    for name in ("name", "organization"):
        try:
            texts[name] = clean_name(values.get(name, ""), field=name)
        except InvalidText as exc:
            errors[name] = str(exc)
    role, language = Role.OTHER, Language.EN
    try:
        role = importing.parse_role(values.get("role", "") or "other")
    except ValueError as exc:
        errors["role"] = str(exc)
    try:
        language = importing.parse_language(values.get("language", "") or "en")
    except ValueError as exc:
        errors["language"] = str(exc)
    zip_code = values.get("zip", "").strip()
    if zip_code and not importing._ZIP.fullmatch(zip_code):
        errors["zip"] = "Enter a ZIP code like 90011 or 90011-1234"
    chosen: frozenset[Topic] = frozenset()
    try:
        chosen = frozenset(Topic(name) for name in topics)
    except ValueError:
        errors["topics"] = "Choose topics from the list"
    if not chosen and "topics" not in errors:
        errors["topics"] = "Choose at least one topic: people only get what they chose"
    if errors:
        raise PersonError(errors)
    return PersonDetails(email, texts["name"], texts["organization"], role, language, zip_code, chosen)


def check_reason(text: str, *, required: bool = True) -> str:
    value = " ".join(text.split())
    if required and not value:
        raise PersonError(
            {"reason": "Say why, for the audit log (for example: asked at the 3 March workshop)"}
        )
    if len(value) > REASON_LIMIT:
        raise PersonError({"reason": f"Keep the reason under {REASON_LIMIT} characters"})
    return value


@dataclass(frozen=True, slots=True)
class Added:
    subscriber_id: int | None  # None when the address was skipped (see `why_not`)
    status: Status | None
    why_not: str = ""


async def add_person(details: PersonDetails, *, consent_source: str, reason: str, actor: Actor) -> Added:
    """Add one person who consented elsewhere (`consent_source`: where, as staff name it).

    Active at once, with the consent source recorded. An address already in the registry, or one
    that left or was erased, is not added (`why_not` says why).
    """
    try:
        source = importing.clean_consent_source(consent_source)
    except ValueError:
        raise PersonError({"consent_source": SOURCE_HELP}) from None
    reason = check_reason(reason)
    candidate = importing.Candidate(
        line=1,
        email=details.email,
        name=details.name,
        organization=details.organization,
        role=details.role,
        language=details.language,
        zip=details.zip,
        topics=details.topics,
    )
    parsed = importing.ParsedFile([candidate], [], [], 1, (), ())
    # With a consent source the person is active: no confirmation email is owed, so the registry's
    # half of an import is the whole of it.
    async with importing.import_transaction() as conn:
        report = await importing.record_import(conn, parsed, consent_source=source)
    if not report.written:
        why = report.skipped[0].reason if report.skipped else "the address could not be added"
        return Added(None, None, why)
    person = await Subscriber.get(email=details.email)
    await record_action(
        actor, "person.add", subscriber_id=person.id, detail=f"consent: {source}. Why: {reason}"
    )
    return Added(person.id, person.status)


async def correct_details(
    subscriber_id: int, details: PersonDetails, *, reason: str, actor: Actor
) -> list[str]:
    """Change what staff may correct; returns the names of the fields that changed."""
    reason = check_reason(reason)
    async with in_transaction():
        person = await Subscriber.filter(id=subscriber_id).select_for_update().first()
        if person is None:
            raise PersonError({"email": "This person is no longer in the registry (erased?)"})
        if details.email != person.email:
            if await Subscriber.filter(email=details.email).exists():
                raise PersonError({"email": "Another person already has this address"})
            if await suppression_reason(details.email) == "erased":
                raise PersonError(
                    {"email": "This address was erased at its owner's request: it can't be used"}
                )
        new = {
            "email": details.email,
            "name": details.name,
            "organization": details.organization,
            "role": details.role,
            "language": details.language,
            "zip": details.zip,
        }
        changed = [name for name, value in new.items() if getattr(person, name) != value]
        if set(person.topics) != {topic.value for topic in details.topics}:
            changed.append("topics")
        if not changed:
            return []
        for name, value in new.items():
            setattr(person, name, value)
        person.topics = [topic.value for topic in details.topics]
        await person.save()
        # The person's own trail names the fields, never their values: it outlives erasure.
        await record(person.id, "details", "", ", ".join(changed), actor.label)
        await record_action(
            actor,
            "person.correct",
            subscriber_id=person.id,
            detail=f"changed {', '.join(changed)}. Why: {reason}",
        )
    return changed


@dataclass(slots=True)
class PersonRecord:
    person: Subscriber
    profile: BusinessProfile | None
    trail: list[AuditEvent] = field(default_factory=list)  # status, consent and detail changes
    staff_actions: list[StaffAction] = field(default_factory=list)


async def person_record(subscriber_id: int) -> PersonRecord | None:
    person = await Subscriber.get_or_none(id=subscriber_id)
    if person is None:
        return None
    return PersonRecord(
        person=person,
        profile=await BusinessProfile.get_or_none(subscriber_id=subscriber_id),
        trail=await AuditEvent.filter(subscriber_id=subscriber_id).order_by("-at", "-id").limit(500),
        staff_actions=await StaffAction.filter(subscriber_id=subscriber_id).order_by("-id").limit(200),
    )
