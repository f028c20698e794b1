"""Pilot figures speed: does the dashboard stay as cheap when the registry and the ledger grow?

    .venv/bin/python bench/metrics.py                     # SQLite: 10,000 vs 100,000 people
    .venv/bin/python bench/metrics.py --database-url postgres://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/metrics.py --people 100000 --deliveries 2000000   # (the defaults)

Two databases are built side by side in the same run with bulk SQL (the database's triggers count
the rows into the figures' counters as they go in; then the profiles are screened and the
counters' changes folded, once, timed apart): the baseline with
a tenth of the people and deliveries (10,000 and 200,000) and the full one (100,000 people,
2,000,000 deliveries in 20 campaigns from May to November 2026), with the same mix: four roles, a
third Spanish speakers, 40 Los Angeles ZIPs, a profile for every manufacturer (varied NAICS codes,
sizes, years), each person's status events in the audit trail (sign-up, confirmation, an
unsubscribe for one in ten), invitation clicks.

Timed (best median of --repeat runs over --rounds rounds, after a warm-up; the machine is shared):

  dashboard  `outreach.metrics.collect(period)` for the dashboard's default period (since the
             motion, by month): every figure the page shows
  charts     drawing the five SVG charts from those figures (no database)
  report     a year's report to the Board: collect + .docx (once, on the full database), and the
             .pdf from the same figures

It prints the times and the ratio full/baseline (target: at most 2) and the year's report time
(target: under 10 s). Exit status 1 if either target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from console import CAMPAIGN_COLUMNS, PERSON_COLUMNS, admin, median_seconds  # the console bench's

from bot.db import apply_migrations, database
from outreach.metrics import Period, collect
from outreach.metrics.charts import charts, draw
from outreach.metrics.figures import bring_up_to_date
from outreach.metrics.profiles import screen_waiting_profiles
from outreach.metrics.report import build as build_report
from subscribers.eligibility.location import la_county_zips
from subscribers.models import Role

TARGET_RATIO = 2.0
REPORT_SECONDS = 10.0
CAMPAIGNS = 20
KINDS = ["pilot_update", "application_invitation", "working_group_notice", "pilot_update"]
ROLES = [r.value for r in Role]
NAICS = ["315250", "315210", "311812", "311830", "337110", "332710", "323111", "326199", "339999", "541511"]
PRODUCTS = [
    "tortillas, salsa",
    "t-shirts",
    "cabinets",
    "brackets; fasteners",
    "labels",
    "bread",
    "denim, jackets",
    "bottles",
    "uniforms",
    "masks, gowns",
]
START = dt.datetime(2026, 5, 6, 16, tzinfo=dt.UTC)
DAYS = 205  # to late November
TODAY = dt.date(2026, 12, 1)


def moment(seconds: float) -> dt.datetime:
    return START + dt.timedelta(seconds=seconds)


def person_rows(count: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(count)
    zips = sorted(z for z, info in la_county_zips().items() if info.active)[:40]
    people, profiles, events = [], [], []
    for i in range(1, count + 1):
        signed = moment(rng.random() * DAYS * 86400)
        role = ROLES[i % 4]
        status = "pending" if i % 17 == 0 else ("unsubscribed" if i % 10 == 0 else "active")
        zip_code = zips[i % len(zips)]
        people.append(
            (
                i,
                f"person{i}@example{i % 97}.com",
                f"Person {i}",
                "",
                role,
                "es" if i % 3 == 0 else "en",
                zip_code,
                True,
                i % 2 == 0,
                i % 5 == 0,
                status,
                "form",
                signed,
                "",
                "",
                signed,
                signed,
            )
        )
        events.append((i, "status", "", "pending", "form", signed))
        if status != "pending":
            events.append((i, "status", "pending", "active", "form", signed + dt.timedelta(hours=2)))
        if status == "unsubscribed":
            events.append((i, "status", "active", "unsubscribed", "form", signed + dt.timedelta(days=9)))
        if role == "manufacturer":
            profiles.append(
                (
                    i,
                    f"Business {i}",
                    zip_code,
                    zip_code if i % 3 else "",
                    PRODUCTS[i % len(PRODUCTS)],
                    NAICS[i % len(NAICS)],
                    rng.randint(1, 150),
                    rng.randint(0, 15),
                    [True, False, None][i % 3],
                    [True, False, None][i % 4 % 3],
                    signed,
                )
            )
    return people, profiles, events


PROFILE_COLUMNS = (
    "subscriber_id",
    "legal_name",
    "principal_zip",
    "production_zip",
    "products",
    "naics",
    "employees",
    "years_in_county",
    "ca_small_business",
    "garment_work",
    "updated_at",
)
EVENT_COLUMNS = ("subscriber_id", "action", "old_value", "new_value", "actor", "at")
DELIVERY_COLUMNS = (
    "campaign_id",
    "subscriber_id",
    "address",
    "template",
    "language",
    "context",
    "priority",
    "state",
    "attempts",
    "next_attempt_at",
    "claimed_by",
    "last_reply",
    "message_id",
    "created_at",
    "sent_at",
    "clicked_at",
)
STATES = ["sent"] * 8 + ["deferred", "failed"]


def campaign_start(campaign: int) -> dt.datetime:
    return moment((campaign - 0.5) / CAMPAIGNS * DAYS * 86400)


def campaign_rows() -> list[tuple[Any, ...]]:
    rows = []
    for i in range(1, CAMPAIGNS + 1):
        kind, at = KINDS[i % len(KINDS)], campaign_start(i)
        rows.append(
            (i, kind, kind, f"{kind} {i}", "{}", "{}", "finished", "", at, "", "bench", at, at, at, at)
        )
    return rows


def delivery_rows(people: int, deliveries: int) -> Any:
    per_campaign = deliveries // CAMPAIGNS
    for campaign in range(1, CAMPAIGNS + 1):
        kind, at = KINDS[campaign % len(KINDS)], campaign_start(campaign)
        for n in range(per_campaign):
            subscriber = (n * 7 + campaign) % people + 1
            state = STATES[(n + campaign) % len(STATES)]
            clicked = at + dt.timedelta(hours=3) if kind == "application_invitation" and n % 6 == 0 else None
            yield (
                campaign,
                subscriber,
                f"person{subscriber}@example.com",
                kind,
                "es" if subscriber % 3 == 0 else "en",
                "{}",
                10,
                state,
                1,
                at,
                "",
                "250 2.0.0 Ok",
                "",
                at,
                at if state == "sent" else None,
                clicked if state == "sent" else None,
            )


async def fill(url: str, people: int, deliveries: int) -> None:
    person_data, profile_data, event_data = person_rows(people)
    assert deliveries // CAMPAIGNS <= people, "more deliveries per campaign than people"
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://").split("?")[0]
        with sqlite3.connect(path) as db:

            def text(row: tuple[Any, ...]) -> tuple[Any, ...]:
                return tuple(v.isoformat(" ") if isinstance(v, dt.datetime) else v for v in row)

            def insert(table: str, columns: tuple[str, ...], rows: Any) -> None:
                marks, names = ", ".join("?" * len(columns)), ", ".join(columns)
                db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", (text(r) for r in rows))  # noqa: S608

            insert("subscriber", PERSON_COLUMNS, person_data)
            insert("business_profile", PROFILE_COLUMNS, profile_data)
            insert("audit_event", EVENT_COLUMNS, event_data)
            insert("campaign", CAMPAIGN_COLUMNS, campaign_rows())
            insert("delivery", DELIVERY_COLUMNS, delivery_rows(people, deliveries))
            db.execute("ANALYZE")
        return
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1).split("?")[0])
    try:
        await conn.copy_records_to_table("subscriber", records=person_data, columns=PERSON_COLUMNS)
        await conn.copy_records_to_table("business_profile", records=profile_data, columns=PROFILE_COLUMNS)
        await conn.copy_records_to_table("audit_event", records=event_data, columns=EVENT_COLUMNS)
        await conn.copy_records_to_table("campaign", records=campaign_rows(), columns=CAMPAIGN_COLUMNS)
        await conn.copy_records_to_table(
            "delivery", records=list(delivery_rows(people, deliveries)), columns=DELIVERY_COLUMNS
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def build(server_url: str, label: str, people: int, deliveries: int, folder: Path) -> tuple[str, str]:
    if server_url.startswith("sqlite"):
        url, name = f"sqlite://{folder / f'{label}.sqlite3'}", ""
    else:
        base = server_url.rstrip("/").rpartition("/")[0]
        name = f"madeinla_bench_metrics_{label}_{uuid.uuid4().hex[:6]}"
        await admin(server_url, f'CREATE DATABASE "{name}"')
        url = f"{base}/{name}"
    started = time.perf_counter()
    await apply_migrations(url)
    await fill(url, people, deliveries)
    seconds = time.perf_counter() - started
    print(f"  built {label}: {people:,} people, {deliveries:,} deliveries in {seconds:.0f} s", flush=True)
    async with database(url):
        started = time.perf_counter()
        await screen_waiting_profiles(TODAY)  # every new profile (a sweep does 10,000 at a time)
        await bring_up_to_date(TODAY)  # and fold the triggers' changes: once
        seconds = time.perf_counter() - started
    print(f"  {label}: profiles screened and counter changes folded in {seconds:.1f} s (once)", flush=True)
    if name:
        # What autovacuum does within a minute on a live server (migration 0013 sets it to act on
        # the change table early): the fold just deleted the millions of changes the load made.
        await admin(url, "VACUUM ANALYZE tally_change, tally, profile_to_screen")
    return url, name


DASHBOARD = Period.make(None, TODAY, today=TODAY)  # since the motion, by month


async def measure(url: str, repeat: int) -> dict[str, float]:
    async with database(url):
        figures = await collect(DASHBOARD, today=TODAY)
        assert figures.interest.totals.signups > 0 and figures.outreach.campaigns
        dashboard = await median_seconds(lambda: collect(DASHBOARD, today=TODAY), repeat)

        async def drawing() -> None:
            for chart in charts(figures):
                draw(chart, "svg")

        return {
            "dashboard figures": dashboard,
            "charts (5 SVG)": await median_seconds(drawing, max(3, repeat // 5)),
        }


async def year_report(url: str) -> tuple[float, float]:
    """Seconds for a year's figures + the .docx, and for the .pdf from the same figures."""
    async with database(url):
        started = time.perf_counter()
        figures = await collect(Period.make("2026-01-01", "2026-12-31", "month"), today=TODAY)
        build_report(figures, "docx")
        docx = time.perf_counter() - started
        started = time.perf_counter()
        build_report(figures, "pdf")
        return docx, time.perf_counter() - started


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="sqlite://", help="sqlite:// or a PostgreSQL server URL")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--deliveries", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    server = args.database_url
    engine = "SQLite" if server.startswith("sqlite") else "PostgreSQL"
    print(f"Pilot figures on {engine}: {args.people // 10:,} vs {args.people:,} people")
    with tempfile.TemporaryDirectory() as folder:
        drop: list[str] = []
        try:
            base_url, base_name = await build(
                server, "baseline", args.people // 10, args.deliveries // 10, Path(folder)
            )
            drop.append(base_name)
            full_url, full_name = await build(server, "full", args.people, args.deliveries, Path(folder))
            drop.append(full_name)
            base: dict[str, float] = {}
            full: dict[str, float] = {}
            for _round in range(args.rounds):
                for url, kept in ((base_url, base), (full_url, full)):
                    for key, seconds in (await measure(url, args.repeat)).items():
                        kept[key] = min(seconds, kept.get(key, seconds))
            report_seconds, pdf_seconds = await year_report(full_url)
        finally:
            for name in drop:
                if name:
                    await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    worst = 0.0
    print(f"{'figures':<24}{'baseline ms':>13}{'full ms':>10}{'ratio':>8}")
    for key in base:
        ratio = full[key] / base[key]
        if key == "dashboard figures":
            worst = ratio
        print(f"{key:<24}{base[key] * 1000:>13.1f}{full[key] * 1000:>10.1f}{ratio:>8.2f}")
    print(f"dashboard ratio {worst:.2f} (target at most {TARGET_RATIO})")
    print(f"a year's report (figures + .docx), full database: {report_seconds:.1f} s", end=" ")
    print(f"(target < {REPORT_SECONDS:.0f} s)")
    print(f"the same report as .pdf: {pdf_seconds:.1f} s more")
    return 0 if worst <= TARGET_RATIO and report_seconds < REPORT_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
