"""Outreach: the campaigns started in a period and what became of their messages; the invitation
funnel; the working group's notices.

Every count is a GROUP BY over `delivery` using its (campaign_id, state, ...) index: the work grows
with the campaigns in the period, and no row is loaded. A message of someone since erased stays in
its campaign's counts (the row stays, without address or person) and under "erased" by role.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tortoise.functions import Count

from outreach.metrics.period import Period
from outreach.models import Campaign, CampaignKind, Delivery, DeliveryState
from subscribers.models import AuditEvent, Status
from subscribers.orm import column

ERASED = "erased"
STATES = [state.value for state in DeliveryState]
BOUNCED = DeliveryState.BOUNCED.value  # the relay took it, then a bounce came back
UNSUBSCRIBE_WINDOW = dt.timedelta(days=7)
LOOKUP_BATCH = 500
# Handed to the mail server: delivered, or bounced afterwards.
HANDED_OVER = [DeliveryState.SENT, DeliveryState.BOUNCED]


async def delivery_counts(campaign_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """campaign id -> {state: messages, ..., "clicked", "complained", "total"}: one grouped query
    per figure for all the campaigns. `campaigns show` and the dashboard both count with this."""
    ids = list(campaign_ids)
    counts: dict[int, dict[str, int]] = {
        cid: {**dict.fromkeys(STATES, 0), "clicked": 0, "complained": 0} for cid in ids
    }
    if not ids:
        return counts
    rows = (
        await Delivery.filter(campaign_id__in=ids)
        .annotate(n=Count("id"))
        .group_by("campaign_id", "state")
        .values_list("campaign_id", "state", "n")
    )
    for cid, state, n in rows:
        counts[int(cid)][str(state)] = int(n)
    for name, stamp in (("clicked", "clicked_at"), ("complained", "complained_at")):
        for cid, n in (
            await Delivery.filter(campaign_id__in=ids, **{f"{stamp}__isnull": False})
            .annotate(n=Count("id"))
            .group_by("campaign_id")
            .values_list("campaign_id", "n")
        ):
            counts[int(cid)][name] = int(n)
    for row in counts.values():
        row["total"] = sum(row[state] for state in STATES)
    return counts


@dataclass(slots=True)
class CampaignFigures:
    id: int
    kind: str
    name: str  # subject or template: staff's own words, never a person's
    started_at: dt.datetime
    counts: dict[str, int]
    unsubscribed_within_7_days: int

    @property
    def sent(self) -> int:
        """Handed to the mail server: delivered, or bounced later."""
        return self.counts["sent"] + self.counts[BOUNCED]

    def as_json(self) -> dict[str, Any]:
        c = self.counts
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "started_at": self.started_at.astimezone(dt.UTC).isoformat(),
            "messages": c["total"],
            "sent": self.sent,
            "delivered": c["sent"],
            "deferred": c[DeliveryState.DEFERRED.value],
            "failed": c[DeliveryState.FAILED.value],
            "bounced": c[BOUNCED],
            "complained": c["complained"],
            "suppressed": c[DeliveryState.SUPPRESSED.value],
            "waiting": c[DeliveryState.QUEUED.value] + c[DeliveryState.SENDING.value],
            "clicked": c["clicked"],
            "unsubscribed_within_7_days": self.unsubscribed_within_7_days,
        }


OUTCOMES = ["messages", "sent", "delivered", "deferred", "failed", "bounced", "complained", "suppressed",
            "waiting", "clicked", "unsubscribed_within_7_days"]  # fmt: skip


@dataclass(slots=True)
class Outreach:
    campaigns: list[CampaignFigures]
    invited_by_language: dict[str, dict[str, int]]  # language -> {"invited", "clicked"}
    invited_by_role: dict[str, dict[str, int]]
    totals: dict[str, int] = field(default_factory=dict)

    def total(self, kind: CampaignKind | None = None) -> dict[str, int]:
        chosen = [c.as_json() for c in self.campaigns if kind is None or c.kind == kind.value]
        return {name: sum(int(c[name]) for c in chosen) for name in OUTCOMES}

    def as_json(self) -> dict[str, Any]:
        invitations = self.total(CampaignKind.APPLICATION_INVITATION)
        return {
            "campaigns_sent": len(self.campaigns),
            **self.total(),
            "invitations": {
                "invited": invitations["sent"],
                "clicked": invitations["clicked"],
                "by_language": self.invited_by_language,
                "by_role": self.invited_by_role,
            },
            "campaigns": [c.as_json() for c in self.campaigns],
        }


async def collect_outreach(period: Period) -> Outreach:
    """Campaigns that started sending in the period (a recurring campaign: each occurrence)."""
    campaigns = (
        await Campaign.filter(started_at__gte=period.since, started_at__lt=period.until)
        .order_by("started_at", "id")
        .values("id", "kind", "subject", "template", "started_at")
    )
    counts = await delivery_counts(row["id"] for row in campaigns)
    figures = [
        CampaignFigures(
            row["id"],
            str(row["kind"]),
            row["subject"] or row["template"],
            row["started_at"],
            counts[row["id"]],
            await unsubscribed_after(row["id"], row["started_at"]),
        )
        for row in campaigns
    ]
    invitations = [c.id for c in figures if c.kind == CampaignKind.APPLICATION_INVITATION.value]
    by_language, by_role = await invitation_funnel(invitations)
    return Outreach(figures, by_language, by_role)


async def unsubscribed_after(campaign_id: int, started_at: dt.datetime) -> int:
    """People the campaign wrote to who unsubscribed within 7 days of its start. (Someone erased
    since can't be told apart from anyone else: their events no longer name them.)

    Driven from the week's unsubscribes (few, by the audit index on action and time), each looked
    up in the campaign's unique (campaign, subscriber) index: no pass over the campaign's messages."""
    leavers = await column(
        AuditEvent.filter(
            action="status",
            new_value=Status.UNSUBSCRIBED.value,
            at__gte=started_at,
            at__lt=started_at + UNSUBSCRIBE_WINDOW,
            subscriber_id__isnull=False,
        ),
        "subscriber_id",
    )
    people = sorted({int(person) for person in leavers})
    found = 0
    for start in range(0, len(people), LOOKUP_BATCH):  # within every database's parameter limit
        batch = people[start : start + LOOKUP_BATCH]
        found += await Delivery.filter(campaign_id=campaign_id, subscriber_id__in=batch).count()
    return found


async def sent_total(period: Period) -> int:
    """Messages handed to the mail server by the campaigns that started in `period` (the
    previous period's figure for the headline)."""
    ids = await Campaign.filter(started_at__gte=period.since, started_at__lt=period.until).values_list(
        "id", flat=True
    )
    if not ids:
        return 0
    return await Delivery.filter(campaign_id__in=list(ids), state__in=HANDED_OVER).count()


async def invitation_funnel(
    campaign_ids: list[int],
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Invited (handed to the mail server) and clicked, by language and by role."""
    by_language: dict[str, dict[str, int]] = {}
    by_role: dict[str, dict[str, int]] = {}
    if not campaign_ids:
        return by_language, by_role
    for stage, query in (
        ("invited", Delivery.filter(campaign_id__in=campaign_ids, state__in=HANDED_OVER)),
        ("clicked", Delivery.filter(campaign_id__in=campaign_ids, clicked_at__isnull=False)),
    ):
        rows = (
            await query.annotate(n=Count("id"))
            .group_by("language", "subscriber__role")
            .values_list("language", "subscriber__role", "n")
        )
        for language, role, n in rows:
            for table, key in ((by_language, str(language)), (by_role, str(role) if role else ERASED)):
                table.setdefault(key, {"invited": 0, "clicked": 0})[stage] += int(n)
    return by_language, by_role
