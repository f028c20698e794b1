"""The table-driven cases: screening_cases.toml and preference_cases.toml."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from subscribers.eligibility import (
    Result,
    Verdict,
    calculate_preference,
    parse_pairs,
    parse_preference_inputs,
    preference_to_json,
    screen_text,
)
from subscribers.eligibility.verdict import combine

HERE = Path(__file__).parent
SCREENING_CASES = tomllib.loads((HERE / "screening_cases.toml").read_text(encoding="utf-8"))["case"]
PREFERENCE_CASES = tomllib.loads((HERE / "preference_cases.toml").read_text(encoding="utf-8"))["case"]


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [case["name"] for case in cases]


@pytest.mark.parametrize("case", SCREENING_CASES, ids=_ids(SCREENING_CASES))
def test_screening_case(case: dict[str, Any]) -> None:
    screening = screen_text(case["input"], as_of=case["as_of"])
    assert screening.as_of == case["as_of"]
    for program in ("lsbe", "made_in_la"):
        verdict = screening.programs[program]
        if program in case:
            assert verdict.verdict == Verdict(case[program]), verdict
        for check_id, expected in case.get(f"{program}_checks", {}).items():
            assert verdict.check(check_id).result == Result(expected), verdict.check(check_id)
    for where, words in case.get("reasons", {}).items():
        program, check_id = where.split(".")
        assert words in screening.programs[program].check(check_id).reason
    for where in case.get("absent_checks", []):
        program, check_id = where.split(".")
        with pytest.raises(KeyError):
            screening.programs[program].check(check_id)


def test_every_check_is_covered_by_the_cases() -> None:
    """Each check id, in each of its results that the rules can give, appears in some case."""
    seen: set[tuple[str, str, str]] = set()
    for case in SCREENING_CASES:
        for program in ("lsbe", "made_in_la"):
            for check_id, expected in case.get(f"{program}_checks", {}).items():
                seen.add((program, check_id, expected))
    lsbe = ["principal_place", "time_in_county", "employees", "revenue", "certification", "federal_small"]
    pilot = [
        "makes_goods",
        "made_in_county",
        "wage_violations",
        "not_debarred",
        "garment_registration",
        "no_piece_rate",
    ]
    wanted = {(p, c, r) for p, ids in (("lsbe", lsbe), ("made_in_la", pilot)) for c in ids for r in Result}
    assert wanted - seen == set()


@pytest.mark.parametrize("case", SCREENING_CASES, ids=_ids(SCREENING_CASES))
def test_verdict_follows_the_checks(case: dict[str, Any]) -> None:
    """Any fail -> not eligible; else any unknown -> needs review; else looks eligible."""
    screening = screen_text(case["input"], as_of=case["as_of"])
    for program in screening.programs.values():
        results = [check.result for check in program.checks]
        if Result.FAIL in results:
            assert program.verdict is Verdict.NOT_ELIGIBLE
        elif Result.UNKNOWN in results:
            assert program.verdict is Verdict.NEEDS_REVIEW
            assert program.next_steps, "needs review must name what is missing"
        else:
            assert program.verdict is Verdict.LOOKS_ELIGIBLE
        assert program.verdict is combine(program.checks)
        for check in program.checks:
            assert check.reason and check.citation


@pytest.mark.parametrize("case", PREFERENCE_CASES, ids=_ids(PREFERENCE_CASES))
def test_preference_case(case: dict[str, Any]) -> None:
    result = calculate_preference(parse_preference_inputs(parse_pairs(case["input"])))
    data = preference_to_json(result)
    for key, expected in case["expect"].items():
        if isinstance(expected, float) and not isinstance(expected, bool):
            assert Decimal(str(data[key])) == Decimal(str(expected)), key
        else:
            assert data[key] == expected, key
    if "citation" in case:
        assert result.citation == case["citation"]
    if "reason_contains" in case:
        assert case["reason_contains"] in result.reason
    if "notes_contain" in case:
        assert any(case["notes_contain"] in note for note in result.notes), result.notes


@pytest.mark.parametrize("case", PREFERENCE_CASES, ids=_ids(PREFERENCE_CASES))
def test_preference_arithmetic_holds(case: dict[str, Any]) -> None:
    """Whatever the case: within the caps, and evaluated = bid -/+ (preference + other)."""
    result = calculate_preference(parse_preference_inputs(parse_pairs(case["input"])))
    assert result.preference <= result.cap
    assert result.rate <= Decimal("0.15")
    if result.lowest is not None:
        assert result.preference + result.other_preference <= Decimal("0.15") * result.lowest + Decimal(
            "0.01"
        )
    if result.evaluated_bid is not None:
        assert result.bid is not None
        reduction = result.preference + result.other_preference
        if result.contract_type.value == "price":
            assert result.evaluated_bid == result.bid - reduction
        else:
            assert result.evaluated_bid == result.bid + reduction
    if not result.applies:
        assert result.preference == 0 and result.rate == 0
    if result.tie:
        assert result.lsbe_wins is False
    assert result.award_amount == result.bid
