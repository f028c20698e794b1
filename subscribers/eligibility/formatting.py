"""Numbers and dates written the way the replies show them ($4,100,000; 15%; 2.5 years)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

CENT = Decimal("0.01")


@lru_cache(maxsize=256)
def day(value: date) -> str:
    """2026-05-20. Kept per day: `f"{value}"` costs more than a microsecond, and a reply names
    its rules date several times."""
    return value.isoformat()


def money(amount: Decimal) -> str:
    """$4,100,000 for whole dollars, $4,100,000.50 otherwise; -$5 below zero."""
    if amount < 0:  # not "$-5"
        return f"-{money(-amount)}"
    if amount == amount.to_integral_value():  # most amounts: no need to round to cents first
        return f"${amount:,.0f}"
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if not cents:  # not "$0" for something that isn't nothing
        return "less than $0.01"
    if cents == cents.to_integral_value():
        return f"${cents:,.0f}"
    return f"${cents:,.2f}"


def number(value: Decimal) -> str:
    """42 or 100.5 (no trailing zeros, thousands separated)."""
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    return f"{value.normalize():,f}"


def percent(rate: Decimal) -> str:
    """0.15 -> 15%, 0.075 -> 7.5%."""
    return f"{number(rate * 100)}%"


def years(value: Decimal) -> str:
    return "1 year" if value == 1 else f"{number(value)} years"


def to_json_number(value: Decimal) -> int | float:
    """Whole amounts as ints, the rest as floats rounded to cents (rates keep their digits)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
