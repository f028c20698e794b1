"""Every figure against the hand-counted data set (tests/metrics/dataset.py), on SQLite and
PostgreSQL alike (the suite runs once per database)."""

from __future__ import annotations

import json

import pytest

from outreach.metrics import Period, PeriodError, collect, figures_to_json
from tests.metrics.dataset import PERIOD, TODAY, make_dataset


@pytest.fixture
async def figures(db: str) -> dict:
    await make_dataset()
    return figures_to_json(await collect(PERIOD, today=TODAY))


async def test_interest(figures: dict) -> None:
    interest = figures["interest"]
    assert interest["signups"] == 8
    assert interest["signups_by_role"] == {
        "manufacturer": 3, "working_group": 1, "county_staff": 1, "other": 2, "erased": 1,
    }  # fmt: skip
    assert interest["awaiting_confirmation"] == 7
    assert interest["confirmed"] == 6
    assert interest["confirmation_rate"] == round(6 / 7, 4)
    assert (interest["unsubscribed"], interest["bounced"], interest["complained"], interest["erased"]) == (
        1,
        1,
        0,
        1,
    )
    assert [(p["from"], p["signups"], p["confirmed"]) for p in interest["series"]] == [
        ("2026-11-02", 4, 3),
        ("2026-11-09", 4, 3),
    ]
    assert interest["series"][1]["signups_by_role"]["erased"] == 1
    assert (interest["active"], interest["pending"]) == (5, 1)
    assert interest["active_by_role"] == {
        "manufacturer": 3,
        "working_group": 1,
        "county_staff": 1,
        "other": 0,
    }
    assert interest["active_by_language"] == {"en": 4, "es": 1}
    assert interest["spanish_share"] == 0.2
    assert interest["active_by_topic"] == {
        "pilot_updates": 2,
        "application_invitations": 2,
        "working_group": 2,
    }
    assert interest["active_by_zip"] == [
        {"zip": "90021", "city": "Los Angeles", "people": 2},
        {"zip": "90012", "city": "Los Angeles", "people": 1},
        {"zip": "91101", "city": "Pasadena", "people": 1},
    ]
    assert interest["manufacturers_by_sector"] == [
        {"naics": "311", "title": "Food Manufacturing", "manufacturers": 1},
        {"naics": "315", "title": "Apparel Manufacturing", "manufacturers": 1},
        {"naics": "none", "title": "No NAICS code given", "manufacturers": 1},
    ]
    assert interest["manufacturers_by_product"] == [
        {"product": "uniforms", "manufacturers": 2},
        {"product": "bread", "manufacturers": 1},
        {"product": "t-shirts", "manufacturers": 1},
    ]


async def test_pool(figures: dict) -> None:
    pool = figures["pool"]
    assert (pool["manufacturers"], pool["with_profile"]) == (3, 3)
    for program in ("made_in_la", "lsbe"):
        assert sum(pool["verdicts"][program].values()) == 3
    # Profiles hold no labor answers: the pilot's verdict is at best "needs review".
    assert pool["verdicts"]["made_in_la"]["looks_eligible"] == 0
    assert pool["needs_review_reasons"]
    assert all(r["manufacturers"] <= 3 for r in pool["needs_review_reasons"])


async def test_outreach(figures: dict) -> None:
    outreach = figures["outreach"]
    assert outreach["campaigns_sent"] == 2
    assert (outreach["messages"], outreach["sent"], outreach["delivered"]) == (8, 6, 6)
    assert (outreach["deferred"], outreach["failed"], outreach["bounced"], outreach["clicked"]) == (
        1,
        1,
        0,
        2,
    )
    assert outreach["unsubscribed_within_7_days"] == 1
    invitations = outreach["invitations"]
    assert (invitations["invited"], invitations["clicked"]) == (4, 2)
    assert invitations["by_language"] == {
        "es": {"invited": 2, "clicked": 1},
        "en": {"invited": 2, "clicked": 1},
    }
    assert invitations["by_role"] == {
        "manufacturer": {"invited": 3, "clicked": 1},
        "erased": {"invited": 1, "clicked": 1},
    }
    working_group = figures["working_group"]
    assert working_group["members_by_type"] == {
        "manufacturer": 0,
        "working_group": 1,
        "county_staff": 1,
        "other": 0,
    }
    assert (working_group["notices_sent"], working_group["notice_campaigns"]) == (2, 1)


async def test_applications(figures: dict) -> None:
    assert figures["applications"] == {
        "started": 5,  # Zed, Uma, Ana, Ben, Eve (Kim never confirmed; Old Co and Late Co are outside)
        "submitted": 4,
        "qualified": 2,
        "asked_for_information": 1,
        "declined": 1,
        "invited_and_submitted": 2,
        "median_days_invitation_to_submission": 3.0,  # Ana 2 days, Ben 4
        "pool_by_category": {"311 Food": 1, "315 Clothing and apparel": 2},  # today, whenever qualified
        "in_pool": 3,
    }
    assert figures["headlines"]["applications_submitted"] == {"value": 4, "previous": 1, "change": 3}
    assert figures["headlines"]["in_pool"] == {"value": 3, "previous": None, "change": None}


async def test_headlines_compare_with_the_previous_period(figures: dict) -> None:
    assert figures["period"]["previous"] == {"from": "2026-10-19", "to": "2026-11-01", "grain": "week"}
    assert figures["headlines"]["signups"] == {"value": 8, "previous": 1, "change": 7}
    assert figures["headlines"]["sent"] == {"value": 6, "previous": 1, "change": 5}


async def test_erased_people_are_counted_never_named(figures: dict) -> None:
    text = json.dumps(figures)
    assert "gus" not in text.lower()
    assert figures["interest"]["erased"] == 1


async def test_a_month_grain_gives_the_same_totals(db: str) -> None:
    await make_dataset()
    by_month = figures_to_json(await collect(Period.make("2026-11-02", "2026-11-15", "month"), today=TODAY))
    assert [p["from"] for p in by_month["interest"]["series"]] == ["2026-11-02"]
    assert by_month["interest"]["signups"] == 8


@pytest.mark.parametrize(
    ("first", "last", "grain", "message"),
    [
        ("2026-13-01", None, None, "YYYY-MM-DD"),
        ("2026-11-10", "2026-11-01", None, "ends (November 1, 2026) before it starts (November 10, 2026)"),
        ("2020-01-01", "2026-01-01", None, "at most three years"),
        ("2026-11-01", "2026-11-10", "day", "week or month"),
    ],
)
def test_bad_periods_say_what_is_wrong(first: str, last: str | None, grain: str | None, message: str) -> None:
    with pytest.raises(PeriodError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Period.make(first, last, grain)
