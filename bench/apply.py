"""The application and the pool: what a submission costs next to an interest-form sign-up, and
what a pool search costs over 20,000 businesses next to 2,000.

    .venv/bin/python bench/apply.py [--database-url postgres://postgres@127.0.0.1:5432/postgres]
                                    [--rounds 5] [--count 40] [--searches 200]

1. Submission vs sign-up, through the real app (`bot.app.create_app`, its sender off: a request
   queues its email, the sender's MIME work is not the page's) over ASGI, in turn, `--rounds` times:
   - sign-up: GET / (form, CSRF) + POST / (a complete manufacturer sign-up);
   - submission: GET /application/<link> (the form) + POST it with every answer (checks, the
     screener, the lock, the confirmation queued);
   - the whole journey, for the record: POST /apply (ask for the link) + GET + save + submit.
   Each costs CPU time of this process (client and app alike, the same client for both), per
   sign-up or submission; the ratio submission / sign-up is the target (at most 2).
2. Pool search: two databases, one with 2,000 businesses in the pool and one with 20,000, built
   the way qualification builds them (`subscribers.pool.add_to_pool`'s document, bulk-inserted),
   with the same 25 businesses making kombucha in both. Each round opens each database in turn and
   runs `search_pool` `--searches` times for a rare product ("kombucha", 25 matches in both) and,
   for the record, a common one ("camisetas": 1 business in 21, so 10 times the matches at 20,000).
   The ratio (20,000 / 2,000) for the rare product is the target (at most 1.5: an index, not a
   scan); the common one grows with its matches, which must all be ranked and counted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from tortoise import Tortoise  # noqa: E402
from tortoise.connection import get_connection  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.db import apply_migrations, database  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from subscribers.application_models import Application, PoolEntry  # noqa: E402
from subscribers.pool import search_document, search_pool  # noqa: E402
from subscribers.product_categories import CATEGORIES  # noqa: E402
from subscribers.tokens import Purpose  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ANSWERS = {
    "legal_name": "López Uniforms LLC",
    "principal_address": "1200 S Main St, Los Angeles, CA",
    "principal_zip": "90021",
    "production_zips": "90021 90011",
    "years_in_county": "8",
    "employees": "12",
    "revenue_band": "1m_5m",
    "naics": "315250",
    "cert_ca_sb": "yes",
    "cert_lsbe": "no",
    "products": "Work uniforms and t-shirts",
    "category": "315",
    "capacity": "2,000 shirts a month",
    "garment_work": "yes",
    "hourly_wage": "yes",
    "garment_registration": "GR-12345",
    "wage_judgments": "no",
    "debarred": "no",
    "contact_name": "Ana López",
    "contact_phone": "213 555 0101",
    "consent": "yes",
}
SIGNUP = {
    "name": "Ana López",
    "organization": "López Uniforms",
    "role": "manufacturer",
    "topics": "pilot_updates",
    "language": "en",
    "legal_name": "López Uniforms LLC",
    "principal_zip": "90021",
    "products": "Work uniforms",
    "naics": "315250",
    "employees": "12",
    "consent": "yes",
}
PRODUCTS = [
    "work uniforms",
    "tortillas",
    "metal shelving",
    "office chairs",
    "face masks",
    "printed signs",
    "cardboard boxes",
    "soap",
    "pan dulce",
    "hoodies",
    "leather belts",
    "tote bags",
]


def token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token"
    return found.group(1)


# 1. Submission vs sign-up --------------------------------------------------------------------------


async def submission_vs_signup(database_url: str, rounds: int, count: int) -> None:
    settings = load_settings(
        data_dir=Path(tempfile.mkdtemp(prefix="bench-apply-")),
        database_url=database_url,
        secret_key="bench-secret-key-0123456789",  # noqa: S106 (a throwaway data directory)
        form_rate_limit_per_minute=0,
        confirmations_per_mailbox_per_day=0,
        confirmations_per_domain_per_hour=0,
    )
    app = create_app(settings, run_sender=False, run_scheduler=False)
    serial = 0
    costs: dict[str, list[float]] = {"sign-up": [], "submission": [], "journey": []}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            signer = app.state.runtime.signer

            async def sign_up() -> None:
                nonlocal serial
                serial += 1
                page = await client.get("/")
                answer = await client.post(
                    "/", data={**SIGNUP, "email": f"s{serial}@bench.example", "csrf_token": token(page.text)}
                )
                assert answer.status_code == 303, answer.text

            async def draft() -> str:
                nonlocal serial
                serial += 1
                application = await Application.create(email=f"a{serial}@bench.example", language="en")
                return f"/application/{signer.sign(Purpose.APPLICATION, application.id)}"

            async def submit(path: str) -> None:
                page = await client.get(path)
                answer = await client.post(
                    path,
                    data={
                        **ANSWERS,
                        "contact_email": "ana@example.com",
                        "action": "submit",
                        "csrf_token": token(page.text),
                    },
                )
                assert answer.status_code == 303, answer.text

            async def journey() -> None:
                nonlocal serial
                serial += 1
                email = f"j{serial}@bench.example"
                page = await client.get("/apply")
                asked = await client.post(
                    "/apply", data={"email": email, "language": "en", "csrf_token": token(page.text)}
                )
                assert asked.status_code == 303
                application = await Application.get(email=email)
                path = f"/application/{signer.sign(Purpose.APPLICATION, application.id)}"
                form = await client.get(path)
                saved = await client.post(
                    path,
                    data={
                        "legal_name": "López Uniforms LLC",
                        "action": "save",
                        "csrf_token": token(form.text),
                    },
                )
                assert saved.status_code == 303
                await submit(path)

            for _ in range(3):  # warm up: templates compiled, statements prepared
                await sign_up()
                await submit(await draft())
                await journey()
            for _ in range(rounds):
                start = time.process_time()
                for _ in range(count):
                    await sign_up()
                costs["sign-up"].append((time.process_time() - start) / count)
                paths = [await draft() for _ in range(count)]
                start = time.process_time()
                for path in paths:
                    await submit(path)
                costs["submission"].append((time.process_time() - start) / count)
                start = time.process_time()
                for _ in range(count):
                    await journey()
                costs["journey"].append((time.process_time() - start) / count)
    signup = statistics.median(costs["sign-up"])
    for label, values in costs.items():
        median = statistics.median(values)
        print(
            f"  {label:<11} {median * 1000:7.2f} ms CPU each "
            f"(median of {rounds} rounds of {count})  x{median / signup:.2f}"
        )
    print(f"  submission / sign-up: {statistics.median(costs['submission']) / signup:.2f} (target <= 2)")


# 2. Pool search over 2,000 and 20,000 --------------------------------------------------------------


async def fill_pool(size: int, rng: random.Random) -> None:
    """`size` qualified businesses (one application each), 25 of them making kombucha."""
    conn = get_connection("default")
    postgres = conn.capabilities.dialect == "postgres"
    batch = 1000
    for first in range(0, size, batch):
        rows: list[Any] = []
        for number in range(first, min(size, first + batch)):
            category = CATEGORIES[number % len(CATEGORIES)]
            products = (
                "kombucha and cold brew" if number < 25 else f"{rng.choice(PRODUCTS)}, {rng.choice(PRODUCTS)}"
            )
            name = f"Business {number}"
            rows.append((number + 1, name, products, category.code, category.code + "999"))
        await Application.bulk_create(
            [
                Application(
                    id=row[0], email=f"b{row[0]}@bench.example", business_name=row[1], status="qualified"
                )
                for row in rows
            ]
        )
        await PoolEntry.bulk_create(
            [
                PoolEntry(
                    application_id=row[0],
                    name=row[1],
                    products=row[2],
                    category=row[3],
                    naics=row[4],
                    capacity="1,000 a month",
                    production_zips="90021",
                    qualified_at=dt.datetime.now(dt.UTC),
                    document=search_document(
                        name=row[1], dba="", products=row[2], category=row[3], naics=row[4]
                    ),
                )
                for row in rows
            ]
        )
    await conn.execute_script("ANALYZE pool_entry" if postgres else "ANALYZE")


async def timed_searches(term: str, searches: int) -> tuple[float, int]:
    start = time.perf_counter()
    total = 0
    for _ in range(searches):
        results = await search_pool(term)
        total = results.qualified_total
    return (time.perf_counter() - start) / searches, total


async def pool_search(database_url: str, rounds: int, searches: int) -> None:
    urls = {}
    for size in (2000, 20000):
        if database_url.startswith("postgres"):
            server = database_url.rsplit("/", 1)[0]
            name = f"bench_apply_{size}"
            admin = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
            urls[size] = f"{server}/{name}"
        else:
            urls[size] = f"sqlite://{tempfile.mkdtemp(prefix='bench-pool-')}/pool.sqlite3"
        await apply_migrations(urls[size])
        async with database(urls[size]):
            await fill_pool(size, random.Random(size))
    times: dict[tuple[int, str], list[float]] = {}
    totals: dict[tuple[int, str], int] = {}
    for _ in range(rounds):
        for size in (2000, 20000):
            async with database(urls[size]):
                for term in ("kombucha", "camisetas"):
                    await timed_searches(term, 5)  # warm
                    seconds, total = await timed_searches(term, searches)
                    times.setdefault((size, term), []).append(seconds)
                    totals[(size, term)] = total
    for term in ("kombucha", "camisetas"):
        small = statistics.median(times[(2000, term)])
        large = statistics.median(times[(20000, term)])
        print(
            f"  {term:<10} 2,000: {small * 1000:6.2f} ms ({totals[(2000, term)]} matches)   "
            f"20,000: {large * 1000:6.2f} ms ({totals[(20000, term)]} matches)   ratio {large / small:.2f}"
            + ("  (target <= 1.5)" if term == "kombucha" else "")
        )
    await Tortoise.close_connections()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="", help="postgres://... (a server: databases are made on it)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--searches", type=int, default=200)
    args = parser.parse_args()
    if args.database_url:
        server = args.database_url.rsplit("/", 1)[0]
        admin = await asyncpg.connect(args.database_url.replace("postgres://", "postgresql://", 1))
        await admin.execute('DROP DATABASE IF EXISTS "bench_apply_app"')
        await admin.execute('CREATE DATABASE "bench_apply_app"')
        await admin.close()
        app_url = f"{server}/bench_apply_app"
        label = "PostgreSQL"
    else:
        app_url = f"sqlite://{tempfile.mkdtemp(prefix='bench-apply-')}/app.sqlite3"
        label = "SQLite"
    print(f"Application and pool on {label}")
    print("Submission vs interest-form sign-up (CPU per request pair, this process):")
    await submission_vs_signup(app_url, args.rounds, args.count)
    print("Pool search (wall time per search, median of rounds):")
    await pool_search(args.database_url, args.rounds, args.searches)


if __name__ == "__main__":
    asyncio.run(main())
