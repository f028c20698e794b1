"""The pilot's calendar, worked out once for everything that speaks about it: emails, pages, Slack.

The Board motion of 2026-05-05 gave ISD and DEO 120 days to design the pilot; the pilot then runs
for 12 months from a start date the County has not fixed yet (PILOT_START_DATE). Anything that
says where the pilot stands takes it from here on the day it is read, so an email sent in December
never repeats September's "the design is due by September 2".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

MOTION_ADOPTED = dt.date(2026, 5, 5)
DESIGN_REPORT_DUE = MOTION_ADOPTED + dt.timedelta(days=120)  # 2026-09-02
PILOT_MONTHS = 12
PILOT_TIMEZONE = ZoneInfo("America/Los_Angeles")


class Phase(StrEnum):
    BEFORE_MOTION = "before_motion"  # the motion is not adopted yet
    DESIGN = "design"  # ISD and DEO are designing the pilot; the report is not due yet
    AWAITING_START = "awaiting_start"  # the report was due; no start date is set
    STARTING = "starting"  # the report was due; the pilot starts on a date set in the future
    RUNNING = "running"
    ENDED = "ended"


def pilot_today() -> dt.date:
    """Today in Los Angeles: the pilot's calendar follows the County's days."""
    return dt.datetime.now(PILOT_TIMEZONE).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def months_between(start: dt.date, today: dt.date) -> int:
    """Whole months from `start` to `today`."""
    months = (today.year - start.year) * 12 + today.month - start.month
    return months - 1 if add_months(start, months) > today else months


@dataclass(frozen=True, slots=True)
class Timeline:
    """Where the pilot stands on `today`, given its start date (None: not set yet)."""

    today: dt.date
    start: dt.date | None

    @property
    def phase(self) -> Phase:
        if self.start is not None and self.today >= self.start:
            return Phase.RUNNING if self.today < add_months(self.start, PILOT_MONTHS) else Phase.ENDED
        if self.today < MOTION_ADOPTED:
            return Phase.BEFORE_MOTION
        if self.today <= DESIGN_REPORT_DUE:
            return Phase.DESIGN
        return Phase.AWAITING_START if self.start is None else Phase.STARTING

    @property
    def end_exclusive(self) -> dt.date | None:
        """The first day after the pilot."""
        return add_months(self.start, PILOT_MONTHS) if self.start is not None else None

    @property
    def last_day(self) -> dt.date | None:
        end = self.end_exclusive
        return end - dt.timedelta(days=1) if end is not None else None

    @property
    def month(self) -> int | None:
        """Which month of the pilot `today` is in (1 to 12), while it runs."""
        if self.start is None or self.phase != Phase.RUNNING:
            return None
        return months_between(self.start, self.today) + 1


MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio",
        "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
    ),
}  # fmt: skip


def long_date(day: dt.date, language: str) -> str:
    """A date as people write it: "September 2, 2026", "2 de septiembre de 2026"."""
    if language == "es":
        return f"{day.day} de {MONTHS['es'][day.month - 1]} de {day.year}"
    return f"{MONTHS['en'][day.month - 1]} {day.day}, {day.year}"


def template_values(timeline: Timeline, language: str) -> dict[str, object]:
    """The `pilot` value every email template gets: the phase and its dates, written out."""

    def written(day: dt.date | None) -> str:
        return long_date(day, language) if day is not None else ""

    return {
        "phase": timeline.phase.value,
        "months": PILOT_MONTHS,
        "motion_adopted": written(MOTION_ADOPTED),
        "design_report_due": written(DESIGN_REPORT_DUE),
        "start": written(timeline.start),
        "last_day": written(timeline.last_day),
        "month": timeline.month or 0,
    }
