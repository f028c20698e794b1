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
from outreach.rendering import RenderedEmail, TemplateError, one_line
from outreach.timing import ScheduleError, cron_trigger, next_fire_time, parse_send_at, utcnow
from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.models import Role, Subscriber, Topic
from subscribers.registry import record

log = logging.getLogger(__name__)

AUDIENCE_BATCH = 2000
# A start that claimed a campaign but hasn't finished writing its audience after this long is taken
# to have died with its process, and is run again (which is safe: rows are unique per person).
STALE_START = dt.timedelta(minutes=10)
UNFINISHED = (DeliveryState.QUEUED, DeliveryState.SENDING, DeliveryState.DEFERRED)
COUNT_KEYS = ("queued", "sending", "sent", "deferred", "failed", "suppressed")
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


# Creating ----------------------------------------------------------------------------------------


async def create_campaign(
    *,
    kind: str,
    template: str,
    builder: MessageBuilder,
    audience: Audience | Mapping[str, Any] | str = "",
    send_at: dt.datetime | str | None = None,
    cron: str = "",
    immediately: bool = False,
    subject: str = "",
    values: Mapping[str, str] | None = None,
    created_by: str,
    now: dt.datetime | None = None,
) -> Campaign:
    """Validate everything, then write the campaign as `scheduled`.

    Exactly one of `send_at` (ISO 8601 text or an aware datetime; no offset means Los Angeles
    time), `cron` (crontab in Los Angeles time, see `outreach.timing`) or `immediately`. An
    immediate campaign is due at once: the scheduler's next sweep starts it (in the service's own
    process, `runtime.extras["scheduler"].poke()` sweeps straight away).
    """
    now = now or utcnow()
    try:
        kind = CampaignKind(kind).value
    except ValueError:
        raise CampaignError(
            f"{kind!r} is not a campaign kind; use one of: {', '.join(k.value for k in CampaignKind)}"
        ) from None
    try:
        chosen = (
            audience
            if isinstance(audience, Audience)
            else Audience.parse(audience)
            if isinstance(audience, str)
            else Audience.from_mapping(audience)
        )
    except AudienceError as exc:
        raise CampaignError(f"audience: {exc}") from None
    subject = subject.strip()
    if subject != one_line(subject) or len(subject) > 200:
        raise CampaignError("the subject must be one line of at most 200 characters")
    checked_values = _check_values(values or {})
    check_template_renders(builder, template, kind, checked_values)

    if sum((send_at is not None, bool(cron), immediately)) != 1:
        raise CampaignError("say when: give exactly one of a send time, a recurring schedule, or now")
    first_at: dt.datetime
    try:
        if immediately:
            first_at = now
        elif cron:
            cron = " ".join(cron.split())
            first_at = next_fire_time(cron_trigger(cron), now)
        elif isinstance(send_at, str):
            first_at = parse_send_at(send_at, now=now)
        else:
            assert send_at is not None
            if send_at.tzinfo is None:
                raise CampaignError("a send time needs a time zone")
            first_at = send_at.astimezone(dt.UTC)
            if first_at <= now:
                raise CampaignError("that send time is in the past; send now instead")
    except ScheduleError as exc:
        raise CampaignError(str(exc)) from None

    campaign = await Campaign.create(
        kind=kind,
        template=template,
        subject=subject,
        audience=chosen.to_json(),
        context=checked_values,
        status=CampaignStatus.SCHEDULED,
        send_at=first_at,
        cron=cron,
        created_by=created_by[:100],
    )
    await record(None, f"campaign:{campaign.id}", "", "scheduled", created_by)
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
        status = await Campaign.filter(id=campaign.id).values_list("status", flat=True)
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
    # Only placeholders and constants are formatted in; every value travels as a parameter.
    sql = f"""
        INSERT INTO delivery (campaign_id, subscriber_id, address, template, language, context,
                              priority, state, attempts, next_attempt_at, claimed_by, last_reply,
                              message_id, created_at)
        SELECT {marks[0]}, s.id, s.email, {marks[1]}, s.language, {empty_json}, {marks[2]},
               {marks[3]}, 0, {marks[4]}, '', '', '', {marks[5]}
        FROM subscriber s WHERE s.id {members}
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
    candidates = await Campaign.filter(
        status=CampaignStatus.SENDING, audience_resolved_at__isnull=False
    ).values_list("id", flat=True)
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
    open_states = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED)
    if campaign is None or campaign.status not in open_states:
        return False
    if not await Campaign.filter(id=campaign_id, status=campaign.status).update(
        status=CampaignStatus.CANCELLED, finished_at=now
    ):
        return False
    await _withdraw_unsent(campaign_id, now)
    await record(None, f"campaign:{campaign_id}", campaign.status.value, "cancelled", actor)
    await announce(_notice(campaign, NoticeKind.CANCELLED, f"by {actor}"))
    for child_id in await Campaign.filter(parent_id=campaign_id, status__in=list(open_states)).values_list(
        "id", flat=True
    ):
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
    """Deliveries by state, plus `clicked` (invitation links followed) and `total`. For a recurring
    campaign, the sum over its occurrences. Counted by the figures' own `delivery_counts`, so
    `campaigns show` and the dashboard agree."""
    ids = [campaign_id, *await Campaign.filter(parent_id=campaign_id).values_list("id", flat=True)]
    counts = dict.fromkeys([*COUNT_KEYS, "clicked"], 0)
    for per_campaign in (await delivery_counts(ids)).values():
        for key in counts:
            counts[key] += per_campaign.get(key, 0)
    counts["total"] = sum(counts[key] for key in COUNT_KEYS)
    return counts


async def campaign_summary(campaign: Campaign) -> dict[str, Any]:
    """Everything staff see about a campaign, JSON-ready (times in UTC ISO 8601)."""

    def iso(moment: dt.datetime | None) -> str | None:
        return moment.astimezone(dt.UTC).isoformat() if moment else None

    counts = await campaign_counts(campaign.id)
    summary: dict[str, Any] = {
        "id": campaign.id,
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
        "parent_id": campaign.parent_id,  # type: ignore[attr-defined]
        "occurrence_at": iso(campaign.occurrence_at),
        "created_by": campaign.created_by,
        "created_at": iso(campaign.created_at),
        "started_at": iso(campaign.started_at),
        "audience_resolved_at": iso(campaign.audience_resolved_at),
        "finished_at": iso(campaign.finished_at),
        "counts": counts,
    }
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

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("created_at", "sent_at", "clicked_at"):
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
) -> RenderedEmail:
    links = builder.links(recipient, delivery_id=delivery_id)
    context = builder.context(recipient, links, message_context(campaign, recipient.language))
    try:
        rendered = builder.templates.render(campaign.template, recipient.language, context)
    except TemplateError as exc:
        raise CampaignError(str(exc)) from None
    subject = one_line(subject_prefix + (campaign.subject or rendered.subject))
    return RenderedEmail(subject=subject, text=rendered.text, html=rendered.html)


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
        subscriber_id=0,  # sample links: a test must not unsubscribe anyone by accident
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
    try:
        rendered = _render(builder, campaign, recipient, delivery.id, subject_prefix=TEST_SUBJECT_PREFIX)
    except CampaignError as exc:
        await mark_final(delivery.id, DeliveryState.FAILED, reply=str(exc)[:500])
        raise
    try:
        message = builder.compose(
            recipient, rendered, list_mail=True, links=builder.links(recipient, delivery_id=delivery.id)
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
    )


def _duration(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"
