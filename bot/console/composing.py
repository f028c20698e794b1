"""Composing and approving campaigns: the compose form (with a live audience count per language),
the preview of each language's message, a test to yourself, submitting, approving and rejecting.

Thin over `outreach.campaigns` (`save_draft`, `submit_campaign`, `approve_campaign`,
`reject_campaign`), which the CLI and Slack call too: every rule lives there, and a refusal comes
back as `CampaignInvalid` (by field, shown next to each field) or `CampaignError`.

Listed before `bot.console.campaigns` in PAGE_MODULES: its `/staff/campaigns/{id}/{verb}` route
would otherwise catch `submit`, `approve` and `reject` with the sender role.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData, ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bot.console.access import (
    current_staff,
    field,
    forbidden,
    form_of,
    problem,
    redirect,
    render,
    staff_route,
)
from bot.console.parts import ConsoleParts
from bot.console.people import LANGUAGE_LABELS, ROLE_LABELS, TOPIC_LABELS
from outreach import campaigns as service
from outreach.audience import Audience, AudienceError
from outreach.models import Campaign, CampaignKind, CampaignStatus
from outreach.scheduling import CampaignScheduler
from outreach.timing import LOS_ANGELES
from subscribers.staff_audit import Actor
from subscribers.staff_models import ActionSource, StaffRole

KIND_LABELS = {
    "pilot_update": "Pilot update",
    "application_invitation": "Application invitation",
    "working_group_notice": "Working-group notice",
}
# The values the shipped templates read; each in English and Spanish (`_es`).
VALUE_FIELDS = [
    ("message", "News paragraph", "The paragraph of news; pilot updates and invitations show it."),
    ("deadline", "Deadline", "Application invitations: the last day to apply."),
    ("meeting_when", "Meeting date and time", "Working-group notices: required."),
    ("meeting_where", "Meeting place", "Working-group notices: required. An address or “Online”."),
    ("agenda", "Agenda", "Working-group notices: what the meeting is about."),
]
WHEN_CHOICES = [("now", "Now"), ("at", "At a date and time"), ("cron", "Again and again")]
AUDIENCE_FIELDS = ("role", "language", "topic", "zip")
_AUDIENCE_KEY = re.compile(r"^audience: (role|language|topic|zip)\b")


def _actor(request: Request) -> Actor:
    return Actor.of_staff(current_staff(request), ActionSource.CONSOLE)


def _parts(request: Request) -> ConsoleParts:
    return ConsoleParts.of(request)


# The form ----------------------------------------------------------------------------------------


def _form_values(data: FormData | ImmutableMultiDict[str, Any]) -> dict[str, Any]:
    """What the form sent, trimmed, to fill the form again and to build the plan."""

    def one(name: str, limit: int = 200) -> str:
        value = data.get(name, "")
        return value.strip()[:limit] if isinstance(value, str) else ""

    def many(name: str) -> list[str]:
        return [v for v in data.getlist(name) if isinstance(v, str) and v][:10]

    values = {
        "name": one("name"),
        "kind": one("kind"),
        "template": one("template", 100),
        "subject": one("subject", 300),
        "role": many("role"),
        "language": many("language"),
        "topic": many("topic"),
        "zip": one("zip", 300),
        "english_for_spanish": data.get("english_for_spanish") == "yes",
        "when": one("when") or "now",
        "send_at": one("send_at", 40),
        "cron": one("cron", 100),
    }
    # The shipped templates' values, and any other a campaign made elsewhere (`--var`) carries.
    names = [f"value-{key}{suffix}" for key in _value_keys(data) for suffix in ("", "_es")]
    values.update({name: one(name, 2100) for name in names})
    return values


def _value_keys(data: FormData | ImmutableMultiDict[str, Any] | dict[str, Any]) -> list[str]:
    """The values' base names (without `_es`): the shipped ones first, then any others given."""
    keys = [key for key, _label, _hint in VALUE_FIELDS]
    for name in list(data.keys())[:200]:
        base = name.removeprefix("value-").removesuffix("_es")
        if name.startswith("value-") and base not in keys and len(keys) < 40:
            keys.append(base)
    return keys


def _value_fields(values: dict[str, Any]) -> list[tuple[str, str, str]]:
    shipped = {key for key, _label, _hint in VALUE_FIELDS}
    return VALUE_FIELDS + [
        (key, key, "A value this campaign carries.") for key in _value_keys(values) if key not in shipped
    ]


def _audience(values: dict[str, Any]) -> dict[str, list[str]]:
    zips = [z for z in re.split(r"[\s,|]+", values["zip"]) if z]
    chosen = {"role": values["role"], "language": values["language"], "topic": values["topic"], "zip": zips}
    return {key: value for key, value in chosen.items() if value}


def _plan(values: dict[str, Any]) -> service.CampaignPlan:
    template_values = {
        name.removeprefix("value-"): text
        for name, text in values.items()
        if name.startswith("value-") and text
    }
    when = values["when"]
    return service.CampaignPlan(
        name=values["name"],
        kind=values["kind"],
        template=values["template"],
        audience=_audience(values),
        values=template_values,
        subject=values["subject"],
        english_for_spanish=values["english_for_spanish"],
        send_at=values["send_at"] if when == "at" else None,  # datetime-local: Los Angeles time
        cron=values["cron"] if when == "cron" else "",
        immediately=when == "now",
    )


def _field_errors(errors: dict[str, str], values_given: dict[str, Any]) -> dict[str, str]:
    """The service's error keys as the form's field names (an audience error names its filter)."""
    shown: dict[str, str] = {}
    when = values_given["when"]
    for key, message in errors.items():
        if key == "when" and when == "at" and not values_given.get("send_at"):
            message = "enter the date and time to send it, like 2027-01-12 09:00"
        elif key == "when" and when == "cron" and not values_given.get("cron"):
            message = "enter the schedule, like 0 9 * * 2#1 for the first Tuesday of each month at 9:00"
        if key == "audience":
            match = _AUDIENCE_KEY.match(message)
            key = match.group(1) if match else "role"
        elif key.startswith("value-") and key not in values_given:
            key = "values"
        elif key == "when":
            key = {"at": "send_at", "cron": "cron"}.get(when, "when")
        shown[key] = message[:1].upper() + message[1:]
    return shown


def _values_of(campaign: Campaign) -> dict[str, Any]:
    """A stored campaign as the form's values (to change it)."""
    audience = campaign.audience or {}
    values: dict[str, Any] = {
        "name": campaign.name,
        "kind": campaign.kind.value,
        "template": campaign.template,
        "subject": campaign.subject,
        "role": list(audience.get("role", [])),
        "language": list(audience.get("language", [])),
        "topic": list(audience.get("topic", [])),
        "zip": " ".join(audience.get("zip", [])),
        "english_for_spanish": campaign.english_for_spanish,
        "when": "cron" if campaign.cron else "now" if campaign.send_at is None else "at",
        "send_at": campaign.send_at.astimezone(LOS_ANGELES).strftime("%Y-%m-%dT%H:%M")
        if campaign.send_at
        else "",
        "cron": campaign.cron,
    }
    stored = {f"value-{name}": str(text) for name, text in (campaign.context or {}).items()}
    for key in _value_keys(stored):
        for name in (f"value-{key}", f"value-{key}_es"):
            values[name] = stored.get(name, "")
    return values


async def _counts(values: dict[str, Any], threshold: int) -> dict[str, Any] | None:
    """The audience's size per language right now, or None when the audience can't be read yet."""
    try:
        audience = Audience.from_mapping(_audience(values))
        kind = CampaignKind(values["kind"] or CampaignKind.PILOT_UPDATE.value)
    except (AudienceError, ValueError):
        return None
    counted = await service.count_audience(audience, kind)
    return {
        "total": counted.total,
        "by_language": [(LANGUAGE_LABELS.get(lang, lang), n) for lang, n in counted.by_language.items()],
        "needs_approval": service.needs_approval(counted.total, threshold),
    }


async def _compose_page(
    request: Request,
    values: dict[str, Any],
    *,
    campaign: Campaign | None,
    errors: dict[str, str] | None = None,
) -> Response:
    parts = _parts(request)
    counts = await _counts(values, parts.settings.approval_threshold)
    templates = service.campaign_templates(parts.runtime.builder)
    action = f"/staff/campaigns/{campaign.id}/edit" if campaign else "/staff/campaigns/new"
    return render(
        request,
        "campaign_compose.html",
        {
            "campaign": campaign,
            "values": values,
            "action": action,
            "kind_options": list(KIND_LABELS.items()),
            "template_options": [(name, name) for name in templates],
            "role_options": list(ROLE_LABELS.items()),
            "language_options": list(LANGUAGE_LABELS.items()),
            "topic_options": list(TOPIC_LABELS.items()),
            "value_fields": _value_fields(values),
            "when_choices": WHEN_CHOICES,
            "counts": counts,
            "threshold": parts.settings.approval_threshold,
        },
        errors=errors,
        status=400 if errors else 200,
    )


async def compose_page(request: Request) -> Response:
    """A new campaign's form; with `?count=1` (the no-script "Count" button) it comes back filled in."""
    values = _form_values(request.query_params)
    return await _compose_page(request, values, campaign=None)


async def edit_page(request: Request) -> Response:
    campaign = await _campaign_or_none(request)
    if campaign is None:
        return _not_found(request)
    if not service.is_editable(campaign):
        return problem(
            request,
            "This campaign can't be changed",
            [f"It is {campaign.status.value}: only a draft, or one not yet started, can be changed."],
            409,
            link=("Back to the campaign", f"/staff/campaigns/{campaign.id}"),
        )
    counted = request.query_params.get("count") == "1"
    values = _form_values(request.query_params) if counted else _values_of(campaign)
    return await _compose_page(request, values, campaign=campaign)


async def save(request: Request) -> Response:
    """Save the form as a draft (new, or a change that sends a submitted campaign back to draft)."""
    campaign_id = request.path_params.get("campaign_id")
    campaign = await _campaign_or_none(request) if campaign_id is not None else None
    if campaign_id is not None and campaign is None:
        return _not_found(request)
    values = _form_values(form_of(request))
    parts = _parts(request)
    try:
        saved = await service.save_draft(
            _plan(values), builder=parts.runtime.builder, actor=_actor(request), campaign_id=campaign_id
        )
    except service.CampaignInvalid as exc:
        return await _compose_page(
            request, values, campaign=campaign, errors=_field_errors(exc.errors, values)
        )
    except service.CampaignError as exc:
        return await _compose_page(request, values, campaign=campaign, errors={"name": str(exc)})
    was = campaign.status if campaign else None
    if (
        was in (CampaignStatus.AWAITING_APPROVAL, CampaignStatus.SCHEDULED)
        and saved.status == CampaignStatus.DRAFT
    ):
        notice = "Saved. The change sent it back to draft: check the preview and submit it again."
    else:
        notice = "Saved as a draft. Check the preview, send yourself a test, then submit it."
    return redirect(request, f"/staff/campaigns/{saved.id}", notice=notice)


async def audience_count(request: Request) -> Response:
    """The count fragment htmx swaps in as the audience changes."""
    values = _form_values(request.query_params)
    return render(
        request,
        "campaign_audience_count.html",
        {"counts": await _counts(values, _parts(request).settings.approval_threshold)},
    )


# Review: preview, test, submit, approve ----------------------------------------------------------


async def review_of(request: Request, campaign: Campaign) -> dict[str, Any]:
    """What a campaign's page shows before it starts: each language's message, and who may act."""
    if not service.is_editable(campaign):
        return {}
    builder = _parts(request).runtime.builder
    previews = []
    for language in ("en", "es"):
        try:
            rendered = service.sample_message(campaign, language, builder=builder)
        except service.CampaignError as exc:
            previews.append({"language": language, "error": str(exc)})
            continue
        previews.append(
            {
                "language": language,
                "label": LANGUAGE_LABELS[language],
                "subject": rendered.subject,
                "text": rendered.text,
                "html_url": f"/staff/campaigns/{campaign.id}/preview/{language}",
                "error": "",
            }
        )
    refusal = await service.may_approve(campaign, _actor(request))
    return {
        "previews": previews,
        "approve_refusal": refusal,
        "threshold": _parts(request).settings.approval_threshold,
    }


async def preview_html(request: Request) -> Response:
    """The HTML part alone, for the page's sandboxed iframe. The CSP `sandbox` makes the browser
    treat it as a page of its own origin with no scripts, forms or top navigation, even if opened
    outside the frame."""
    campaign = await _campaign_or_none(request)
    language = request.path_params["language"]
    if campaign is None or language not in ("en", "es"):
        return _not_found(request)
    try:
        rendered = service.sample_message(campaign, language, builder=_parts(request).runtime.builder)
    except service.CampaignError as exc:
        return problem(request, "The message can't be shown", [str(exc)], 400)
    return Response(
        rendered.html,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": (
                "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; "
                "frame-ancestors 'self'"
            ),
            "X-Frame-Options": "SAMEORIGIN",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


async def send_test(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    language = field(form_of(request), "language")
    parts = _parts(request)
    staff = current_staff(request)
    try:
        result = await service.test_send(
            campaign_id,
            staff.email,
            builder=parts.runtime.builder,
            transport=parts.runtime.transport,
            language=language if language in ("en", "es") else "en",
        )
    except service.CampaignError as exc:
        return redirect(request, f"/staff/campaigns/{campaign_id}", notice=f"The test was not sent: {exc}")
    if not result.sent:
        return redirect(
            request, f"/staff/campaigns/{campaign_id}", notice=f"The test was not sent: {result.reply}"
        )
    return redirect(
        request,
        f"/staff/campaigns/{campaign_id}",
        notice=f"A test went to {staff.email}, with [TEST] before the subject.",
    )


async def submit(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    parts = _parts(request)
    try:
        campaign = await service.submit_campaign(
            campaign_id,
            builder=parts.runtime.builder,
            actor=_actor(request),
            approval_threshold=parts.settings.approval_threshold,
        )
    except service.CampaignError as exc:
        return redirect(request, f"/staff/campaigns/{campaign_id}", notice=f"Not submitted: {exc}")
    if campaign.status == CampaignStatus.AWAITING_APPROVAL:
        notice = (
            f"Submitted. It goes to {campaign.audience_size} people, more than "
            f"{parts.settings.approval_threshold}, so a second person with the approver role must approve it."
        )
    else:
        _wake_scheduler(request)
        notice = "Submitted and scheduled."
    return redirect(request, f"/staff/campaigns/{campaign_id}", notice=notice)


async def approve(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    try:
        await service.approve_campaign(campaign_id, actor=_actor(request))
    except service.CampaignRefused as exc:
        return _refused(request, str(exc))
    except service.CampaignError as exc:
        return redirect(request, f"/staff/campaigns/{campaign_id}", notice=f"Not approved: {exc}")
    _wake_scheduler(request)
    return redirect(request, f"/staff/campaigns/{campaign_id}", notice="Approved: the campaign is scheduled.")


async def reject(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    reason = field(form_of(request), "reason")
    try:
        await service.reject_campaign(campaign_id, actor=_actor(request), reason=reason)
    except service.CampaignRefused as exc:
        return _refused(request, str(exc))
    except service.CampaignError as exc:
        return redirect(request, f"/staff/campaigns/{campaign_id}", notice=f"Not rejected: {exc}")
    return redirect(request, f"/staff/campaigns/{campaign_id}", notice="Sent back to draft with your reason.")


def _refused(request: Request, why: str) -> Response:
    if "role" in why and "approver" in why and "needs" in why:
        return forbidden(request, StaffRole.APPROVER)
    return problem(
        request,
        "You can't approve this campaign",
        [why[:1].upper() + why[1:] + ".", "Nothing was changed."],
        403,
        link=("Back to the campaign", f"/staff/campaigns/{request.path_params['campaign_id']}"),
    )


def _wake_scheduler(request: Request) -> None:
    """A campaign due now starts at the next sweep; in this process, sweep at once."""
    scheduler = _parts(request).runtime.extras.get("scheduler")
    if isinstance(scheduler, CampaignScheduler):
        scheduler.poke()


async def _campaign_or_none(request: Request) -> Campaign | None:
    campaign_id = request.path_params.get("campaign_id")
    return await Campaign.get_or_none(id=campaign_id) if isinstance(campaign_id, int) else None


def _not_found(request: Request) -> Response:
    return problem(
        request, "Not found", ["There is no such campaign."], 404, link=("Campaigns", "/staff/campaigns")
    )


def routes() -> list[BaseRoute]:
    return [
        staff_route("/staff/campaigns/new", compose_page, role=StaffRole.EDITOR),
        staff_route("/staff/campaigns/new", save, role=StaffRole.EDITOR, methods=["POST"], name="save_new"),
        staff_route("/staff/campaigns/audience-count", audience_count, role=StaffRole.EDITOR),
        staff_route("/staff/campaigns/{campaign_id:int}/edit", edit_page, role=StaffRole.EDITOR),
        staff_route("/staff/campaigns/{campaign_id:int}/edit", save, role=StaffRole.EDITOR, methods=["POST"]),
        staff_route(
            "/staff/campaigns/{campaign_id:int}/preview/{language:str}", preview_html, role=StaffRole.VIEWER
        ),
        staff_route(
            "/staff/campaigns/{campaign_id:int}/test", send_test, role=StaffRole.EDITOR, methods=["POST"]
        ),
        staff_route(
            "/staff/campaigns/{campaign_id:int}/submit", submit, role=StaffRole.SENDER, methods=["POST"]
        ),
        staff_route(
            "/staff/campaigns/{campaign_id:int}/approve", approve, role=StaffRole.APPROVER, methods=["POST"]
        ),
        staff_route(
            "/staff/campaigns/{campaign_id:int}/reject", reject, role=StaffRole.APPROVER, methods=["POST"]
        ),
    ]
