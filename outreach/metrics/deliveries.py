"""Outreach: the campaigns started in a period and what became of their messages; the invitation
funnel; the working group's notices.

Every count is read from the counters the database keeps per campaign as messages change state
(`outreach.metrics.tally`): the work grows with the campaigns in the period, not their messages.
A message of someone since erased stays in its campaign's counts (the row stays, without address
or person) and under "erased" by role.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tortoise.functions import Count as Counted

from outreach.metrics.period import Period
from outreach.metrics.tally import Count
from outreach.metrics.tally import counts as tally_counts
from outreach.models import Campaign, CampaignKind, Delivery, DeliveryState
from subscribers.orm import column

STATES = [state.value for state in DeliveryState]
SENDING = DeliveryState.SENDING.value
BOUNCED = DeliveryState.BOUNCED.value  # the relay took it, then a bounce came back
# Handed to the mail server: delivered, or bounced afterwards.
HANDED_OVER = [DeliveryState.SENT, DeliveryState.BOUNCED]


async def delivery_counts(campaign_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """campaign id -> {state: messages, ..., "clicked", "complained", "total"}, from the counters
    the database keeps per campaign. `campaigns show` and the dashboard both count with this."""
    ids = list(campaign_ids)
    counts: dict[int, dict[str, int]] = {
        cid: {**dict.fromkeys(STATES, 0), "clicked": 0, "complained": 0} for cid in ids
    }
    for found in await _messages(ids):
        state, _language, _role, clicked, complained = found.parts
        row = counts[found.scope]
        row[state] = row.get(state, 0) + found.n
        row["clicked"] += found.n if clicked == "1" else 0
        row["complained"] += found.n if complained == "1" else 0
    for cid, n in await _being_sent(ids):
        counts[cid][SENDING] += n
        counts[cid][DeliveryState.QUEUED.value] -= n  # the counters count them as waiting
    for row in counts.values():
        row["total"] = sum(row[state] for state in STATES)
    return counts


async def _being_sent(campaign_ids: list[int]) -> list[tuple[int, int]]:
    """(campaign, messages claimed by a sender right now): a few batches at most, read from the
    (campaign_id, state, ...) index."""
    if not campaign_ids:
        return []
    rows = (
        await Delivery.filter(campaign_id__in=campaign_ids, state=DeliveryState.SENDING)
        .annotate(n=Counted("id"))
        .group_by("campaign_id")
        .values_list("campaign_id", "n")
    )
    return [(int(cid), int(n)) for cid, n in rows]


async def _messages(campaign_ids: Iterable[int]) -> list[Count]:
    """The campaigns' message counters: (campaign, [state, language, role, clicked, complained], n)."""
    return await tally_counts("delivery", scopes=campaign_ids)


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
    ids = [row["id"] for row in campaigns]
    counts = await delivery_counts(ids)
    unsubscribed = await unsubscribed_by_campaign(ids)
    figures = [
        CampaignFigures(
            row["id"],
            str(row["kind"]),
            row["subject"] or row["template"],
            row["started_at"],
            counts[row["id"]],
            unsubscribed.get(row["id"], 0),
        )
        for row in campaigns
    ]
    invitations = [c.id for c in figures if c.kind == CampaignKind.APPLICATION_INVITATION.value]
    by_language, by_role = invitation_funnel(await _messages(invitations))
    return Outreach(figures, by_language, by_role)


async def unsubscribed_by_campaign(campaign_ids: Iterable[int]) -> dict[int, int]:
    """Unsubscribes within 7 days of each campaign's start by people it wrote to, counted by the
    database as pairs (an unsubscribe, a message of the campaign). Erasure unlinks a person's
    messages, so an erased person's unsubscribe no longer counts, as before the counters."""
    return {found.scope: found.n for found in await tally_counts("unsubscribed_7d", scopes=campaign_ids)}


async def sent_total(period: Period) -> int:
    """Messages handed to the mail server by the campaigns that started in `period` (the
    previous period's figure for the headline)."""
    ids = await column(Campaign.filter(started_at__gte=period.since, started_at__lt=period.until), "id")
    handed_over = {state.value for state in HANDED_OVER}
    return sum(found.n for found in await _messages(ids) if found.parts[0] in handed_over)


def invitation_funnel(
    messages: Iterable[Count],
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Invited (handed to the mail server) and clicked, by language and by role, from the
    invitation campaigns' message counters."""
    by_language: dict[str, dict[str, int]] = {}
    by_role: dict[str, dict[str, int]] = {}
    handed_over = {state.value for state in HANDED_OVER}
    for found in messages:
        state, language, role, clicked, _complained = found.parts
        for stage, counted in (("invited", state in handed_over), ("clicked", clicked == "1")):
            if counted:
                for table, key in ((by_language, language), (by_role, role)):
                    table.setdefault(key, {"invited": 0, "clicked": 0})[stage] += found.n
    return by_language, by_role
