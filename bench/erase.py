"""Erasing a person among 100,000 deliveries: without the `delivery.address` index, then with it.

    .venv/bin/python bench/erase.py                                   # fresh SQLite file
    .venv/bin/python bench/erase.py --database-url postgres://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/erase.py --deliveries 100000 --erasures 40

Builds one migrated database with `--people` subscribers and `--deliveries` messages to them (one
pilot update each, the rest confirmations, as a year of the pilot might leave), then times
`outreach.erasure.erase` (the function the console, the CLI and Slack call) for `--erasures`
people, alternating: one with the index dropped (the baseline: the code before migration
0009_layers_delivery_address), one with it, and so on, so a neighbour's load on a shared machine
hits both alike. Prints the median and worst time of each and the ratio. On PostgreSQL the run gets
a database of its own on the given server, dropped at the end; ANALYZE runs after loading, as
autovacuum would.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tortoise.connection import get_connection

from bot.db import apply_migrations, database
from outreach.erasure import erase
from outreach.models import Campaign, CampaignKind, Delivery, DeliveryState, Priority
from subscribers.models import Status, Subscriber

BATCH = 5000


async def load(people: int, deliveries: int) -> list[str]:
    """The people and their messages; returns the addresses in insertion order."""
    addresses = [f"person{i}@example.com" for i in range(people)]
    for start in range(0, people, BATCH):
        await Subscriber.bulk_create(
            [Subscriber(email=a, status=Status.ACTIVE) for a in addresses[start : start + BATCH]]
        )
    ids = dict(await Subscriber.all().values_list("email", "id"))
    campaign = await Campaign.create(kind=CampaignKind.PILOT_UPDATE, template="pilot_update")
    now = dt.datetime.now(dt.UTC)
    rows = []
    for n in range(deliveries):
        address = addresses[n % people]
        bulk = n < people  # each person's first message is the campaign's; the rest confirmations
        rows.append(
            Delivery(
                campaign_id=campaign.id if bulk else None,
                subscriber_id=ids[address],
                address=address,
                template="pilot_update" if bulk else "confirm",
                priority=Priority.BULK if bulk else Priority.TRANSACTIONAL,
                state=DeliveryState.SENT,
                last_reply="250 2.0.0 Ok",
                next_attempt_at=now,
            )
        )
        if len(rows) == BATCH:
            await Delivery.bulk_create(rows)
            rows = []
    if rows:
        await Delivery.bulk_create(rows)
    return addresses


async def address_index() -> tuple[str, str]:
    """The name of the index on delivery(address) and the statement that makes it again."""
    conn = get_connection("default")
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT indexname AS name, indexdef AS ddl FROM pg_indexes "
            "WHERE tablename = 'delivery' AND indexdef LIKE '%(address)'"
        )
    else:
        rows = await conn.execute_query_dict(
            "SELECT name, sql AS ddl FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = 'delivery' AND sql LIKE '%(\"address\")'"
        )
    if len(rows) != 1:
        raise SystemExit(f"expected one index on delivery(address), found {rows}: is 0009 applied?")
    return rows[0]["name"], rows[0]["ddl"]


async def main(args: argparse.Namespace) -> None:
    dropped_db = None
    if args.database_url.startswith("postgres"):
        server = args.database_url.replace("postgres://", "postgresql://", 1)
        name = f"bench_erase_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(server)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = args.database_url.rsplit("/", 1)[0] + f"/{name}"
        dropped_db = (server, name)
    else:
        url = f"sqlite://{tempfile.mkdtemp(prefix='bench-erase-')}/erase.sqlite3"
    try:
        await apply_migrations(url)
        async with database(url):
            started = time.perf_counter()
            addresses = await load(args.people, args.deliveries)
            conn = get_connection("default")
            await conn.execute_script("ANALYZE")
            print(
                f"{args.deliveries:,} deliveries to {args.people:,} people loaded in "
                f"{time.perf_counter() - started:.1f} s ({conn.capabilities.dialect})"
            )
            name, ddl = await address_index()
            timings: dict[str, list[float]] = {"without index": [], "with index": []}
            victims = iter(addresses[:: max(1, len(addresses) // (args.erasures + 1))])
            for round_ in range(args.erasures):
                case = "without index" if round_ % 2 == 0 else "with index"
                if case == "without index":
                    await conn.execute_script(f'DROP INDEX "{name}"')
                else:
                    await conn.execute_script(ddl)
                address = next(victims)
                begun = time.perf_counter()
                result = await erase(address, actor="bench")
                timings[case].append(time.perf_counter() - begun)
                assert result.found and result.deliveries >= 1, result
            for case, values in timings.items():
                print(
                    f"{case:>14}: median {statistics.median(values) * 1000:7.2f} ms, "
                    f"worst {max(values) * 1000:7.2f} ms over {len(values)} erasures"
                )
            ratio = statistics.median(timings["without index"]) / statistics.median(timings["with index"])
            print(f"ratio (without / with): {ratio:.1f}x")
    finally:
        if dropped_db is not None:
            admin = await asyncpg.connect(dropped_db[0])
            await admin.execute(f'DROP DATABASE IF EXISTS "{dropped_db[1]}"')
            await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="sqlite://")
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--erasures", type=int, default=40, help="half without the index, half with")
    asyncio.run(main(parser.parse_args()))
