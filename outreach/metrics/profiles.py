"""What the figures know of each business profile, written when the profile changes.

The pool's verdicts come from the screener, which is Python, so a trigger can't count them: a
trigger queues the changed profile (`ProfileToScreen`), and `screen_waiting_profiles` writes its
facts (sector, products, verdicts, what to ask for), which the triggers then count for active
manufacturers. Work is in proportion to the profiles that changed, not to all of them.

Verdicts are stored with a fingerprint of the rules that made them (the screener's code and data,
and the dated values in force): a new release or a new dated value screens every profile again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from outreach.metrics.models import FigureState, ProfileFact, ProfileToScreen
from outreach.metrics.naics import sector_of
from outreach.metrics.tally import Count, counts
from subscribers import eligibility
from subscribers.eligibility import PROFILE_FIELDS, Verdict, screen_profile
from subscribers.eligibility.parameters import REVENUE_CAP
from subscribers.eligibility.verdict import Result
from subscribers.models import BusinessProfile

log = logging.getLogger(__name__)
FIELDS = tuple(PROFILE_FIELDS)
BATCH = 500
MAX_VALUE = 250  # ProfileFact.value
RULES = "rules"  # FigureState name
SCREENING_LOCK_KEY = 0x4D4C414D46  # pg_advisory_xact_lock key ("MLAMF": the figures' profile screening)
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


@cache
def _code_fingerprint() -> str:
    digest = hashlib.sha256()
    package = Path(eligibility.__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".csv"}:
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def rules_fingerprint(today: dt.date) -> str:
    """Changes when the screener's code or data changes, or a dated value comes into force."""
    in_force = [row.start.isoformat() for row in REVENUE_CAP.rows if row.start <= today]
    return f"{_code_fingerprint()}:{in_force[-1] if in_force else '-'}"


@lru_cache(maxsize=50_000)
def judge(values: tuple[Any, ...], as_of: dt.date) -> tuple[tuple[str, str], ...]:
    """("verdict", "program:verdict") for each program, then ("ask", "program:what") for every
    unknown of a needs-review, each once."""
    screening = screen_profile(dict(zip(FIELDS, values, strict=True)), as_of=as_of)
    found: list[tuple[str, str]] = []
    for program, verdict in screening.programs.items():
        found.append(("verdict", f"{program}:{verdict.verdict.value}"))
        if verdict.verdict is Verdict.NEEDS_REVIEW:
            for check in verdict.checks:
                if check.result is Result.UNKNOWN:
                    found.append(
                        ("ask", f"{program}:{ASK_FOR.get(check.id) or check.next_step or check.reason}")
                    )
    return tuple(dict.fromkeys(found))


def products_of(text: str) -> set[str]:
    """The products a profile lists (comma- or semicolon-separated), case folded."""
    return {part.strip().lower()[:MAX_VALUE] for part in text.replace(";", ",").split(",") if part.strip()}


def facts_of(profile: dict[str, Any], today: dt.date) -> list[tuple[str, str]]:
    found = [("profile", ""), ("sector", sector_of(str(profile["naics"] or "")))]
    found += [("product", product) for product in sorted(products_of(str(profile["products"] or "")))]
    try:
        verdicts = judge(tuple(profile[f] for f in FIELDS), today)
    except Exception:  # one profile the screener can't read must not stop every other one's figures
        log.exception("could not screen business profile %s for the figures", profile["id"])
        return found
    return found + [(kind, value[:MAX_VALUE]) for kind, value in verdicts]


async def screen_waiting_profiles(today: dt.date, *, batches: int | None = None) -> int:
    """Write the facts of the profiles changed since they were last screened (all of them when
    the rules changed), at most `batches` batches of BATCH (None: all); returns how many."""
    screened = 0
    while batches is None or batches > 0:
        found = await _screen_next_batch(today)
        if not found:
            break
        screened += found
        batches = None if batches is None else batches - 1
    return screened


async def _screen_next_batch(today: dt.date) -> int:
    """Screen up to BATCH waiting profiles in one transaction; how many (0: none waiting).

    On PostgreSQL one process at a time (a transaction-scoped advisory lock): two would both
    replace a profile's facts, and both sets would count. The people are locked for share while
    their facts are written, so a status change (a confirmation) waits for them and then counts
    them, instead of missing facts it can't see yet."""
    async with in_transaction() as tx:
        postgres = tx.capabilities.dialect == "postgres"
        if postgres:
            await tx.execute_query(f"SELECT pg_advisory_xact_lock({SCREENING_LOCK_KEY})")
        fingerprint = rules_fingerprint(today)
        stored = await FigureState.get_or_none(name=RULES)
        if stored is None or stored.value != fingerprint:  # new rules: screen every profile again
            await tx.execute_query(
                "INSERT INTO profile_to_screen (profile_id) SELECT id FROM business_profile"
            )
            await FigureState.update_or_create(defaults={"value": fingerprint}, name=RULES)
        waiting = await ProfileToScreen.all().order_by("id").limit(BATCH).values_list("id", "profile_id")
        if not waiting:
            return 0
        ids = sorted({int(p) for _i, p in waiting})
        profiles = await BusinessProfile.filter(id__in=ids).values("id", "subscriber_id", "products", *FIELDS)
        if postgres:
            people = sorted({int(p["subscriber_id"]) for p in profiles})
            await tx.execute_query("SELECT 1 FROM subscriber WHERE id = ANY($1::int[]) FOR SHARE", [people])
        await ProfileFact.filter(profile_id__in=ids).delete()
        await ProfileFact.bulk_create(
            [
                ProfileFact(profile_id=p["id"], subscriber_id=p["subscriber_id"], kind=kind, value=value)
                for p in profiles
                for kind, value in facts_of(p, today)
            ],
            batch_size=1000,
        )
        # Exactly the queue rows read: a change made meanwhile has its own row, screened next time.
        await ProfileToScreen.filter(id__in=[int(i) for i, _p in waiting]).delete()
        return len(ids)


async def profile_facts() -> list[Count]:
    """Active manufacturers' profile facts: ([kind, value], manufacturers)."""
    return await counts("fact")
