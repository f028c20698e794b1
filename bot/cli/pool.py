"""`madeinla pool`: who in the pool of qualified manufacturers makes something, and the products
list for ISD. The same search as `/madeinla find` and the console (`subscribers.pool`).

The terminal is a staff tool (it runs on the server), so results carry contact addresses.
The --json shapes are a contract other tools rely on: extend them, don't rename keys.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from bot.cli.common import UserError, run_with_db, settings_or_exit
from subscribers import pool as pool_service


@click.group()
def pool() -> None:
    """The pool of qualified manufacturers: search it, list products by category."""


@pool.command()
@click.argument("term", nargs=-1, required=True)
@click.option(
    "--interested", is_flag=True, help="Also list interest-form manufacturers (not qualified), apart."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000), help="Most results.")
def find(term: tuple[str, ...], interested: bool, as_json: bool, limit: int) -> None:
    """Who makes TERM: words in English or Spanish, a category or a NAICS code (camisetas, 315).

    Qualified businesses first, best match first.
    """

    async def work() -> pool_service.PoolResults:
        try:
            return await pool_service.search_pool(
                " ".join(term), interested=interested, contacts=True, limit=limit
            )
        except pool_service.BadSearch as exc:
            raise UserError(str(exc)) from None

    results = run_with_db(settings_or_exit(), work)
    if as_json:
        shape: dict[str, Any] = {
            "term": results.term,
            "qualified_total": results.qualified_total,
            "qualified": [dataclasses.asdict(item) for item in results.qualified],
        }
        if interested:
            shape["interested_total"] = results.interested_total
            shape["interested"] = [dataclasses.asdict(item) for item in results.interested]
        click.echo(json.dumps(shape, ensure_ascii=False, indent=2))
        return
    click.echo(f"{results.qualified_total} qualified manufacturer(s) make “{results.term}”")
    for item in results.qualified:
        click.echo(_line(item))
    if interested:
        click.echo(f"\n{results.interested_total} interested (interest form only, not qualified)")
        for item in results.interested:
            click.echo(_line(item))


def _line(item: pool_service.Listing) -> str:
    parts = [item.name + (" (Locally Owned)" if item.locally_owned else "")]
    parts += [
        value for value in (item.zips, item.products, item.category, item.capacity, item.email) if value
    ]
    return "  " + " · ".join(" ".join(part.split()) for part in parts)


@pool.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def products(as_json: bool) -> None:
    """The products list for ISD: each category with its number of qualified manufacturers and
    what they can supply."""
    lines = run_with_db(settings_or_exit(), pool_service.products_list)
    if as_json:
        click.echo(
            json.dumps([pool_service.products_record(line) for line in lines], ensure_ascii=False, indent=2)
        )
        return
    if not lines:
        click.echo("Nobody has qualified yet.")
    for line in lines:
        click.echo(
            f"{line.code} {line.name_en}: {line.manufacturers} qualified ({line.locally_owned} Locally Owned)"
        )
        for name, capacity in line.capacity:
            click.echo(f"  {name}: {' '.join(capacity.split()) or 'capacity not given'}")
