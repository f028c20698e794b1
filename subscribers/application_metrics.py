"""The application figures for the metrics report (team `metrics` wires them into
outreach/metrics.py): how many applications were started, submitted, qualified, asked for more
information and declined; how long invited people took from invitation to submission; and the
pool by category.

Counts come from the database in a few aggregate queries; times are computed over submitted
applications that came from an invitation (a handful of rows per invitation campaign).
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any

from tortoise.functions import Count

from subscribers.application_models import Application, ApplicationNote, ApplicationStatus, PoolEntry
from subscribers.product_categories import BY_CODE


@dataclass(frozen=True, slots=True)
class ApplicationFigures:
    started: int  # applications whose applicant opened their link (or came from an invitation)
    submitted: int  # submitted at least once (whatever happened next)
    qualified: int
    asked_for_information: int  # applications staff asked for more at least once
    declined: int
    invited_and_submitted: int
    median_days_invitation_to_submission: float | None
    pool_by_category: dict[str, int] = field(default_factory=dict)  # "315 Clothing and apparel" -> n

    def as_dict(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "submitted": self.submitted,
            "qualified": self.qualified,
            "asked_for_information": self.asked_for_information,
            "declined": self.declined,
            "invited_and_submitted": self.invited_and_submitted,
            "median_days_invitation_to_submission": self.median_days_invitation_to_submission,
            "pool_by_category": dict(self.pool_by_category),
        }


async def application_figures(
    *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> ApplicationFigures:
    """The figures for applications started in [since, until) (all of them by default)."""
    scope = Application.all()
    if since is not None:
        scope = scope.filter(created_at__gte=since)
    if until is not None:
        scope = scope.filter(created_at__lt=until)
    started = await scope.filter(confirmed_at__isnull=False).count()
    submitted = await scope.filter(submitted_at__isnull=False).count()
    qualified = await scope.filter(status=ApplicationStatus.QUALIFIED).count()
    declined = await scope.filter(status=ApplicationStatus.DECLINED).count()
    ids = scope.values_list("id", flat=True)
    asked = len(
        set(
            await ApplicationNote.filter(kind="info_requested", application_id__in=await ids).values_list(
                "application_id", flat=True
            )
        )
    )
    times = await scope.filter(invited_at__isnull=False, submitted_at__isnull=False).values_list(
        "invited_at", "submitted_at"
    )
    days = [(_aware(end) - _aware(start)).total_seconds() / 86400 for start, end in times]
    rows = await PoolEntry.all().group_by("category").annotate(n=Count("id")).values("category", "n")
    by_category = {
        f"{row['category']} {BY_CODE[row['category']].en}"
        if row["category"] in BY_CODE
        else row["category"]: row["n"]
        for row in sorted(rows, key=lambda row: row["category"])
    }
    return ApplicationFigures(
        started=started,
        submitted=submitted,
        qualified=qualified,
        asked_for_information=asked,
        declined=declined,
        invited_and_submitted=len(days),
        median_days_invitation_to_submission=round(statistics.median(days), 1) if days else None,
        pool_by_category=by_category,
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
