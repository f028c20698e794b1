"""The audit page: every staff action, newest first, filterable by person, campaign and staff
member, paged by id (page 100 costs what page 1 does)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bot.console.access import render, staff_route
from subscribers.staff import list_staff
from subscribers.staff_audit import ActionFilter, list_actions
from subscribers.staff_models import StaffRole

MENU = [("Audit log", "/staff/audit", StaffRole.VIEWER)]


def _number(text: str) -> int | None:
    text = text.strip().lstrip("#")
    return int(text) if text.isdigit() and len(text) < 12 else None


async def audit_page(request: Request) -> Response:
    query = request.query_params
    values = {key: query.get(key, "").strip()[:100] for key in ("person", "campaign", "staff", "actor")}
    errors: dict[str, str] = {}
    person = _number(values["person"]) if values["person"] else None
    if values["person"] and person is None:
        errors["person"] = "Enter a person's number, like 1234 (it is on their page)"
    campaign = _number(values["campaign"]) if values["campaign"] else None
    if values["campaign"] and campaign is None:
        errors["campaign"] = "Enter a campaign number, like 12"
    staff_id = _number(values["staff"]) if values["staff"] else None
    before = _number(query.get("before", ""))
    filters = ActionFilter(
        subscriber_id=person, campaign_id=campaign, staff_id=staff_id, actor=values["actor"]
    )
    page = await list_actions(filters, before=before) if not errors else None
    next_query = ""
    if page is not None and page.next_before is not None:
        kept = {key: value for key, value in values.items() if value}
        next_query = urlencode({**kept, "before": page.next_before})
    return render(
        request,
        "audit.html",
        {
            "values": values,
            "actions": page.actions if page else [],
            "next_query": next_query,
            "staff_pairs": [(str(m.id), m.email) for m in await list_staff(include_removed=True)],
            "first_page": before is None,
        },
        errors=errors,
        status=400 if errors else 200,
    )


def routes() -> list[BaseRoute]:
    return [staff_route("/staff/audit", audit_page, role=StaffRole.VIEWER)]
