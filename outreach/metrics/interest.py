"""Interest: who signed up, confirmed and left in a period (from the audit trail), and who is on
the list today (from the registry), read from the counters the database keeps as both change
(`outreach.metrics.tally`): the cost doesn't grow with the registry.

Events come from `audit_event`, which outlives erasure (its link to the person is cleared), so
erased people are counted in every total; their role is no longer known, so they are counted
under "erased" wherever a figure is split by role.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from outreach.metrics.naics import sector_title
from outreach.metrics.period import Bucket, Period
from outreach.metrics.profiles import profile_facts
from outreach.metrics.tally import Count, counts
from outreach.metrics.triggers import TOPIC_PART
from subscribers.eligibility.location import lookup_zip
from subscribers.models import Language, Role, Status, Topic

ERASED = "erased"  # the role bucket for people erased since: counted, never named
ROLES = [role.value for role in Role]
TOP_ZIPS = 15
TOP_PRODUCTS = 15
EPOCH = dt.date(1970, 1, 1)


@dataclass(slots=True)
class StatusTotals:
    """What the audit trail says happened to people between two moments."""

    signups: int = 0  # new people: first recorded status (form, Slack or import)
    awaiting_confirmation: int = 0  # of those, how many started as pending (the form's double opt-in)
    confirmed: int = 0  # pending -> active: the person followed the confirmation link
    unsubscribed: int = 0
    bounced: int = 0
    complained: int = 0
    erased: int = 0

    @property
    def confirmation_rate(self) -> float | None:
        """Confirmations in the period per sign-up awaiting confirmation in it (None: no sign-ups)."""
        if not self.awaiting_confirmation:
            return None
        return round(self.confirmed / self.awaiting_confirmation, 4)


def _days(first: dt.date, last: dt.date) -> tuple[int, int]:
    """County days [first, last] as the "event" counters' scopes (days since 1970, half-open)."""
    return (first - EPOCH).days, (last - EPOCH).days + 1


async def _events(first: dt.date, last: dt.date) -> list[Count]:
    """The audit trail's status changes and erasures of these County days, counted by the
    database as they were recorded: (day, [action, role, old value, new value], n)."""
    return await counts("event", days=_days(first, last))


def _totals(events: Iterable[Count]) -> StatusTotals:
    totals = StatusTotals()
    for event in events:
        action, _role, old, new = event.parts
        n = event.n
        if action == ERASED:
            totals.erased += n
            continue
        if old == "":
            totals.signups += n
            if new == Status.PENDING.value:
                totals.awaiting_confirmation += n
        elif old == Status.PENDING.value and new == Status.ACTIVE.value:
            totals.confirmed += n
        if old != "" and new == Status.UNSUBSCRIBED.value:
            totals.unsubscribed += n
        elif old != "" and new == Status.BOUNCED.value:
            totals.bounced += n
        elif old != "" and new == Status.COMPLAINED.value:
            totals.complained += n
    return totals


def _signups_by_role(events: Iterable[Count]) -> dict[str, int]:
    """New people by their role today; erased people under "erased"."""
    found = dict.fromkeys([*ROLES, ERASED], 0)
    for event in events:
        action, role, old, _new = event.parts
        if action == "status" and old == "":
            found[role if role in found else ERASED] += event.n
    return found


async def status_totals(first: dt.date, last: dt.date) -> StatusTotals:
    """What happened to people from County day `first` to `last`, both included."""
    return _totals(await _events(first, last))


@dataclass(slots=True)
class InterestPoint:
    """One week or month of the sign-ups chart."""

    bucket: Bucket
    signups_by_role: dict[str, int]
    totals: StatusTotals

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.bucket.first.isoformat(),
            "to": self.bucket.last.isoformat(),
            "signups": self.totals.signups,
            "signups_by_role": self.signups_by_role,
            "confirmed": self.totals.confirmed,
            "unsubscribed": self.totals.unsubscribed,
        }


@dataclass(slots=True)
class Interest:
    totals: StatusTotals
    series: list[InterestPoint]
    signups_by_role: dict[str, int]
    active_by_role: dict[str, int]
    active_by_language: dict[str, int]
    active_by_topic: dict[str, int]
    active_by_zip: list[tuple[str, str, int]]  # zip, city ("" unknown), people; the most common
    manufacturers_by_sector: list[tuple[str, str, int]]  # 3-digit code, 2022 title, manufacturers
    manufacturers_by_product: list[tuple[str, int]]
    pending: int = 0
    active: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def spanish_share(self) -> float | None:
        return round(self.active_by_language.get("es", 0) / self.active, 4) if self.active else None

    def as_json(self) -> dict[str, Any]:
        t = self.totals
        return {
            "signups": t.signups,
            "signups_by_role": self.signups_by_role,
            "awaiting_confirmation": t.awaiting_confirmation,
            "confirmed": t.confirmed,
            "confirmation_rate": t.confirmation_rate,
            "unsubscribed": t.unsubscribed,
            "bounced": t.bounced,
            "complained": t.complained,
            "erased": t.erased,
            "active": self.active,
            "pending": self.pending,
            "active_by_role": self.active_by_role,
            "active_by_language": self.active_by_language,
            "spanish_share": self.spanish_share,
            "active_by_topic": self.active_by_topic,
            "active_by_zip": [{"zip": z, "city": c, "people": n} for z, c, n in self.active_by_zip],
            "manufacturers_by_sector": [
                {"naics": code, "title": title, "manufacturers": n}
                for code, title, n in self.manufacturers_by_sector
            ],
            "manufacturers_by_product": [
                {"product": product, "manufacturers": n} for product, n in self.manufacturers_by_product
            ],
            "series": [point.as_json() for point in self.series],
            **self.extra,
        }


async def collect_interest(period: Period) -> Interest:
    events = await _events(period.first, period.last)
    series = []
    for bucket in period.buckets():
        first, last = _days(bucket.first, bucket.last)
        inside = [event for event in events if first <= event.scope < last]
        series.append(InterestPoint(bucket, _signups_by_role(inside), _totals(inside)))
    people = await counts("person")
    active = [person for person in people if person.parts[0] == Status.ACTIVE.value]
    return Interest(
        totals=_totals(events),
        series=series,
        signups_by_role=_signups_by_role(events),
        active_by_role={**dict.fromkeys(ROLES, 0), **_sum_by(active, 1)},
        active_by_language={**{lang.value: 0 for lang in Language}, **_sum_by(active, 2)},
        active_by_topic={
            topic.value: sum(p.n for p in active if p.parts[TOPIC_PART[topic]] == "1") for topic in Topic
        },
        active_by_zip=await _top_zips(),
        manufacturers_by_sector=await _sectors(),
        manufacturers_by_product=await _products(),
        pending=sum(p.n for p in people if p.parts[0] == Status.PENDING.value),
        active=sum(p.n for p in active),
    )


def _sum_by(found: Iterable[Count], part: int) -> dict[str, int]:
    sums: Counter[str] = Counter()
    for count in found:
        sums[count.parts[part]] += count.n
    return dict(sums)


async def _top_zips() -> list[tuple[str, str, int]]:
    active = [z for z in await counts("zip") if z.parts[0] == Status.ACTIVE.value and z.parts[1]]
    top = sorted(active, key=lambda z: (-z.n, z.parts[1]))[:TOP_ZIPS]
    return [(z.parts[1], _city(z.parts[1]), z.n) for z in top]


def _city(zip_code: str) -> str:
    five = zip_code[:5]
    if len(five) != 5 or not five.isdigit():
        return ""
    return lookup_zip(five).city or ""


async def _sectors() -> list[tuple[str, str, int]]:
    """Active manufacturers by the 3-digit subsector of their profile's NAICS code."""
    sectors = {fact.parts[1]: fact.n for fact in await profile_facts() if fact.parts[0] == "sector"}
    return [
        (code, sector_title(code), n) for code, n in sorted(sectors.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


async def _products() -> list[tuple[str, int]]:
    """The products active manufacturers list; each manufacturer counts once per product."""
    products = {fact.parts[1]: fact.n for fact in await profile_facts() if fact.parts[0] == "product"}
    return sorted(products.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_PRODUCTS]
