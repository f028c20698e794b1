"""`madeinla report`: the pilot's figures for a period, as the Board report, its tables or JSON.

madeinla report --from 2026-10-01 --to 2026-12-31 --out q4.docx      (or .pdf)
madeinla report --from 2026-10-01 --to 2026-12-31 --format xlsx --out q4.xlsx   (or csv)
madeinla report --from 2026-10-01 --to 2026-12-31 --json
madeinla report --recount --json        (count every figure again from the records first)
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from bot.cli.common import UserError, run_with_db, settings_or_exit


@click.command()
@click.option(
    "--from", "first", metavar="DATE", help="First day, YYYY-MM-DD (default: 2026-05-05, the motion)."
)
@click.option("--to", "last", metavar="DATE", help="Last day, YYYY-MM-DD (default: today).")
@click.option(
    "--by", "grain", type=click.Choice(["week", "month"]), help="Split the period by week or month."
)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="The file to write.")
@click.option(
    "--format", "fmt", type=click.Choice(["docx", "pdf", "csv", "xlsx"]), help="Default: from --out's suffix."
)
@click.option("--json", "as_json", is_flag=True, help="Print every figure as JSON.")
@click.option(
    "--recount",
    is_flag=True,
    help="Count every figure again from the records first (after restoring a backup, or changing "
    "rows by hand with the database's triggers off).",
)
def report(
    first: str | None,
    last: str | None,
    grain: str | None,
    out: Path | None,
    fmt: str | None,
    as_json: bool,
    recount: bool,
) -> None:
    """The pilot's figures for a period: the report to the Board (.docx or .pdf), its tables (.csv or
    .xlsx), or every figure as JSON. Dates are Los Angeles days; both are included."""
    from outreach.metrics import Period, PeriodError, collect, figures_to_json
    from outreach.metrics.report import FORMATS, Format, build

    try:
        period = Period.make(first, last, grain)
    except PeriodError as exc:
        raise UserError(str(exc)) from None
    if not as_json:
        if out is None:
            raise UserError(
                "say where to write the report with --out FILE (.docx, .pdf, .csv or .xlsx), or use --json"
            )
        fmt = fmt or out.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise UserError(
                f"--out must end in .docx, .pdf, .csv or .xlsx (or give --format); got {out.name!r}"
            )
    settings = settings_or_exit()

    default: Format = "docx"
    chosen = next((f for f in FORMATS if f == fmt), default)  # checked above; the Literal the writers take

    async def work() -> bytes | str:
        if recount:
            from outreach.metrics.tally import recount as count_again

            await count_again()
        figures = await collect(period)
        if as_json:
            return json.dumps(figures_to_json(figures), indent=2, ensure_ascii=False)
        return await asyncio.to_thread(build, figures, chosen)

    result = run_with_db(settings, work)
    if isinstance(result, str):
        click.echo(result)
        return
    assert out is not None
    try:
        out.write_bytes(result)
    except OSError as exc:
        raise UserError(f"could not write {out}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {out} ({period.describe()}).")
