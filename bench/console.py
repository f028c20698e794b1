"""Staff console speed: do people and recipients pages stay as cheap when the registry grows?

    .venv/bin/python bench/console.py                     # SQLite: 10,000 vs 100,000 people
    .venv/bin/python bench/console.py --database-url postgres://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/console.py --people 100000 --deliveries 2000000   # (the defaults)

Two databases are built side by side in the same run: the baseline with a tenth of the people and
of the deliveries (10,000 and 200,000) and the full one (100,000 people, 2,000,000 deliveries in
20 campaigns), with the same mix: names, organisations and products where about 1 in 20 people
mention "uniform", a third Spanish speakers, four roles. Building them is not timed. Then each
query the console runs, through the real service functions, is timed (median of --repeat runs,
after a warm-up) on both:

  search     `directory.search_people(text="uniform")`: the first page of a people search
  filtered   `directory.search_people(role, language, status)` at its 5th page (from the cursor)
  recipients `recipients.campaign_recipients(campaign)` at its 100th page, and filtered by state

The two are measured in turns for --rounds rounds, keeping each query's best median (the
machine is shared). It prints the absolute times and the ratio full/baseline; the target is at
most 1.5 (keyset pages and indexes: the work per page does not grow with the table). Exit status
1 if a ratio is above it.
On PostgreSQL each database is created on the given server and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.db import apply_migrations, database
from outreach.models import DeliveryState
from outreach.recipients import campaign_recipients
from subscribers.directory import PeopleFilter, search_people
from subscribers.models import Language, Role, Status

TARGET_RATIO = 1.5
CAMPAIGNS = 20
FIRST = ["José", "María", "Ana", "Jesús", "Sofía", "Linh", "Grace", "David", "Emily", "Kevin", "Raúl", "Inés"]
LAST = ["García", "López", "Núñez", "Muñoz", "Nguyen", "Kim", "Smith", "Chen", "Sarkisian", "Peña"]
WORDS = ["Apparel", "Foods", "Furniture", "Metal Works", "Printing", "Bakery", "Textiles", "Plastics"]
PRODUCTS = ["tortillas", "t-shirts", "cabinets", "brackets", "labels", "bread", "denim", "bottles"]
ROLES = [r.value for r in Role]


def person_rows(count: int, now: dt.datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(count)
    people, profiles = [], []
    for i in range(1, count + 1):
        uniform = rng.random() < 0.025
        org = f"{rng.choice(LAST)} {'Uniforms' if uniform else rng.choice(WORDS)}"
        people.append(
            (
                i,
                f"person{i}@example{i % 97}.com",
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                org,
                ROLES[i % 4],
                "es" if i % 3 == 0 else "en",
                f"900{i % 90:02d}",
                True,
                i % 2 == 0,
                i % 5 == 0,
                "active" if i % 10 else "unsubscribed",
                "import",
                now,
                "",
                "bench",
                now,
                now,
            )
        )
        if i % 5 == 0:
            product = "work uniforms" if rng.random() < 0.1 else rng.choice(PRODUCTS)
            profiles.append((i, org, f"900{i % 90:02d}", "", product, "315250", now))
    return people, profiles


PERSON_COLUMNS = (
    "id", "email", "name", "organization", "role", "language", "zip", "topic_pilot_updates",
    "topic_application_invitations", "topic_working_group", "status", "consent_method", "consent_at",
    "consent_wording_version", "consent_source", "created_at", "updated_at",
)  # fmt: skip
PROFILE_COLUMNS = (
    "subscriber_id",
    "legal_name",
    "principal_zip",
    "production_zip",
    "products",
    "naics",
    "updated_at",
)
CAMPAIGN_COLUMNS = (
    "id", "kind", "template", "subject", "audience", "context", "status", "paused_reason", "send_at", "cron",
    "created_by", "created_at", "started_at", "audience_resolved_at", "finished_at",
)  # fmt: skip
DELIVERY_COLUMNS = (
    "campaign_id", "subscriber_id", "address", "template", "language", "context", "priority", "state",
    "attempts", "next_attempt_at", "claimed_by", "last_reply", "message_id", "created_at", "sent_at",
)  # fmt: skip
STATES = ["sent"] * 8 + ["deferred", "failed"]


def delivery_rows(people: int, deliveries: int, now: dt.datetime) -> Any:
    per_campaign = deliveries // CAMPAIGNS
    for campaign in range(1, CAMPAIGNS + 1):
        for n in range(per_campaign):
            subscriber = (n * 7 + campaign) % people + 1
            state = STATES[(n + campaign) % len(STATES)]
            reply = "250 2.0.0 Ok: queued" if state == "sent" else "451 4.7.1 Try again later"
            yield (campaign, subscriber, f"person{subscriber}@example.com", "pilot_update", "en", "{}", 10,
                   state, 1, now, "", reply, "", now, now if state == "sent" else None)  # fmt: skip


def campaign_rows(now: dt.datetime) -> list[tuple[Any, ...]]:
    return [
        (
            i,
            "pilot_update",
            "pilot_update",
            "",
            "{}",
            "{}",
            "finished",
            "",
            now,
            "",
            "bench",
            now,
            now,
            now,
            now,
        )
        for i in range(1, CAMPAIGNS + 1)
    ]


async def fill(url: str, people: int, deliveries: int) -> None:
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    person_data, profile_data = person_rows(people, now)
    # Each (campaign, subscriber) pair once: the unique constraint of a real campaign.
    assert deliveries // CAMPAIGNS <= people, "more deliveries per campaign than people"
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://").split("?")[0]
        with sqlite3.connect(path) as db:
            stamp = now.isoformat(" ")

            def text(row: tuple[Any, ...]) -> tuple[Any, ...]:
                return tuple(stamp if isinstance(v, dt.datetime) else v for v in row)

            def insert(table: str, columns: tuple[str, ...], rows: Any) -> None:
                marks = ", ".join("?" * len(columns))
                names = ", ".join(columns)
                db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", (text(r) for r in rows))  # noqa: S608

            insert("subscriber", PERSON_COLUMNS, person_data)
            insert("business_profile", PROFILE_COLUMNS, profile_data)
            insert("campaign", CAMPAIGN_COLUMNS, campaign_rows(now))
            insert("delivery", DELIVERY_COLUMNS, delivery_rows(people, deliveries, now))
            db.execute("ANALYZE")
        return
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1).split("?")[0])
    try:
        await conn.copy_records_to_table("subscriber", records=person_data, columns=PERSON_COLUMNS)
        await conn.copy_records_to_table("business_profile", records=profile_data, columns=PROFILE_COLUMNS)
        await conn.copy_records_to_table("campaign", records=campaign_rows(now), columns=CAMPAIGN_COLUMNS)
        await conn.copy_records_to_table(
            "delivery", records=list(delivery_rows(people, deliveries, now)), columns=DELIVERY_COLUMNS
        )
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('subscriber', 'id'), (SELECT max(id) FROM subscriber))"
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def median_seconds(work: Callable[[], Awaitable[object]], repeat: int) -> float:
    for _ in range(3):
        await work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def cursor_for_people(filters: PeopleFilter, page: int) -> int:
    after = 0
    for _ in range(page - 1):
        found = await search_people(filters, after=after)
        assert found.next_after is not None, "not enough people for that page"
        after = found.next_after
    return after


async def cursor_for_recipients(campaign_id: int, page: int, state: DeliveryState | None) -> int:
    after = 0
    for _ in range(page - 1):
        found = await campaign_recipients(campaign_id, state=state, after=after)
        assert found.next_after is not None, "not enough recipients for that page"
        after = found.next_after
    return after


async def measure(url: str, repeat: int) -> dict[str, float]:
    results: dict[str, float] = {}
    async with database(url):
        search = PeopleFilter(text="uniform")
        found = await search_people(search)
        assert len(found.people) == 50, "the search should fill a page"
        results["search"] = await median_seconds(lambda: search_people(search), repeat)

        filtered = PeopleFilter(role=Role.MANUFACTURER, language=Language.ES, status=Status.ACTIVE)
        after = await cursor_for_people(filtered, 5)
        results["filtered (page 5)"] = await median_seconds(
            lambda: search_people(filtered, after=after), repeat
        )

        campaign = CAMPAIGNS // 2
        after_r = await cursor_for_recipients(campaign, 100, None)
        results["recipients (page 100)"] = await median_seconds(
            lambda: campaign_recipients(campaign, after=after_r), repeat
        )
        after_s = await cursor_for_recipients(campaign, 100, DeliveryState.SENT)
        results["recipients sent (page 100)"] = await median_seconds(
            lambda: campaign_recipients(campaign, state=DeliveryState.SENT, after=after_s), repeat
        )
    return results


async def build(server_url: str, label: str, people: int, deliveries: int, folder: Path) -> tuple[str, str]:
    """A migrated database filled with `people` and `deliveries`; returns (url, name to drop)."""
    if server_url.startswith("sqlite"):
        url = f"sqlite://{folder / f'{label}.sqlite3'}"
        name = ""
    else:
        base = server_url.rstrip("/").rpartition("/")[0]
        name = f"madeinla_bench_console_{label}_{uuid.uuid4().hex[:6]}"
        await admin(server_url, f'CREATE DATABASE "{name}"')
        url = f"{base}/{name}"
    started = time.perf_counter()
    await apply_migrations(url)
    await fill(url, people, deliveries)
    seconds = time.perf_counter() - started
    print(f"  built {label}: {people:,} people, {deliveries:,} deliveries in {seconds:.0f} s", flush=True)
    return url, name


async def admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="sqlite://", help="sqlite:// or a PostgreSQL server URL")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--deliveries", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = args.database_url
    engine = "SQLite" if server.startswith("sqlite") else "PostgreSQL"
    print(f"Staff console pages on {engine}: {args.people // 10:,} vs {args.people:,} people")
    with tempfile.TemporaryDirectory() as folder:
        drop = []
        try:
            base_url, base_name = await build(server, "baseline", args.people // 10, args.deliveries // 10,
                                              Path(folder))  # fmt: skip
            full_url, full_name = await build(server, "full", args.people, args.deliveries, Path(folder))
            drop = [n for n in (base_name, full_name) if n]
            # Both databases have the same dialect, so one process may use both. The machine is
            # shared and noisy: measure them in turns, a few rounds, and keep each query's best median.
            base: dict[str, float] = {}
            full: dict[str, float] = {}
            for _round in range(args.rounds):
                for url, kept in ((base_url, base), (full_url, full)):
                    for key, seconds in (await measure(url, args.repeat)).items():
                        kept[key] = min(seconds, kept.get(key, seconds))
        finally:
            for name in drop:
                await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    worst = 0.0
    print(f"{'query':<28}{'baseline ms':>13}{'full ms':>10}{'ratio':>8}")
    for key in base:
        ratio = full[key] / base[key]
        worst = max(worst, ratio)
        print(f"{key:<28}{base[key] * 1000:>13.2f}{full[key] * 1000:>10.2f}{ratio:>8.2f}")
    print(f"worst ratio {worst:.2f} (target at most {TARGET_RATIO})")
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
