"""CSV import speed: the real `madeinla subscribers import` next to a bare csv + executemany baseline.

    .venv/bin/python bench/import.py                      # 100,000 rows into a fresh SQLite database
    .venv/bin/python bench/import.py --database-url postgres://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/import.py --rows 20000 --rounds 3

It writes a realistic contact list (Spanish and English names with accents, organisations with
commas in them, a UTF-8 byte-order mark as Excel writes it), then times, each on a fresh migrated
database (migration not timed):

  active   `madeinla subscribers import FILE --consent-source ...`: people and two audit events each
  pending  `madeinla subscribers import FILE`: people, one audit event and a queued confirmation each
  baseline the same file read with csv.reader and inserted with executemany in one transaction:
           no validation, no duplicate or suppression checks, no audit trail, people only

Each import is the installed command in its own process, so the figure is what staff wait for,
start-up included; its CPU time is printed too (on a shared machine it moves less than the wall
clock; PostgreSQL's own work is not in it). It checks the rows in the database afterwards. On
PostgreSQL each run gets a database of its own on the given server, dropped at the end. With
--rounds N each case keeps its fastest run. Exit status 1 if an import took longer than the
target (15 s for 100,000 rows).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cpu import children_cpu_seconds

MADEINLA = Path(sys.executable).with_name("madeinla")
TARGET_ROWS, TARGET_SECONDS = 100_000, 15.0
SOURCE = "Made in LA Coalition member list, 2026-10"

FIRST = [
    "José", "María", "Ana", "Jesús", "Sofía", "Andrés", "Lucía", "Ramón", "Inés", "Óscar",
    "Begoña", "Raúl", "Verónica", "Joaquín", "Mónica", "Héctor", "Ángela", "Iván", "Noemí", "Tomás",
    "Linh", "Minh", "Ji-woo", "Aram", "Grace", "David", "Emily", "Michael", "Sarah", "Kevin",
]  # fmt: skip
LAST = [
    "García", "Hernández", "Martínez", "López", "González", "Pérez", "Sánchez", "Ramírez", "Núñez",
    "Muñoz", "Gutiérrez", "Jiménez", "Domínguez", "Vázquez", "Peña", "Ibáñez", "Nguyen", "Kim",
    "Park", "Sarkisian", "Smith", "Johnson", "Lee", "Chen", "Cohen", "O'Brien",
]  # fmt: skip
ORG_FORMS = ["Taller {}", "{} Apparel, Inc.", "{} Foods LLC", "Confecciones {}", "{} & Sons", "{} Bakery"]
FREE_MAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com"]


def write_contact_list(path: Path, rows: int) -> None:
    rng = random.Random(2026)
    business = [f"{ascii_slug(rng.choice(LAST))}{n}.com" for n in range(2000)]
    roles = ["manufacturer"] * 7 + ["working_group", "other", ""]
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["email", "name", "organization", "role", "language", "zip"])
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            local = f"{ascii_slug(first)}.{ascii_slug(last)}"
            domain = rng.choice(FREE_MAIL) if rng.random() < 0.6 else rng.choice(business)
            writer.writerow(
                [
                    f"{local}{i}@{domain}",
                    f"{first} {last}",
                    rng.choice(ORG_FORMS).format(last) if rng.random() < 0.8 else "",
                    rng.choice(roles),
                    "es" if rng.random() < 0.55 else "en",
                    f"{rng.randint(90001, 91899)}" if rng.random() < 0.7 else "",
                ]
            )


def ascii_slug(name: str) -> str:
    """José -> jose, O'Brien -> obrien, Ji-woo -> ji-woo: what people's addresses look like."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(char for char in plain.lower() if char.isalnum() or char == "-")


# Databases ----------------------------------------------------------------------------------------


class Databases:
    """Fresh, migrated databases: SQLite files in a temporary folder, or databases on a PG server."""

    def __init__(self, workdir: Path, server_url: str | None) -> None:
        self.workdir = workdir
        self.server_url = server_url.rstrip("/") if server_url else None
        self.created: list[str] = []

    def fresh(self, name: str) -> tuple[str, dict[str, str]]:
        """A migrated database and the environment that points `madeinla` at it."""
        data_dir = self.workdir / name
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATA_DIR")}
        env["DATA_DIR"] = str(data_dir)
        if self.server_url:
            db_name = f"madeinla_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            asyncio.run(self._admin(f'CREATE DATABASE "{db_name}"'))
            self.created.append(db_name)
            url = f"{self.server_url.rpartition('/')[0]}/{db_name}"
        else:
            url = f"sqlite://{data_dir / 'madeinla.sqlite3'}"
        env["DATABASE_URL"] = url
        subprocess.run([str(MADEINLA), "migrate"], env=env, cwd=self.workdir, check=True, capture_output=True)
        return url, env

    async def _admin(self, sql: str) -> None:
        assert self.server_url
        conn = await asyncpg.connect(self.server_url.replace("postgres://", "postgresql://", 1))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def drop_all(self) -> None:
        for name in self.created:
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def count_rows(url: str, table: str) -> int:
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            return conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608

    async def count() -> int:
        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            return await conn.fetchval(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608
        finally:
            await conn.close()

    return asyncio.run(count())


# Runs ---------------------------------------------------------------------------------------------


def run_import(dbs: Databases, path: Path, rows: int, *, active: bool, label: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one `madeinla subscribers import`, checked in the database."""
    url, env = dbs.fresh(label)
    args = [str(MADEINLA), "subscribers", "import", str(path)]
    if active:
        args += ["--consent-source", SOURCE]
    cpu_before = children_cpu_seconds()
    started = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=dbs.workdir, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    cpu = children_cpu_seconds() - cpu_before
    if done.returncode != 0:
        sys.exit(f"the import failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    expected = {
        "subscriber": rows,
        "audit_event": rows * (2 if active else 1),
        "delivery": 0 if active else rows,
    }
    found = {table: count_rows(url, table) for table in expected}
    if found != expected:
        sys.exit(f"the database holds {found}, expected {expected}")
    return elapsed, cpu


BASELINE_COLUMNS = (
    "email", "name", "organization", "role", "language", "zip", "topic_pilot_updates",
    "topic_application_invitations", "topic_working_group", "status", "consent_method", "consent_at",
    "consent_source", "consent_wording_version", "created_at", "updated_at",
)  # fmt: skip


def baseline_rows(path: Path, now: dt.datetime | str) -> list[tuple]:
    same = ("active", "import", now, SOURCE, "", now, now)
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        next(reader)
        return [
            (email.lower(), name, org, role or "other", lang or "en", zip_code, True, True, False, *same)
            for email, name, org, role, lang, zip_code in reader
        ]


def run_baseline(dbs: Databases, path: Path, rows: int, *, label: str) -> float:
    url, _env = dbs.fresh(label)
    names = ", ".join(f'"{column}"' for column in BASELINE_COLUMNS)
    if url.startswith("sqlite://"):
        marks = ", ".join("?" * len(BASELINE_COLUMNS))
        started = time.perf_counter()
        conn = sqlite3.connect(url.removeprefix("sqlite://"), isolation_level=None)
        conn.execute("BEGIN")
        now = dt.datetime.now(dt.UTC).isoformat(" ")  # as Tortoise's SQLite adapter writes it
        conn.executemany(f"INSERT INTO subscriber ({names}) VALUES ({marks})", baseline_rows(path, now))  # noqa: S608
        conn.execute("COMMIT")
        conn.close()
        elapsed = time.perf_counter() - started
    else:
        marks = ", ".join(f"${i}" for i in range(1, len(BASELINE_COLUMNS) + 1))

        async def insert() -> None:
            conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
            try:
                async with conn.transaction():
                    await conn.executemany(
                        f"INSERT INTO subscriber ({names}) VALUES ({marks})",  # noqa: S608
                        baseline_rows(path, dt.datetime.now(dt.UTC)),
                    )
            finally:
                await conn.close()

        started = time.perf_counter()
        asyncio.run(insert())
        elapsed = time.perf_counter() - started
    if count_rows(url, "subscriber") != rows:
        sys.exit("the baseline did not insert every row")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1, help="repeat and keep each case's fastest run")
    parser.add_argument("--database-url", help="a PostgreSQL server URL (a database per run is made there)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    best: dict[str, tuple[float, float]] = {}
    baseline = float("inf")
    with tempfile.TemporaryDirectory(prefix="madeinla-bench-import-") as folder:
        workdir = Path(folder)
        path = workdir / "contacts.csv"
        write_contact_list(path, args.rows)
        size = path.stat().st_size
        dbs = Databases(workdir, args.database_url)
        try:
            for round_ in range(args.rounds):
                for case in ("active", "pending"):
                    run = run_import(dbs, path, args.rows, active=case == "active", label=f"{case}-{round_}")
                    best[case] = min(best.get(case, run), run)
                baseline = min(baseline, run_baseline(dbs, path, args.rows, label=f"baseline-{round_}"))
        finally:
            dbs.drop_all()

    where = "PostgreSQL" if args.database_url else "SQLite"
    rounds = f", fastest of {args.rounds} rounds" if args.rounds > 1 else ""
    python = sys.version.split()[0]
    print(f"CSV import, {args.rows:,} rows, {where} (file {size / 1e6:.1f} MB){rounds}, Python {python}")
    cores = os.cpu_count()
    print(f"  load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {cores} cores")
    labels = {"active": "import --consent-source (active)", "pending": "import (pending + confirmations)"}
    print(f"  {'':<34} {'wall':>8} {'rows/s':>9} {'CPU':>8}  vs baseline")
    for case, (seconds, cpu) in best.items():
        print(
            f"  {labels[case]:<34} {seconds:6.2f} s {args.rows / seconds:>9,.0f} {cpu:6.2f} s  "
            f"{seconds / baseline:4.1f}x"
        )
    print(f"  {'baseline: csv + executemany':<34} {baseline:6.2f} s {args.rows / baseline:>9,.0f}")
    slowest = max(seconds for seconds, _cpu in best.values())
    if args.rows != TARGET_ROWS:
        print(f"  (the target, {TARGET_SECONDS:.0f} s, is for {TARGET_ROWS:,} rows)")
        return
    verdict = "within" if slowest <= TARGET_SECONDS else "OVER"
    print(f"  target: {TARGET_SECONDS:.0f} s per import: {verdict} ({slowest:.2f} s at most)")
    sys.exit(0 if slowest <= TARGET_SECONDS else 1)


if __name__ == "__main__":
    main()
