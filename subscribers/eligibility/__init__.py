"""Does a business LOOK eligible for the County's LSBE preference or the Made in LA pilot?

Pure code, no I/O: only the County certifies, so the answers are "looks eligible", "needs
review" or "not eligible", each with the checks, reasons and citations behind it.

    screening = screen_text("zip=90021 since=2019-03 employees=42", as_of=date(2026, 5, 20))
    print(render_screening_text(screening))      # the Slack / CLI reply
    screening_to_json(screening)                 # the --json shape

    result = calculate_preference(parse_preference_inputs(parse_pairs("lowest=100000 bid=112000")))
    print(render_preference_text(result))
"""

from subscribers.eligibility.inputs import (
    PREFERENCE_KEYS,
    SCREENING_KEYS,
    PreferenceInputs,
    ScreenerInputError,
    ScreeningInputs,
    parse_as_of,
    parse_pairs,
    parse_preference_inputs,
    parse_screening_inputs,
)
from subscribers.eligibility.made_in_la import PILOT_RULES, PilotRule, with_rules_switched
from subscribers.eligibility.preference import PreferenceResult, calculate_preference
from subscribers.eligibility.report import (
    preference_to_json,
    render_preference_text,
    render_screening_text,
    screening_to_json,
)
from subscribers.eligibility.screening import (
    PROFILE_FIELDS,
    profile_inputs,
    screen,
    screen_profile,
    screen_text,
)
from subscribers.eligibility.verdict import CheckResult, ProgramVerdict, Result, Screening, Verdict

__all__ = [
    "PILOT_RULES",
    "PREFERENCE_KEYS",
    "PROFILE_FIELDS",
    "SCREENING_KEYS",
    "CheckResult",
    "PilotRule",
    "PreferenceInputs",
    "PreferenceResult",
    "ProgramVerdict",
    "Result",
    "ScreenerInputError",
    "Screening",
    "ScreeningInputs",
    "Verdict",
    "calculate_preference",
    "parse_as_of",
    "parse_pairs",
    "parse_preference_inputs",
    "parse_screening_inputs",
    "preference_to_json",
    "profile_inputs",
    "render_preference_text",
    "render_screening_text",
    "screen",
    "screen_profile",
    "screen_text",
    "screening_to_json",
    "with_rules_switched",
]
