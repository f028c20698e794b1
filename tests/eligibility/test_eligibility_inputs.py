"""The parser: what people type in Slack and the CLI, and the one error type it may raise."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subscribers.eligibility import (
    PREFERENCE_KEYS,
    SCREENING_KEYS,
    PreferenceInputs,
    Result,
    ScreenerInputError,
    ScreeningInputs,
    calculate_preference,
    parse_as_of,
    parse_pairs,
    parse_preference_inputs,
    parse_screening_inputs,
    preference_to_json,
    render_preference_text,
    render_screening_text,
    screen,
    screening_to_json,
)
from subscribers.eligibility.inputs import MAX_PROBLEMS, PartialDate, PurchaseKind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zip=90021 employees=42", {"zip": "90021", "employees": "42"}),
        ("zip: 90021, employees: 42", {"zip": "90021", "employees": "42"}),
        ("ZIP=90021;Employees=42", {"zip": "90021", "employees": "42"}),
        ("zip = 90021   employees =42", {"zip": "90021", "employees": "42"}),
        ("\u201czip\u201d=\u201c90021\u201d revenue=$4,100,000", {"zip": "90021", "revenue": "$4,100,000"}),
        ("since='2019-03'", {"since": "2019-03"}),
        ("since=\u20182019-03\u2019", {"since": "2019-03"}),
        (
            "zip=90021,employees=42,revenue=4,100,000",
            {"zip": "90021", "employees": "42", "revenue": "4,100,000"},
        ),
        ("revenue=4.1 million zip=90021", {"revenue": "4.1 million", "zip": "90021"}),
        ("revenue=$ 950k", {"revenue": "$ 950k"}),
        ("debarred=no.", {"debarred": "no"}),
        ('"zip=90021" \u201cemployees=42\u201d', {"zip": "90021", "employees": "42"}),
        ("production-zip=90058", {"production_zip": "90058"}),
        ("zip\uff1d90021", {"zip": "90021"}),
        ("", {}),
        ("  , ; ", {}),
    ],
)
def test_parse_pairs_reads_what_people_type(text: str, expected: dict[str, str]) -> None:
    assert parse_pairs(text) == expected


def test_parse_pairs_takes_cli_tokens_with_spaces() -> None:
    assert parse_pairs(["revenue=4.1 M", "zip=90021"]) == {"revenue": "4.1 M", "zip": "90021"}
    assert parse_screening_inputs(parse_pairs(["revenue=4.1 M"])).revenue == Decimal(4_100_000)


@pytest.mark.parametrize(
    "token",
    [
        "zip=90021 employees=5",
        "zip=90021  employees=5 revenue=4.1 M",
        "zip: 90021, employees: 5",
        "revenue=4.1 million zip=90021",
    ],
)
def test_one_cli_token_holding_several_pairs_reads_as_slack_text(token: str) -> None:
    assert parse_pairs([token]) == parse_pairs(token)
    assert parse_pairs(["naics=315250", token]) == parse_pairs(f"naics=315250 {token}")


def test_each_problem_is_reported_once_and_the_list_is_capped() -> None:
    with pytest.raises(ScreenerInputError) as caught:
        parse_pairs(" ".join(["zip=90021"] * 900))
    assert caught.value.problems == ("zip is given twice",)
    with pytest.raises(ScreenerInputError) as caught:
        parse_screening_inputs(parse_pairs(" ".join(f"k{n}=v" for n in range(900))))
    problems = caught.value.problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1] == f"and {900 - MAX_PROBLEMS} more problems"
    assert len(str(caught.value)) < 600


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("hello zip=90021", "couldn't read 'hello'"),
        ("zip= employees=42", "zip has no value"),
        ('zip=""', "zip has no value"),
        ("zip=90021 zip=90012", "zip is given twice"),
        ("90021", "couldn't read '90021'"),
    ],
)
def test_parse_pairs_reports_what_it_could_not_read(text: str, problem: str) -> None:
    with pytest.raises(ScreenerInputError) as caught:
        parse_pairs(text)
    assert any(problem in item for item in caught.value.problems)
    assert "key=value" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("zip=90021-1234", "zip", "90021"),
        ("zip=900211234", "zip", "90021"),
        ("revenue=4.1M", "revenue", Decimal(4_100_000)),
        ("revenue=$950k", "revenue", Decimal(950_000)),
        ("revenue=4100000", "revenue", Decimal(4_100_000)),
        ("revenue=$4,100,000.50", "revenue", Decimal("4100000.50")),
        ("revenue=1.2mm", "revenue", Decimal(1_200_000)),
        ("revenue=2B", "revenue", Decimal(2_000_000_000)),
        ("employees=1,200", "employees", Decimal(1200)),
        ("years=2.5", "years", Decimal("2.5")),
        ("since=2019", "since", PartialDate(2019)),
        ("since=2019-03", "since", PartialDate(2019, 3)),
        ("since=2019/3/15", "since", PartialDate(2019, 3, 15)),
        ("manufacturer=Y", "manufacturer", True),
        ("manufacturer=false", "manufacturer", False),
        ("ca_sb=TRUE", "ca_sb", True),
        ("garment=n", "garment", False),
        ("garment=unknown", "garment", None),
        ("zip=?", "zip", None),
        ("naics=315250", "naics", "315250"),
    ],
)
def test_values_are_typed(text: str, field: str, expected: object) -> None:
    assert getattr(parse_screening_inputs(parse_pairs(text)), field) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("zip=abc", "is not a ZIP code"),
        ("zip=9002", "is not a ZIP code"),
        ("zip=900210", "is not a ZIP code"),
        ("zip=\uff19\uff10\uff10\uff12\uff11", "is not a ZIP code"),  # full-width digits
        ("employees=many", "is not a number"),
        # digits to str.isdigit, not to us: the plain-digits fast paths must not take them
        ("employees=\u00b2", "is not a number"),  # superscript two
        ("employees=\u0664\u0662", "is not a number"),  # Arabic-Indic 42
        ("since=\uff12\uff10\uff11\uff19", "is not a date"),  # full-width 2019
        ("since=1849", "is not a date"),
        ("since=2201", "is not a date"),
        ("employees=1000000000000001", "is too large"),
        ("employees=-3", "employees '-3' can't be negative"),
        ("years=-1", "years '-1' can't be negative"),
        ("revenue=-$5M", "can't be negative"),
        ("revenue=lots", "is not an amount"),
        ("revenue=4,1M", "is not an amount"),
        ("revenue=1e9", "is not an amount"),
        ("since=March", "is not a date"),
        ("since=2019-13", "is not a date"),
        ("since=2019-02-30", "is not a date"),
        ("since=0001", "is not a date"),
        ("manufacturer=maybe", "should be yes or no"),
        ("naics=31-33", "is not a NAICS code"),
        ("naics=1234567", "is not a NAICS code"),
        ("years=2 since=2019", "not both"),
        ("colour=red", "not a key we know"),
        ("employes=3", "did you mean employees"),
        ("lowest=100", "not used here"),
    ],
)
def test_bad_screening_values_raise_one_clear_error(text: str, words: str) -> None:
    with pytest.raises(ScreenerInputError) as caught:
        parse_screening_inputs(parse_pairs(text))
    message = str(caught.value)
    assert words in message
    assert "\n" not in message


def test_all_problems_are_reported_at_once_with_the_keys() -> None:
    with pytest.raises(ScreenerInputError) as caught:
        parse_screening_inputs(parse_pairs("zip=abc employees=x colour=red"))
    assert len(caught.value.problems) == 3
    assert "Keys: zip, production_zip" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("bid=100", "needs lowest="),
        ("", "needs lowest= and bid="),
        ("lowest=0 bid=5", "lowest must be at least $0.01"),
        ("lowest=0.004 bid=5", "lowest must be at least $0.01"),
        ("lowest=100 bid=90 other_rate=-5%", "other_rate '-5%' can't be negative"),
        (
            "lowest=100000 bid=112000 other_rate=0.5",
            "write 0.5% for 0.5 percent, or 50% if 0.5 was a fraction",
        ),
        ("lowest=100 bid=90 statute_rate=0.07", "write 0.07% for 0.07 percent, or 7% if 0.07"),
        ("lowest=100 bid=90 type=lease", "price or revenue"),
        ("lowest=100 bid=90 purchase=cash", "gpo, petty_cash"),
        ("lowest=100 bid=90 statute_rate=150%", "more than 100%"),
        ("lowest=100 bid=90 statute_rate=abc", "not a rate"),
        ("purchase=non_agreement", "needs amount="),
        ("purchase=non_agreement amount=9000", "needs lowest= and bid="),
        ("lowest=100 bid=90 zip=90021", "zip is not used here"),
    ],
)
def test_bad_preference_values_raise_one_clear_error(text: str, words: str) -> None:
    with pytest.raises(ScreenerInputError) as caught:
        parse_preference_inputs(parse_pairs(text))
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("7%", "0.07"),
        ("7", "0.07"),
        ("0.5%", "0.005"),
        ("7.5 %", "0.075"),
        ("1", "0.01"),
        ("0", "0"),
        ("0%", "0"),
    ],
)
def test_rates(text: str, rate: str) -> None:
    assert parse_preference_inputs(
        parse_pairs(f"lowest=1 bid=1 statute_rate='{text}'")
    ).statute_rate == Decimal(rate)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("gpo", PurchaseKind.GPO),
        ("Petty Cash", PurchaseKind.PETTY_CASH),
        ("p-card", PurchaseKind.PURCHASE_CARD),
        ("non-agreement", PurchaseKind.NON_AGREEMENT),
    ],
)
def test_purchase_kinds(text: str, kind: PurchaseKind) -> None:
    inputs = parse_preference_inputs(parse_pairs(f"purchase='{text}' amount=1 lowest=1 bid=1"))
    assert inputs.purchase is kind


def test_as_of() -> None:
    assert parse_as_of("2026-05-20") == date(2026, 5, 20)
    with pytest.raises(ScreenerInputError, match="YYYY-MM-DD"):
        parse_as_of("2026-05")


def test_partial_dates_bound_the_period() -> None:
    assert PartialDate(2024, 2).latest == date(2024, 2, 29)
    assert PartialDate(2025, 12).latest == date(2025, 12, 31)
    assert PartialDate(2025).earliest == date(2025, 1, 1)
    assert str(PartialDate(2019, 3)) == "2019-03"


def test_typed_values_from_code_are_accepted() -> None:
    """The Slack bot or other code may pass Python values instead of strings."""
    inputs = parse_screening_inputs({"employees": 42, "ca_sb": True, "since": date(2019, 3, 15), "zip": None})
    assert inputs == ScreeningInputs(employees=Decimal(42), ca_sb=True, since=PartialDate(2019, 3, 15))


# ---- properties -------------------------------------------------------------------------------

ALL_KEYS = sorted({*SCREENING_KEYS, *PREFERENCE_KEYS})
value_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["yes", "no", "Y", "unknown", "?", "90021", "4.1M", "$950k", "2019-03", "0", "15%", "gpo"]
    ),
    st.from_regex(r"\$?[0-9,]{0,9}(\.[0-9]{0,3})?\s?(k|M|million)?", fullmatch=True),
    st.from_regex(r"[0-9]{4}([-/.][0-9]{1,2}([-/.][0-9]{1,2})?)?", fullmatch=True),
)
key_text = st.one_of(st.sampled_from(ALL_KEYS), st.text(max_size=8))
separator = st.sampled_from(["=", ":", " = ", "\uff1d", ": "])
pair_text = st.tuples(key_text, separator, value_text, st.sampled_from(["", '"', "\u201c"])).map(
    lambda t: f"{t[0]}{t[1]}{t[3]}{t[2]}{t[3]}"
)
slack_text = st.one_of(
    st.text(max_size=60),
    st.lists(pair_text, max_size=6).map(" ".join),
    st.lists(pair_text, max_size=6).map(", ".join),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(slack_text, st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_screening_never_crashes(text: str, as_of: date) -> None:
    """Whatever arrives: either a full reply, or ScreenerInputError with a one-line message."""
    try:
        screening = screen(parse_screening_inputs(parse_pairs(text)), as_of=as_of)
    except ScreenerInputError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert render_screening_text(screening)
    assert screening_to_json(screening)["as_of"] == as_of.isoformat()


@settings(max_examples=300, deadline=None)
@given(st.one_of(slack_text, st.lists(st.text(max_size=20), max_size=5)))
def test_preference_never_crashes(text: str | list[str]) -> None:
    try:
        result = calculate_preference(parse_preference_inputs(parse_pairs(text)))
    except ScreenerInputError as error:
        assert str(error)
        return
    assert render_preference_text(result)
    assert set(preference_to_json(result)) >= {"applies", "rate", "preference", "evaluated_bid", "lsbe_wins"}


GOOD_ANSWERS = {
    "zip": "90021",
    "production_zip": "90058",
    "since": "2019-03-15",
    "employees": "42",
    "revenue": "4.1M",
    "manufacturer": "yes",
    "naics": "315250",
    "ca_sb": "yes",
    "garment": "yes",
    "garment_registration": "yes",
    "piece_rate": "no",
    "wage_violations": "no",
    "debarred": "no",
}


@settings(max_examples=200, deadline=None)
@given(st.sets(st.sampled_from(sorted(GOOD_ANSWERS))))
def test_missing_information_is_never_a_fail(left_out: set[str]) -> None:
    """Leaving out any answers of a business that passes everything gives unknowns, never fails."""
    pairs = {key: value for key, value in GOOD_ANSWERS.items() if key not in left_out}
    screening = screen(parse_screening_inputs(pairs), as_of=date(2026, 5, 20))
    for program in screening.programs.values():
        assert all(check.result is not Result.FAIL for check in program.checks), program
    if not left_out:
        assert all(program.verdict.value == "looks_eligible" for program in screening.programs.values())


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(["", "$"]), st.booleans())
def test_amounts_read_back_exactly(dollars: int, sign: str, grouped: bool) -> None:
    written = f"{sign}{dollars:,}" if grouped else f"{sign}{dollars}"
    assert parse_screening_inputs(parse_pairs(f"revenue={written}")).revenue == Decimal(dollars)


def test_preference_built_in_code_without_bids_is_an_input_error() -> None:
    with pytest.raises(ScreenerInputError, match="lowest= and bid="):
        calculate_preference(PreferenceInputs(bid=Decimal(5)))
