"""The pilot's figures (issue 13): pure queries, one definition each, for any period.

    figures = await collect(Period.make("2026-05-05", "2026-12-31"))
    figures_to_json(figures)  # the shape `madeinla report --json` prints

Faces (console dashboard, the report document, Slack, the weekly email) render `Figures`; none
counts anything itself.
"""

from outreach.metrics.figures import Figures, Headline, collect, figures_to_json
from outreach.metrics.period import Grain, Period, PeriodError, county_date

__all__ = [
    "Figures",
    "Grain",
    "Headline",
    "Period",
    "PeriodError",
    "collect",
    "county_date",
    "figures_to_json",
]
