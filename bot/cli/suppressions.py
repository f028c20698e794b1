"""`madeinla suppressions`: the addresses we never mail, and staff's changes to that list.

Thin over `subscribers.registry`, where the rules are: what staff may lift (a bounce, their own
entry) and what only the person can undo (an unsubscribe, a complaint, an erasure). Every change
needs a reason and goes into the audit trail.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from bot.cli.common import UserError, run_with_db, settings_or_exit
from bot.cli.staff import actor_for, as_option
from bot.settings import Settings
from outreach.timing import la_time
from subscribers.addresses import InvalidEmail
from subscribers.registry import SuppressionError

T = TypeVar("T")
REASONS = ["unsubscribed", "bounced", "complained", "erased", "staff"]


@click.group()
def suppressions() -> None:
    """The addresses we never mail: list, add, remove (with a reason, audited)."""


@suppressions.command(name="list")
@click.option("--reason", type=click.Choice(REASONS), help="Only entries with this reason.")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(reason: str | None, limit: int, as_json: bool) -> None:
    """Newest first. An address no subscriber has any more (erased) is shown as not kept."""
    settings = settings_or_exit()

    async def work() -> list[dict[str, str | None]]:
        from subscribers.registry import list_suppressions

        rows = await list_suppressions(limit, reason)
        return [
            {"email": r.email, "reason": r.reason, "since": r.since.isoformat(), "email_hash": r.email_hash}
            for r in rows
        ]

    rows = run_with_db(settings, work)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("The suppression list is empty.")
        return
    import datetime as dt

    for row in rows:
        since = la_time(dt.datetime.fromisoformat(str(row["since"])))
        address = row["email"] or f"(address not kept; hash {str(row['email_hash'])[:12]}…)"
        click.echo(f"{since}  {row['reason']:<12}  {address}")


@suppressions.command()
@click.argument("email")
@click.option("--reason", "note", required=True, help="Why, for the audit trail.")
@as_option
def add(email: str, note: str, as_email: str | None) -> None:
    """Never mail this address again."""
    settings = settings_or_exit()

    async def work() -> bool:
        from subscribers.registry import add_suppression

        return await add_suppression(email, note=note, actor=await actor_for(as_email))

    added = _run(settings, work)
    click.echo("Added to the suppression list." if added else "That address was already suppressed.")


@suppressions.command()
@click.argument("email")
@click.option("--reason", "note", required=True, help="Why, for the audit trail.")
@as_option
def remove(email: str, note: str, as_email: str | None) -> None:
    """Take an address off the list (a fixed mailbox after a bounce, or staff's own entry)."""
    settings = settings_or_exit()

    async def work() -> str:
        from subscribers.registry import lift_suppression

        return await lift_suppression(email, note=note, actor=await actor_for(as_email))

    click.echo(f"{_run(settings, work).capitalize()}.")


def _run(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    async def guarded() -> T:
        try:
            return await work()
        except (SuppressionError, InvalidEmail) as exc:
            raise UserError(str(exc)) from None

    return run_with_db(settings, guarded)
