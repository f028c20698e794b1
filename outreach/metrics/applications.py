"""Applications and the pool (issue 14's figures): applications started in the period, how many
were submitted, qualified, asked for more information or declined, how long invited people took
from the invitation to submitting, and the qualified pool by product category today.

The counting is `subscribers.application_metrics.application_figures` (one definition, team
apply's); this module only scopes it to the period and gives it the section's shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from outreach.metrics.period import Period
from subscribers.application_metrics import ApplicationFigures, application_figures

# The rows of the section's table, in order: JSON key -> label (the report, the CSV, the dashboard).
LABELS = {
    "started": "Started",
    "submitted": "Submitted",
    "qualified": "Qualified (joined the pool)",
    "asked_for_information": "Asked for more information",
    "declined": "Declined",
    "invited_and_submitted": "Submitted after an invitation",
    "median_days_invitation_to_submission": "Median days from invitation to submission",
}


@dataclass(slots=True)
class Applications:
    figures: ApplicationFigures  # applications started in the period (the pool: today)
    previous_submitted: int  # the same count for the previous period (the dashboard's change)

    @property
    def in_pool(self) -> int:
        return sum(self.figures.pool_by_category.values())

    def rows(self) -> list[tuple[str, int | float | None]]:
        values = self.figures.as_dict()
        return [(label, values[key]) for key, label in LABELS.items()]

    def as_json(self) -> dict[str, Any]:
        return {**self.figures.as_dict(), "in_pool": self.in_pool}


async def collect_applications(period: Period) -> Applications:
    figures = await application_figures(since=period.since, until=period.until)
    previous = period.previous()
    before = await application_figures(since=previous.since, until=previous.until)
    return Applications(figures, before.submitted)
