"""All the pilot's figures for a period, in one object, and its JSON form (the CLI's contract).

Each section is its own module with its own `collect_*`; later sections (applications) are
registered by name in `Figures.sections` (an object with `as_json()`), which `figures_to_json`
prints under that name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from outreach.metrics.applications import Applications, collect_applications
from outreach.metrics.deliveries import Outreach, collect_outreach, sent_total
from outreach.metrics.interest import Interest, StatusTotals, collect_interest, status_totals
from outreach.metrics.period import Period
from outreach.metrics.pool import Pool, collect_pool
from outreach.metrics.profiles import screen_waiting_profiles
from outreach.metrics.tally import fold_changes
from outreach.metrics.working_group import WorkingGroup, members_by_type
from outreach.models import CampaignKind
from outreach.timeline import pilot_today


@dataclass(slots=True)
class Headline:
    """The few numbers the dashboard and the weekly email lead with, with the previous period's."""

    name: str
    label: str
    value: int
    previous: int | None  # None: a figure about today, with nothing to compare

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.value - self.previous


@dataclass(slots=True)
class Figures:
    period: Period
    made_at: dt.datetime
    interest: Interest
    pool: Pool
    outreach: Outreach
    working_group: WorkingGroup
    previous: StatusTotals
    previous_sent: int
    sections: dict[str, Any] = field(default_factory=dict)  # later sections: name -> object with as_json()

    @property
    def applications(self) -> Applications | None:
        section = self.sections.get("applications")
        return section if isinstance(section, Applications) else None

    @property
    def headlines(self) -> list[Headline]:
        t, p = self.interest.totals, self.previous
        found = [
            Headline("signups", "Sign-ups", t.signups, p.signups),
            Headline("confirmed", "Confirmed", t.confirmed, p.confirmed),
            Headline("unsubscribed", "Unsubscribed", t.unsubscribed, p.unsubscribed),
            Headline("sent", "Messages sent", self.outreach.total()["sent"], self.previous_sent),
        ]
        if (applications := self.applications) is not None:
            found += [
                Headline(
                    "applications_submitted",
                    "Applications submitted",
                    applications.figures.submitted,
                    applications.previous_submitted,
                ),
                Headline("in_pool", "In the pool today", applications.in_pool, None),
            ]
        return [*found, Headline("active", "Active today", self.interest.active, None)]


async def collect(period: Period | None = None, *, today: dt.date | None = None) -> Figures:
    """Every figure for `period` (default: since the motion), on the ORM's current connection."""
    today = today or pilot_today()
    period = period or Period.make(today=today)
    await bring_up_to_date(today)
    outreach = await collect_outreach(period)
    previous = period.previous()
    notices = outreach.total(CampaignKind.WORKING_GROUP_NOTICE)
    return Figures(
        period=period,
        made_at=dt.datetime.now(dt.UTC),
        interest=await collect_interest(period),
        pool=await collect_pool(today),
        outreach=outreach,
        working_group=WorkingGroup(
            await members_by_type(),
            notices["sent"],
            sum(c.kind == CampaignKind.WORKING_GROUP_NOTICE.value for c in outreach.campaigns),
        ),
        previous=await status_totals(previous.first, previous.last),
        previous_sent=await sent_total(previous),
        sections={"applications": await collect_applications(period)},
    )


SCREEN_BATCHES = 20  # 10,000 profiles per call: after new rules, the rest waits for the next sweep


async def bring_up_to_date(today: dt.date) -> None:
    """Screen the profiles changed since the last time and fold the counters' changes: work in
    proportion to what changed since (the campaign sweep does the same every 15 seconds)."""
    await screen_waiting_profiles(today, batches=SCREEN_BATCHES)
    await fold_changes()


def figures_to_json(figures: Figures) -> dict[str, Any]:
    return {
        "period": {
            **figures.period.as_json(),
            "previous": figures.period.previous().as_json(),
            "made_at": figures.made_at.isoformat(),
        },
        "headlines": {
            h.name: {"value": h.value, "previous": h.previous, "change": h.change} for h in figures.headlines
        },
        "interest": figures.interest.as_json(),
        "pool": figures.pool.as_json(),
        "outreach": figures.outreach.as_json(),
        "working_group": figures.working_group.as_json(),
        **{name: section.as_json() for name, section in figures.sections.items()},
    }
