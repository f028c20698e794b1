"""The shipped ZIP tables: complete, reproducible from the pinned package, border ZIPs unknown."""

from __future__ import annotations

import csv
from importlib.metadata import version

import pytest

from subscribers.eligibility.location import (
    Placement,
    border_zips,
    county_check,
    la_county_zips,
    lookup_zip,
)
from subscribers.eligibility.verdict import Result
from subscribers.eligibility.zipdata import (
    LA_COUNTY_FILE,
    OTHER_CALIFORNIA_FILE,
    PINNED_VERSION,
    build_tables,
    main,
)

BORDER_FROM_THE_ISSUE = ["90631", "91361", "91362", "93243", "90085", "90140", "90205"]


def test_shipped_tables_match_the_pinned_package() -> None:
    """Regenerating from zipcodes==3.0.0 gives byte-identical files (so nobody hand-edited them)."""
    assert version("zipcodes") == PINNED_VERSION
    for path, text in build_tables().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run the generator"
    assert main(["--check"]) == 0


def test_tables_name_the_package_version() -> None:
    for path in (LA_COUNTY_FILE, OTHER_CALIFORNIA_FILE):
        assert f"zipcodes=={PINNED_VERSION}" in path.read_text(encoding="utf-8").splitlines()[0]


def test_every_los_angeles_county_zip_is_shipped_with_type_and_status() -> None:
    import zipcodes

    expected = {row["zip_code"]: row for row in zipcodes.list_all() if row["county"] == "Los Angeles County"}
    shipped = la_county_zips()
    assert set(shipped) == set(expected)
    assert {entry.zip_type for entry in shipped.values()} == {"STANDARD", "PO BOX", "UNIQUE"}
    assert any(not entry.active for entry in shipped.values())
    for code, entry in shipped.items():
        assert entry.active == expected[code]["active"]
        assert entry.zip_type == expected[code]["zip_code_type"]


def test_active_county_zips_are_in_the_county_unless_on_the_border_list() -> None:
    for code, entry in la_county_zips().items():
        placement = lookup_zip(code).placement
        if code in border_zips():
            assert placement is Placement.BORDER
        elif entry.active:
            assert placement is Placement.IN_COUNTY, code
        else:
            assert placement is Placement.RETIRED, code


def test_border_list_has_a_reason_for_every_zip() -> None:
    text = (LA_COUNTY_FILE.parent / "border_zips.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    assert rows
    for row in rows:
        assert len(row["zip"]) == 5 and row["zip"].isdigit()
        assert row["reason"].strip()
    assert set(BORDER_FROM_THE_ISSUE) <= {row["zip"] for row in rows}


@pytest.mark.parametrize("code", BORDER_FROM_THE_ISSUE)
def test_border_zips_give_unknown_with_a_next_step(code: str) -> None:
    check = county_check(code, check_id="x", citation="c", subject="principal place of business", key="zip")
    assert check.result is Result.UNKNOWN
    assert check.next_step and "street address" in check.next_step


def test_same_prefix_other_county_zips_fail() -> None:
    """Prefix rules don't work: a 935xx ZIP can be in Kern County."""
    import zipcodes

    la_prefixes = {code[:3] for code in la_county_zips()}
    neighbours = [
        row
        for row in zipcodes.list_all()
        if row["state"] == "CA"
        and row["zip_code"][:3] in la_prefixes
        and row["county"] not in ("Los Angeles County", "")
        and row["zip_code"] not in border_zips()
    ]
    assert neighbours
    for row in neighbours:
        where = lookup_zip(row["zip_code"])
        assert where.placement is Placement.OUTSIDE
        assert where.county == row["county"]


def test_lookups_are_cached() -> None:
    assert la_county_zips() is la_county_zips()
    assert border_zips() is border_zips()
