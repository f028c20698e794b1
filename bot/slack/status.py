"""`/madeinla status`: where the pilot stands, who has signed up, and what campaigns are doing.

Where the pilot stands comes from `outreach.timeline` (the motion of 2026-05-05, the design report
120 days later, then 12 months from PILOT_START_DATE), the calendar the emails use too; this module
only puts it into words for Slack.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from tortoise.functions import Count

from outreach.timeline import DESIGN_REPORT_DUE, MOTION_ADOPTED, PILOT_MONTHS, Phase, Timeline, add_months
from subscribers.eligibility import PROFILE_FIELDS, Verdict, screen_profile
from subscribers.models import BusinessProfile, Role, Status, Subscriber

__all__ = ["DESIGN_REPORT_DUE", "MOTION_ADOPTED", "PILOT_MONTHS", "PilotPhase", "add_months", "pilot_phase"]

# Screening every stored profile is pure but not free (~0.1 ms each): cap it to stay well inside
# Slack's 3 seconds. The reply says when the cap was reached.
PROFILE_SCREEN_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class PilotPhase:
    name: str  # before_motion, design, awaiting_start, starting, running, ended
    now: str  # where we are, one sentence
    next: str  # what comes next, one sentence


def pilot_phase(today: dt.date, start: dt.date | None) -> PilotPhase:
    """Where the pilot stands on `today`, given the configured start date (None: not set yet)."""
    timeline = Timeline(today, start)
    phase = timeline.phase
    if start is not None and timeline.last_day is not None and phase in (Phase.RUNNING, Phase.ENDED):
        last_day = timeline.last_day
        if phase == Phase.RUNNING:
            return PilotPhase(
                phase.value,
                f"The 12-month pilot is running: month {timeline.month} of {PILOT_MONTHS} (started {start}).",
                f"The pilot ends on {last_day} ({_in_days(today, last_day)}).",
            )
        return PilotPhase(
            phase.value,
            f"The 12-month pilot ran from {start} to {last_day}.",
            "Next: ISD and DEO evaluate the pilot and the Board decides what follows.",
        )
    start_text = (
        f"The pilot starts on {start} ({_in_days(today, start)}) and runs for {PILOT_MONTHS} months."
        if start
        else "The 12-month pilot's start date is not set yet."
    )
    if phase == Phase.BEFORE_MOTION:
        return PilotPhase(
            phase.value,
            f"The Made in Los Angeles motion goes to the Board on {MOTION_ADOPTED}.",
            "If adopted, ISD and DEO have 120 days to design the pilot.",
        )
    if phase == Phase.DESIGN:
        return PilotPhase(
            phase.value,
            f"Design: ISD and DEO are designing the pilot (motion adopted {MOTION_ADOPTED}).",
            f"Design report due to the Board on {DESIGN_REPORT_DUE} "
            f"({_in_days(today, DESIGN_REPORT_DUE)}). {start_text}",
        )
    if phase == Phase.AWAITING_START:
        return PilotPhase(
            phase.value,
            f"The design report was due to the Board on {DESIGN_REPORT_DUE}; the pilot has not started.",
            f"{start_text} Staff set PILOT_START_DATE once the County fixes it.",
        )
    return PilotPhase(
        phase.value,
        f"Getting ready: the design report was due on {DESIGN_REPORT_DUE}.",
        start_text,
    )


def _in_days(today: dt.date, day: dt.date) -> str:
    days = (day - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


@dataclass(frozen=True, slots=True)
class ProfileVerdicts:
    screened: int
    capped: bool
    lsbe: Counter[Verdict] = field(default_factory=Counter)
    made_in_la: Counter[Verdict] = field(default_factory=Counter)


async def subscribers_by_role() -> dict[str, dict[str, int]]:
    """`role -> status -> count`, from one grouped query."""
    rows = (
        await Subscriber.annotate(count=Count("id"))
        .group_by("role", "status")
        .values_list("role", "status", "count")
    )
    table: dict[str, dict[str, int]] = {}
    for role, status, count in rows:
        table.setdefault(str(role), {})[str(status)] = int(count)
    return table


async def screen_active_manufacturers(today: dt.date) -> ProfileVerdicts:
    """Screen the stored profiles of active manufacturers with the screener's own profile rules."""
    rows = (
        await BusinessProfile.filter(subscriber__status=Status.ACTIVE, subscriber__role=Role.MANUFACTURER)
        .order_by("id")
        .limit(PROFILE_SCREEN_LIMIT + 1)
        .values(*PROFILE_FIELDS)
    )
    capped = len(rows) > PROFILE_SCREEN_LIMIT
    result = ProfileVerdicts(screened=min(len(rows), PROFILE_SCREEN_LIMIT), capped=capped)
    for row in rows[:PROFILE_SCREEN_LIMIT]:
        screening = screen_profile(row, as_of=today)
        result.lsbe[screening.programs["lsbe"].verdict] += 1
        result.made_in_la[screening.programs["made_in_la"].verdict] += 1
    return result


ROLE_NAMES = {
    Role.MANUFACTURER.value: "manufacturers",
    Role.WORKING_GROUP.value: "working group",
    Role.COUNTY_STAFF.value: "County staff",
    Role.OTHER.value: "others",
}


def render_status(
    phase: PilotPhase,
    roles: dict[str, dict[str, int]],
    profiles: ProfileVerdicts,
    campaign_lines: list[str],
) -> str:
    """The reply. Only numbers and our own words go in here, except the campaign lines."""
    lines = [
        "*Made in LA pilot*",
        phase.now,
        phase.next,
        "",
        "*Subscribers* (active, with pending in brackets)",
    ]
    total_active = sum(by_status.get(Status.ACTIVE.value, 0) for by_status in roles.values())
    for role, name in ROLE_NAMES.items():
        active = roles.get(role, {}).get(Status.ACTIVE.value, 0)
        pending = roles.get(role, {}).get(Status.PENDING.value, 0)
        lines.append(f"• {name}: {active}" + (f" ({pending} pending)" if pending else ""))
    lines.append(f"Total active: {total_active}")
    lines += ["", "*Manufacturer profiles* (active manufacturers, screened from what they told us)"]
    if profiles.screened:
        shown = f"{profiles.screened}" + (" (the first ones only)" if profiles.capped else "")
        lines.append(
            f"LSBE: {_verdicts(profiles.lsbe)} of {shown}.\n"
            f"Made in LA pilot: {_verdicts(profiles.made_in_la)} of {shown} "
            "(profiles hold no labor answers, so at best “needs review”)."
        )
    else:
        lines.append("No active manufacturer has a business profile yet.")
    lines += ["", "*Campaigns*", *campaign_lines]  # already escaped by bot.slack.campaigns
    return "\n".join(lines)


def _verdicts(counter: Counter[Verdict]) -> str:
    return ", ".join(f"{counter.get(verdict, 0)} {verdict.words}" for verdict in Verdict)
