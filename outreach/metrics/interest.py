"""Interest: who signed up, confirmed and left in a period (from the audit trail), and who is on
the list today (from the registry).

Events come from `audit_event`, which outlives erasure (its link to the person is cleared), so
erased people are counted in every total; their role is no longer known, so they are counted
under "erased" wherever a figure is split by role.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tortoise.functions import Count

from outreach.metrics.naics import sector_of, sector_title
from outreach.metrics.period import Bucket, Period, start_of
from subscribers.eligibility.location import lookup_zip
from subscribers.models import AuditEvent, BusinessProfile, Language, Role, Status, Subscriber, Topic

ERASED = "erased"  # the role bucket for people erased since: counted, never named
ROLES = [role.value for role in Role]
TOP_ZIPS = 15
TOP_PRODUCTS = 15


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


async def status_totals(since: dt.datetime, until: dt.datetime) -> StatusTotals:
    """One grouped query over the status changes in [since, until), plus one for erasures."""
    rows = (
        await AuditEvent.filter(action="status", at__gte=since, at__lt=until)
        .annotate(n=Count("id"))
        .group_by("old_value", "new_value")
        .values_list("old_value", "new_value", "n")
    )
    totals = StatusTotals()
    for old, new, n in rows:
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
    totals.erased = await AuditEvent.filter(action=ERASED, at__gte=since, at__lt=until).count()
    return totals


async def signups_by_role(since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """New people in [since, until) by their role today; erased people under "erased"."""
    rows = (
        await AuditEvent.filter(action="status", old_value="", at__gte=since, at__lt=until)
        .annotate(n=Count("id"))
        .group_by("subscriber__role")
        .values_list("subscriber__role", "n")
    )
    found = dict.fromkeys([*ROLES, ERASED], 0)
    for role, n in rows:
        found[str(role) if role else ERASED] += n
    return found


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
    series = []
    for bucket in period.buckets():
        since, until = start_of(bucket.first), start_of(bucket.last + dt.timedelta(days=1))
        series.append(
            InterestPoint(bucket, await signups_by_role(since, until), await status_totals(since, until))
        )
    totals = StatusTotals()
    by_role = dict.fromkeys([*ROLES, ERASED], 0)
    for point in series:  # the period is the sum of its weeks: one definition, no drift
        for name in StatusTotals.__slots__:
            setattr(totals, name, getattr(totals, name) + getattr(point.totals, name))
        for role, n in point.signups_by_role.items():
            by_role[role] += n
    by_status = await _grouped(Subscriber.all(), "status")
    active = Subscriber.filter(status=Status.ACTIVE)
    return Interest(
        totals=totals,
        series=series,
        signups_by_role=by_role,
        active_by_role={**dict.fromkeys(ROLES, 0), **await _grouped(active, "role")},
        active_by_language={**{lang.value: 0 for lang in Language}, **await _grouped(active, "language")},
        active_by_topic={
            topic.value: await active.filter(**{f"topic_{topic.value}": True}).count() for topic in Topic
        },
        active_by_zip=await _top_zips(),
        manufacturers_by_sector=await _sectors(),
        manufacturers_by_product=await _products(),
        pending=by_status.get(Status.PENDING.value, 0),
        active=by_status.get(Status.ACTIVE.value, 0),
    )


async def _grouped(query: Any, column: str) -> dict[str, int]:
    rows = await query.annotate(n=Count("id")).group_by(column).values_list(column, "n")
    return {str(key): int(n) for key, n in rows}


async def _top_zips() -> list[tuple[str, str, int]]:
    rows = (
        await Subscriber.filter(status=Status.ACTIVE)
        .exclude(zip="")
        .annotate(n=Count("id"))
        .group_by("zip")
        .order_by("-n", "zip")
        .limit(TOP_ZIPS)
        .values_list("zip", "n")
    )
    return [(str(z), _city(str(z)), int(n)) for z, n in rows]


def _city(zip_code: str) -> str:
    five = zip_code[:5]
    if len(five) != 5 or not five.isdigit():
        return ""
    return lookup_zip(five).city or ""


def _active_manufacturers() -> Any:
    return BusinessProfile.filter(subscriber__status=Status.ACTIVE, subscriber__role=Role.MANUFACTURER)


async def _sectors() -> list[tuple[str, str, int]]:
    """Grouped by the stored code in the database (a few hundred codes at most), then by subsector."""
    rows = await _active_manufacturers().annotate(n=Count("id")).group_by("naics").values_list("naics", "n")
    sectors: Counter[str] = Counter()
    for naics, n in rows:
        sectors[sector_of(str(naics))] += int(n)
    return [
        (code, sector_title(code), n) for code, n in sorted(sectors.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


async def _products() -> list[tuple[str, int]]:
    """The products manufacturers list (comma- or semicolon-separated), case folded; each
    manufacturer counts once per product. Grouped by the whole text in the database first."""
    rows = (
        await _active_manufacturers()
        .exclude(products="")
        .annotate(n=Count("id"))
        .group_by("products")
        .values_list("products", "n")
    )
    products: Counter[str] = Counter()
    for text, n in rows:
        for product in {part.strip().lower() for part in str(text).replace(";", ",").split(",")}:
            if product:
                products[product] += int(n)
    return sorted(products.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_PRODUCTS]
