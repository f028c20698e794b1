"""ZIP -> Los Angeles County, from the CSVs shipped in data/ (see zipdata.py for how they are made).

A ZIP is a mail route, not an area, so it is evidence rather than proof: ZIPs that cross the
County line (border_zips.csv) answer BORDER, which the checks turn into "unknown".
The tables load once, on first use.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from importlib.resources import files

from subscribers.eligibility.verdict import FAIL, PASS, UNKNOWN, CheckResult, Result

CALIFORNIA_PREFIXES = range(900, 962)  # 900xx-961xx are California; anything else is another state


class Placement(StrEnum):
    IN_COUNTY = "in_county"
    BORDER = "border"  # crosses the County line or has no county on record
    RETIRED = "retired"  # a Los Angeles County ZIP that USPS no longer uses
    OUTSIDE = "outside"
    NOT_FOUND = "not_found"  # looks Californian but is in no table: probably a typo


@dataclass(frozen=True, slots=True)
class ZipLocation:
    zip: str
    placement: Placement
    county: str | None = None
    city: str | None = None
    zip_type: str | None = None  # STANDARD, PO BOX or UNIQUE (Los Angeles County ZIPs only)
    note: str = ""

    @property
    def place(self) -> str:
        """`ZIP 90021 (Los Angeles)` for messages."""
        return f"ZIP {self.zip} ({self.city})" if self.city else f"ZIP {self.zip}"


@dataclass(frozen=True, slots=True)
class _LaZip:
    zip_type: str
    active: bool
    city: str


def _rows(name: str) -> list[dict[str, str]]:
    text = files("subscribers.eligibility").joinpath("data", name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines))


@cache
def la_county_zips() -> dict[str, _LaZip]:
    return {
        row["zip"]: _LaZip(row["type"], row["active"] == "yes", row["city"])
        for row in _rows("la_county_zips.csv")
    }


@cache
def border_zips() -> dict[str, str]:
    """ZIP -> why it can't be placed by ZIP alone."""
    return {row["zip"]: row["reason"] for row in _rows("border_zips.csv")}


@cache
def _other_california() -> dict[str, tuple[str, str]]:
    return {row["zip"]: (row["county"], row["city"]) for row in _rows("other_california_zips.csv")}


def lookup_zip(zip5: str) -> ZipLocation:
    """Where a 5-digit ZIP is, as far as the shipped data can tell."""
    la = la_county_zips().get(zip5)
    city = la.city if la else None
    border_reason = border_zips().get(zip5)
    if border_reason is not None:
        other = _other_california().get(zip5)
        return ZipLocation(
            zip5, Placement.BORDER, city=city or (other[1] if other else None), note=border_reason
        )
    if la is not None:
        if not la.active:
            return ZipLocation(zip5, Placement.RETIRED, "Los Angeles County", la.city, la.zip_type)
        return ZipLocation(zip5, Placement.IN_COUNTY, "Los Angeles County", la.city, la.zip_type)
    other = _other_california().get(zip5)
    if other is not None:
        county, other_city = other
        if not county:
            return ZipLocation(zip5, Placement.BORDER, city=other_city, note="No county on record")
        return ZipLocation(zip5, Placement.OUTSIDE, county, other_city)
    if int(zip5[:3]) in CALIFORNIA_PREFIXES:
        return ZipLocation(zip5, Placement.NOT_FOUND)
    return ZipLocation(zip5, Placement.OUTSIDE, note="outside California")


def county_check(zip5: str | None, *, check_id: str, citation: str, subject: str, key: str) -> CheckResult:
    """The "is it in Los Angeles County?" check, shared by the LSBE and pilot rules.

    `subject` names the place in the reason ("principal place of business"); `key` is the input
    to ask for when the ZIP is missing.
    """
    result, reason, step = county_outcome(zip5, subject=subject, key=key)
    return CheckResult(check_id, result, reason, citation, step)


def county_outcome(zip5: str | None, *, subject: str, key: str) -> tuple[Result, str, str | None]:
    """`county_check` as (result, reason, next step), for the pilot table, whose rows add the rest."""
    return _county_outcome(zip5, subject, key)


# The answer for a ZIP is as fixed as the shipped tables, so each (ZIP, wording) is worked out once
# (a screening looks up two ZIPs; each is a lookup, a match over the placement and an f-string).
# The wrapper above keeps keyword arguments for callers and a positional key for the cache;
# `subject` and `key` come from our own code and ZIPs are checked 5-digit strings, so the cache
# stays small and bounded.
@lru_cache(maxsize=4096)
def _county_outcome(zip5: str | None, subject: str, key: str) -> tuple[Result, str, str | None]:
    if zip5 is None:
        return (
            UNKNOWN,
            f"No ZIP given for the {subject}.",
            f"Add the ZIP of the {subject}: {key}=90021.",
        )
    where = lookup_zip(zip5)
    match where.placement:
        case Placement.IN_COUNTY:
            po_box = (
                " It is a PO Box ZIP, so also check the street address." if where.zip_type == "PO BOX" else ""
            )
            return PASS, f"{where.place} is in Los Angeles County.{po_box}", None
        case Placement.BORDER:
            return (
                UNKNOWN,
                f"{where.place} can't be placed by ZIP alone. {where.note}.",
                f"Confirm that the street address of the {subject} is inside Los Angeles County.",
            )
        case Placement.RETIRED:
            return (
                UNKNOWN,
                f"{where.place} is a Los Angeles County ZIP that USPS no longer uses.",
                f"Check the ZIP of the {subject}.",
            )
        case Placement.OUTSIDE:
            if where.county is None:
                return (
                    FAIL,
                    f"{where.place} is outside California, so not in Los Angeles County.",
                    None,
                )
            return FAIL, f"{where.place} is in {where.county}, not Los Angeles County.", None
        case _:
            return (
                UNKNOWN,
                f"ZIP {where.zip} is not in the USPS list we have.",
                f"Check the ZIP of the {subject}.",
            )
