"""Local Small Business Enterprise (LACC chapter 2.204.030 D): does a business look like one?

Two paths. In a federally funded solicitation that bars geographic preferences, only SBA small
status with an active SAM registration counts (D.2). Otherwise the principal place of business
must have been in the County for at least a year (D.1) and the business must hold the State's
small business certification (D.1) or another agency's that uses the State's size standards
(D.3). We can't see certifications, so without one the State's size standards decide: over
them is a fail, within them is "unknown: get certified".
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from subscribers.eligibility.formatting import day, money, number, years
from subscribers.eligibility.industry import makes_goods
from subscribers.eligibility.inputs import ScreeningInputs
from subscribers.eligibility.location import county_check
from subscribers.eligibility.parameters import (
    EMPLOYEE_LIMIT,
    REVENUE_CAP,
    STALE_AFTER_DAYS,
    TENURE_YEARS,
    DatedValue,
)
from subscribers.eligibility.verdict import (
    FAIL,
    LOOKS_ELIGIBLE,
    PASS,
    UNKNOWN,
    CheckResult,
    ProgramVerdict,
    combine,
    next_steps_for,
)

TITLE = "LSBE (Local Small Business Enterprise)"
CITE_D1 = "LACC 2.204.030 D.1"
CITE_D3_PLACE = "LACC 2.204.030 D.3(a)"
# D.3 itself sets no period; the County's LSBE program asks for 12 months in the County on every
# path (eligibility-rules.md §2.1), so that is what applies to a business certified elsewhere.
CITE_D3_TENURE = "County LSBE program rules (12 months, every path); LACC 2.204.030 D.1"
CITE_SIZE = "LACC 2.204.030 D.1, D.3; 2 CCR §1896.12(a)(5)"
CITE_REVENUE = "LACC 2.204.030 D.1, D.3; 2 CCR §1896.12(a)(5); Gov. Code §14837(d)(3)"
CITE_CERT = "LACC 2.204.030 D.1, D.3"
CITE_FEDERAL = "LACC 2.204.030 D.2; 2.204.051"
CITE_OUTGROWN = "LACC 2.204.080 E"

NOTE_USEFUL_FUNCTION = (
    "An LSBE must also do a commercially useful function on each contract, not just pass money "
    "through. [LACC 2.204.030 D.4]"
)
NOTE_FEDERAL = (
    "Federally funded solicitation: County location, time in the County and State certification "
    "don't count here, only federal small business status. [LACC 2.204.030 D.2]"
)
STEP_COUNTY_CERT = (
    "Apply for (or keep current) the County's LSBE certification: only the County certifies. [LACC 2.204.050]"
)
STEP_WHICH_CAP = "Check on Cal eProcure which State revenue cap applied on that date."
STEP_RECHECK_CERT = (
    "Check that the certification is still current: a business that outgrows it must tell the "
    f"State and the County. [{CITE_OUTGROWN}]"
)


def one_year_after(day: date) -> date:
    """The anniversary that completes the year; a 29 February start completes on 1 March."""
    try:
        return date(day.year + TENURE_YEARS, day.month, day.day)
    except ValueError:
        return date(day.year + TENURE_YEARS, 3, 1)


def screen_lsbe(inputs: ScreeningInputs, as_of: date) -> ProgramVerdict:
    """The LSBE verdict and its checks, applying the rules in force on `as_of`."""
    if inputs.federally_funded:
        checks: tuple[CheckResult, ...] = (_federal_small(inputs),)
        notes = [NOTE_FEDERAL, NOTE_USEFUL_FUNCTION]
    else:
        certified = inputs.ca_sb is True or inputs.other_cert is True
        employees = _employees(inputs, certified)
        revenue, revenue_notes = _revenue(inputs, as_of, certified)
        size_fails = FAIL in (employees.result, revenue.result)
        other_agency_path = inputs.other_cert is True and inputs.ca_sb is not True  # D.3
        checks = (
            county_check(
                inputs.zip,
                check_id="principal_place",
                citation=CITE_D3_PLACE if other_agency_path else CITE_D1,
                subject="principal place of business",
                key="zip",
            ),
            _time_in_county(inputs, as_of, CITE_D3_TENURE if other_agency_path else CITE_D1),
            employees,
            revenue,
            _certification(inputs.ca_sb, inputs.other_cert, size_fails),
        )
        notes = [*revenue_notes, NOTE_USEFUL_FUNCTION]
    verdict = combine(checks)
    steps = next_steps_for(verdict, checks)
    if verdict is LOOKS_ELIGIBLE:
        steps = (*steps, STEP_COUNTY_CERT)
    return ProgramVerdict("lsbe", TITLE, verdict, checks, steps, tuple(notes))


def _federal_small(inputs: ScreeningInputs) -> CheckResult:
    if inputs.federal_small is True:
        return CheckResult(
            "federal_small",
            PASS,
            "Small under SBA size standards and active in SAM: that is the test for a federally funded "
            "solicitation.",
            CITE_FEDERAL,
        )
    if inputs.federal_small is False:
        return CheckResult(
            "federal_small",
            FAIL,
            "Not small under SBA size standards with an active SAM registration, which a federally "
            "funded solicitation requires.",
            CITE_FEDERAL,
        )
    return CheckResult(
        "federal_small",
        UNKNOWN,
        "Not told whether the business is SBA small and active in SAM, the only test for a federally "
        "funded solicitation.",
        CITE_FEDERAL,
        "Check SAM.gov: the registration must be active and show the business as small for its NAICS "
        "code; then add federal_small=yes.",
    )


def _time_in_county(inputs: ScreeningInputs, as_of: date, citation: str) -> CheckResult:
    since = inputs.since
    if since is not None and since.earliest > as_of:
        return CheckResult(
            "time_in_county",
            UNKNOWN,
            f"In Los Angeles County since {since}: that is after the date of this screening, {day(as_of)}.",
            citation,
            f"Check the date it moved to the County: since= is when the principal place of business "
            f"started there, on or before {day(as_of)}.",
        )
    if since is not None:
        # A business in the County today arrived on or before today, whatever `since` rounds to.
        certain = one_year_after(min(since.latest, as_of))
        if as_of >= certain:
            return CheckResult(
                "time_in_county",
                PASS,
                f"In Los Angeles County since {since}: at least one year by {day(as_of)}.",
                citation,
            )
        first_possible = one_year_after(since.earliest)
        if as_of < first_possible:
            when = (
                f"on {day(certain)}"
                if since.is_exact
                else f"between {day(first_possible)} and {day(certain)}"
            )
            return CheckResult(
                "time_in_county",
                FAIL,
                f"In Los Angeles County since {since}: less than one year on {day(as_of)}. "
                f"It reaches one year {when}.",
                citation,
                f"Screen again once it reaches one year ({when}).",
            )
        return CheckResult(
            "time_in_county",
            UNKNOWN,
            f"In Los Angeles County since {since}: it reaches one year between {day(first_possible)} "
            f"and {day(certain)}.",
            citation,
            "Give the exact date it moved to the County: since=YYYY-MM-DD.",
        )
    if inputs.years is not None:
        if inputs.years >= TENURE_YEARS:
            return CheckResult(
                "time_in_county",
                PASS,
                f"In Los Angeles County for {years(inputs.years)}: at least one year.",
                citation,
            )
        return CheckResult(
            "time_in_county",
            FAIL,
            f"In Los Angeles County for {years(inputs.years)}: less than the one year required.",
            citation,
            "Give the date it moved to the County (since=YYYY-MM-DD) to see when it reaches one year.",
        )
    return CheckResult(
        "time_in_county",
        UNKNOWN,
        "Not told how long the principal place of business has been in Los Angeles County "
        "(at least one year is needed).",
        citation,
        "Add since=YYYY-MM (or years=N) for the time in the County.",
    )


def _employees(inputs: ScreeningInputs, certified: bool) -> CheckResult:
    count = inputs.employees
    if count is None:
        if certified:
            return CheckResult(
                "employees",
                PASS,
                "Employees not given; the State checks the count when it certifies.",
                CITE_SIZE,
            )
        return CheckResult(
            "employees",
            UNKNOWN,
            f"Number of employees not given (the State limit is {EMPLOYEE_LIMIT}, including affiliates).",
            CITE_SIZE,
            "Add employees=N: the average of the last four quarters, including affiliates.",
        )
    if count <= EMPLOYEE_LIMIT:
        return CheckResult(
            "employees",
            PASS,
            f"{number(count)} employees, including affiliates: within the State limit of {EMPLOYEE_LIMIT}.",
            CITE_SIZE,
        )
    if certified:
        return CheckResult(
            "employees",
            UNKNOWN,
            f"{number(count)} employees is over the State limit of {EMPLOYEE_LIMIT}, yet a certification "
            "was reported: it needs review.",
            CITE_SIZE,
            STEP_RECHECK_CERT,
        )
    return CheckResult(
        "employees",
        FAIL,
        f"{number(count)} employees, including affiliates, is over the State limit of {EMPLOYEE_LIMIT}.",
        CITE_SIZE,
    )


def _revenue(inputs: ScreeningInputs, as_of: date, certified: bool) -> tuple[CheckResult, list[str]]:
    """The receipts test, and any notes about the cap it used (staleness, unconfirmed date)."""
    manufacturer = makes_goods(inputs)
    small_manufacturer = (
        manufacturer is True and inputs.employees is not None and inputs.employees <= EMPLOYEE_LIMIT
    )
    revenue = inputs.revenue
    if small_manufacturer:
        return CheckResult(
            "revenue",
            PASS,
            f"A manufacturer with {EMPLOYEE_LIMIT} or fewer employees has no revenue cap.",
            CITE_REVENUE,
        ), []
    if revenue is None:
        if certified:
            return CheckResult(
                "revenue",
                PASS,
                "Revenue not given; the State checks it when it certifies.",
                CITE_REVENUE,
            ), []
        cap = REVENUE_CAP.on(as_of)
        return _revenue_not_given(cap.value if cap else None), []
    cap = REVENUE_CAP.on(as_of)
    if cap is None:
        return CheckResult(
            "revenue",
            UNKNOWN,
            f"We have no State revenue cap on file for {day(as_of)}.",
            CITE_REVENUE,
            "Check the State revenue cap that applied on that date.",
        ), []
    notes = _cap_notes(cap, as_of)
    earlier = None if cap.start_confirmed else REVENUE_CAP.before(cap)
    if earlier is not None and earlier.value < revenue <= cap.value:
        # The row in force may not have started yet on `as_of`: then the earlier, lower cap applied.
        return CheckResult(
            "revenue",
            UNKNOWN,
            f"Average gross receipts of {money(revenue)}: within the State cap of {money(cap.value)}, "
            f"but over the earlier {money(earlier.value)} cap, and the {money(cap.value)} cap's start "
            f"date ({cap.start}) is not confirmed.",
            CITE_REVENUE,
            STEP_WHICH_CAP,
        ), notes
    if revenue <= cap.value:
        return CheckResult(
            "revenue",
            PASS,
            f"Average gross receipts of {money(revenue)}: within the State cap of {money(cap.value)}.",
            CITE_REVENUE,
        ), notes
    over = f"Average gross receipts of {money(revenue)} are over the State cap of {money(cap.value)}"
    later = REVENUE_CAP.after(as_of)
    if later is not None and not later.start_confirmed and revenue <= later.value:
        return CheckResult(
            "revenue",
            UNKNOWN,
            f"{over}, but within the later {money(later.value)} cap, whose start date is not confirmed.",
            CITE_REVENUE,
            STEP_WHICH_CAP,
        ), notes
    if manufacturer is None:
        return CheckResult(
            "revenue",
            UNKNOWN,
            f"{over}; that is fine only for a manufacturer with {EMPLOYEE_LIMIT} or fewer employees.",
            CITE_REVENUE,
            "Say whether the business is a manufacturer: manufacturer=yes or no (or give naics=).",
        ), notes
    if manufacturer and inputs.employees is None:
        return CheckResult(
            "revenue",
            UNKNOWN,
            f"{over}; a manufacturer is exempt only with {EMPLOYEE_LIMIT} or fewer employees.",
            CITE_REVENUE,
            "Add employees=N, including affiliates.",
        ), notes
    if certified:
        return CheckResult(
            "revenue",
            UNKNOWN,
            f"{over}, yet a certification was reported: it needs review.",
            CITE_REVENUE,
            STEP_RECHECK_CERT,
        ), notes
    return CheckResult("revenue", FAIL, f"{over}.", CITE_REVENUE), notes


@cache  # one answer per row of the cap table, and one for a day before the table
def _revenue_not_given(cap: Decimal | None) -> CheckResult:
    limit = f" (the cap is {money(cap)} unless it is a manufacturer)" if cap is not None else ""
    return CheckResult(
        "revenue",
        UNKNOWN,
        f"Average yearly gross receipts not given{limit}.",
        CITE_REVENUE,
        "Add revenue=: the average of the last three years' gross receipts, including affiliates "
        "(like 4.1M).",
    )


def _cap_notes(cap: DatedValue, as_of: date) -> list[str]:
    """A stale cap gets a note. An unconfirmed start date needs none: the check itself turns
    unknown whenever the receipts fall between that cap and its neighbour."""
    if as_of - cap.last_verified > timedelta(days=STALE_AFTER_DAYS):
        return [
            f"The revenue cap was last verified on {cap.last_verified}, more than {STALE_AFTER_DAYS} days "
            "before these rules' date; check the current figure on Cal eProcure."
        ]
    return []


@cache  # three yes/no facts: at most 18 answers, each worked out once and shared
def _certification(ca_sb: bool | None, other_cert: bool | None, size_fails: bool) -> CheckResult:
    if ca_sb is True:
        return CheckResult(
            "certification",
            PASS,
            "Certified as a small business by the State of California.",
            CITE_CERT,
        )
    if other_cert is True:
        return CheckResult(
            "certification",
            PASS,
            "Certified as a small business by another agency (it counts when that agency uses the "
            "State's size standards).",
            CITE_CERT,
        )
    if size_fails:
        return CheckResult(
            "certification",
            FAIL,
            "No small business certification, and the size above is over the State's limits, so it "
            "can't get one.",
            CITE_CERT,
        )
    told = ca_sb is False
    reason = (
        "No State small business certification yet (it is required)."
        if told
        else "Not told whether the business holds the State's small business certification (it is required)."
    )
    step = (
        "Get certified as a small business by the State (DGS, on Cal eProcure), then by the County "
        "as an LSBE."
    )
    if not told:
        step += " If already certified, add ca_sb=yes."
    return CheckResult("certification", UNKNOWN, reason, CITE_CERT, step)
