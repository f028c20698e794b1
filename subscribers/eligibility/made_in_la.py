"""The Made in Los Angeles pilot: a proposed definition of a qualifying local manufacturer.

The Board's motion of 2026-05-05 (item 1.b) asks ISD to define which businesses qualify: local
manufacturers with responsible labor practices. Until ISD reports back this is our proposal,
kept as ONE table, `PILOT_RULES`: switch a rule off with `enabled=False`, change a citation
or the wording in its row, or add a row. Each rule reads the `PilotFacts` and returns a result,
a plain-language reason and (when not a pass) the next step; the table adds id and citation.

The pilot asks about no counts, amounts or dates, only a ZIP, a NAICS code and yes/no answers,
so the same facts come back again and again: each set of facts is screened once a day and the
verdict kept. A rule sees only the facts (not the whole inputs), so none can depend on
something the kept verdicts don't.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from subscribers.eligibility.industry import does_garment_work, is_manufacturing_naics
from subscribers.eligibility.inputs import ScreeningInputs
from subscribers.eligibility.location import county_outcome
from subscribers.eligibility.parameters import PIECE_RATE_BANNED_FROM
from subscribers.eligibility.verdict import (
    FAIL,
    NEEDS_REVIEW,
    PASS,
    UNKNOWN,
    CheckResult,
    ProgramVerdict,
    Result,
    combine,
    next_steps_for,
)

TITLE = "Made in LA pilot (proposed rules)"
MOTION = "Board motion 2026-05-05, item 1.b"
NOTE_PROPOSED = (
    "The pilot's rules are a proposal until ISD reports back to the Board; only the County decides "
    "who qualifies."
)
NOTE_NO_RULES = "No pilot rules are switched on, so there is nothing to screen."

# (result, reason, next step or None)
Outcome = tuple[Result, str, str | None]


class PilotFacts(NamedTuple):
    """Everything the pilot's rules may read."""

    manufacturer: bool | None
    naics: str | None
    zip: str | None
    production_zip: str | None
    wage_violations: bool | None
    debarred: bool | None
    garment: bool | None
    garment_registration: bool | None
    piece_rate: bool | None

    @classmethod
    def of(cls, inputs: ScreeningInputs) -> PilotFacts:
        return cls(
            inputs.manufacturer,
            inputs.naics,
            inputs.zip,
            inputs.production_zip,
            inputs.wage_violations,
            inputs.debarred,
            inputs.garment,
            inputs.garment_registration,
            inputs.piece_rate,
        )

    @property
    def goods_zip(self) -> str | None:
        """Where the goods are made: `production_zip`, else the principal place of business."""
        return self.production_zip or self.zip


# eq=False: a row is itself alone, so a table hashes by identity (cheap) as part of the cache key.
@dataclass(frozen=True, slots=True, eq=False)
class PilotRule:
    """One row of the pilot definition."""

    id: str
    title: str
    citation: str
    evaluate: Callable[[PilotFacts, date], Outcome]
    enabled: bool = True


def _makes_goods(facts: PilotFacts, as_of: date) -> Outcome:
    naics = facts.naics
    manufacturing_code = naics is not None and is_manufacturing_naics(naics)
    if facts.manufacturer is True:
        return PASS, "Makes new products from materials.", None
    if facts.manufacturer is False:
        if manufacturing_code:
            return (
                UNKNOWN,
                f"Said not to be a manufacturer, but NAICS {naics} is a manufacturing code.",
                "Say which is right: manufacturer=yes or no.",
            )
        return FAIL, "Does not make goods; the pilot is for manufacturers.", None
    if manufacturing_code:
        return PASS, f"NAICS {naics} is a manufacturing code (31-33).", None
    if naics is not None:
        return (
            UNKNOWN,
            f"NAICS {naics} is not a manufacturing code (31-33).",
            "If the business makes goods from materials, add manufacturer=yes.",
        )
    return (
        UNKNOWN,
        "Not told whether the business makes goods.",
        "Add manufacturer=yes or no (or naics=).",
    )


def _made_in_county(facts: PilotFacts, as_of: date) -> Outcome:
    subject = "place where the goods are made"
    result, reason, step = county_outcome(facts.goods_zip, subject=subject, key="production_zip")
    if facts.production_zip is None and facts.zip is not None:
        reason += " (No production_zip given, so this uses the business ZIP.)"
    return result, reason, step


def _yes_no_rule(
    *, key: str, bad: str, good: str, unknown: str, step: str
) -> Callable[[PilotFacts, date], Outcome]:
    """A rule that fails on `key=yes`, passes on `key=no`, and asks when not told."""

    def evaluate(facts: PilotFacts, as_of: date) -> Outcome:
        value = getattr(facts, key)
        if value is True:
            return FAIL, bad, None
        if value is False:
            return PASS, good, None
        return UNKNOWN, unknown, step

    return evaluate


def _garment_registration(facts: PilotFacts, as_of: date) -> Outcome:
    garment = does_garment_work(facts)
    if garment is False:
        return PASS, "No garment work, so no garment registration is needed.", None
    if garment is None:
        return (
            UNKNOWN,
            "Not told whether the business does garment work (sewing, cutting, dyeing, finishing, labeling).",
            "Add garment=yes or no.",
        )
    if facts.garment_registration is True:
        return PASS, "Garment work with a current Labor Commissioner registration.", None
    if facts.garment_registration is False:
        return (
            FAIL,
            "Garment work without a current Labor Commissioner registration, which the law requires.",
            "Register (or renew) with the Labor Commissioner's garment registration unit.",
        )
    return (
        UNKNOWN,
        "Garment work: not told whether it holds a current Labor Commissioner registration.",
        "Add garment_registration=yes or no.",
    )


def _no_piece_rate(facts: PilotFacts, as_of: date) -> Outcome:
    garment = does_garment_work(facts)
    if garment is False:
        return PASS, "No garment work, so the garment piece-rate ban does not apply.", None
    if garment is None:
        return (
            UNKNOWN,
            "Not told whether the business does garment work, where piece-rate pay is banned.",
            "Add garment=yes or no.",
        )
    if facts.piece_rate is False:
        return PASS, "Garment workers are not paid by the piece.", None
    if facts.piece_rate is True:
        if as_of >= PIECE_RATE_BANNED_FROM:
            return (
                FAIL,
                f"Pays garment workers by the piece, which is illegal since {PIECE_RATE_BANNED_FROM}.",
                "Pay garment workers by the hour (at least minimum wage).",
            )
        return (
            PASS,
            f"Pays garment workers by the piece: still legal on {as_of}, but banned from "
            f"{PIECE_RATE_BANNED_FROM}.",
            None,
        )
    return (
        UNKNOWN,
        "Garment work: not told whether workers are paid by the piece (banned since 2022).",
        "Add piece_rate=yes or no.",
    )


# THE pilot definition. Order is the order of the reply.
PILOT_RULES: tuple[PilotRule, ...] = (
    PilotRule("makes_goods", "Makes goods", f"{MOTION}; NAICS 31-33", _makes_goods),
    PilotRule("made_in_county", "Goods made in Los Angeles County", MOTION, _made_in_county),
    PilotRule(
        "wage_violations",
        "No unpaid wage violations",
        f"{MOTION}; Lab. Code §238",
        _yes_no_rule(
            key="wage_violations",
            bad="Has unpaid wage judgments or citations.",
            good="No unpaid wage judgments or citations.",
            unknown="Not told about unpaid wage judgments or citations.",
            step="Add wage_violations=yes or no.",
        ),
    ),
    PilotRule(
        "not_debarred",
        "Not debarred",
        f"LACC ch. 2.202; {MOTION}",
        _yes_no_rule(
            key="debarred",
            bad="Debarred from government contracts.",
            good="Not debarred.",
            unknown="Not told whether the business is debarred.",
            step="Add debarred=yes or no.",
        ),
    ),
    PilotRule("garment_registration", "Garment registration", "Lab. Code §2675", _garment_registration),
    PilotRule(
        "no_piece_rate", "No piece-rate pay for garment work", "Lab. Code §2673 (SB 62)", _no_piece_rate
    ),
)


def with_rules_switched(rules: Iterable[PilotRule] = PILOT_RULES, **enabled: bool) -> tuple[PilotRule, ...]:
    """A copy of the table with some rules switched: `with_rules_switched(not_debarred=False)`."""
    rules = tuple(rules)
    unknown = set(enabled) - {rule.id for rule in rules}
    if unknown:
        raise KeyError(f"no pilot rule {', '.join(sorted(unknown))}")
    return tuple(
        dataclasses.replace(rule, enabled=enabled[rule.id]) if rule.id in enabled else rule for rule in rules
    )


def screen_made_in_la(
    inputs: ScreeningInputs, as_of: date, rules: Iterable[PilotRule] = PILOT_RULES
) -> ProgramVerdict:
    """The pilot verdict from the enabled rules."""
    return _pilot_verdict(PilotFacts.of(inputs), as_of, tuple(rules))


# Bounded: the facts are a ZIP or two, a NAICS code and yes/no answers; the day changes daily.
@lru_cache(maxsize=4096)
def _pilot_verdict(facts: PilotFacts, as_of: date, rules: tuple[PilotRule, ...]) -> ProgramVerdict:
    checks = []
    for rule in rules:
        if rule.enabled:
            result, reason, step = rule.evaluate(facts, as_of)
            checks.append(CheckResult(rule.id, result, reason, rule.citation, step))
    if not checks:  # nothing switched on: say so rather than "looks eligible" on no evidence
        return ProgramVerdict("made_in_la", TITLE, NEEDS_REVIEW, (), (), (NOTE_NO_RULES,))
    verdict = combine(checks)
    return ProgramVerdict(
        "made_in_la", TITLE, verdict, tuple(checks), next_steps_for(verdict, checks), (NOTE_PROPOSED,)
    )
