"""Text and JSON for screenings and preference answers: the same text in Slack and the terminal.

The text avoids Slack mrkdwn markup (no *, _, ~, `, <, > or &) so it reads the same in both.
The JSON shapes are a contract other tools rely on; extend them, don't rename keys.
"""

from __future__ import annotations

from typing import Any

from subscribers.eligibility.formatting import day, money, percent, to_json_number
from subscribers.eligibility.inputs import ContractType
from subscribers.eligibility.parameters import REVENUE_CAP
from subscribers.eligibility.preference import PreferenceResult
from subscribers.eligibility.verdict import ProgramVerdict, Result, Screening

SYMBOLS = {Result.PASS: "✓", Result.FAIL: "✗", Result.UNKNOWN: "?"}
DISCLAIMER = "This is a screening, not a County determination. Only the County certifies LSBEs."
PREFERENCE_DISCLAIMER = "This is an estimate, not a County determination."
# The footer's date, written once: the table is fixed while we run (formatting a date costs more
# than one might think, ~1 µs).
CAP_VERIFIED = str(REVENUE_CAP.last_verified)
FOOTER_END = f"revenue cap last verified {CAP_VERIFIED} · {DISCLAIMER}"


def render_program_text(program: ProgramVerdict) -> str:
    """One program: heading with the verdict, a line per check, next steps, notes."""
    lines = [f"{program.title}: {program.verdict.words}"]
    lines += [f"{SYMBOLS[check.result]} {check.reason} [{check.citation}]" for check in program.checks]
    if program.next_steps:
        lines.append("Next steps:\n• " + "\n• ".join(program.next_steps))
    if program.notes:
        lines.append("Note: " + "\nNote: ".join(program.notes))
    return "\n".join(lines)


def render_screening_text(screening: Screening) -> str:
    """The whole reply: each program, then the footer with the rules date and the disclaimer."""
    blocks = [render_program_text(program) for program in screening.programs.values()]
    blocks += list(screening.notes)
    blocks.append(f"Rules as of {day(screening.as_of)} · {FOOTER_END}")
    return "\n\n".join(blocks)


def screening_to_json(screening: Screening) -> dict[str, Any]:
    """`{"as_of", "programs": {"lsbe": {"verdict", "checks": [{id, result, reason, citation}]}, ...}}`."""
    cap = screening.revenue_cap
    return {
        "as_of": screening.as_of.isoformat(),
        "programs": {
            key: {
                "title": program.title,
                "verdict": program.verdict.value,
                "checks": [
                    {
                        "id": check.id,
                        "result": check.result.value,
                        "reason": check.reason,
                        "citation": check.citation,
                    }
                    for check in program.checks
                ],
                "next_steps": list(program.next_steps),
                "notes": list(program.notes),
            }
            for key, program in screening.programs.items()
        },
        "parameters": {
            "revenue_cap": None
            if cap is None
            else {
                "value": to_json_number(cap.value),
                "start": cap.start.isoformat(),
                "start_confirmed": cap.start_confirmed,
                "source": cap.source,
                "last_verified": cap.last_verified.isoformat(),
            }
        },
        "disclaimer": DISCLAIMER,
    }


def render_preference_text(result: PreferenceResult) -> str:
    revenue = result.contract_type is ContractType.REVENUE
    theirs = "Best other revenue offer" if revenue else "Lowest other bid"
    mine = "LSBE offer" if revenue else "LSBE bid"
    lines = [f"LSBE preference: {'applies' if result.applies else 'does not apply'}"]
    if result.lowest is not None and result.bid is not None:
        lines.append(f"{theirs}: {money(result.lowest)} · {mine}: {money(result.bid)}")
    if result.applies:
        assert result.lowest is not None and result.evaluated_bid is not None and result.bid is not None
        lines.append(
            f"Preference: {percent(result.rate)} of {money(result.lowest)} = {money(result.preference)} "
            f"(at most {money(result.cap)}) [{result.citation}]"
        )
        sign = "+" if revenue else "−"
        other = f" {sign} {money(result.other_preference)} other" if result.other_preference else ""
        lines.append(
            f"Evaluated {'offer' if revenue else 'bid'}: {money(result.bid)} {sign} "
            f"{money(result.preference)}{other} = {money(result.evaluated_bid)}"
        )
        lines.append(result.reason)
    else:
        lines.append(f"{result.reason} [{result.citation}]")
    lines += [f"Note: {note}" for note in result.notes]
    lines.append(PREFERENCE_DISCLAIMER)
    return "\n".join(lines)


def preference_to_json(result: PreferenceResult) -> dict[str, Any]:
    """At least `applies, rate, preference, evaluated_bid, lsbe_wins, reason` (the CLI contract)."""

    def amount(value: Any) -> int | float | None:
        return None if value is None else to_json_number(value)

    return {
        "applies": result.applies,
        "type": result.contract_type.value,
        "rate": float(result.rate),
        "preference": amount(result.preference),
        "other_preference": amount(result.other_preference),
        "cap": amount(result.cap),
        "lowest": amount(result.lowest),
        "bid": amount(result.bid),
        "evaluated_bid": amount(result.evaluated_bid),
        "lsbe_wins": result.lsbe_wins,
        "tie": result.tie,
        "award_amount": amount(result.award_amount),
        "reason": result.reason,
        "citation": result.citation,
        "notes": list(result.notes),
    }
