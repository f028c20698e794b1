"""Every number the screener uses, with where it comes from and when it was last checked.

Thresholds change (the State adjusts its revenue cap every two years), so each one that has
changed is a dated table: the value in force on a day is the last row that started on or
before that day. Edit here, nowhere else. Sources: /work/shared/reference/eligibility-rules.md
§0, §1.2, §2, §6.4 and the County Code chapter 2.204 text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class DatedValue:
    """One row of a dated parameter: the value that applies from `start` on."""

    start: date
    value: Decimal
    source: str
    last_verified: date
    start_confirmed: bool = True  # False when only the value, not its start date, was found


@dataclass(frozen=True, slots=True)
class DatedParameter:
    name: str
    description: str
    rows: tuple[DatedValue, ...]  # sorted by start

    def on(self, day: date) -> DatedValue | None:
        """The row in force on `day`, or None before the first row (we know no value then)."""
        for row in reversed(self.rows):  # newest first: screenings are mostly about today
            if row.start <= day:
                return row
        return None

    @property
    def last_verified(self) -> date:
        """When the table was last checked: the most recent check of any row."""
        return max(row.last_verified for row in self.rows)

    def before(self, row: DatedValue) -> DatedValue | None:
        """The row `row` replaced (used when `row`'s start date is unconfirmed)."""
        index = self.rows.index(row)
        return self.rows[index - 1] if index else None

    def after(self, day: date) -> DatedValue | None:
        """The first row that starts after `day` (used when a start date is unconfirmed)."""
        for row in self.rows:
            if row.start > day:
                return row
        return None


# State (DGS) small business: 3-year average gross receipts including affiliates.
# 2 CCR §1896.12(a)(5)(A): $15M "as biennially adjusted" under Gov. Code §14837(d)(3).
# The $18M and $19M values were seen in secondary sources; their start dates are placeholders
# (eligibility-rules.md §6.4 marks them PLACEHOLDER) until checked on Cal eProcure.
REVENUE_CAP = DatedParameter(
    name="dgs_small_business_revenue_cap",
    description="State small business cap on average annual gross receipts (3 years, with affiliates)",
    rows=(
        DatedValue(
            start=date(2019, 1, 1),
            value=Decimal(15_000_000),
            source=(
                "Gov. Code §14837(d)(3) as amended by SB 605 (Stats. 2017 ch. 673); 2 CCR §1896.12(a)(5)(A)"
            ),
            last_verified=date(2026, 6, 30),
        ),
        DatedValue(
            start=date(2023, 7, 1),
            value=Decimal(18_000_000),
            source="Caltrans District 3 small business page (biennial DGS adjustment)",
            last_verified=date(2026, 6, 30),
            start_confirmed=False,
        ),
        DatedValue(
            start=date(2025, 7, 1),
            value=Decimal(19_000_000),
            source="californiaucp.org microbusiness guide, reviewed June 2026 (biennial DGS adjustment)",
            last_verified=date(2026, 6, 30),
            start_confirmed=False,
        ),
    ),
)

# A parameter not re-checked for this long gets a note in the reply (never a failed check).
STALE_AFTER_DAYS = 180

# State size standard: employees including affiliates, "100 or fewer" (2 CCR §1896.12(a)(5)).
EMPLOYEE_LIMIT = 100

# LACC 2.204.030 D.1: principal place of business in the County "for at least one (1) year".
TENURE_YEARS = 1

# SB 62 (Stats. 2021 ch. 329), Lab. Code §2673: piece-rate pay banned for garment work from this day.
PIECE_RATE_BANNED_FROM = date(2022, 1, 1)

# LSBE preference, LACC 2.204.060 (Ord. 2016-0037, effective 2016-10-25).
PREFERENCE_RATE = Decimal("0.15")  # B, C, D
PREFERENCE_CAP_PRICE = Decimal(150_000)  # E: price solicitations (B, C)
PREFERENCE_CAP_REVENUE = Decimal(750_000)  # F: revenue solicitations (D)
COMBINED_RATE_CAP = Decimal("0.15")  # I: all County preferences together

# LACC 2.204.070 D: non-agreement purchases "with a value of less than five thousand dollars".
NON_AGREEMENT_THRESHOLD = Decimal(5_000)
