"""Parameters, the switchable pilot table, stored profiles, rendering and speed."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from subscribers.eligibility import (
    PILOT_RULES,
    PilotRule,
    Result,
    Verdict,
    parse_pairs,
    parse_screening_inputs,
    profile_inputs,
    render_screening_text,
    screen,
    screen_profile,
    screen_text,
    screening_to_json,
    with_rules_switched,
)
from subscribers.eligibility.formatting import money
from subscribers.eligibility.lsbe import one_year_after
from subscribers.eligibility.made_in_la import PilotFacts
from subscribers.eligibility.parameters import REVENUE_CAP, STALE_AFTER_DAYS

# ---- dated parameters -------------------------------------------------------------------------


def test_revenue_cap_rows_are_dated_sourced_and_ordered() -> None:
    starts = [row.start for row in REVENUE_CAP.rows]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for row in REVENUE_CAP.rows:
        assert row.source and row.last_verified >= row.start and row.value > 0


@pytest.mark.parametrize(
    ("day", "cap"),
    [
        (date(2018, 12, 31), None),
        (date(2019, 1, 1), 15_000_000),
        (date(2023, 6, 30), 15_000_000),
        (date(2023, 7, 1), 18_000_000),
        (date(2025, 6, 30), 18_000_000),
        (date(2025, 7, 1), 19_000_000),
        (date(2030, 1, 1), 19_000_000),
    ],
)
def test_as_of_selects_the_cap(day: date, cap: int | None) -> None:
    row = REVENUE_CAP.on(day)
    assert (row.value if row else None) == (Decimal(cap) if cap else None)
    text = render_screening_text(screen_text("employees=5 revenue=1M manufacturer=no", as_of=day))
    if cap:
        assert f"${cap:,}" in text


def test_stale_revenue_cap_adds_a_note_but_never_fails() -> None:
    verified = REVENUE_CAP.on(date(2100, 1, 1)).last_verified  # type: ignore[union-attr]
    fresh = verified + timedelta(days=STALE_AFTER_DAYS)
    stale = verified + timedelta(days=STALE_AFTER_DAYS + 1)
    text = "zip=90021 years=3 employees=5 revenue=1M ca_sb=yes"
    fresh_lsbe = screen_text(text, as_of=fresh).programs["lsbe"]
    stale_lsbe = screen_text(text, as_of=stale).programs["lsbe"]
    assert not any("last verified" in note for note in fresh_lsbe.notes)
    assert any("last verified" in note for note in stale_lsbe.notes)
    assert stale_lsbe.verdict is Verdict.LOOKS_ELIGIBLE


def test_one_year_after() -> None:
    assert one_year_after(date(2025, 5, 20)) == date(2026, 5, 20)
    assert one_year_after(date(2024, 2, 29)) == date(2025, 3, 1)


# ---- the pilot rule table ---------------------------------------------------------------------


def test_pilot_table_is_one_place_with_ids_and_citations() -> None:
    ids = [rule.id for rule in PILOT_RULES]
    assert len(ids) == len(set(ids))
    assert all(rule.citation and rule.title and rule.enabled for rule in PILOT_RULES)
    screening = screen_text("", as_of=date(2026, 5, 20))
    assert [check.id for check in screening.programs["made_in_la"].checks] == ids
    by_id = {rule.id: rule.citation for rule in PILOT_RULES}
    assert "Board motion 2026-05-05, item 1.b" in by_id["makes_goods"]
    assert "2675" in by_id["garment_registration"]
    assert "2673" in by_id["no_piece_rate"]
    assert "2.202" in by_id["not_debarred"]


def test_switching_a_rule_off_removes_it_from_the_verdict() -> None:
    inputs = parse_screening_inputs(
        parse_pairs("zip=90021 manufacturer=yes wage_violations=no debarred=yes garment=no")
    )
    on = screen(inputs, as_of=date(2026, 5, 20))
    off = screen(inputs, as_of=date(2026, 5, 20), pilot_rules=with_rules_switched(not_debarred=False))
    assert on.programs["made_in_la"].verdict is Verdict.NOT_ELIGIBLE
    assert off.programs["made_in_la"].verdict is Verdict.LOOKS_ELIGIBLE
    assert "not_debarred" not in [check.id for check in off.programs["made_in_la"].checks]
    assert all(rule.enabled for rule in PILOT_RULES), "the shared table itself is untouched"


def test_an_edited_rule_row_changes_the_citation() -> None:
    edited = tuple(
        dataclasses.replace(rule, citation="ISD report 2026-09") if rule.id == "makes_goods" else rule
        for rule in PILOT_RULES
    )
    screening = screen(parse_screening_inputs({}), as_of=date(2026, 5, 20), pilot_rules=edited)
    assert screening.programs["made_in_la"].check("makes_goods").citation == "ISD report 2026-09"


def test_pilot_rules_see_only_the_pilot_facts() -> None:
    """Pilot verdicts are kept per set of facts and day, which is right only because a rule
    can't read anything else: a row that tries gets an AttributeError, not a stale answer."""

    def by_size(facts: PilotFacts, as_of: date) -> tuple[Result, str, None]:
        return Result.PASS, f"{facts.employees} employees", None  # type: ignore[attr-defined]

    table = (*PILOT_RULES, PilotRule("size", "Small enough", "test", by_size))
    with pytest.raises(AttributeError):
        screen(parse_screening_inputs(parse_pairs("employees=5")), as_of=date(2026, 5, 20), pilot_rules=table)


def test_kept_pilot_verdicts_follow_the_facts_and_the_day() -> None:
    text = "zip=90021 manufacturer=yes garment=yes garment_registration=yes piece_rate=yes"
    before_ban = screen_text(text, as_of=date(2021, 12, 31)).programs["made_in_la"]
    after_ban = screen_text(text, as_of=date(2022, 1, 1)).programs["made_in_la"]
    assert before_ban.check("no_piece_rate").result is Result.PASS
    assert after_ban.check("no_piece_rate").result is Result.FAIL
    elsewhere = screen_text(text.replace("90021", "94105"), as_of=date(2022, 1, 1)).programs["made_in_la"]
    assert elsewhere.check("made_in_county").result is Result.FAIL
    assert screen_text(text, as_of=date(2022, 1, 1)).programs["made_in_la"] == after_ban


def test_switching_an_unknown_rule_is_an_error() -> None:
    with pytest.raises(KeyError):
        with_rules_switched(no_such_rule=False)


def test_no_rules_switched_on_is_not_looks_eligible() -> None:
    everything_off = with_rules_switched(**{rule.id: False for rule in PILOT_RULES})
    screening = screen(parse_screening_inputs({}), as_of=date(2026, 5, 20), pilot_rules=everything_off)
    assert screening.programs["made_in_la"].verdict is Verdict.NEEDS_REVIEW


# ---- stored profiles --------------------------------------------------------------------------

PROFILE = {
    "principal_zip": "90021",
    "production_zip": "",
    "products": "T-shirts and uniforms",
    "naics": "315250",
    "employees": 42,
    "years_in_county": 6,
    "ca_small_business": True,
    "garment_work": True,
}


def test_a_complete_profile_looks_eligible_for_lsbe() -> None:
    screening = screen_profile(PROFILE, as_of=date(2026, 5, 20))
    assert screening.programs["lsbe"].verdict is Verdict.LOOKS_ELIGIBLE
    pilot = screening.programs["made_in_la"]
    assert pilot.verdict is Verdict.NEEDS_REVIEW  # the profile holds no labor answers
    assert pilot.check("made_in_county").result is Result.PASS  # production ZIP falls back to principal


def test_profile_as_an_object() -> None:
    @dataclasses.dataclass
    class Profile:
        principal_zip: str = "90620"
        production_zip: str = ""
        products: str = ""
        naics: str = ""
        employees: int | None = None
        years_in_county: int | None = None
        ca_small_business: bool | None = None
        garment_work: bool | None = None

    screening = screen_profile(Profile(), as_of=date(2026, 5, 20))
    assert screening.programs["lsbe"].check("principal_place").result is Result.FAIL


def test_a_bad_stored_value_is_treated_as_missing_not_raised() -> None:
    inputs = profile_inputs({**PROFILE, "principal_zip": "9002", "naics": "31-33"})
    assert inputs.zip is None and inputs.naics is None and inputs.employees == 42
    screening = screen(inputs, as_of=date(2026, 5, 20))
    assert screening.programs["lsbe"].check("principal_place").result is Result.UNKNOWN


# ---- rendering --------------------------------------------------------------------------------


def test_text_reply_shape() -> None:
    text = render_screening_text(
        screen_text("zip=90021 since=2019-03 employees=42 revenue=4.1M naics=315250", as_of=date(2026, 5, 20))
    )
    lines = text.splitlines()
    assert lines[0] == "LSBE (Local Small Business Enterprise): needs review"
    assert "Made in LA pilot (proposed rules): needs review" in lines
    assert any(line.startswith("✓ ZIP 90021") and line.endswith("[LACC 2.204.030 D.1]") for line in lines)
    assert any(line.startswith("? ") for line in lines)
    assert "Next steps:" in lines
    assert any("2.204.030 D.4" in line for line in lines)
    assert lines[-1] == (
        "Rules as of 2026-05-20 · revenue cap last verified "
        f"{REVENUE_CAP.last_verified} · This is a screening, not a County determination. "
        "Only the County certifies LSBEs."
    )
    for character in "*~`<>&":  # nothing Slack mrkdwn would reinterpret
        assert character not in text


def test_fail_symbol_and_not_eligible_heading() -> None:
    text = render_screening_text(screen_text("zip=90620 employees=500", as_of=date(2026, 5, 20)))
    assert text.startswith("LSBE (Local Small Business Enterprise): not eligible")
    assert "✗ 500 employees" in text


def test_json_contract() -> None:
    data = screening_to_json(screen_text("zip=90021 employees=42", as_of=date(2026, 5, 20)))
    json.dumps(data)  # serialisable as is
    assert data["as_of"] == "2026-05-20"
    assert set(data["programs"]) == {"lsbe", "made_in_la"}
    for program in data["programs"].values():
        assert program["verdict"] in {"looks_eligible", "needs_review", "not_eligible"}
        for check in program["checks"]:
            assert set(check) == {"id", "result", "reason", "citation"}
            assert check["result"] in {"pass", "fail", "unknown"}
    assert data["parameters"]["revenue_cap"]["value"] == 19_000_000


def test_as_of_defaults_to_today() -> None:
    assert screen_text("zip=90021").as_of == date.today()


def test_a_start_date_after_the_screening_date_is_called_out() -> None:
    check = (
        screen_text("zip=90021 since=2027-01-01", as_of=date(2026, 11, 22))
        .programs["lsbe"]
        .check("time_in_county")
    )
    assert check.result is Result.UNKNOWN
    assert "after the date of this screening, 2026-11-22" in check.reason
    assert "reaches one year" not in check.reason
    assert check.next_step is not None and "on or before 2026-11-22" in check.next_step


def test_a_start_year_that_includes_today_reaches_one_year_by_today_next_year() -> None:
    check = screen_text("since=2026", as_of=date(2026, 11, 22)).programs["lsbe"].check("time_in_county")
    assert check.result is Result.FAIL
    assert "between 2027-01-01 and 2027-11-22" in check.reason


def test_money_is_never_shown_as_nothing_or_as_dollar_minus() -> None:
    assert money(Decimal("0.001")) == "less than $0.01"
    assert money(Decimal("0.005")) == "$0.01"
    assert money(Decimal(-5)) == "-$5"
    assert money(Decimal(0)) == "$0"


def test_the_other_agency_path_cites_what_applies_to_it() -> None:
    """D.3 (certified by another agency) has its own County clause and no period of its own."""
    d3 = screen_text("zip=90021 years=2 other_cert=yes", as_of=date(2026, 5, 20)).programs["lsbe"]
    assert d3.check("principal_place").citation == "LACC 2.204.030 D.3(a)"
    assert "County LSBE program rules" in d3.check("time_in_county").citation
    d1 = screen_text("zip=90021 years=2 ca_sb=yes other_cert=yes", as_of=date(2026, 5, 20)).programs["lsbe"]
    assert d1.check("principal_place").citation == "LACC 2.204.030 D.1"
    assert d1.check("time_in_county").citation == "LACC 2.204.030 D.1"
