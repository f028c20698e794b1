"""The shapes every screener answer takes: a check, a program verdict, a whole screening.

Kept separate from the rules so the Slack bot, the CLI and the tests can share them without
pulling in any rule logic. They are slotted dataclasses but not frozen: on Python 3.11 a frozen
dataclass sets each field through `object.__setattr__`, which made building a screening's dozen
results a fifth of the Slack reply's cost (a named tuple costs twice a plain object to build,
too). Nothing may change them once built: answers that depend only on yes/no facts (the pilot's
verdict, some LSBE checks) are worked out once and the same object is handed out again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from subscribers.eligibility.parameters import DatedValue


class Result(StrEnum):
    """The outcome of one check. Missing information is always UNKNOWN, never FAIL."""

    PASS = "pass"  # noqa: S105 (not a password)
    FAIL = "fail"
    UNKNOWN = "unknown"


class Verdict(StrEnum):
    """What a program check adds up to. We never say "eligible": only the County certifies."""

    LOOKS_ELIGIBLE = "looks_eligible"
    NEEDS_REVIEW = "needs_review"
    NOT_ELIGIBLE = "not_eligible"

    words: str  # "looks eligible": read on every reply, so a plain attribute set once

    def __init__(self, value: str) -> None:
        self.words = value.replace("_", " ")


# The members again under plain names, for the rules. On Python 3.11 every `Result.PASS` goes
# through EnumType.__getattr__ (~0.3 µs on the server) and one screening names about thirty.
PASS, FAIL, UNKNOWN = Result.PASS, Result.FAIL, Result.UNKNOWN
LOOKS_ELIGIBLE, NEEDS_REVIEW, NOT_ELIGIBLE = (
    Verdict.LOOKS_ELIGIBLE,
    Verdict.NEEDS_REVIEW,
    Verdict.NOT_ELIGIBLE,
)


@dataclass(slots=True)
class CheckResult:
    """One rule applied to one business: the result, why in plain words, and where the rule is."""

    id: str
    result: Result
    reason: str
    citation: str
    next_step: str | None = None


@dataclass(slots=True)
class ProgramVerdict:
    """A program's verdict and the checks behind it, in the order they should be read."""

    program: str  # "lsbe" or "made_in_la"
    title: str
    verdict: Verdict
    checks: tuple[CheckResult, ...]
    next_steps: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def check(self, check_id: str) -> CheckResult:
        """The check with this id (KeyError if the program did not run it)."""
        for item in self.checks:
            if item.id == check_id:
                return item
        raise KeyError(check_id)


@dataclass(slots=True)
class Screening:
    """Everything one screening said, ready for the text or JSON renderer."""

    as_of: date
    programs: dict[str, ProgramVerdict]
    revenue_cap: DatedValue | None
    notes: tuple[str, ...] = field(default=())


def combine(checks: Iterable[CheckResult]) -> Verdict:
    """Any fail -> not eligible; otherwise any unknown -> needs review; otherwise looks eligible."""
    results = [item.result for item in checks]  # a handful: `in` on a list beats building a set
    if FAIL in results:
        return NOT_ELIGIBLE
    if UNKNOWN in results:
        return NEEDS_REVIEW
    return LOOKS_ELIGIBLE


def next_steps_for(verdict: Verdict, checks: Iterable[CheckResult]) -> tuple[str, ...]:
    """The steps that matter for this verdict, without repeats: a fail's steps when not eligible,
    the missing pieces when it needs review."""
    wanted = FAIL if verdict is NOT_ELIGIBLE else UNKNOWN
    steps = [item.next_step for item in checks if item.result is wanted and item.next_step]
    return tuple(dict.fromkeys(steps))  # each once, in order
