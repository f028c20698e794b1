"""Applications to the pilot: the questions and their rules, drafts saved as they go, submission
with screening, and staff decisions (each audited).

The questions are checked here, once, for every face: `check_answers` returns the cleaned values
and, per field, an error *key* (the web page words it in the applicant's language, see
`bot.web.application_text`). A draft keeps what was typed even where it is wrong; only a
submission needs every required answer to be right. Mail about an application is sent by
`outreach.application_mail`, which wraps these functions in one transaction with the message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.application_models import (
    OPEN_STATUSES,
    Application,
    ApplicationNote,
    ApplicationStatus,
    PoolEntry,
)
from subscribers.eligibility import ScreeningInputs, render_screening_text, screen, screening_to_json
from subscribers.eligibility.verdict import Screening
from subscribers.models import BusinessProfile, Subscriber
from subscribers.person_text import InvalidText, clean_free_text, clean_name
from subscribers.pool import add_to_pool, remove_from_pool
from subscribers.product_categories import BY_CODE
from subscribers.staff_audit import Actor, record_action

# Field name -> required on submission. In the order the page asks them (and errors are listed).
QUESTIONS: dict[str, bool] = {
    "legal_name": True,
    "dba": False,
    "principal_address": True,
    "principal_zip": True,
    "production_sites": False,
    "production_zips": True,
    "years_in_county": True,
    "employees": True,
    "revenue_band": True,
    "naics": False,
    "cert_ca_sb": True,
    "cert_lsbe": True,
    "cert_other": False,
    "products": True,
    "category": True,
    "capacity": True,
    "garment_work": True,
    "hourly_wage": True,
    "garment_registration": False,  # required when garment_work is yes
    "wage_judgments": True,
    "debarred": True,
    "contact_name": True,
    "contact_email": True,
    "contact_phone": False,
    "consent": True,
}

YES_NO = ("yes", "no")
YES_NO_FIELDS = ("cert_ca_sb", "cert_lsbe", "garment_work", "hourly_wage", "wage_judgments", "debarred")
# Average yearly gross receipts (3 years, with affiliates): band -> (lowest, highest) in dollars.
REVENUE_BANDS: dict[str, tuple[int, int | None]] = {
    "under_1m": (0, 1_000_000),
    "1m_5m": (1_000_000, 5_000_000),
    "5m_15m": (5_000_000, 15_000_000),
    "over_15m": (15_000_000, None),
}
MAX_ZIPS = 20
MAX_EMPLOYEES = 100_000
MAX_YEARS = 150
MAX_SHORT = 200
MAX_NOTE = 2000

_ZIP = re.compile(r"[0-9]{5}(?:-[0-9]{4})?")
_NAICS = re.compile(r"[0-9]{2,6}")
_REGISTRATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9 /-]{2,39}")
_PHONE = re.compile(r"[0-9+()./ -]{7,30}")


@dataclass
class CheckedAnswers:
    values: dict[str, str] = field(default_factory=dict)  # cleaned (or, where wrong, as typed)
    errors: dict[str, str] = field(default_factory=dict)  # field -> error key


def check_answers(raw: Mapping[str, str], *, complete: bool) -> CheckedAnswers:
    """Check the application's answers. `complete`: a submission, so required answers must be there."""
    checked = CheckedAnswers()
    for name, required in QUESTIONS.items():
        value = str(raw.get(name, "") or "").strip()
        checked.values[name] = value[:4000]  # kept as typed unless cleaned below
        if not value:
            if complete and required:
                checked.errors[name] = f"app_err_{name}_missing"
            continue
        problem = _check(name, value, checked)
        if problem:
            checked.errors[name] = f"app_err_{name}_{problem}"
    if (
        complete
        and checked.values.get("garment_work") == "yes"
        and not checked.values["garment_registration"]
    ):
        checked.errors.setdefault("garment_registration", "app_err_garment_registration_missing")
    checked.errors = {name: checked.errors[name] for name in QUESTIONS if name in checked.errors}
    return checked


def _check(name: str, value: str, checked: CheckedAnswers) -> str:
    """Clean `value` into checked.values; return a problem word, or "" when it is fine."""
    try:
        if name in ("legal_name", "dba", "contact_name"):
            checked.values[name] = clean_name(value, field=name, limit=MAX_SHORT)
        elif name in ("principal_address", "cert_other"):
            checked.values[name] = clean_free_text(value, field=name, limit=300).replace("\n", ", ")
        elif name in ("production_sites", "products", "capacity"):
            checked.values[name] = clean_free_text(value, field=name)
    except InvalidText as exc:
        return "too_long" if exc.problem.value == "too_long" else "characters"
    if name == "principal_zip":
        return "" if _ZIP.fullmatch(value) else "format"
    if name == "production_zips":
        zips = re.split(r"[\s,;]+", value)
        if len(zips) > MAX_ZIPS:
            return "too_many"
        if not all(_ZIP.fullmatch(z) for z in zips):
            return "format"
        checked.values[name] = " ".join(dict.fromkeys(z[:5] for z in zips))
    elif name == "years_in_county":
        try:
            years = Decimal(value.replace(",", "."))
        except InvalidOperation:
            return "format"
        if not years.is_finite() or not 0 <= years <= MAX_YEARS:
            return "range"
    elif name == "employees":
        if not value.isdigit():
            return "format"
        if int(value) > MAX_EMPLOYEES:
            return "range"
    elif name == "revenue_band":
        return "" if value in REVENUE_BANDS else "choice"
    elif name == "naics":
        return "" if _NAICS.fullmatch(value) else "format"
    elif name in YES_NO_FIELDS:
        return "" if value in YES_NO else "choice"
    elif name == "category":
        return "" if value in BY_CODE else "choice"
    elif name == "garment_registration":
        return "" if _REGISTRATION.fullmatch(value) else "format"
    elif name == "contact_email":
        try:
            checked.values[name] = normalise_email(value)
        except InvalidEmail:
            return "format"
    elif name == "contact_phone":
        return "" if _PHONE.fullmatch(value) and sum(c.isdigit() for c in value) >= 7 else "format"
    elif name == "consent":
        return "" if value == "yes" else "choice"
    return ""


# Screening -----------------------------------------------------------------------------------------


def screening_inputs(answers: Mapping[str, str]) -> ScreeningInputs:
    """What the screener reads from a (checked, complete) application."""
    low, high = REVENUE_BANDS.get(answers.get("revenue_band", ""), (0, None))
    revenue = Decimal(high) if high is not None else Decimal(low + 1)

    def yes(name: str) -> bool | None:
        value = answers.get(name, "")
        return None if value not in YES_NO else value == "yes"

    garment = yes("garment_work")
    zips = answers.get("production_zips", "").split()
    naics = answers.get("naics") or answers.get("category") or None
    return ScreeningInputs(
        zip=answers.get("principal_zip", "")[:5] or None,
        production_zip=zips[0] if zips else None,
        years=Decimal(answers["years_in_county"].replace(",", "."))
        if answers.get("years_in_county")
        else None,
        employees=Decimal(answers["employees"]) if answers.get("employees") else None,
        revenue=revenue if answers.get("revenue_band") else None,
        naics=naics,
        ca_sb=yes("cert_ca_sb"),
        other_cert=True if answers.get("cert_other") else None,
        garment=garment,
        garment_registration=bool(answers.get("garment_registration")) if garment else None,
        piece_rate=(not yes("hourly_wage")) if garment and yes("hourly_wage") is not None else None,
        wage_violations=yes("wage_judgments"),
        debarred=yes("debarred"),
    )


def screen_answers(answers: Mapping[str, str], *, as_of: dt.date | None = None) -> Screening:
    return screen(screening_inputs(answers), as_of=as_of)


# Starting and saving -------------------------------------------------------------------------------


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def application_for_email(email: str, language: str) -> Application:
    """The applicant's current application (the newest not declined), or a new draft for them."""
    address = normalise_email(email)
    found = (
        await Application.filter(email=address)
        .exclude(status=ApplicationStatus.DECLINED)
        .order_by("-id")
        .first()
    )
    if found is not None:
        return found
    person = await Subscriber.get_or_none(email=address)
    return await _new_application(address, language, person)


async def application_for_invitation(
    subscriber_id: int, delivery_id: int, invited_at: dt.datetime | None
) -> Application | None:
    """The application an invitation's link opens: theirs if they have one, else a new draft
    prefilled from what they told us on the interest form."""
    person = await Subscriber.get_or_none(id=subscriber_id)
    if person is None:
        return None
    found = (
        await Application.filter(email=person.email)
        .exclude(status=ApplicationStatus.DECLINED)
        .order_by("-id")
        .first()
    )
    if found is not None:
        if found.invitation_id is None:
            found.invitation_id, found.invited_at = delivery_id, invited_at
            await found.save(update_fields=["invitation_id", "invited_at"])
        return found
    application = await _new_application(person.email, person.language.value, person)
    application.invitation_id, application.invited_at = delivery_id, invited_at
    application.confirmed_at = utcnow()  # the invitation reached this inbox
    await application.save(update_fields=["invitation_id", "invited_at", "confirmed_at"])
    return application


async def _new_application(address: str, language: str, person: Subscriber | None) -> Application:
    answers: dict[str, str] = {"contact_email": address}
    if person is not None:
        answers["contact_name"] = person.name
        answers["legal_name"] = person.organization
        profile = await BusinessProfile.get_or_none(subscriber_id=person.id)
        if profile is not None:
            answers.update(
                legal_name=profile.legal_name or person.organization,
                principal_zip=profile.principal_zip,
                production_zips=profile.production_zip,
                products=profile.products,
                naics=profile.naics,
                employees="" if profile.employees is None else str(profile.employees),
                years_in_county="" if profile.years_in_county is None else str(profile.years_in_county),
                cert_ca_sb="" if profile.ca_small_business is None else _yes(profile.ca_small_business),
                garment_work="" if profile.garment_work is None else _yes(profile.garment_work),
            )
            category = BY_CODE.get(profile.naics[:3]) if profile.naics else None
            if category is not None:
                answers["category"] = category.code
    answers = {key: value for key, value in answers.items() if value}
    return await Application.create(
        email=address,
        language=language if language in ("en", "es") else "en",
        subscriber_id=person.id if person else None,
        answers=answers,
        business_name=answers.get("legal_name", "")[:200],
    )


def _yes(value: bool) -> str:
    return "yes" if value else "no"


async def mark_confirmed(application: Application) -> None:
    """The applicant opened an emailed link: the address is theirs."""
    if application.confirmed_at is None:
        application.confirmed_at = utcnow()
        await application.save(update_fields=["confirmed_at"])


async def save_draft(
    application_id: int, raw: Mapping[str, str]
) -> tuple[Application | None, CheckedAnswers]:
    """Keep what was typed (cleaned where it can be). None when the application is not open to
    the applicant (submitted, decided, or gone)."""
    checked = check_answers(raw, complete=False)
    async with in_transaction():
        application = await Application.select_for_update().get_or_none(id=application_id)
        if application is None or application.status not in OPEN_STATUSES:
            return None, checked
        application.answers = {key: value for key, value in checked.values.items() if value}
        application.business_name = checked.values.get("legal_name", "")[:200]
        await application.save(update_fields=["answers", "business_name", "updated_at"])
    return application, checked


@dataclass
class Submission:
    application: Application | None  # None: not open to the applicant
    checked: CheckedAnswers
    screening: Screening | None = None  # None: there were errors; the answers were saved as a draft


async def submit(
    application_id: int, raw: Mapping[str, str], *, now: dt.datetime | None = None
) -> Submission:
    """Check every answer; if all are right, screen them and lock the application for staff.
    Called inside `outreach.application_mail.submit_application`'s transaction."""
    now = now or utcnow()
    checked = check_answers(raw, complete=True)
    application = await Application.select_for_update().get_or_none(id=application_id)
    if application is None or application.status not in OPEN_STATUSES:
        return Submission(None, checked)
    application.answers = {key: value for key, value in checked.values.items() if value}
    application.business_name = checked.values.get("legal_name", "")[:200]
    if checked.errors:
        await application.save(update_fields=["answers", "business_name", "updated_at"])
        return Submission(application, checked)
    screening = screen_answers(application.answers, as_of=now.date())
    # The JSON (for tools) and the very text Slack and the CLI show, made by the same renderer.
    application.screening = {**screening_to_json(screening), "text": render_screening_text(screening)}
    application.verdict = screening.programs["made_in_la"].verdict.value
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = now
    await application.save()
    return Submission(application, checked, screening)


# Staff decisions (each audited) --------------------------------------------------------------------


class DecisionError(ValueError):
    """The decision can't be made; the message says why, for staff."""


DECIDABLE = frozenset({ApplicationStatus.SUBMITTED, ApplicationStatus.INFO_REQUESTED})


async def _decide(
    application_id: int, actor: Actor, kind: str, text: str, *, allowed: frozenset[ApplicationStatus]
) -> Application:
    application = await Application.select_for_update().get_or_none(id=application_id)
    if application is None:
        raise DecisionError(f"There is no application #{application_id}.")
    if application.status not in allowed:
        raise DecisionError(
            f"Application #{application_id} is {application.status.value.replace('_', ' ')}: "
            "it can't be decided now."
        )
    await ApplicationNote.create(
        application_id=application.id, author=actor.label[:100], kind=kind, text=text
    )
    await record_action(
        actor,
        f"application.{kind}",
        subscriber_id=application.subscriber_id,  # type: ignore[attr-defined]
        detail=f"application #{application.id}" + (f": {text[:200]}" if text else ""),
    )
    return application


def _text(value: str, what: str, *, required: bool) -> str:
    try:
        text = clean_free_text(value, field=what, limit=MAX_NOTE)
    except InvalidText as exc:
        raise DecisionError(f"The {what} can't be used: {str(exc).removeprefix(what + ' ')}.") from None
    if required and not text:
        raise DecisionError(f"Write the {what}: the applicant reads it.")
    return text


async def qualify(
    application_id: int, actor: Actor, note: str = "", *, now: dt.datetime | None = None
) -> Application:
    """The business joins the pool."""
    text = _text(note, "note", required=False)
    application = await _decide(application_id, actor, "qualified", text, allowed=DECIDABLE)
    application.status = ApplicationStatus.QUALIFIED
    application.decided_at = now or utcnow()
    await application.save(update_fields=["status", "decided_at", "updated_at"])
    await add_to_pool(application, qualified_at=application.decided_at)
    return application


async def ask_for_information(application_id: int, actor: Actor, request: str) -> Application:
    """Open the application to the applicant again with what staff need (the mail says it)."""
    text = _text(request, "request", required=True)
    application = await _decide(
        application_id, actor, "info_requested", text, allowed=DECIDABLE | {ApplicationStatus.QUALIFIED}
    )
    application.status = ApplicationStatus.INFO_REQUESTED
    application.staff_request = text
    await application.save(update_fields=["status", "staff_request", "updated_at"])
    await remove_from_pool(application.id)
    return application


async def decline(
    application_id: int, actor: Actor, reason: str, *, now: dt.datetime | None = None
) -> Application:
    text = _text(reason, "reason", required=True)
    application = await _decide(
        application_id, actor, "declined", text, allowed=DECIDABLE | {ApplicationStatus.QUALIFIED}
    )
    application.status = ApplicationStatus.DECLINED
    application.decline_reason = text
    application.decided_at = now or utcnow()
    await application.save(update_fields=["status", "decline_reason", "decided_at", "updated_at"])
    await remove_from_pool(application.id)
    return application


async def add_note(application_id: int, actor: Actor, note: str) -> ApplicationNote:
    text = _text(note, "note", required=True)
    application = await Application.get_or_none(id=application_id)
    if application is None:
        raise DecisionError(f"There is no application #{application_id}.")
    await record_action(actor, "application.note", detail=f"application #{application_id}")
    return await ApplicationNote.create(application_id=application_id, author=actor.label[:100], text=text)


async def set_locally_owned(application_id: int, actor: Actor, locally_owned: bool) -> None:
    """DEO's "Locally Owned" mark on a pool entry (the motion's item 1.g)."""
    updated = await PoolEntry.filter(application_id=application_id).update(locally_owned=locally_owned)
    if not updated:
        raise DecisionError(f"Application #{application_id} is not in the pool: qualify it first.")
    await record_action(
        actor,
        "application.locally_owned",
        detail=f"application #{application_id}: {'yes' if locally_owned else 'no'}",
    )


async def erase_applications(address: str, subscriber_id: int | None) -> int:
    """Delete every application by this address or person, with its notes and pool entry (the
    caller's transaction; `subscribers.erasure`). The pool's search index follows (triggers on
    SQLite; the generated column on PostgreSQL). Returns how many."""
    theirs = (
        Q(email=address) | Q(subscriber_id=subscriber_id) if subscriber_id is not None else Q(email=address)
    )
    ids = await Application.filter(theirs).values_list("id", flat=True)
    if ids:
        await PoolEntry.filter(application_id__in=ids).delete()
        await ApplicationNote.filter(application_id__in=ids).delete()
        await Application.filter(id__in=ids).delete()
    return len(ids)


# Reading ------------------------------------------------------------------------------------------


def application_record(
    application: Application, *, notes: list[ApplicationNote] | None = None
) -> dict[str, Any]:
    """An application as `madeinla applications show --json` prints it (a contract: extend it)."""
    record: dict[str, Any] = {
        "id": application.id,
        "status": application.status.value,
        "email": application.email,
        "language": application.language,
        "business_name": application.business_name,
        "verdict": application.verdict or None,
        "answers": dict(application.answers),
        "screening": application.screening or None,
        "staff_request": application.staff_request,
        "decline_reason": application.decline_reason,
        "created_at": _iso(application.created_at),
        "submitted_at": _iso(application.submitted_at),
        "decided_at": _iso(application.decided_at),
        "invited_at": _iso(application.invited_at),
    }
    if notes is not None:
        record["notes"] = [
            {"kind": note.kind, "author": note.author, "text": note.text, "at": _iso(note.at)}
            for note in notes
        ]
    return record


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


@dataclass(frozen=True, slots=True)
class ApplicationFilter:
    status: ApplicationStatus | None = None
    verdict: str = ""
    text: str = ""  # in the business name or address


async def list_applications(
    filters: ApplicationFilter = ApplicationFilter(), *, limit: int = 200
) -> list[Application]:
    """Newest submission first; drafts (never submitted) last."""
    query = Application.all()
    if filters.status is not None:
        query = query.filter(status=filters.status)
    if filters.verdict:
        query = query.filter(verdict=filters.verdict)
    text = filters.text.strip()
    if text:
        query = (
            query.filter(business_name__icontains=text)
            if "@" not in text
            else query.filter(email=text.lower())
        )
    return await query.order_by("-submitted_at", "-id").limit(limit)


async def get_application(application_id: int) -> tuple[Application, list[ApplicationNote]] | None:
    application = await Application.get_or_none(id=application_id)
    if application is None:
        return None
    notes = await ApplicationNote.filter(application_id=application_id).order_by("id")
    return application, notes


# The screening's words for the applicant ------------------------------------------------------------

# The pilot verdict in the applicant's language; English is the words Slack and the CLI use.
VERDICT_WORDS = {
    "en": {
        "looks_eligible": "looks eligible",
        "needs_review": "needs review",
        "not_eligible": "not eligible",
    },
    "es": {
        "looks_eligible": "parece elegible",
        "needs_review": "necesita revisión",
        "not_eligible": "no es elegible",
    },
}


def verdict_words(verdict: str, language: str) -> str:
    return VERDICT_WORDS.get(language, VERDICT_WORDS["en"]).get(verdict, verdict.replace("_", " "))


def screening_text(stored: Mapping[str, Any]) -> str:
    """The stored screening as Slack and the CLI word it (rendered once, at submission)."""
    return str(stored.get("text", "")) if stored else ""
