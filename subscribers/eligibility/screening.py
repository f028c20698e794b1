"""Run both programs: from typed inputs, from Slack/CLI text, or from a stored business profile."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from subscribers.eligibility.inputs import (
    ScreenerInputError,
    ScreeningInputs,
    parse_pairs,
    parse_screening_inputs,
)
from subscribers.eligibility.lsbe import screen_lsbe
from subscribers.eligibility.made_in_la import PILOT_RULES, PilotRule, screen_made_in_la
from subscribers.eligibility.parameters import REVENUE_CAP
from subscribers.eligibility.verdict import Screening

# BusinessProfile field -> screener key. `products` is free text: shown elsewhere, not screened.
PROFILE_FIELDS = {
    "principal_zip": "zip",
    "production_zip": "production_zip",
    "naics": "naics",
    "employees": "employees",
    "years_in_county": "years",
    "ca_small_business": "ca_sb",
    "garment_work": "garment",
}


def screen(
    inputs: ScreeningInputs, *, as_of: date | None = None, pilot_rules: Iterable[PilotRule] = PILOT_RULES
) -> Screening:
    """Both programs for one business, with the rules in force on `as_of` (default: today)."""
    day = as_of or date.today()
    return Screening(
        as_of=day,
        programs={
            "lsbe": screen_lsbe(inputs, day),
            "made_in_la": screen_made_in_la(inputs, day, pilot_rules),
        },
        revenue_cap=REVENUE_CAP.on(day),
    )


def screen_text(text: str | Sequence[str], *, as_of: date | None = None) -> Screening:
    """Screen `zip=90021 employees=42 ...` (Slack text or CLI tokens). Raises ScreenerInputError."""
    return screen(parse_screening_inputs(parse_pairs(text)), as_of=as_of)


def profile_inputs(profile: Mapping[str, Any] | object) -> ScreeningInputs:
    """Screening inputs from a stored profile (a mapping or a plain object with those attributes).

    Stored data is not the user typing: a field that doesn't read (say a 4-digit ZIP) is treated
    as not given rather than raising, so a batch count never stops on one bad row.
    """
    values: dict[str, Any] = {}
    for field, key in PROFILE_FIELDS.items():
        raw = profile.get(field) if isinstance(profile, Mapping) else getattr(profile, field, None)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            values[key] = getattr(parse_screening_inputs({key: raw}), key)
        except ScreenerInputError:
            continue
    return ScreeningInputs(**values)  # each value was typed by the parser above


def screen_profile(profile: Mapping[str, Any] | object, *, as_of: date | None = None) -> Screening:
    """Screen a stored manufacturer profile. It holds no labor answers (wage violations,
    debarment, garment registration), so the pilot verdict is at best "needs review"."""
    return screen(profile_inputs(profile), as_of=as_of)
