"""When campaign mail may go out (SEND_WINDOW) and how fast to each large mail provider
(SEND_RATE_PER_DOMAIN).

A send window is what a County mail administrator writes on a change request: weekdays and hours,
in Los Angeles time unless another zone is named: `Mon-Fri 08:00-18:00`, `Mon-Fri 08:00-18:00,
Sat 09:00-12:00`, `Mon-Sun 07:00-21:00 America/New_York`, or `always`. Campaigns go out only
inside it (people read mail in the morning, and a campaign that goes wrong at 2 a.m. has nobody to
pause it); confirmations and other mail a person just asked for go out at any time.

Both are parsed here, once, at start-up (bot.settings calls these functions), so a bad value
stops the service with one line that says what is wrong and what works.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WINDOW_HELP = 'like "Mon-Fri 08:00-18:00", "Mon-Fri 08:00-18:00, Sat 09:00-12:00" or "always"'
_PART = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$"
)
_RATE = re.compile(r"^(?P<count>\d+)\s*/\s*(?P<unit>m|min|minute|h|hour|d|day)$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class RuleError(ValueError):
    """A SEND_WINDOW or SEND_RATE_PER_DOMAIN value can't be used; the message says why."""


@dataclass(frozen=True, slots=True)
class _Span:
    day: int  # 0 = Monday
    start: dt.time
    end: dt.time  # exclusive; 24:00 is written as time.max


@dataclass(frozen=True, slots=True)
class SendWindow:
    """The hours campaign mail may go out. `spans` empty means always."""

    spans: tuple[_Span, ...] = ()
    zone: ZoneInfo = LOS_ANGELES
    text: str = "always"

    @property
    def always(self) -> bool:
        return not self.spans

    def is_open(self, now: dt.datetime) -> bool:
        if self.always:
            return True
        local = now.astimezone(self.zone)
        clock = local.time().replace(tzinfo=None)
        return any(s.day == local.weekday() and s.start <= clock < s.end for s in self.spans)

    def closes_at(self, now: dt.datetime, _days: int = 0) -> dt.datetime | None:
        """When the window open at `now` closes (UTC); None when it is closed or always open."""
        if self.always or _days > 7:
            return None
        local = now.astimezone(self.zone)
        clock = local.time().replace(tzinfo=None)
        for span in self.spans:
            if span.day == local.weekday() and span.start <= clock < span.end:
                end = self._at(local.date(), span.end)
                # A span to midnight followed by one from midnight is one window.
                following = self.closes_at(end, _days + 1) if span.end == dt.time.max else None
                return following or end
        return None

    def next_open(self, now: dt.datetime) -> dt.datetime:
        """`now` if the window is open, else when it next opens (UTC)."""
        if self.is_open(now):
            return now.astimezone(dt.UTC)
        local = now.astimezone(self.zone)
        for days_ahead in range(8):
            day = local.date() + dt.timedelta(days=days_ahead)
            starts = sorted(s.start for s in self.spans if s.day == day.weekday())
            for start in starts:
                moment = self._at(day, start)
                if moment > now:
                    return moment
        raise AssertionError("a window with spans opens within a week")  # pragma: no cover

    def _at(self, day: dt.date, clock: dt.time) -> dt.datetime:
        if clock == dt.time.max:
            return self._at(day + dt.timedelta(days=1), dt.time(0, 0))
        # fold=0 and a round trip through UTC: a time the clocks skip (2:30 on the spring-forward
        # night) becomes the moment just after the gap, never a moment that doesn't exist.
        local = dt.datetime.combine(day, clock, tzinfo=self.zone)
        return local.astimezone(dt.UTC)

    def describe(self) -> str:
        return "any time" if self.always else self.text


def parse_send_window(text: str) -> SendWindow:
    """SEND_WINDOW: weekday ranges with hours, comma-separated, an optional time zone at the end."""
    value = " ".join(text.split())
    if value.lower() in ("always", "any", "none", ""):
        return SendWindow()
    zone = LOS_ANGELES
    head, _, last = value.rpartition(" ")
    if "/" in last or last.upper() == "UTC":
        try:
            zone = ZoneInfo(last)
        except (ZoneInfoNotFoundError, ValueError):
            raise RuleError(f"{last!r} is not a time zone; use one like America/Los_Angeles") from None
        value = head
    spans: list[_Span] = []
    for part in (p.strip().lower() for p in value.split(",")):
        match = _PART.match(part)
        if not match:
            raise RuleError(f"{part!r} is not days and hours; write the window {WINDOW_HELP}")
        first, last_day = match["first"], match["last"] or match["first"]
        for day in (first, last_day):
            if day not in DAYS:
                raise RuleError(f"{day!r} is not a weekday; use Mon, Tue, Wed, Thu, Fri, Sat, Sun")
        start, end = _clock(match["start"]), _clock(match["end"])
        if end <= start:
            raise RuleError(
                f"{part!r} ends before it starts; a window can't run past midnight, "
                'write two parts instead, like "Mon-Fri 20:00-24:00, Tue-Sat 00:00-06:00"'
            )
        a, b = DAYS.index(first), DAYS.index(last_day)
        days = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]  # Sat-Mon wraps
        spans += [_Span(day, start, end) for day in days]
    return SendWindow(tuple(spans), zone, text.strip())


def _clock(text: str) -> dt.time:
    hours, minutes = (int(x) for x in text.split(":"))
    if (hours, minutes) == (24, 0):
        return dt.time.max
    if hours > 23 or minutes > 59:
        raise RuleError(f"{text!r} is not a time of day; use 00:00 to 24:00")
    return dt.time(hours, minutes)


@dataclass(frozen=True, slots=True)
class DomainLimit:
    domain: str
    count: int
    per: str  # "m", "h" or "d"


def parse_domain_limits(text: str) -> dict[str, DomainLimit]:
    """SEND_RATE_PER_DOMAIN: `gmail.com=600/h,yahoo.com=300/h` (per minute /m, hour /h, day /d)."""
    limits: dict[str, DomainLimit] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        domain, equals, rate = (x.strip().lower() for x in part.partition("="))
        if not equals:
            raise RuleError(f"{part!r} has no '='; write domain=count/unit, like gmail.com=600/h")
        if not _DOMAIN.match(domain):
            raise RuleError(f"{domain!r} is not a mail domain, like gmail.com")
        match = _RATE.match(rate)
        if not match or int(match["count"]) < 1:
            raise RuleError(f"{rate!r} is not a rate; write a number of messages per m, h or d, like 600/h")
        if domain in limits:
            raise RuleError(f"{domain} is given twice")
        limits[domain] = DomainLimit(domain, int(match["count"]), match["unit"][0])
    return limits
