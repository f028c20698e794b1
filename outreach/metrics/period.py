"""The stretch of time a set of figures covers, and the weeks or months it is split into.

Days are the County's days (America/Los_Angeles): a sign-up at 11 pm on January 5 in Los Angeles
counts on January 5, whatever the UTC clock says. A period is inclusive of both its dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from outreach.timeline import MOTION_ADOPTED, PILOT_TIMEZONE, add_months, pilot_today

MAX_DAYS = 3 * 366  # three years of weeks is already 157 points on a chart


class Grain(StrEnum):
    WEEK = "week"
    MONTH = "month"


class PeriodError(ValueError):
    """A period that can't be counted; the message says why, in words for staff."""


def county_date(day: dt.date) -> str:
    """The County's style: "January 5, 2027"."""
    return f"{day:%B} {day.day}, {day.year}"


def parse_date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(
            f"{what} must be a date written YYYY-MM-DD, for example 2027-01-05; got {text!r}."
        ) from None


@dataclass(frozen=True, slots=True)
class Bucket:
    """One week or month of a period (cut to the period at both ends)."""

    first: dt.date
    last: dt.date

    @property
    def label(self) -> str:
        return self.first.isoformat()


@dataclass(frozen=True, slots=True)
class Period:
    first: dt.date  # inclusive
    last: dt.date  # inclusive
    grain: Grain = Grain.WEEK

    @classmethod
    def make(
        cls,
        first: dt.date | str | None = None,
        last: dt.date | str | None = None,
        grain: Grain | str | None = None,
        *,
        today: dt.date | None = None,
    ) -> Period:
        """A checked period: by default from the motion (2026-05-05) to today; weeks for up to
        six months, months beyond. Raises PeriodError with a message for staff."""
        today = today or pilot_today()
        start = parse_date(first, "The start date") if isinstance(first, str) else first or MOTION_ADOPTED
        end = parse_date(last, "The end date") if isinstance(last, str) else last or today
        if end < start:
            raise PeriodError(
                f"The period ends ({county_date(end)}) before it starts ({county_date(start)})."
            )
        if (end - start).days > MAX_DAYS:
            raise PeriodError("A period can be at most three years long.")
        if grain is None or grain == "":
            chosen = Grain.WEEK if (end - start).days <= 183 else Grain.MONTH
        else:
            try:
                chosen = Grain(grain)
            except ValueError:
                raise PeriodError(f"Group by week or month, not {grain!r}.") from None
        return cls(start, end, chosen)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one (for "change since")."""
        last = self.first - dt.timedelta(days=1)
        return Period(last - dt.timedelta(days=self.days - 1), last, self.grain)

    @property
    def since(self) -> dt.datetime:
        return start_of(self.first)

    @property
    def until(self) -> dt.datetime:
        """Exclusive: the first moment after the period."""
        return start_of(self.last + dt.timedelta(days=1))

    def buckets(self) -> list[Bucket]:
        """Weeks (Monday to Sunday) or calendar months, the first and last cut to the period."""
        found: list[Bucket] = []
        day = self.first
        while day <= self.last:
            if self.grain == Grain.WEEK:
                next_start = day + dt.timedelta(days=7 - day.weekday())
            else:
                next_start = add_months(day.replace(day=1), 1)
            found.append(Bucket(day, min(self.last, next_start - dt.timedelta(days=1))))
            day = next_start
        return found

    def describe(self) -> str:
        return f"{county_date(self.first)} to {county_date(self.last)}"

    def as_json(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "grain": self.grain.value}


def start_of(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in Los Angeles, in UTC."""
    return dt.datetime.combine(day, dt.time(0), PILOT_TIMEZONE).astimezone(dt.UTC)
