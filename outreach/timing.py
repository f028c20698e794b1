"""When campaigns go out: Los Angeles time, ISO 8601 send times and crontab expressions.

Staff think in Los Angeles time, the database stores UTC. A send time without an offset means Los
Angeles time (with its daylight-saving changes); one with an offset means exactly that instant.

Recurring schedules are standard five-field crontab expressions, read with standard cron meaning.
APScheduler 3's `CronTrigger.from_crontab` differs from cron in two ways that would surprise staff:
it counts weekdays from Monday (cron's 0 is Sunday, APScheduler's 0 is Monday, see APScheduler
issue 286), and it has no way to say "the first Tuesday". So the weekday field is translated here
into APScheduler's weekday names, and `DOW#N` (Quartz's "Nth weekday of the month", also accepted
by most cron tools) becomes APScheduler's `day="1st tue"`. The trigger itself is APScheduler's.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

LOS_ANGELES = ZoneInfo("America/Los_Angeles")

CRON_HELP = """\
A recurring schedule is a crontab expression in Los Angeles time, five fields:
minute hour day-of-month month day-of-week. Weekdays are 0-7 (0 and 7 are Sunday) or
sun, mon, tue, wed, thu, fri, sat; "2#1" means the first Tuesday of the month and "5L"
the last Friday. Examples: "0 9 * * 2#1" (first Tuesday, 9:00), "30 8 * * mon-fri"
(weekdays, 8:30), "0 10 15 * *" (the 15th, 10:00)."""

_WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_POSITIONS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th"}
_WEEKDAY = r"(?:[0-7]|sun|mon|tue|wed|thu|fri|sat)"
_NTH = re.compile(rf"^(?P<day>{_WEEKDAY})(?:#(?P<n>[1-5])|(?P<last>l))$")
_RANGE = re.compile(rf"^(?P<first>{_WEEKDAY})(?:-(?P<last>{_WEEKDAY}))?$")


class ScheduleError(ValueError):
    """A send time or schedule staff typed can't be used; the message says why and what works."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def la_time(moment: dt.datetime | None) -> str:
    """A moment as staff read it: '2026-12-01 09:00 PST'."""
    if moment is None:
        return "-"
    return moment.astimezone(LOS_ANGELES).strftime("%Y-%m-%d %H:%M %Z")


def parse_send_at(text: str, *, now: dt.datetime) -> dt.datetime:
    """An ISO 8601 date and time in the future, as UTC. No offset means Los Angeles time."""
    value = text.strip()
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise ScheduleError(
            f"{text!r} is not a date and time; use ISO 8601 like 2026-12-01T09:00 "
            "(Los Angeles time) or 2026-12-01T17:00Z"
        ) from None
    if moment.tzinfo is None:
        if len(value) <= 10:  # a bare date would mean midnight: more likely a mistake than intended
            raise ScheduleError(f"{text!r} has no time of day; add one, like {value}T09:00")
        local = moment.replace(tzinfo=LOS_ANGELES)
        if local.astimezone(dt.UTC).astimezone(LOS_ANGELES).replace(tzinfo=None) != moment:
            raise ScheduleError(
                f"{text!r} does not exist in Los Angeles (the clocks skip that hour for daylight saving)"
            )
        moment = local
    moment = moment.astimezone(dt.UTC)
    if moment <= now:
        raise ScheduleError(
            f"{text!r} ({la_time(moment)}) is in the past; it is now {la_time(now)}. "
            "Use --now to send straight away."
        )
    return moment


def cron_trigger(expression: str) -> CronTrigger:
    """An APScheduler trigger for a standard crontab expression, in Los Angeles time."""
    fields = expression.lower().split()
    if len(fields) != 5:
        raise ScheduleError(
            f"{expression!r} has {len(fields)} fields; a schedule needs 5: minute hour day month weekday, "
            'like "0 9 * * 2#1" (the first Tuesday of each month at 9:00)'
        )
    minute, hour, day, month, weekday = fields
    weekday_kwargs = _weekday_field(weekday, day_of_month=day)
    try:
        return CronTrigger(minute=minute, hour=hour, month=month, timezone=LOS_ANGELES, **weekday_kwargs)
    except ValueError as exc:
        raise ScheduleError(f"{expression!r} is not a schedule we can use: {exc}") from None


def _weekday_field(weekday: str, *, day_of_month: str) -> dict[str, str]:
    if weekday in ("*", "?"):
        return {"day": day_of_month, "day_of_week": "*"}
    if day_of_month not in ("*", "?"):
        # cron sends when EITHER field matches, APScheduler when BOTH do: refuse the ambiguity.
        raise ScheduleError(
            "give a day of the month or a weekday, not both "
            "(cron and APScheduler disagree on what that means)"
        )
    nth = _NTH.match(weekday)
    if nth:
        name = _name(nth["day"])
        position = "last" if nth["last"] else _POSITIONS[int(nth["n"])]
        return {"day": f"{position} {name}", "day_of_week": "*"}
    names = []
    for part in weekday.split(","):
        match = _RANGE.match(part)
        if not match:
            raise ScheduleError(
                f"weekday {part!r} is not understood; use 0-7 or sun-sat, a range like mon-fri, "
                "or 2#1 for the first Tuesday"
            )
        first = _number(match["first"])
        last = _number(match["last"]) if match["last"] else first
        if last < first:
            raise ScheduleError(f"weekday range {part!r} runs backwards; write it like mon-fri or 1-5")
        # Spelled out day by day: APScheduler's ranges run Monday to Sunday, cron's Sunday to Saturday.
        names += [_WEEKDAYS[number] for number in range(first, last + 1) if _WEEKDAYS[number] not in names]
    return {"day": "*", "day_of_week": ",".join(names)}


def _number(day: str) -> int:
    return int(day) if day.isdigit() else _WEEKDAYS.index(day)


def _name(day: str) -> str:
    return _WEEKDAYS[_number(day)]


def next_fire_time(trigger: CronTrigger, after: dt.datetime) -> dt.datetime:
    """The first occurrence strictly after `after`, in UTC."""
    moment: dt.datetime | None = trigger.get_next_fire_time(None, after + dt.timedelta(microseconds=1))
    if moment is None:  # only for triggers with an end date, which ours never have
        raise ScheduleError("that schedule never fires again")
    return moment.astimezone(dt.UTC)
