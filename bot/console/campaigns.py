"""Watching campaigns: the list, a campaign's page with live counts, pause, resume and cancel
with a reason, and its recipients (state and the mail server's last answer), filterable by state,
paged from a cursor, and exported as CSV.

Thin over `outreach.campaigns` (the same functions the CLI and Slack call) and
`outreach.recipients`. Composing and approving are in `bot.console.composing`; a campaign's page
shows its review (previews, test, submit, approve) from there while it has not started.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute

from bot.console.access import current_staff, field, form_of, problem, redirect, render, staff_route
from bot.console.composing import review_of
from outreach import campaign_control
from outreach import campaigns as service
from outreach.models import DeliveryState
from outreach.recipients import campaign_recipients
from subscribers.staff_audit import Actor, record_action
from subscribers.staff_models import ActionSource, StaffRole

MENU = [("Campaigns", "/staff/campaigns", StaffRole.VIEWER)]
COUNT_KEYS = ("queued", "sending", "sent", "deferred", "failed", "suppressed")


def _actor(request: Request) -> Actor:
    return Actor.of_staff(current_staff(request), ActionSource.CONSOLE)


async def campaigns_page(request: Request) -> Response:
    rows = [await service.campaign_summary(c) for c in await service.list_campaigns(100)]
    return render(request, "campaigns.html", {"campaigns": rows})


def _state(request: Request) -> DeliveryState | None:
    try:
        return (
            DeliveryState(request.query_params.get("state", ""))
            if request.query_params.get("state")
            else None
        )
    except ValueError:
        return None


async def campaign_page(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    try:
        campaign = await service.get_campaign(campaign_id)
        summary = await service.campaign_summary(campaign)
    except service.CampaignError:
        return problem(
            request,
            "Not found",
            [f"There is no campaign #{campaign_id}."],
            404,
            link=("Campaigns", "/staff/campaigns"),
        )
    if request.headers.get("hx-request") == "true" and request.query_params.get("part") == "counts":
        return render(request, "campaign_counts.html", {"summary": summary, "count_keys": COUNT_KEYS})
    state = _state(request)
    after_text = request.query_params.get("after", "0")
    after = int(after_text) if after_text.isdigit() and len(after_text) < 15 else 0
    page = await campaign_recipients(campaign_id, state=state, after=after)
    kept = {"state": state.value} if state else {}
    return render(
        request,
        "campaign.html",
        {
            "summary": summary,
            "send_at": campaign.send_at,
            "review": await review_of(request, campaign),
            "count_keys": COUNT_KEYS,
            "recipients": page.recipients,
            "state_pairs": [(s.value, s.value) for s in DeliveryState],
            "state": state.value if state else "",
            "next_url": f"/staff/campaigns/{campaign_id}?{urlencode({**kept, 'after': page.next_after})}"
            if page.next_after
            else "",
            "first_url": f"/staff/campaigns/{campaign_id}?{urlencode(kept)}" if after else "",
            "export_url": f"/staff/campaigns/{campaign_id}/recipients.csv?{urlencode(kept)}",
        },
    )


async def control(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    verb = request.path_params["verb"]
    reason = " ".join(field(form_of(request), "reason").split())[:300]
    actor = _actor(request)
    if verb in ("pause", "cancel") and not reason:
        return redirect(
            request, f"/staff/campaigns/{campaign_id}", notice=f"Give a reason to {verb} the campaign."
        )
    if verb == "pause":
        done = await campaign_control.pause(campaign_id, reason=reason, actor=actor)
    elif verb == "resume":
        done = await campaign_control.resume(campaign_id, actor=actor)
    elif verb == "cancel":
        done = await campaign_control.cancel(campaign_id, reason=reason, actor=actor)
    else:
        return problem(request, "Not found", ["There is no such action."], 404)
    if not done:
        return redirect(
            request,
            f"/staff/campaigns/{campaign_id}",
            notice=f"The campaign could not be {verb}d in its present state: nothing changed.",
        )
    return redirect(request, f"/staff/campaigns/{campaign_id}", notice=f"The campaign is {verb}d.")


async def export_recipients(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    state = _state(request)
    await record_action(
        _actor(request),
        "campaign.export",
        campaign_id=campaign_id,
        detail=f"recipients{' ' + state.value if state else ''}",
    )

    async def rows() -> AsyncIterator[bytes]:
        yield "\ufeff".encode()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                "delivery",
                "person",
                "email",
                "language",
                "state",
                "attempts",
                "sent_at",
                "clicked_at",
                "server_reply",
            ]
        )
        after = 0
        while True:
            page = await campaign_recipients(campaign_id, state=state, after=after, limit=1000)
            for r in page.recipients:
                writer.writerow(
                    [
                        r.delivery_id,
                        r.subscriber_id or "",
                        r.address,
                        r.language,
                        r.state,
                        r.attempts,
                        r.sent_at.isoformat() if r.sent_at else "",
                        r.clicked_at.isoformat() if r.clicked_at else "",
                        r.last_reply,
                    ]
                )
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            if page.next_after is None:
                return
            after = page.next_after

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="campaign-{campaign_id}-recipients.csv"',
            "Cache-Control": "no-store",
        },
    )


def routes() -> list[BaseRoute]:
    return [
        staff_route("/staff/campaigns", campaigns_page, role=StaffRole.VIEWER),
        staff_route("/staff/campaigns/{campaign_id:int}", campaign_page, role=StaffRole.VIEWER),
        staff_route(
            "/staff/campaigns/{campaign_id:int}/recipients.csv", export_recipients, role=StaffRole.EDITOR
        ),
        staff_route(
            "/staff/campaigns/{campaign_id:int}/{verb:str}", control, role=StaffRole.SENDER, methods=["POST"]
        ),
    ]
