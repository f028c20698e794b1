"""Campaigns: create, start, pause, resume, cancel, finish, and what they did.

These functions are the one place the campaign rules live; the CLI, the Slack bot and the scheduler
call them and only translate `CampaignError` into their own way of saying no.

Lifecycle: `scheduled` → (its time comes) `sending` → `finished`, with `paused`, `cancelled` and
`missed` on the side. Starting a campaign claims it with a conditional UPDATE (only one process
wins, on SQLite and PostgreSQL alike), then draws the audience into `Delivery` rows in batches with
`INSERT ... ON CONFLICT DO NOTHING`, so a start that crashed half-way is simply run again. A
campaign counts as finished only once its whole audience is written and nothing is left to send.

A recurring campaign is a parent that stays `scheduled`; each time its schedule fires, a child
campaign for that occurrence is created (unique per parent and occurrence, so two processes can't
both create it) and sent like any other, and the parent moves on to its next occurrence.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any

from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from outreach.audience import Audience, AudienceError
from outreach.mailer import MailTransport, Outcome
from outreach.messages import MessageBuilder, Recipient
from outreach.metrics.deliveries import delivery_counts
from outreach.models import Campaign, CampaignKind, CampaignStatus, Delivery, DeliveryState, Priority
from outreach.notices import CampaignNotice, NoticeKind, announce
from outreach.queue import mark_final, mark_sent
from outreach.rendering import SERVICE_TEMPLATES, RenderedEmail, TemplateError, one_line
from outreach.timing import ScheduleError, cron_trigger, la_time, next_fire_time, parse_send_at, utcnow
from outreach.windows import SendWindow
from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.models import Role, Subscriber, Topic
from subscribers.orm import column, ids
from subscribers.registry import record
from subscribers.staff_audit import Actor, record_action
from subscribers.staff_models import StaffMember, StaffRole

log = logging.getLogger(__name__)

AUDIENCE_BATCH = 2000
# A start that claimed a campaign but hasn't finished writing its audience after this long is taken
# to have died with its process, and is run again (which is safe: rows are unique per person).
STALE_START = dt.timedelta(minutes=10)
UNFINISHED = (DeliveryState.QUEUED, DeliveryState.SENDING, DeliveryState.DEFERRED)
COUNT_KEYS = ("queued", "sending", "sent", "deferred", "failed", "suppressed", "bounced")
TEST_SUBJECT_PREFIX = "[TEST] "

# Why the person gets THIS email: the topic they chose, named in the footer of every campaign mail.
REASONS: dict[str, dict[str, str]] = {
    CampaignKind.PILOT_UPDATE: {
        "en": "You get this email because you asked for updates on the Made in Los Angeles pilot.",
        "es": (
            "Recibe este correo porque pidió recibir noticias sobre el programa piloto Made in Los Angeles."
        ),
    },
    CampaignKind.APPLICATION_INVITATION: {
        "en": (
            "You get this email because you asked us to tell you when businesses can apply "
            "to the Made in Los Angeles pilot."
        ),
        "es": (
            "Recibe este correo porque pidió que le avisáramos cuando las empresas puedan "
            "solicitar participar en el programa piloto Made in Los Angeles."
        ),
    },
    CampaignKind.WORKING_GROUP_NOTICE: {
        "en": (
            "You get this email because you asked for news of the Made in Los Angeles "
            "pilot's stakeholder working group."
        ),
        "es": (
            "Recibe este correo porque pidió noticias del grupo de trabajo de partes "
            "interesadas del programa piloto Made in Los Angeles."
        ),
    },
}

# Values every template gets from the message itself; campaign values may not replace them.
RESERVED_VALUES = frozenset(
    {
        "name",
        "organization",
        "role",
        "email",
        "language",
        "topics",
        "links",
        "reason",
        "postal_address",
        "pilot",
    }
)
_VALUE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_UNDEFINED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined")
_NEEDED_VALUE = re.compile(r"needs a campaign value '([a-z][a-z0-9_]*)'")


class CampaignError(ValueError):
    """A request about a campaign can't be done; the message is fit to show the staff member."""


# Rendering values -------------------------------------------------------------------------------


def message_context(campaign: Campaign, language: str) -> dict[str, Any]:
    """Campaign-wide template values for one language: what the sender adds to every message of it.

    Bulk Delivery rows carry no context of their own (a 200,000-person campaign would otherwise
    store 200,000 copies); the sender calls this once per campaign and language instead.
    """
    reasons = REASONS.get(campaign.kind, REASONS[CampaignKind.PILOT_UPDATE])
    return {**(campaign.context or {}), "reason": reasons.get(language, reasons["en"])}


def _check_values(values: Mapping[str, str]) -> dict[str, str]:
    checked = {}
    for key, value in values.items():
        if not _VALUE_NAME.match(key):
            raise CampaignError(
                f"campaign value name {key!r} must be lower-case letters, digits and _, like meeting_when"
            )
        if key in RESERVED_VALUES:
            raise CampaignError(f"{key!r} is filled in for each person; choose another name")
        text = str(value).strip()
        if not _is_utf8(text):
            raise CampaignError(
                f"campaign value {key} is not valid UTF-8 text (bytes like \\xe9 from a terminal or file in "
                "another encoding): retype it, or save the file as UTF-8"
            )
        if not text or len(text) > 2000:
            raise CampaignError(f"campaign value {key} must be between 1 and 2000 characters")
        checked[key] = text
    return checked


def _is_utf8(text: str) -> bool:
    """False for text holding bytes that weren't UTF-8 (Python keeps them as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _sample_recipient(role: str, language: str) -> Recipient:
    return Recipient(
        address="sample.person@example.org",
        subscriber_id=0,
        name="Sample Person",
        organization="Sample Manufacturing",
        role=role,
        language=language,
        topics=[t.value for t in Topic],
    )


def check_template_renders(
    builder: MessageBuilder, template: str, kind: str, values: Mapping[str, Any]
) -> list[str]:
    """Render `template` for a sample person of every role and language, so a template that would
    fail for everyone fails now, at creation, instead of at send time. Returns the languages the
    template lacks (those people get the English version)."""
    templates = builder.templates
    offered = ", ".join(templates.campaign_names())
    if template in SERVICE_TEMPLATES:
        raise CampaignError(
            f"{template!r} is an email the service sends by itself, not one for campaigns; "
            f"campaign templates: {offered}"
        )
    if template not in templates.names():
        raise CampaignError(f"there is no email template called {template!r} (campaign templates: {offered})")
    try:
        languages = templates.languages(template)
        templates.resolve_language(template, "en")
    except TemplateError as exc:
        raise CampaignError(str(exc)) from None
    campaign = Campaign(kind=kind, template=template, context=dict(values))
    for language in ("en", "es"):
        for role in Role:
            recipient = _sample_recipient(role.value, language)
            links = builder.links(recipient, delivery_id=0)
            context = builder.context(recipient, links, message_context(campaign, language))
            try:
                templates.render(template, language, context)
            except TemplateError as exc:
                missing = _UNDEFINED.search(str(exc))
                if missing and missing.group(1) not in RESERVED_VALUES:
                    raise CampaignError(
                        f"template {template!r} needs a campaign value {missing.group(1)!r} "
                        f"(on the command line: --var {missing.group(1)}=...)"
                    ) from None
                raise CampaignError(str(exc)) from None
    return [lang for lang in ("en", "es") if lang not in languages]


# Composing, submitting, approving --------------------------------------------------------------
#
# A campaign is composed as a `CampaignPlan`, checked in one place (`check_plan`) and saved as a
# `draft`. Submitting it counts its audience: more than the approval threshold (0: any size) and it
# waits for a second person with the approver role (`awaiting_approval`), else it is `scheduled`.
# Any change to what is sent, to whom or when (`save_draft` on an existing campaign) puts it back
# to `draft`, approval and all. The console, the CLI and Slack all come through these functions.

DEFAULT_APPROVAL_THRESHOLD = 50
SPANISH_SUFFIX = "_es"
EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.AWAITING_APPROVAL, CampaignStatus.SCHEDULED)


class CampaignInvalid(CampaignError):
    """What is wrong with a plan, by field (`name`, `template`, `value-message`, `send_at`, ...),
    so a form can say it next to the field; as text, every message in one line."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(self.errors.values()))


@dataclasses.dataclass(frozen=True, slots=True)
class CampaignPlan:
    """What staff compose: exactly one of `send_at`, `cron` or `immediately` says when."""

    name: str
    kind: str
    template: str
    audience: Audience | Mapping[str, Any] | str = ""
    values: Mapping[str, str] = dataclasses.field(default_factory=dict)
    subject: str = ""
    english_for_spanish: bool = False  # staff ticked "send the English text to Spanish readers"
    send_at: dt.datetime | str | None = None
    cron: str = ""
    immediately: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class CheckedPlan:
    """A plan that passed `check_plan`: the columns to store."""

    name: str
    kind: CampaignKind
    template: str
    subject: str
    audience: Audience
    values: dict[str, str]
    english_for_spanish: bool
    send_at: dt.datetime | None  # None with no cron: as soon as it is scheduled
    cron: str

    def columns(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "template": self.template,
            "subject": self.subject,
            "audience": self.audience.to_json(),
            "context": self.values,
            "english_for_spanish": self.english_for_spanish,
            "send_at": self.send_at,
            "cron": self.cron,
        }


def campaign_templates(builder: MessageBuilder) -> list[str]:
    """The templates a campaign may use (the shipped and staff-written ones, not the service's own)."""
    return builder.templates.campaign_names()


def check_plan(plan: CampaignPlan, *, builder: MessageBuilder, now: dt.datetime) -> CheckedPlan:
    """Every rule about what a campaign may be, checked at once; raises `CampaignInvalid` naming
    each field that is wrong."""
    errors: dict[str, str] = {}
    name = " ".join(plan.name.split())
    if not name:
        errors["name"] = "give the campaign a name, like “January pilot update”"
    elif len(name) > 200:
        errors["name"] = "the name must be at most 200 characters"
    kind: CampaignKind | None
    try:
        kind = CampaignKind(plan.kind)
    except ValueError:
        kind = None
        errors["kind"] = (
            f"{plan.kind!r} is not a campaign kind; use one of: {', '.join(k.value for k in CampaignKind)}"
        )
    audience = Audience()
    try:
        audience = (
            plan.audience
            if isinstance(plan.audience, Audience)
            else Audience.parse(plan.audience)
            if isinstance(plan.audience, str)
            else Audience.from_mapping(plan.audience)
        )
    except AudienceError as exc:
        errors["audience"] = f"audience: {exc}"
    subject = plan.subject.strip()
    if subject != one_line(subject) or len(subject) > 200:
        errors["subject"] = "the subject must be one line of at most 200 characters"
    values: dict[str, str] = {}
    try:
        values = _check_values(plan.values)
    except CampaignError as exc:
        errors["values"] = str(exc)
    errors.update(_language_problems(values, audience, plan.english_for_spanish))
    if kind is not None and "template" not in errors:
        template_errors = _template_problems(
            builder, plan.template, kind, values, audience, plan.english_for_spanish
        )
        errors.update({key: message for key, message in template_errors.items() if key not in errors})
    send_at, cron = None, ""
    try:
        send_at, cron = _when(plan, now)
    except CampaignError as exc:
        errors["when"] = str(exc)
    if errors:
        raise CampaignInvalid(errors)
    assert kind is not None
    return CheckedPlan(
        name=name,
        kind=kind,
        template=plan.template,
        subject=subject,
        audience=audience,
        values=values,
        english_for_spanish=plan.english_for_spanish,
        send_at=send_at,
        cron=cron,
    )


def reaches_spanish_readers(audience: Audience) -> bool:
    return not audience.languages or "es" in audience.languages


def reaches_english_readers(audience: Audience) -> bool:
    return not audience.languages or "en" in audience.languages


def _language_problems(
    values: Mapping[str, str], audience: Audience, english_for_spanish: bool
) -> dict[str, str]:
    """A value written for one language only must not leave the other language's readers with
    English text (unless staff chose that) or with nothing."""
    errors = {}
    for key in values:
        if key.endswith(SPANISH_SUFFIX):
            english = key.removesuffix(SPANISH_SUFFIX)
            if english not in values and reaches_english_readers(audience):
                errors[f"value-{english}"] = (
                    f"{english} is only in Spanish, and this audience includes English readers: "
                    "give the English text too"
                )
        elif (
            f"{key}{SPANISH_SUFFIX}" not in values
            and reaches_spanish_readers(audience)
            and not english_for_spanish
        ):
            errors[f"value-{key}{SPANISH_SUFFIX}"] = (
                f"{key} is only in English, and this audience includes Spanish readers: give the "
                "Spanish text too, or tick “send the English text to Spanish readers”"
            )
    return errors


def _template_problems(
    builder: MessageBuilder,
    template: str,
    kind: CampaignKind,
    values: Mapping[str, str],
    audience: Audience,
    english_for_spanish: bool,
) -> dict[str, str]:
    if not template:
        return {"template": "choose a template"}
    try:
        missing = check_template_renders(builder, template, kind, values)
    except CampaignError as exc:
        needed = _NEEDED_VALUE.search(str(exc))
        return {f"value-{needed.group(1)}" if needed else "template": str(exc)}
    if "es" in missing and reaches_spanish_readers(audience) and not english_for_spanish:
        return {
            "template": (
                f"template {template!r} has no Spanish version, and this audience includes Spanish "
                "readers: choose another template, or tick “send the English text to Spanish readers”"
            )
        }
    if kind is CampaignKind.APPLICATION_INVITATION and not _uses_invitation_link(builder, template, values):
        return {
            "template": (
                f"template {template!r} has no invitation link ({{{{ links.apply }}}}): an application "
                "invitation must carry each person's own link to apply"
            )
        }
    return {}


def _uses_invitation_link(builder: MessageBuilder, template: str, values: Mapping[str, str]) -> bool:
    campaign = Campaign(kind=CampaignKind.APPLICATION_INVITATION, template=template, context=dict(values))
    for language in builder.templates.languages(template):
        recipient = _sample_recipient(Role.MANUFACTURER.value, language)
        links = builder.links(recipient, delivery_id=0)
        rendered = builder.templates.render(
            template, language, builder.context(recipient, links, message_context(campaign, language))
        )
        if links["apply"] not in rendered.text or links["apply"] not in rendered.html:
            return False
    return True


def _when(plan: CampaignPlan, now: dt.datetime) -> tuple[dt.datetime | None, str]:
    """(send_at, cron); send_at None with no cron means "as soon as it is scheduled"."""
    if sum((plan.send_at is not None, bool(plan.cron), plan.immediately)) != 1:
        raise CampaignError("say when: give exactly one of a send time, a recurring schedule, or now")
    try:
        if plan.immediately:
            return None, ""
        if plan.cron:
            cron = " ".join(plan.cron.split())
            return next_fire_time(cron_trigger(cron), now), cron
        if isinstance(plan.send_at, str):
            return parse_send_at(plan.send_at, now=now), ""
        assert plan.send_at is not None
        if plan.send_at.tzinfo is None:
            raise CampaignError("a send time needs a time zone")
        first_at = plan.send_at.astimezone(dt.UTC)
        if first_at <= now:
            raise CampaignError("that send time is in the past; send now instead")
        return first_at, ""
    except ScheduleError as exc:
        raise CampaignError(str(exc)) from None


async def save_draft(
    plan: CampaignPlan,
    *,
    builder: MessageBuilder,
    actor: Actor,
    campaign_id: int | None = None,
    now: dt.datetime | None = None,
) -> Campaign:
    """Check and store a plan as a draft: a new campaign, or a change to one not yet started.

    A change to a submitted or approved campaign sends it back to `draft`: it must be submitted
    (and, if large, approved) again. Saving exactly what is stored changes nothing.
    """
    now = now or utcnow()
    checked = check_plan(plan, builder=builder, now=now)
    columns = checked.columns()
    if campaign_id is None:
        campaign = await Campaign.create(
            **columns, status=CampaignStatus.DRAFT, created_by=actor.label[:100], changed_by=actor.label[:100]
        )
        await record(None, f"campaign:{campaign.id}", "", "draft", actor.label)
        await record_action(actor, "campaign.draft", campaign_id=campaign.id, detail=f"{checked.name}")
        return campaign
    campaign = await get_campaign(campaign_id)
    if not is_editable(campaign):
        raise CampaignError(
            f"campaign {campaign_id} is {campaign.status.value}; "
            "only a draft, or one not yet started, can be changed"
        )
    if all(_same(getattr(campaign, key), value) for key, value in columns.items()):
        return campaign
    was = campaign.status
    changed = await Campaign.filter(id=campaign_id, status=was, started_at__isnull=True).update(
        **columns,
        status=CampaignStatus.DRAFT,
        changed_by=actor.label[:100],
        submitted_by="",
        audience_size=None,
        approved_by="",
        approved_at=None,
    )
    if not changed:
        raise CampaignError(
            f"campaign {campaign_id} changed meanwhile (it may have started); nothing was saved"
        )
    if was != CampaignStatus.DRAFT:
        await record(None, f"campaign:{campaign_id}", was.value, "draft", actor.label)
    detail = "changed" if was == CampaignStatus.DRAFT else f"changed while {was.value}: back to draft"
    await record_action(actor, "campaign.edit", campaign_id=campaign_id, detail=detail)
    return await get_campaign(campaign_id)


def is_editable(campaign: Campaign) -> bool:
    """Not started yet, and not one occurrence of a recurring campaign (change the campaign itself)."""
    occurrence = campaign.parent_id is not None
    return campaign.status in EDITABLE and campaign.started_at is None and not occurrence


def _same(stored: Any, new: Any) -> bool:
    if isinstance(stored, dt.datetime) and isinstance(new, dt.datetime):
        return stored.astimezone(dt.UTC) == new.astimezone(dt.UTC)
    return bool(stored == new)


def needs_approval(audience_size: int, threshold: int) -> bool:
    """More than `threshold` people (0: every campaign) needs a second person to approve it."""
    return threshold == 0 or audience_size > threshold


@dataclasses.dataclass(frozen=True, slots=True)
class AudienceCount:
    total: int
    by_language: dict[str, int]


async def count_audience(audience: Audience, kind: str) -> AudienceCount:
    by_language = await audience.count_by_language(kind)
    return AudienceCount(total=sum(by_language.values()), by_language=by_language)


async def submit_campaign(
    campaign_id: int,
    *,
    builder: MessageBuilder,
    actor: Actor,
    approval_threshold: int,
    now: dt.datetime | None = None,
) -> Campaign:
    """Ask for a draft to be sent: `scheduled` at once if its audience is small enough, else
    `awaiting_approval` (and the notify channel hears of it)."""
    now = now or utcnow()
    campaign = await get_campaign(campaign_id)
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError(
            f"campaign {campaign_id} is {campaign.status.value}; only a draft can be submitted"
        )
    check_plan(_plan_of(campaign), builder=builder, now=now)  # templates on disk may have changed since
    size = (await count_audience(Audience.from_mapping(campaign.audience), campaign.kind)).total
    if needs_approval(size, approval_threshold):
        if not await Campaign.filter(id=campaign_id, status=CampaignStatus.DRAFT).update(
            status=CampaignStatus.AWAITING_APPROVAL,
            submitted_by=actor.label[:100],
            audience_size=size,
            approval_note="",
        ):
            raise CampaignError(f"campaign {campaign_id} changed meanwhile; nothing was submitted")
        await record(None, f"campaign:{campaign_id}", "draft", "awaiting_approval", actor.label)
        await record_action(
            actor, "campaign.submit", campaign_id=campaign_id, detail=f"{size} people: needs approval"
        )
        campaign = await get_campaign(campaign_id)
        await announce(
            _notice(campaign, NoticeKind.APPROVAL_REQUESTED, f"by {actor.label}", counts={"total": size})
        )
        return campaign
    await _schedule(campaign, CampaignStatus.DRAFT, now, submitted_by=actor.label[:100], audience_size=size)
    await record_action(actor, "campaign.submit", campaign_id=campaign_id, detail=f"{size} people: scheduled")
    return await get_campaign(campaign_id)


async def approve_campaign(campaign_id: int, *, actor: Actor, now: dt.datetime | None = None) -> Campaign:
    """A second person with the approver role lets a submitted campaign go: it is `scheduled`."""
    now = now or utcnow()
    campaign = await _awaiting(campaign_id, actor, "approve")
    await _schedule(
        campaign, CampaignStatus.AWAITING_APPROVAL, now, approved_by=actor.label[:100], approved_at=now
    )
    await record_action(
        actor, "campaign.approve", campaign_id=campaign_id, detail=f"{campaign.audience_size} people"
    )
    campaign = await get_campaign(campaign_id)
    await announce(_notice(campaign, NoticeKind.APPROVED, f"by {actor.label}"))
    return campaign


async def reject_campaign(campaign_id: int, *, actor: Actor, reason: str) -> Campaign:
    """Send a submitted campaign back to its author as a draft, with the reason."""
    reason = one_line(reason)[:300]
    if not reason:
        raise CampaignInvalid({"reason": "say why, so the author knows what to change"})
    campaign = await _awaiting(campaign_id, actor, "reject")
    if not await Campaign.filter(id=campaign_id, status=CampaignStatus.AWAITING_APPROVAL).update(
        status=CampaignStatus.DRAFT, approval_note=reason, submitted_by=""
    ):
        raise CampaignError(f"campaign {campaign_id} changed meanwhile; nothing was done")
    await record(None, f"campaign:{campaign_id}", "awaiting_approval", "draft", actor.label)
    await record_action(actor, "campaign.reject", campaign_id=campaign_id, detail=reason)
    await announce(_notice(campaign, NoticeKind.REJECTED, f"by {actor.label}: {reason}"))
    return await get_campaign(campaign_id)


async def may_approve(campaign: Campaign, actor: Actor) -> str:
    """Why `actor` may not approve or reject `campaign` ("" if they may). The one place the rule lives:
    an active staff account with the approver role, who neither submitted nor last changed it."""
    staff = (
        await StaffMember.get_or_none(id=actor.staff_id, removed_at__isnull=True) if actor.staff_id else None
    )
    if staff is None:
        return "approving needs a staff account with the approver role"
    if not staff.role.includes(StaffRole.APPROVER):
        return f"approving needs the approver role; {staff.email} has the {staff.role.value} role"
    if staff.email in (campaign.created_by, campaign.changed_by, campaign.submitted_by):
        return "you wrote, changed or submitted this campaign: someone else must approve it"
    return ""


async def _awaiting(campaign_id: int, actor: Actor, verb: str) -> Campaign:
    campaign = await get_campaign(campaign_id)
    if campaign.status != CampaignStatus.AWAITING_APPROVAL:
        raise CampaignError(f"campaign {campaign_id} is {campaign.status.value}; there is nothing to {verb}")
    refusal = await may_approve(campaign, actor)
    if refusal:
        await record_action(actor, f"campaign.{verb}.refused", campaign_id=campaign_id, detail=refusal)
        raise CampaignRefused(refusal)
    return campaign


class CampaignRefused(CampaignError):
    """The person may not do this (a role, or their own campaign); nothing changed."""


async def _schedule(campaign: Campaign, was: CampaignStatus, now: dt.datetime, **columns: Any) -> None:
    """Move a campaign on to `scheduled`, fixing its first send time."""
    if campaign.cron:
        send_at = next_fire_time(cron_trigger(campaign.cron), now)
    elif campaign.send_at is None:
        send_at = now
    elif campaign.send_at <= now:
        raise CampaignError(
            f"campaign {campaign.id} was to go at {la_time(campaign.send_at)}, which has passed: "
            "change its send time (it then needs submitting again)"
        )
    else:
        send_at = campaign.send_at
    if not await Campaign.filter(id=campaign.id, status=was).update(
        status=CampaignStatus.SCHEDULED, send_at=send_at, **columns
    ):
        raise CampaignError(f"campaign {campaign.id} changed meanwhile; nothing was done")
    await record(
        None,
        f"campaign:{campaign.id}",
        was.value,
        "scheduled",
        str(columns.get("approved_by") or columns.get("submitted_by", "")),
    )


def _plan_of(campaign: Campaign) -> CampaignPlan:
    """A stored campaign as a plan again (to check it anew, or fill the compose form)."""
    if campaign.cron:
        when: dict[str, Any] = {"cron": campaign.cron}
    elif campaign.send_at is None:
        when = {"immediately": True}
    else:
        when = {"send_at": campaign.send_at}
    return CampaignPlan(
        name=campaign.name,
        kind=campaign.kind.value,
        template=campaign.template,
        audience=campaign.audience,
        values=campaign.context or {},
        subject=campaign.subject,
        english_for_spanish=campaign.english_for_spanish,
        **when,
    )


plan_of = _plan_of


async def create_campaign(
    *,
    kind: str,
    template: str,
    builder: MessageBuilder,
    created_by: Actor | str,
    name: str = "",
    audience: Audience | Mapping[str, Any] | str = "",
    send_at: dt.datetime | str | None = None,
    cron: str = "",
    immediately: bool = False,
    subject: str = "",
    values: Mapping[str, str] | None = None,
    english_for_spanish: bool = False,
    approval_threshold: int = DEFAULT_APPROVAL_THRESHOLD,
    now: dt.datetime | None = None,
) -> Campaign:
    """Compose and submit in one go (the CLI's `campaigns create`): the campaign comes back
    `scheduled`, or `awaiting_approval` when its audience is larger than `approval_threshold`.

    Exactly one of `send_at` (ISO 8601 text or an aware datetime; no offset means Los Angeles
    time), `cron` (crontab in Los Angeles time, see `outreach.timing`) or `immediately`. An
    immediate campaign is due at once: the scheduler's next sweep starts it (in the service's own
    process, `runtime.extras["scheduler"].poke()` sweeps straight away).
    """
    now = now or utcnow()
    actor = created_by if isinstance(created_by, Actor) else Actor.system(created_by)
    plan = CampaignPlan(
        name=name,
        kind=kind,
        template=template,
        audience=audience,
        values=values or {},
        subject=subject,
        english_for_spanish=english_for_spanish,
        send_at=send_at,
        cron=cron,
        immediately=immediately,
    )
    draft = await save_draft(plan, builder=builder, actor=actor, now=now)
    campaign = await submit_campaign(
        draft.id, builder=builder, actor=actor, approval_threshold=approval_threshold, now=now
    )
    log.info("campaign %s created (%s, %s)", campaign.id, kind, "recurring" if cron else "one-off")
    return campaign


async def get_campaign(campaign_id: int) -> Campaign:
    campaign = await Campaign.get_or_none(id=campaign_id)
    if campaign is None:
        raise CampaignError(f"there is no campaign {campaign_id}")
    return campaign


# Starting ----------------------------------------------------------------------------------------


async def start_campaign(campaign_id: int, now: dt.datetime) -> bool:
    """Start a due one-off campaign (or occurrence): claim it, then write one Delivery per person.

    Returns False when there was nothing to start (already started by another process, paused,
    cancelled, not yet due, or recurring: see `start_occurrence`).
    """
    claimed = await Campaign.filter(
        id=campaign_id, status=CampaignStatus.SCHEDULED, cron="", send_at__lte=now
    ).update(status=CampaignStatus.SENDING, started_at=now)
    if not claimed:
        return False
    campaign = await Campaign.get(id=campaign_id)
    await record(None, f"campaign:{campaign_id}", "scheduled", "sending", "scheduler")
    total = await draw_audience(campaign, now)
    await announce(_notice(campaign, NoticeKind.STARTED, counts={"total": total}))
    return True


async def draw_audience(campaign: Campaign, now: dt.datetime) -> int:
    """Write a queued Delivery for everyone in the audience, batch by batch; safe to run again.

    Sending starts with the first batch (the campaign is already `sending`). Returns how many
    rows the campaign has once its audience is complete.
    """
    audience = Audience.from_mapping(campaign.audience)
    async for batch in audience.stream_ids(campaign.kind, batch_size=AUDIENCE_BATCH):
        await _write_deliveries(campaign, batch, now)
        status = await column(Campaign.filter(id=campaign.id), "status")
        if status and status[0] == CampaignStatus.CANCELLED:
            await _withdraw_unsent(campaign.id, now)
            break
    await Campaign.filter(id=campaign.id).update(audience_resolved_at=now)
    total = await Delivery.filter(campaign_id=campaign.id).count()
    log.info("campaign %s audience written: %s deliveries", campaign.id, total)
    return total


async def _write_deliveries(campaign: Campaign, subscriber_ids: list[int], now: dt.datetime) -> None:
    """One queued Delivery per subscriber, in one INSERT ... SELECT, skipping any already there.

    Plain SQL rather than `bulk_create`: building an ORM object per row cost about 0.3 ms, which
    is a minute for a 200,000-person campaign; the database copies the rows in a fraction of that.
    Per-delivery context stays empty: campaign-wide values live on the campaign.
    """
    conn = get_connection("default")
    postgres = conn.capabilities.dialect == "postgres"
    fixed = [campaign.id, campaign.template, int(Priority.BULK), DeliveryState.QUEUED.value, now, now]
    if postgres:
        marks = [f"${i}" for i in range(1, len(fixed) + 1)]
        members, empty_json = f"= ANY(${len(fixed) + 1}::bigint[])", "'{}'::jsonb"
        params: list[Any] = [*fixed, subscriber_ids]
    else:
        marks = ["?"] * len(fixed)
        members, empty_json = f"IN ({', '.join('?' * len(subscriber_ids))})", "'{}'"
        params = [*fixed, *subscriber_ids]
    # PostgreSQL: the people are locked for share while their messages are written, so an
    # unsubscribe at that moment waits and then finds the messages it must be counted against
    # (the figures' "unsubscribed within 7 days", outreach/metrics/triggers.py).
    share = "FOR SHARE" if postgres else ""
    # Only placeholders and constants are formatted in; every value travels as a parameter.
    sql = f"""
        INSERT INTO delivery (campaign_id, subscriber_id, address, template, language, context,
                              priority, state, attempts, next_attempt_at, claimed_by, last_reply,
                              message_id, created_at)
        SELECT {marks[0]}, s.id, s.email, {marks[1]}, s.language, {empty_json}, {marks[2]},
               {marks[3]}, 0, {marks[4]}, '', '', '', {marks[5]}
        FROM subscriber s WHERE s.id {members} {share}
        ON CONFLICT (campaign_id, subscriber_id) DO NOTHING
    """  # noqa: S608
    await conn.execute_query(sql, params)


async def start_occurrence(parent_id: int, now: dt.datetime) -> Campaign | None:
    """For a due recurring campaign: create the child campaign for its latest due occurrence and
    move the parent on to its next one. The child is started by the caller (or the next sweep).

    Occurrences that passed while the service was down are folded into the latest one (nobody
    wants three copies of a monthly update at once); the notice says so.
    """
    parent = await Campaign.get_or_none(id=parent_id)
    if parent is None or parent.status != CampaignStatus.SCHEDULED or not parent.cron:
        return None
    if parent.send_at is None or parent.send_at > now:
        return None
    trigger = cron_trigger(parent.cron)
    occurrence, skipped = parent.send_at, 0
    for _ in range(10_000):  # bounded: a per-minute schedule down for a week is still well under this
        following = next_fire_time(trigger, occurrence)
        if following > now:
            break
        occurrence, skipped = following, skipped + 1
    child: Campaign | None
    try:
        child = await Campaign.create(
            name=parent.name,
            kind=parent.kind,
            template=parent.template,
            subject=parent.subject,
            audience=parent.audience,
            context=parent.context,
            status=CampaignStatus.SCHEDULED,
            send_at=occurrence,
            parent_id=parent.id,
            occurrence_at=occurrence,
            created_by=parent.created_by,
            changed_by=parent.changed_by,
            submitted_by=parent.submitted_by,
            approved_by=parent.approved_by,
            approved_at=parent.approved_at,
        )
    except IntegrityError:  # another process created this occurrence first
        child = None
    await Campaign.filter(id=parent.id, status=CampaignStatus.SCHEDULED, send_at=parent.send_at).update(
        send_at=next_fire_time(trigger, max(now, occurrence))
    )
    if child is not None and skipped:
        await announce(
            _notice(parent, NoticeKind.MISSED, f"{skipped} earlier occurrence(s) passed while stopped")
        )
    return child


async def mark_missed(campaign_id: int, now: dt.datetime, *, grace: dt.timedelta) -> bool:
    """A scheduled campaign whose time passed longer than `grace` ago: record it, tell staff."""
    campaign = await Campaign.get_or_none(id=campaign_id)
    if campaign is None or campaign.send_at is None:
        return False
    changed = await Campaign.filter(
        id=campaign_id, status=CampaignStatus.SCHEDULED, send_at__lt=now - grace
    ).update(status=CampaignStatus.MISSED, finished_at=now)
    if not changed:
        return False
    await record(None, f"campaign:{campaign_id}", "scheduled", "missed", "scheduler")
    late = now - campaign.send_at
    await announce(
        _notice(campaign, NoticeKind.MISSED, f"its time passed {_duration(late)} ago, past the grace period")
    )
    return True


async def restart_stalled_starts(now: dt.datetime) -> list[int]:
    """Finish writing the audience of campaigns whose starting process died part-way."""
    stalled = await Campaign.filter(
        status__in=[CampaignStatus.SENDING, CampaignStatus.PAUSED],
        audience_resolved_at__isnull=True,
        started_at__lt=now - STALE_START,
    )
    for campaign in stalled:
        log.warning("campaign %s: its start did not finish; writing the rest of its audience", campaign.id)
        await draw_audience(campaign, now)
    return [c.id for c in stalled]


async def complete_finished_campaigns(now: dt.datetime) -> list[int]:
    """Mark `finished` every sending campaign whose audience is written and that has nothing left
    queued, sending or deferred. Returns the ids it finished."""
    candidates = await ids(Campaign.filter(status=CampaignStatus.SENDING, audience_resolved_at__isnull=False))
    finished = []
    for campaign_id in candidates:
        if await Delivery.filter(campaign_id=campaign_id, state__in=list(UNFINISHED)).exists():
            continue
        if await Campaign.filter(id=campaign_id, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.FINISHED, finished_at=now
        ):
            finished.append(campaign_id)
            await record(None, f"campaign:{campaign_id}", "sending", "finished", "scheduler")
            campaign = await Campaign.get(id=campaign_id)
            await announce(_notice(campaign, NoticeKind.FINISHED, counts=await campaign_counts(campaign_id)))
    return finished


# Control -----------------------------------------------------------------------------------------


async def pause_campaign(campaign_id: int, *, reason: str, actor: str) -> bool:
    """Stop sending (or stop a scheduled one from starting) until resumed. Queued deliveries stay
    queued: the sender only claims deliveries of `sending` campaigns. False if not pausable."""
    campaign = await Campaign.get_or_none(id=campaign_id)
    if campaign is None or campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING):
        return False
    reason = one_line(reason)[:300] or "paused"
    if not await Campaign.filter(id=campaign_id, status=campaign.status).update(
        status=CampaignStatus.PAUSED, paused_reason=reason
    ):
        return False
    await record(None, f"campaign:{campaign_id}", campaign.status.value, "paused", actor)
    await announce(_notice(campaign, NoticeKind.PAUSED, f"{reason} (by {actor})"))
    return True


async def resume_campaign(campaign_id: int, *, actor: str, now: dt.datetime | None = None) -> bool:
    """Carry on from where it stopped: nothing already sent is sent again. A campaign paused
    before it started goes back to waiting for its time (at once, if that time has passed; a
    recurring one waits for its next occurrence)."""
    now = now or utcnow()
    campaign = await Campaign.get_or_none(id=campaign_id)
    if campaign is None or campaign.status != CampaignStatus.PAUSED:
        return False
    update: dict[str, Any] = {"paused_reason": ""}
    if campaign.started_at is not None:
        update["status"] = CampaignStatus.SENDING
    else:
        update["status"] = CampaignStatus.SCHEDULED
        if campaign.cron:
            update["send_at"] = next_fire_time(cron_trigger(campaign.cron), now)
        elif campaign.send_at is None or campaign.send_at < now:
            update["send_at"] = now  # staff asked for it now: it must not count as missed
    if not await Campaign.filter(id=campaign_id, status=CampaignStatus.PAUSED).update(**update):
        return False
    await record(None, f"campaign:{campaign_id}", "paused", update["status"].value, actor)
    await announce(_notice(campaign, NoticeKind.RESUMED, f"by {actor}"))
    return True


async def cancel_campaign(campaign_id: int, *, actor: str, now: dt.datetime | None = None) -> bool:
    """Stop for good. Deliveries not yet sent become `suppressed` ("not sent: campaign
    cancelled"), so the counts add up and nothing is left waiting. Cancelling a recurring
    campaign also cancels its occurrences that haven't finished."""
    now = now or utcnow()
    campaign = await Campaign.get_or_none(id=campaign_id)
    open_states = (
        CampaignStatus.DRAFT,
        CampaignStatus.AWAITING_APPROVAL,
        CampaignStatus.SCHEDULED,
        CampaignStatus.SENDING,
        CampaignStatus.PAUSED,
    )
    if campaign is None or campaign.status not in open_states:
        return False
    if not await Campaign.filter(id=campaign_id, status=campaign.status).update(
        status=CampaignStatus.CANCELLED, finished_at=now
    ):
        return False
    await _withdraw_unsent(campaign_id, now)
    await record(None, f"campaign:{campaign_id}", campaign.status.value, "cancelled", actor)
    await announce(_notice(campaign, NoticeKind.CANCELLED, f"by {actor}"))
    for child_id in await ids(Campaign.filter(parent_id=campaign_id, status__in=list(open_states))):
        await cancel_campaign(child_id, actor=actor, now=now)
    return True


async def _withdraw_unsent(campaign_id: int, now: dt.datetime) -> None:
    reply = "not sent: campaign cancelled"
    await Delivery.filter(
        campaign_id=campaign_id, state__in=[DeliveryState.QUEUED, DeliveryState.DEFERRED]
    ).update(state=DeliveryState.SUPPRESSED, last_reply=reply, lease_until=None)
    # A row claimed by a sender that has since died would otherwise stay `sending` for ever.
    await Delivery.filter(campaign_id=campaign_id, state=DeliveryState.SENDING, lease_until__lt=now).update(
        state=DeliveryState.SUPPRESSED, last_reply=reply, lease_until=None
    )


# Reading -----------------------------------------------------------------------------------------


async def campaign_counts(campaign_id: int) -> dict[str, int]:
    """Deliveries by state (`bounced`: the relay took it, then it came back), plus `clicked`
    (invitation links followed), `complained` (reported as spam) and `total`. For a recurring
    campaign, the sum over its occurrences. Counted by the figures' own `delivery_counts`, so
    `campaigns show` and the dashboard agree."""
    campaign_ids = [campaign_id, *await ids(Campaign.filter(parent_id=campaign_id))]
    counts = dict.fromkeys([*COUNT_KEYS, "clicked", "complained"], 0)
    for per_campaign in (await delivery_counts(campaign_ids)).values():
        for key in counts:
            counts[key] += per_campaign.get(key, 0)
    counts["total"] = sum(counts[key] for key in COUNT_KEYS)
    return counts


async def campaign_summary(
    campaign: Campaign, *, window: SendWindow | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Everything staff see about a campaign, JSON-ready (times in UTC ISO 8601). With the
    SEND_WINDOW, a sending campaign outside it says when it goes on (`waiting`)."""

    def iso(moment: dt.datetime | None) -> str | None:
        return moment.astimezone(dt.UTC).isoformat() if moment else None

    counts = await campaign_counts(campaign.id)
    summary: dict[str, Any] = {
        "id": campaign.id,
        "name": campaign.name,
        "kind": campaign.kind.value,
        "template": campaign.template,
        "subject": campaign.subject,
        "status": campaign.status.value,
        "paused_reason": campaign.paused_reason,
        "audience": campaign.audience,
        "audience_text": Audience.from_mapping(campaign.audience).describe(),
        "values": campaign.context,
        "send_at": iso(campaign.send_at),
        "cron": campaign.cron,
        "parent_id": campaign.parent_id,
        "occurrence_at": iso(campaign.occurrence_at),
        "english_for_spanish": campaign.english_for_spanish,
        "created_by": campaign.created_by,
        "created_at": iso(campaign.created_at),
        "changed_by": campaign.changed_by,
        "submitted_by": campaign.submitted_by,
        "audience_size": campaign.audience_size,
        "approved_by": campaign.approved_by,
        "approved_at": iso(campaign.approved_at),
        "approval_note": campaign.approval_note,
        "started_at": iso(campaign.started_at),
        "audience_resolved_at": iso(campaign.audience_resolved_at),
        "finished_at": iso(campaign.finished_at),
        "counts": counts,
        "send_window": window.describe() if window is not None else "",
        "window_opens_at": None,
        "waiting": "",
    }
    now = now or utcnow()
    if (
        window is not None
        and campaign.status in (CampaignStatus.SENDING, CampaignStatus.SCHEDULED)
        and not window.is_open(now)
    ):
        opens = window.next_open(now)
        summary["window_opens_at"] = iso(opens)
        if campaign.status == CampaignStatus.SENDING:
            summary["waiting"] = f"outside the send window ({window.describe()}); goes on at {la_time(opens)}"
    if campaign.kind == CampaignKind.APPLICATION_INVITATION:
        summary["invited"] = counts["sent"]
        summary["clicked"] = counts["clicked"]
    if campaign.cron:
        children = await Campaign.filter(parent_id=campaign.id).order_by("-occurrence_at").limit(24)
        summary["occurrences"] = [
            {"id": c.id, "occurrence_at": iso(c.occurrence_at), "status": c.status.value} for c in children
        ]
    return summary


async def list_campaigns(limit: int = 50) -> list[Campaign]:
    return await Campaign.all().order_by("-id").limit(limit)


@dataclasses.dataclass(frozen=True, slots=True)
class PersonDelivery:
    """One message we sent (or meant to send) to a person, as staff see it."""

    delivery_id: int
    campaign_id: int | None
    kind: str  # the campaign kind, or "transactional" (confirmation, test send)
    template: str
    state: str
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    clicked_at: dt.datetime | None
    last_reply: str
    message_id: str
    bounced_at: dt.datetime | None = None  # what came back later (outreach.bounces)
    bounce_type: str = ""  # hard, soft, refused
    bounce_status: str = ""  # 5.1.1
    bounce_diagnostic: str = ""
    complained_at: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("created_at", "sent_at", "clicked_at", "bounced_at", "complained_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


async def deliveries_for_person(email: str) -> list[PersonDelivery]:
    """Everything queued for an address, newest first, with what the mail server answered."""
    try:
        address = normalise_email(email)
    except InvalidEmail as exc:
        raise CampaignError(str(exc)) from None
    subscriber = await Subscriber.get_or_none(email=address)
    condition = Q(address=address)
    if subscriber is not None:
        condition |= Q(subscriber_id=subscriber.id)
    rows = (
        await Delivery.filter(condition)
        .order_by("-created_at", "-id")
        .limit(500)
        .prefetch_related("campaign")
    )
    return [
        PersonDelivery(
            delivery_id=row.id,
            campaign_id=row.campaign_id,
            kind=row.campaign.kind.value if row.campaign else "transactional",
            template=row.template,
            state=row.state.value,
            attempts=row.attempts,
            created_at=row.created_at,
            sent_at=row.sent_at,
            clicked_at=row.clicked_at,
            last_reply=row.last_reply,
            message_id=row.message_id,
            bounced_at=row.bounced_at,
            bounce_type=row.bounce_type,
            bounce_status=row.bounce_status,
            bounce_diagnostic=row.bounce_diagnostic,
            complained_at=row.complained_at,
        )
        for row in rows
    ]


# Preview and test send ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Preview:
    rendered: RenderedEmail
    language: str
    in_audience: bool  # whether this person would get the campaign if it started now


async def preview(campaign_id: int, email: str, *, builder: MessageBuilder) -> Preview:
    """The campaign's message exactly as this subscriber would get it (in their language)."""
    campaign = await get_campaign(campaign_id)
    try:
        address = normalise_email(email)
    except InvalidEmail as exc:
        raise CampaignError(str(exc)) from None
    subscriber = await Subscriber.get_or_none(email=address)
    if subscriber is None:
        raise CampaignError("there is no subscriber with that address; preview needs a subscriber")
    recipient = Recipient(
        address=subscriber.email,
        subscriber_id=subscriber.id,
        name=subscriber.name,
        organization=subscriber.organization,
        role=subscriber.role.value,
        language=subscriber.language.value,
        topics=subscriber.topics,
    )
    delivery = await Delivery.get_or_none(campaign_id=campaign.id, subscriber_id=subscriber.id)
    rendered = _render(builder, campaign, recipient, delivery.id if delivery else 0, subject_prefix="")
    in_audience = await Audience.from_mapping(campaign.audience).includes(campaign.kind, subscriber.id)
    return Preview(rendered=rendered, language=recipient.language, in_audience=in_audience)


def _render(
    builder: MessageBuilder,
    campaign: Campaign,
    recipient: Recipient,
    delivery_id: int,
    *,
    subject_prefix: str,
    links: dict[str, str] | None = None,
) -> RenderedEmail:
    links = links or builder.links(recipient, delivery_id=delivery_id)
    context = builder.context(recipient, links, message_context(campaign, recipient.language))
    try:
        rendered = builder.templates.render(campaign.template, recipient.language, context)
    except TemplateError as exc:
        raise CampaignError(str(exc)) from None
    subject = one_line(subject_prefix + (campaign.subject or rendered.subject))
    return RenderedEmail(subject=subject, text=rendered.text, html=rendered.html)


def sample_message(campaign: Campaign, language: str, *, builder: MessageBuilder) -> RenderedEmail:
    """The campaign's message exactly as a reader in `language` gets it, for a sample person (its
    links lead nowhere that could change anyone's subscription)."""
    if language not in ("en", "es"):
        raise CampaignError("the language must be en or es")
    return _render(
        builder, campaign, _sample_recipient(Role.MANUFACTURER.value, language), 0, subject_prefix=""
    )


@dataclasses.dataclass(frozen=True, slots=True)
class TestSendResult:
    delivery_id: int
    sent: bool
    reply: str  # what the mail server answered


async def test_send(
    campaign_id: int,
    to: str,
    *,
    builder: MessageBuilder,
    transport: MailTransport,
    language: str = "en",
    now: dt.datetime | None = None,
) -> TestSendResult:
    """Send the campaign's message to `to` now (any address, typically the staff member's own),
    with "[TEST]" before the subject, and say what the mail server answered.

    It is recorded like any message (a transactional Delivery, not part of the campaign's counts),
    but sent here rather than queued: staff are waiting for the answer, and a test that failed
    should be looked at, not retried for days.
    """
    now = now or utcnow()
    campaign = await get_campaign(campaign_id)
    try:
        address = normalise_email(to)
    except InvalidEmail as exc:
        raise CampaignError(str(exc)) from None
    if language not in ("en", "es"):
        raise CampaignError("the test language must be en or es")
    recipient = Recipient(
        address=address,
        subscriber_id=None,  # its links are the test's own (`test_send_links`): nobody is unsubscribed
        name="Test Recipient",
        organization="",
        role=Role.MANUFACTURER.value,
        language=language,
        topics=[t.value for t in Topic],
    )
    delivery = await Delivery.create(
        address=address,
        template=campaign.template,
        language=language,
        context={"test_of_campaign": campaign.id},
        priority=Priority.TRANSACTIONAL,
        state=DeliveryState.SENDING,
        claimed_by="test-send",
        attempts=1,
        lease_until=now + dt.timedelta(hours=1),
        next_attempt_at=now,
    )
    links = builder.test_send_links(delivery.id)
    try:
        rendered = _render(
            builder, campaign, recipient, delivery.id, subject_prefix=TEST_SUBJECT_PREFIX, links=links
        )
    except CampaignError as exc:
        await mark_final(delivery.id, DeliveryState.FAILED, reply=str(exc)[:500])
        raise
    try:
        message = builder.compose(
            recipient,
            rendered,
            list_mail=True,
            links=links,
            list_id=builder.list_id(campaign.kind.value),
        )
    except UnicodeEncodeError:  # a value stored before create checked for UTF-8
        problem = f"campaign {campaign.id} has a value that is not valid UTF-8 text, so no email can carry it"
        await mark_final(delivery.id, DeliveryState.FAILED, reply=problem)
        raise CampaignError(f"{problem}; cancel it and create it again with the value retyped") from None
    result = await transport.send(message)
    if result.outcome is Outcome.SENT:
        await mark_sent(delivery.id, reply=result.reply, message_id=message.message_id, now=utcnow())
    else:
        await mark_final(delivery.id, DeliveryState.FAILED, reply=result.reply)
    return TestSendResult(delivery_id=delivery.id, sent=result.outcome is Outcome.SENT, reply=result.reply)


test_send.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite the name


async def test_send_campaign(delivery_id: int) -> int | None:
    """Which campaign a test send (a Delivery `test_send` made) was of; None if it is no test send."""
    delivery = await Delivery.get_or_none(id=delivery_id, campaign_id=None)
    test_of = (delivery.context or {}).get("test_of_campaign") if delivery is not None else None
    return test_of if isinstance(test_of, int) else None


test_send_campaign.__test__ = False  # type: ignore[attr-defined]


# Notices -----------------------------------------------------------------------------------------


def _notice(
    campaign: Campaign, kind: NoticeKind, detail: str = "", counts: dict[str, int] | None = None
) -> CampaignNotice:
    return CampaignNotice(
        kind=kind,
        campaign_id=campaign.id,
        campaign_kind=str(campaign.kind.value if hasattr(campaign.kind, "value") else campaign.kind),
        template=campaign.template,
        detail=detail,
        counts=counts or {},
        name=campaign.name,
    )


def _duration(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"
