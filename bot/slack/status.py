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

from bot.slack.spanish import VERDICT_WORDS, say
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


def pilot_phase(today: dt.date, start: dt.date | None, language: str = "en") -> PilotPhase:
    """Where the pilot stands on `today`, given the configured start date (None: not set yet)."""
    timeline = Timeline(today, start)
    phase = timeline.phase

    def when(day: dt.date) -> str:
        return _in_days(today, day, language)

    if start is not None and timeline.last_day is not None and phase in (Phase.RUNNING, Phase.ENDED):
        last_day = timeline.last_day
        if phase == Phase.RUNNING:
            return PilotPhase(
                phase.value,
                say(
                    language,
                    f"The 12-month pilot is running: month {timeline.month} of {PILOT_MONTHS} "
                    f"(started {start}).",
                    f"El piloto de 12 meses está en marcha: mes {timeline.month} de {PILOT_MONTHS} "
                    f"(empezó el {start}).",
                ),
                say(
                    language,
                    f"The pilot ends on {last_day} ({when(last_day)}).",
                    f"El piloto termina el {last_day} ({when(last_day)}).",
                ),
            )
        return PilotPhase(
            phase.value,
            say(
                language,
                f"The 12-month pilot ran from {start} to {last_day}.",
                f"El piloto de 12 meses fue del {start} al {last_day}.",
            ),
            say(
                language,
                "Next: ISD and DEO evaluate the pilot and the Board decides what follows.",
                "Ahora: ISD y DEO evalúan el piloto y la Junta decide qué sigue.",
            ),
        )
    if start:
        start_text = say(
            language,
            f"The pilot starts on {start} ({when(start)}) and runs for {PILOT_MONTHS} months.",
            f"El piloto empieza el {start} ({when(start)}) y dura {PILOT_MONTHS} meses.",
        )
    else:
        start_text = say(
            language,
            "The 12-month pilot's start date is not set yet.",
            "Todavía no hay fecha de inicio para el piloto de 12 meses.",
        )
    if phase == Phase.BEFORE_MOTION:
        return PilotPhase(
            phase.value,
            say(
                language,
                f"The Made in Los Angeles motion goes to the Board on {MOTION_ADOPTED}.",
                f"La moción Made in Los Angeles va a la Junta de Supervisores el {MOTION_ADOPTED}.",
            ),
            say(
                language,
                "If adopted, ISD and DEO have 120 days to design the pilot.",
                "Si se aprueba, ISD y DEO tienen 120 días para diseñar el piloto.",
            ),
        )
    if phase == Phase.DESIGN:
        return PilotPhase(
            phase.value,
            say(
                language,
                f"Design: ISD and DEO are designing the pilot (motion adopted {MOTION_ADOPTED}).",
                f"Diseño: ISD y DEO están diseñando el piloto (moción aprobada el {MOTION_ADOPTED}).",
            ),
            say(
                language,
                f"Design report due to the Board on {DESIGN_REPORT_DUE} "
                f"({when(DESIGN_REPORT_DUE)}). {start_text}",
                f"El informe de diseño se entrega a la Junta el {DESIGN_REPORT_DUE} "
                f"({when(DESIGN_REPORT_DUE)}). {start_text}",
            ),
        )
    if phase == Phase.AWAITING_START:
        return PilotPhase(
            phase.value,
            say(
                language,
                f"The design report was due to the Board on {DESIGN_REPORT_DUE}; the pilot has not started.",
                f"El informe de diseño debía entregarse a la Junta el {DESIGN_REPORT_DUE}; "
                "el piloto no ha empezado.",
            ),
            say(
                language,
                f"{start_text} Staff set PILOT_START_DATE once the County fixes it.",
                f"{start_text} El personal pone PILOT_START_DATE cuando el Condado la fije.",
            ),
        )
    return PilotPhase(
        phase.value,
        say(
            language,
            f"Getting ready: the design report was due on {DESIGN_REPORT_DUE}.",
            f"En preparación: el informe de diseño debía entregarse el {DESIGN_REPORT_DUE}.",
        ),
        start_text,
    )


def _in_days(today: dt.date, day: dt.date, language: str = "en") -> str:
    days = (day - today).days
    if days == 0:
        return say(language, "today", "hoy")
    if days == 1:
        return say(language, "tomorrow", "mañana")
    if days > 0:
        return say(language, f"in {days} days", f"en {days} días")
    return say(language, f"{-days} days ago", f"hace {-days} días")


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
SPANISH_ROLE_NAMES = {
    Role.MANUFACTURER.value: "fabricantes",
    Role.WORKING_GROUP.value: "grupo de trabajo",
    Role.COUNTY_STAFF.value: "personal del Condado",
    Role.OTHER.value: "otros",
}


def render_status(
    phase: PilotPhase,
    roles: dict[str, dict[str, int]],
    profiles: ProfileVerdicts,
    campaign_lines: list[str],
    language: str = "en",
) -> str:
    """The reply. Only numbers and our own words go in here, except the campaign lines."""
    lines = [
        say(language, "*Made in LA pilot*", "*Piloto Made in LA*"),
        phase.now,
        phase.next,
        "",
        say(
            language,
            "*Subscribers* (active, with pending in brackets)",
            "*Suscriptores* (activos; entre paréntesis, los pendientes)",
        ),
    ]
    total_active = sum(by_status.get(Status.ACTIVE.value, 0) for by_status in roles.values())
    for role, name in (SPANISH_ROLE_NAMES if language == "es" else ROLE_NAMES).items():
        active = roles.get(role, {}).get(Status.ACTIVE.value, 0)
        pending = roles.get(role, {}).get(Status.PENDING.value, 0)
        waiting = say(language, f" ({pending} pending)", f" ({pending} pendientes)") if pending else ""
        lines.append(f"• {name}: {active}{waiting}")
    lines.append(say(language, f"Total active: {total_active}", f"Total activos: {total_active}"))
    lines += [
        "",
        say(
            language,
            "*Manufacturer profiles* (active manufacturers, screened from what they told us)",
            "*Perfiles de fabricantes* (fabricantes activos, evaluados con lo que nos dijeron)",
        ),
    ]
    if profiles.screened:
        capped = say(language, " (the first ones only)", " (solo los primeros)") if profiles.capped else ""
        shown = f"{profiles.screened}{capped}"
        lsbe, pilot = _verdicts(profiles.lsbe, language), _verdicts(profiles.made_in_la, language)
        lines.append(
            say(
                language,
                f"LSBE: {lsbe} of {shown}.\nMade in LA pilot: {pilot} of {shown} "
                "(profiles hold no labor answers, so at best “needs review”).",
                f"LSBE: {lsbe} de {shown}.\nPiloto Made in LA: {pilot} de {shown} "
                "(los perfiles no tienen respuestas laborales, así que como mucho “requiere revisión”).",
            )
        )
    else:
        lines.append(
            say(
                language,
                "No active manufacturer has a business profile yet.",
                "Ningún fabricante activo tiene todavía un perfil de empresa.",
            )
        )
    lines += [
        "",
        say(language, "*Campaigns*", "*Campañas*"),
        *campaign_lines,
    ]  # escaped by bot.slack.campaigns
    return "\n".join(lines)


def _verdicts(counter: Counter[Verdict], language: str = "en") -> str:
    words = VERDICT_WORDS if language == "es" else {verdict.words: verdict.words for verdict in Verdict}
    return ", ".join(f"{counter.get(verdict, 0)} {words[verdict.words]}" for verdict in Verdict)
