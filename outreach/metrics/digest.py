"""The weekly summary to staff: Mondays at 8:00 in Los Angeles, the week before's headline
numbers and a link to the dashboard, to the STAFF_DIGEST_EMAIL addresses.

The scheduler's sweep calls `send_weekly_digest(now, ...)` (and a timer fires it at 8:00 sharp).
Each Monday's digest is written once, as transactional Delivery rows through the usual sender,
and an audit event marks it sent, so a restart, a second process or a late sweep (within a day,
if the service was down at 8:00) never mails it twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlencode

from tortoise.transactions import in_transaction

from outreach.metrics.figures import collect
from outreach.metrics.period import Grain, Period, county_date
from outreach.queue import enqueue_transactional
from outreach.timeline import PILOT_TIMEZONE
from subscribers.models import AuditEvent
from subscribers.registry import record

TEMPLATE = "staff_digest"
ACTION = "staff_digest"  # audit event whose new_value is the Monday it was sent for
SEND_AT = dt.time(8, 0)
LATE_BY_AT_MOST = dt.timedelta(hours=24)
REASON = (
    "You get this email because DEO listed your address in STAFF_DIGEST_EMAIL for the Made in LA service."
)


def due_monday(now: dt.datetime) -> dt.date | None:
    """The Monday whose digest is due at `now` (8:00 Los Angeles time, up to a day late), or None."""
    local = now.astimezone(PILOT_TIMEZONE)
    monday = local.date() - dt.timedelta(days=local.weekday())
    due = dt.datetime.combine(monday, SEND_AT, PILOT_TIMEZONE)
    return monday if due <= local < due + LATE_BY_AT_MOST else None


def _change(value: int, previous: int | None) -> str:
    if previous is None:
        return ""
    if value == previous:
        return "no change"
    return f"up {value - previous:,}" if value > previous else f"down {previous - value:,}"


async def send_weekly_digest(now: dt.datetime, *, recipients: Iterable[str], base_url: str) -> bool:
    """Queue this Monday's digest if it is due and not sent yet. True if it was queued now."""
    addresses = sorted(set(recipients))
    monday = due_monday(now)
    if monday is None or not addresses:
        return False
    if await AuditEvent.filter(action=ACTION, new_value=monday.isoformat()).exists():
        return False
    week = Period(monday - dt.timedelta(days=7), monday - dt.timedelta(days=1), Grain.WEEK)
    figures = await collect(week, today=monday)
    query = urlencode({"from": week.first.isoformat(), "to": week.last.isoformat(), "by": "week"})
    context = {
        "week": week.describe(),
        "week_first": county_date(week.first),
        "headlines": [
            {"label": h.label, "value": f"{h.value:,}", "change": _change(h.value, h.previous)}
            for h in figures.headlines
        ],
        "dashboard_link": f"{base_url}/staff/?{query}",
        "reason": REASON,
    }
    async with in_transaction():
        # Checked again inside the transaction: of two processes, one writes the mark first.
        if await AuditEvent.filter(action=ACTION, new_value=monday.isoformat()).exists():
            return False
        await record(None, ACTION, "", monday.isoformat(), "scheduler")
        for address in addresses:
            await enqueue_transactional(address=address, template=TEMPLATE, language="en", context=context)
    return True
