"""`madeinla check` and `madeinla preference`: the eligibility screener from a terminal.

They print exactly what the Slack bot replies (or, with --json, the shapes other tools read),
need no database and no settings, and turn any input mistake into one line and exit status 2.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import click

from subscribers.eligibility import (
    PREFERENCE_KEYS,
    SCREENING_KEYS,
    ScreenerInputError,
    calculate_preference,
    parse_as_of,
    parse_pairs,
    parse_preference_inputs,
    preference_to_json,
    render_preference_text,
    render_screening_text,
    screen_text,
    screening_to_json,
)


def _keys_help(keys: dict[str, str]) -> str:
    # "\b" stops click re-wrapping the list.
    width = max(len(key) for key in keys)
    return "\b\nKeys:\n" + "\n".join(f"  {key.ljust(width)}  {form}" for key, form in keys.items())


def _fail(error: ScreenerInputError) -> NoReturn:
    # Imported here: bot.cli.common loads the database layer, which these commands never use.
    from bot.cli.common import UserError

    raise UserError(str(error)) from None


def _help_if_asked(pairs: tuple[str, ...]) -> None:
    """`madeinla check help` (or `ayuda`, `?`) prints the help, as `--help` does."""
    if len(pairs) == 1 and pairs[0].strip().lower() in ("help", "ayuda", "?"):
        context = click.get_current_context()
        click.echo(context.get_help())
        context.exit(0)


def _print_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.command(
    epilog=_keys_help(SCREENING_KEYS)
    + "\n\nYes/no values take yes/no/y/n/true/false; 'unknown' leaves a key out."
    + "\n\n\b\nExample:\n  madeinla check zip=90021 since=2019-03 employees=42 revenue=4.1M naics=315250",
)
@click.argument("pairs", nargs=-1, metavar="KEY=VALUE...")
@click.option("--as-of", "as_of", metavar="DATE", help="Apply the rules in force on this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def check(pairs: tuple[str, ...], as_of: str | None, as_json: bool) -> None:
    """Does a business LOOK eligible for the LSBE preference and the Made in LA pilot?

    Only the County certifies: the answer is "looks eligible", "needs review" or "not
    eligible", with the checks and citations behind it.
    """
    _help_if_asked(pairs)
    try:
        day = parse_as_of(as_of) if as_of is not None else None
        screening = screen_text(list(pairs), as_of=day)
    except ScreenerInputError as error:
        _fail(error)
    if as_json:
        _print_json(screening_to_json(screening))
    else:
        click.echo(render_screening_text(screening))


@click.command(
    epilog=_keys_help(PREFERENCE_KEYS)
    + "\n\nRates are percents: 5% or 5; write 0.5% for half a percent (a bare 0.5 is refused as unclear)."
    + "\n\n\b\nExamples:\n  madeinla preference lowest=100000 bid=112000"
    + "\n  madeinla preference lowest=2000000 bid=2160000 --json"
    + "\n  madeinla preference purchase=non_agreement amount=4500",
)
@click.argument("pairs", nargs=-1, metavar="KEY=VALUE...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def preference(pairs: tuple[str, ...], as_json: bool) -> None:
    """Work out the LSBE bid preference (LACC 2.204.060-070) for one solicitation."""
    _help_if_asked(pairs)
    try:
        result = calculate_preference(parse_preference_inputs(parse_pairs(list(pairs))))
    except ScreenerInputError as error:
        _fail(error)
    if as_json:
        _print_json(preference_to_json(result))
    else:
        click.echo(render_preference_text(result))
