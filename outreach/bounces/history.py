"""What came back, for staff: recent bounces, complaints and the rest, with what each did."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from outreach.bounces.models import BounceEvent
from outreach.models import Delivery


@dataclasses.dataclass(frozen=True, slots=True)
class BounceRow:
    at: dt.datetime
    kind: str  # bounce, delayed, complaint, opt_out, auto_reply, delivered, other_report, unrecognised
    bounce_type: str  # hard, soft, refused ("" for the rest)
    status: str
    diagnostic: str
    effect: str
    matched_by: str
    delivery_id: int | None
    campaign_id: int | None
    address: str  # the delivery's address; "" when none matched or the person was erased
    source: str

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["at"] = self.at.astimezone(dt.UTC).isoformat()
        return data


async def recent_bounces(
    *, since: dt.datetime | None = None, kinds: list[str] | None = None, limit: int = 500
) -> list[BounceRow]:
    """Newest first."""
    query = BounceEvent.all().order_by("-at", "-id")
    if since is not None:
        query = query.filter(at__gte=since)
    if kinds:
        query = query.filter(kind__in=kinds)
    events = await query.limit(limit)
    ids = {e.delivery_id for e in events if e.delivery_id is not None}  # type: ignore[attr-defined]
    deliveries = (
        {
            row["id"]: row
            for row in await Delivery.filter(id__in=list(ids)).values("id", "campaign_id", "address")
        }
        if ids
        else {}
    )
    rows = []
    for event in events:
        delivery = deliveries.get(event.delivery_id)  # type: ignore[attr-defined]
        rows.append(
            BounceRow(
                at=event.at,
                kind=event.kind,
                bounce_type=event.bounce_type,
                status=event.status,
                diagnostic=event.diagnostic,
                effect=event.effect,
                matched_by=event.matched_by,
                delivery_id=delivery["id"] if delivery else None,
                campaign_id=delivery["campaign_id"] if delivery else None,
                address=delivery["address"] if delivery else "",
                source=event.source,
            )
        )
    return rows
