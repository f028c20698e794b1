"""The pool: how the screener judges active manufacturers' stored profiles today.

The database groups the profiles by the fields the screener reads, so each distinct profile is
screened once (and kept for the day in a small cache), however many manufacturers share it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tortoise.functions import Count

from subscribers.eligibility import PROFILE_FIELDS, Verdict, screen_profile
from subscribers.eligibility.verdict import Result
from subscribers.models import BusinessProfile, Role, Status, Subscriber

PROGRAMS = {"made_in_la": "Made in LA pilot (proposed rules)", "lsbe": "LSBE preference"}
TOP_REASONS = 8
# What DEO would ask a manufacturer for, by the screener's check id (others: the check's own step).
ASK_FOR = {
    "principal_place": "ZIP of the principal place of business",
    "time_in_county": "how long the business has been in the County",
    "employees": "number of employees",
    "revenue": "average yearly gross receipts",
    "certification": "State small business certification",
    "makes_goods": "whether the business makes goods (or its NAICS code)",
    "made_in_county": "ZIP where the goods are made",
    "wage_violations": "unpaid wage judgments or citations",
    "not_debarred": "whether the business is debarred",
    "garment_registration": "whether it does garment work (and its registration)",
    "no_piece_rate": "whether it does garment work (and its registration)",
}
FIELDS = tuple(PROFILE_FIELDS)


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


@lru_cache(maxsize=50_000)
def _judge(values: tuple[Any, ...], as_of: dt.date) -> tuple[tuple[str, str], ...]:
    """(program, verdict) pairs, then ("?program", reason) for every unknown of a needs-review."""
    screening = screen_profile(dict(zip(FIELDS, values, strict=True)), as_of=as_of)
    found: list[tuple[str, str]] = []
    for program, verdict in screening.programs.items():
        found.append((program, verdict.verdict.value))
        if verdict.verdict is Verdict.NEEDS_REVIEW:
            for check in verdict.checks:
                if check.result is Result.UNKNOWN:
                    found.append(("?" + program, ASK_FOR.get(check.id) or check.next_step or check.reason))
    return tuple(dict.fromkeys(found))  # a profile counts once per thing to ask for


async def collect_pool(as_of: dt.date) -> Pool:
    manufacturers = await Subscriber.filter(status=Status.ACTIVE, role=Role.MANUFACTURER).count()
    rows = (
        await BusinessProfile.filter(subscriber__status=Status.ACTIVE, subscriber__role=Role.MANUFACTURER)
        .annotate(n=Count("id"))
        .group_by(*FIELDS)
        .values_list(*FIELDS, "n")
    )
    verdicts = {program: {verdict.value: 0 for verdict in Verdict} for program in PROGRAMS}
    reasons: Counter[tuple[str, str]] = Counter()
    with_profile = 0
    for row in rows:
        n = int(row[-1])
        with_profile += n
        for key, value in _judge(tuple(row[:-1]), as_of):
            if key.startswith("?"):
                reasons[(key[1:], value)] += n
            else:
                verdicts[key][value] += n
    top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
    return Pool(as_of, manufacturers, with_profile, verdicts, [(p, r, n) for (p, r), n in top])
