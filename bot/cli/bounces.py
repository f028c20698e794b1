"""`madeinla bounces`: read saved bounce messages, and list what came back.

Thin over `outreach.bounces`: `read` feeds files to the same processing function as the mailbox
poller, so a message processed one way is recognised the other way too.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from bot.cli.common import UserError, run_with_db, settings_or_exit
from bot.cli.listing import print_listing
from outreach.bounces.processing import DatabaseUnavailable, Outcome
from outreach.bounces.reports import ReportKind
from outreach.bounces.sources import SourceError, read_messages
from outreach.timing import LOS_ANGELES, la_time, utcnow

BATCH = 100
NAMES = {  # (one, several)
    "bounce": ("bounce", "bounces"),
    "delayed": ("delay warning", "delay warnings"),
    "complaint": ("complaint", "complaints"),
    "opt out": ("opt-out report", "opt-out reports"),
    "auto reply": ("auto-reply", "auto-replies"),
    "delivered": ("delivery report", "delivery reports"),
    "other report": ("other report", "other reports"),
    "unrecognised": ("unrecognised", "unrecognised"),
    "already processed": ("already processed", "already processed"),
}


@click.group()
def bounces() -> None:
    """Read saved bounce messages; list bounces and complaints."""


@bounces.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def read(paths: tuple[Path, ...]) -> None:
    """Process saved messages: .eml files, folders of them, mbox files or Maildirs.

    Each message is read once: one already processed (here or from the mailbox) changes nothing.
    Prints what each message did.
    """
    settings = settings_or_exit()

    async def work() -> collections.Counter[str]:
        from bot.runtime import build_runtime

        runtime = build_runtime(settings)
        processor = runtime.bounces
        await runtime.transport.close()
        tally: collections.Counter[str] = collections.Counter()
        batch: list[tuple[str, bytes]] = []
        try:
            for item in read_messages(list(paths), max_bytes=settings.bounce_max_message_kb * 1024):
                batch.append(item)
                if len(batch) >= BATCH:
                    await _process(processor, batch, tally)
                    batch = []
            if batch:
                await _process(processor, batch, tally)
        except SourceError as exc:
            raise UserError(str(exc)) from None
        except DatabaseUnavailable as exc:
            raise UserError(f"the database is not available ({exc}); nothing more was read") from None
        return tally

    tally = run_with_db(settings, work)
    total = sum(tally.values())
    if not total:
        raise UserError("no messages found there")
    shown = ", ".join(
        f"{count} {NAMES.get(kind, (kind, kind))[count != 1]}" for kind, count in sorted(tally.items())
    )
    click.echo(f"{total} message{'s' if total != 1 else ''}: {shown}")


async def _process(processor: Any, batch: list[tuple[str, bytes]], tally: collections.Counter[str]) -> None:
    outcomes: list[Outcome] = await processor.process([raw for _where, raw in batch], source="file")
    for (where, _raw), outcome in zip(batch, outcomes, strict=True):
        tally["already processed" if outcome.duplicate else outcome.kind.value.replace("_", " ")] += 1
        about = ""
        if outcome.delivery_id is not None:
            campaign = f"campaign {outcome.campaign_id}, " if outcome.campaign_id else ""
            about = f" [{campaign}delivery {outcome.delivery_id}, {outcome.address or 'erased'}]"
        click.echo(f"{where}: {outcome.effect}{about}")


@bounces.command(name="list")
@click.option("--since", metavar="DATE", help="From this day or time (Los Angeles), e.g. 2026-12-01.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice([kind.value for kind in ReportKind]),
    help="Only these kinds (repeatable). Default: all.",
)
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(since: str | None, kinds: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Recent bounces, complaints and other replies, newest first, with what each did (30 days by
    default)."""
    settings = settings_or_exit()
    start = _since(since)

    async def work() -> list[dict[str, Any]]:
        from outreach.bounces.history import recent_bounces

        rows = await recent_bounces(since=start, kinds=list(kinds) or None, limit=limit)
        return [row.as_json() for row in rows]

    rows = run_with_db(settings, work)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"Nothing came back since {la_time(start)}.")
        return
    listing = []
    for row in rows:
        what = row["kind"].replace("_", " ") + (f" ({row['bounce_type']})" if row["bounce_type"] else "")
        campaign = str(row["campaign_id"] or "") + (f" #{row['delivery_id']}" if row["delivery_id"] else "")
        when = la_time(dt.datetime.fromisoformat(row["at"]))
        listing.append([row["address"], when, what, row["status"], campaign, row["effect"]])
    print_listing(["Address", "When (LA)", "What", "Code", "Campaign", "What it did"], listing)


def _since(text: str | None) -> dt.datetime:
    if not text:
        return utcnow() - dt.timedelta(days=30)
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"--since {text!r}: use a date like 2026-12-01 or 2026-12-01T09:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOS_ANGELES)
