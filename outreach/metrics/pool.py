"""The pool: how the screener judges active manufacturers' stored profiles today.

Each profile is screened when it changes (`outreach.metrics.profiles`) and its verdicts are
counted by the database (`outreach.metrics.tally`), so this reads a few counters.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from outreach.metrics.profiles import profile_facts
from outreach.metrics.tally import counts
from subscribers.eligibility import Verdict
from subscribers.models import Role, Status

PROGRAMS = {"made_in_la": "Made in LA pilot (proposed rules)", "lsbe": "LSBE preference"}
TOP_REASONS = 8


@dataclass(slots=True)
class Pool:
    as_of: dt.date
    manufacturers: int  # active manufacturers
    with_profile: int  # of those, with a business profile to screen
    verdicts: dict[str, dict[str, int]]  # program -> verdict -> manufacturers
    review_reasons: list[tuple[str, str, int]]  # program, what to ask for, manufacturers

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "manufacturers": self.manufacturers,
            "with_profile": self.with_profile,
            "verdicts": self.verdicts,
            "needs_review_reasons": [
                {"program": program, "reason": reason, "manufacturers": n}
                for program, reason, n in self.review_reasons
            ],
        }


async def collect_pool(as_of: dt.date) -> Pool:
    """The pool today; `as_of` is the day the stored verdicts hold for (see `screen_waiting_profiles`)."""
    people = await counts("person")
    manufacturers = sum(
        p.n for p in people if p.parts[0] == Status.ACTIVE.value and p.parts[1] == Role.MANUFACTURER.value
    )
    verdicts = {program: {verdict.value: 0 for verdict in Verdict} for program in PROGRAMS}
    reasons: Counter[tuple[str, str]] = Counter()
    with_profile = 0
    for fact in await profile_facts():
        kind, value = fact.parts
        if kind == "profile":
            with_profile += fact.n
        elif kind in ("verdict", "ask"):
            program, _, said = value.partition(":")
            if kind == "verdict" and program in verdicts:
                verdicts[program][said] = verdicts[program].get(said, 0) + fact.n
            elif kind == "ask":
                reasons[(program, said)] += fact.n
    top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
    return Pool(as_of, manufacturers, with_profile, verdicts, [(p, r, n) for (p, r), n in top])
