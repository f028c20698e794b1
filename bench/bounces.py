"""Reading bounces from a mailbox: the whole path next to flufl.bounce's own detection, same run.

    .venv/bin/python bench/bounces.py                       # 10,000 messages, SQLite
    .venv/bin/python bench/bounces.py --database-url postgres://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/bounces.py --messages 2000       # quicker

A Dovecot (Debian's, as in the tests) holds N real bounce messages (the corpus's Postfix,
Dovecot and ARF samples, each made about one of N sent deliveries: 70% unknown user, 12% mailbox
full, 6% refused as spam, 5% delay warnings, 4% auto-replies, 3% complaints).

1. baseline: flufl.bounce alone over the same N messages, already in memory: parse each with the
   email package and run `all_failures` (what Mailman does first with a bounce).
2. ours: `BounceMailbox.drain_once()` against the Dovecot: fetch in batches over IMAP, read (flufl.bounce
   plus the DSN fields, ARF and auto-reply rules), match to the deliveries, apply every effect
   (delivery, person, audit trail, suppression list, events), commit, and move each message to
   Processed: what we add is storage, matching, effects and the mailbox round trips.

The baseline runs before and after ours and its mean is used; the ratio is what to compare on a
shared machine. Target: ours at least 25% of the baseline's rate.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import email
import mailbox
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flufl.bounce import all_failures

from bot.bounces import bounce_processor
from bot.db import apply_migrations, database
from bot.settings import load_settings
from outreach.bounces.mailbox import BATCH, MAX_BATCH, BounceMailbox, MailboxOptions
from outreach.bounces.models import InboundMessage
from outreach.models import Delivery, DeliveryState
from subscribers.models import Language, Role, Status, Subscriber
from tests.imapserver import PASSWORD, USER, Dovecot
from tests.outreach.bouncing import complaint, returned

MIX = [("hard", 70), ("soft", 12), ("refused", 6), ("delayed", 5), ("vacation", 4), ("complaint", 3)]


def kinds(count: int) -> list[str]:
    pattern = [kind for kind, share in MIX for _ in range(share)]
    return [pattern[i % len(pattern)] for i in range(count)]


async def make_deliveries(count: int) -> list[tuple[str, str]]:
    """N active people, each sent one message: (address, Message-ID)."""
    now = dt.datetime.now(dt.UTC)
    people = [
        Subscriber(
            email=f"person{i}@example.com",
            role=Role.MANUFACTURER,
            language=Language.EN,
            topic_pilot_updates=True,
            status=Status.ACTIVE,
            consent_at=now - dt.timedelta(days=30),
        )
        for i in range(count)
    ]
    await Subscriber.bulk_create(people, batch_size=2000)
    ids = dict(await Subscriber.all().values_list("email", "id"))
    sent = []
    rows = []
    for i in range(count):
        address = f"person{i}@example.com"
        message_id = f"<{secrets.token_hex(16)}@example.gov>"
        sent.append((address, message_id))
        rows.append(
            Delivery(
                subscriber_id=ids[address],
                address=address,
                template="pilot_update",
                state=DeliveryState.SENT,
                attempts=1,
                next_attempt_at=now,
                sent_at=now - dt.timedelta(hours=1),
                message_id=message_id,
            )
        )
    await Delivery.bulk_create(rows, batch_size=2000)
    return sent


def make_bounces(sent: list[tuple[str, str]]) -> list[bytes]:
    out = []
    for (address, message_id), kind in zip(sent, kinds(len(sent)), strict=True):
        if kind == "complaint":
            out.append(complaint(our_message_id=message_id))
        else:
            out.append(returned(kind, address=address, our_message_id=message_id))
    return out


def baseline(raws: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in raws:
        all_failures(email.message_from_bytes(raw))
    return len(raws) / (time.perf_counter() - started)


def fill(server: Dovecot, raws: list[bytes]) -> None:
    """Deliver straight into the Maildir, as a local delivery agent would (APPENDing 10,000 one by
    one makes Dovecot rewrite its index each time), then open the folder once so Dovecot has
    indexed them before the clock starts, as it has for mail delivered over time."""
    client = server.connect()  # creates the user's Maildir
    client.logout()
    box = mailbox.Maildir(server.mail / USER, create=True)
    for raw in raws:
        os.chown(server.mail / USER / "new" / box.add(raw), server.uid, server.gid)
    for path in [server.mail / USER, *(server.mail / USER).rglob("*")]:
        os.chown(path, server.uid, server.gid)
    later = time.time() + 2  # Dovecot rescans new/ when its mtime moved since its last look
    os.utime(server.mail / USER / "new", (later, later))
    client = server.connect()
    try:
        client.select("INBOX")
    finally:
        client.logout()


async def run(args: argparse.Namespace, server: Dovecot, data: Path) -> None:
    url = args.database_url or f"sqlite://{data / 'bench.sqlite3'}"
    if url.startswith("postgres"):
        base, _, _ = url.rstrip("/").rpartition("/")
        name = f"madeinla_bench_bounces_{os.getpid()}"
        admin = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = f"{base}/{name}?maxsize=10"
    try:
        await apply_migrations(url)
        settings = load_settings(
            data_dir=data,
            database_url=url,
            secret_key="bench-secret-key-0123456789",  # noqa: S106
            mail_from="Made in LA <madeinla@example.gov>",
        )
        async with database(url):
            print(f"making {args.messages} deliveries and bounces ...", flush=True)
            raws = make_bounces(await make_deliveries(args.messages))
            await asyncio.to_thread(fill, server, raws)
            print(f"mailbox filled ({sum(map(len, raws)) / 1e6:.1f} MB); measuring", flush=True)
            before = baseline(raws)
            processor = bounce_processor(settings, message_id_domain="example.gov")
            options = MailboxOptions(
                host=server.host,
                port=server.port,
                username=USER,
                password=PASSWORD,
                tls="none",
                batch=args.batch,
            )
            started = time.perf_counter()
            report = await BounceMailbox(options, processor).drain_once()
            seconds = time.perf_counter() - started
            after = baseline(raws)
            done = await InboundMessage.all().count()
            bounced = await Subscriber.filter(status=Status.BOUNCED).count()
        if done != args.messages or server.count("INBOX") != 0:
            raise SystemExit(f"only {done} of {args.messages} processed")
        ours = args.messages / seconds
        flufl = (before + after) / 2
        print(
            f"flufl.bounce alone (parse + all_failures, in memory): {flufl:8.0f} msg/s "
            f"(before {before:.0f}, after {after:.0f})"
        )
        print(
            f"ours, from the IMAP mailbox to the database and back: {ours:8.0f} msg/s "
            f"({seconds:.1f} s for {args.messages}; {report.processed} processed, {bounced} people bounced)"
        )
        print(f"ratio: {ours / flufl:.0%} of flufl.bounce's rate (target at least 25%)")
    finally:
        if url.startswith("postgres"):
            admin = await asyncpg.connect(args.database_url.replace("postgres://", "postgresql://", 1))
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--batch",
        type=int,
        default=BATCH,
        help=f"messages per IMAP fetch and transaction (at most {MAX_BATCH})",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="madeinla-bench-bounces-"))
    root.chmod(0o755)
    (root / "imap").mkdir()
    (root / "data").mkdir()
    server = Dovecot(root / "imap")
    (root / "imap").chmod(0o755)
    server.start()
    try:
        asyncio.run(run(args, server, root / "data"))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
