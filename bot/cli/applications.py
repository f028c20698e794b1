"""`madeinla applications`: list and read applications to the pilot (decisions are made in the
staff console, where the answers and screening are read first).

The --json shapes are a contract other tools rely on: extend them, don't rename keys.
"""

from __future__ import annotations

import json
from typing import Any

import click

from bot.cli.common import UserError, run_with_db, settings_or_exit
from subscribers import applications as service
from subscribers.application_models import ApplicationStatus

STATUS_CHOICE = click.Choice([status.value for status in ApplicationStatus])


@click.group()
def applications() -> None:
    """Applications to the pilot: list them, show one."""


@applications.command("list")
@click.option("--status", type=STATUS_CHOICE, help="Only applications with this status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(1, 100_000))
def list_command(status: str | None, as_json: bool, limit: int) -> None:
    """Applications, newest submission first."""

    async def work() -> list[dict[str, Any]]:
        found = await service.list_applications(
            service.ApplicationFilter(status=ApplicationStatus(status) if status else None), limit=limit
        )
        return [service.application_record(application) for application in found]

    records = run_with_db(settings_or_exit(), work)
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo("No application matches.")
    for record in records:
        verdict = (record["verdict"] or "not screened").replace("_", " ")
        click.echo(
            f"#{record['id']}  {record['status']:<15} {verdict:<15} {record['submitted_at'] or '-':<32} "
            f"{record['business_name'] or '(no name yet)'}"
        )


@applications.command()
@click.argument("application_id", type=click.IntRange(1, 2**31 - 1), metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def show(application_id: int, as_json: bool) -> None:
    """One application: its answers, the screening and the staff notes."""

    async def work() -> dict[str, Any]:
        found = await service.get_application(application_id)
        if found is None:
            raise UserError(f"there is no application #{application_id}")
        application, notes = found
        return service.application_record(application, notes=notes)

    record = run_with_db(settings_or_exit(), work)
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    click.echo(f"Application #{record['id']}: {record['business_name'] or '(no name yet)'}")
    for key in ("status", "email", "language", "created_at", "submitted_at", "decided_at"):
        click.echo(f"  {key}: {record[key] or '-'}")
    click.echo("Answers:")
    for name in service.QUESTIONS:
        click.echo(f"  {name}: {' '.join(str(record['answers'].get(name, '')).split()) or '-'}")
    screening = record["screening"] or {}
    if screening.get("text"):
        click.echo("\n" + screening["text"])
    for note in record.get("notes", []):
        click.echo(f"\n{note['at']} {note['kind']} by {note['author']}: {note['text']}")
