"""`madeinla subscribers`: import a contact list, list, export and erase people (for DEO staff).

Thin over `subscribers.importing`, `subscribers.directory` and `subscribers.erasure`: these commands
parse options, call them and print. Results go to stdout; the progress bar goes to stderr and only
when stderr is a terminal, so piping or redirecting output stays clean.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.cli.common import UserError, run_with_db, settings_or_exit
from bot.cli.listing import Listing
from bot.cli.staff import actor_for, as_option
from outreach import contact_import
from outreach import erasure as mail_erasure
from subscribers import directory, erasure, importing
from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.models import Language, Role, Status, Topic
from subscribers.staff_audit import record_action

SHOWN_LINES = 20  # skipped/rejected lines printed before "... and N more"
TABLE_LIMIT = 100  # people a table shows unless --limit says otherwise

STATUS_CHOICE = click.Choice([status.value for status in Status])
ROLE_CHOICE = click.Choice([role.value for role in Role])


@click.group()
def subscribers() -> None:
    """Import, list, export and erase subscribers."""


# import -------------------------------------------------------------------------------------------


def _topics_option(ctx: click.Context, param: click.Parameter, value: str | None) -> frozenset[Topic] | None:
    if value is None:
        return None
    try:
        topics = importing.parse_topics(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if not topics:
        raise click.BadParameter(f"name at least one topic: {', '.join(Topic)}")
    return topics


IMPORT_EPILOG = """\b
COLUMNS
  email         required; the header row must name it
  name          optional, up to 200 characters
  organization  optional (also: organisation, company)
  role          manufacturer, working_group, county_staff or other
  language      en or es (also: English, Spanish, Español)
  zip           a ZIP code like 90011
  topics        pilot_updates, application_invitations, working_group (separated by ;)
Other columns are ignored and named in the summary.

\b
TOPICS BY ROLE (when neither the row nor --topics gives them)
  manufacturer   pilot_updates, application_invitations
  working_group  pilot_updates, application_invitations, working_group
  county_staff   pilot_updates
  other          pilot_updates

\b
EXIT STATUS
  0  imported (with --skip-invalid, even if lines were rejected; with --dry-run, it would be)
  1  the registry changed while importing (someone signed up): nothing imported, run it again
  2  nothing imported: the file or some of its lines were rejected, or the --report file
     can't be created (checked before anything is imported)
  3  imported, but writing the --report file failed afterwards (the summary says what was imported)
"""


@subscribers.command("import", epilog=IMPORT_EPILOG, short_help="Import people from a CSV contact list.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--role", type=ROLE_CHOICE, help="Role for rows without one of their own (default: other).")
@click.option(
    "--topics",
    metavar="a,b",
    callback=_topics_option,
    help="Topics for rows without their own, instead of the role's defaults (see below).",
)
@click.option(
    "--language",
    type=click.Choice([language.value for language in Language]),
    help="Language for rows without one of their own (default: en).",
)
@click.option(
    "--consent-source",
    metavar="TEXT",
    help="Where these people agreed to be emailed, e.g. 'Made in LA Coalition member list, 2026-10'. "
    "With it they are active at once; without it they are pending and get a confirmation email.",
)
@click.option("--dry-run", is_flag=True, help="Check everything and show what would happen; write nothing.")
@click.option(
    "--skip-invalid", is_flag=True, help="Import the valid lines even when other lines are rejected."
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write every skipped and rejected line, with its reason, to this CSV file.",
)
@as_option
def import_command(
    file: Path,
    role: str | None,
    topics: frozenset[Topic] | None,
    language: str | None,
    consent_source: str | None,
    dry_run: bool,
    skip_invalid: bool,
    report: Path | None,
    as_email: str | None,
) -> None:
    """Import people from a CSV contact list (FILE, or - for standard input).

    The first row names the columns; only email is required. Save spreadsheets as "CSV UTF-8"
    (a byte-order mark is fine); values may be separated by commas, semicolons or tabs.

    Every line is checked before anything is written. If any line is rejected, nothing is
    imported and every rejected line is listed with its reason: a rejected line usually means a
    shifted column or the wrong file, and people imported without --consent-source are emailed,
    so it is safer to fix the file and import it again (people already imported are skipped, so
    that is safe too). --skip-invalid imports the valid lines anyway. The import is one database
    transaction: it is written completely or not at all.

    Addresses already in the registry are skipped and left as they are, and so are addresses
    that unsubscribed, bounced, complained or were erased: an import never subscribes anyone
    again. With --consent-source people are active at once; without it they are pending, and
    the running service (madeinla serve or worker) sends each a confirmation email.
    """
    settings = settings_or_exit()
    source = None
    if consent_source is not None:
        try:
            source = importing.clean_consent_source(consent_source)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    defaults = importing.Defaults(
        role=Role(role) if role else None,
        language=Language(language) if language else None,
        topics=topics,
    )
    name = "standard input" if str(file) == "-" else file.name
    result: importing.ImportReport | None = None
    try:
        with contextlib.ExitStack() as report_file:
            # The report is created (empty, not yet in place) before anything is imported, so a
            # path we can't write stops the command while nothing has changed.
            report_stream = _open_report(report_file, report) if report is not None else None
            with _ImportProgress() as progress:
                try:
                    with click.open_file(str(file), "rb") as stream:
                        data = importing.read_limited(stream)
                    parsed = importing.read_csv(data, defaults, on_progress=progress)
                except importing.ImportFileError as exc:
                    raise UserError(f"{name}: {exc}") from None
                except OSError as exc:
                    raise UserError(f"could not read {name}: {exc.strerror or exc}") from None

                async def work() -> importing.ImportReport:
                    actor = await actor_for(as_email)
                    done = await contact_import.import_people(
                        parsed,
                        consent_source=source,
                        skip_invalid=skip_invalid,
                        dry_run=dry_run,
                        on_progress=progress,
                    )
                    if done.written:
                        how = f"consent: {source}" if source else "pending, confirmation emails"
                        await record_action(
                            actor, "people.import", detail=f"{done.imported} people from {name}, {how}"
                        )
                    return done

                try:
                    result = run_with_db(settings, work)
                except importing.ImportConflict as exc:
                    raise click.ClickException(str(exc)) from None

            _print_import_summary(
                name, parsed, result, source=source, dry_run=dry_run, skip_invalid=skip_invalid
            )
            if report_stream is not None:
                _write_report(report_stream, result)
    except OSError as exc:  # writing the report, after the import (opening it is checked above)
        if result is None:
            raise
        _report_failed(report, exc, imported=result.written)
    if result.rejected and not skip_invalid:
        sys.exit(2)


def _open_report(stack: contextlib.ExitStack, path: Path) -> TextIO:
    """Create the --report file's partial copy now; it is put in place when `stack` closes."""
    try:
        return stack.enter_context(directory.export_file(path, force=True))
    except OSError as exc:
        raise UserError(
            f"can't write the report {path}: {exc.strerror or exc}. Nothing was imported."
        ) from None


def _report_failed(path: Path | None, exc: OSError, *, imported: bool) -> None:
    """Writing the report failed after the import: say so without hiding what the import did."""
    reason = f"could not write the report {path}: {exc.strerror or exc}."
    if not imported:
        raise UserError(reason)
    click.echo(
        f"Error: {reason} The import itself is done (see the summary above); running it again "
        "skips the people it added, so it is safe to run it again to get the report.",
        err=True,
    )
    sys.exit(3)


class _ImportProgress:
    """The import's phases as rich progress bars on stderr (nothing when stderr isn't a terminal)."""

    def __init__(self) -> None:
        self.labels = {"read": "Reading the file", "check": "Comparing with the registry", "write": "Writing"}
        console = Console(stderr=True)
        self.bars = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        self.tasks: dict[str, Any] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase not in self.tasks:
            self.tasks[phase] = self.bars.add_task(self.labels.get(phase, phase), total=total)
        self.bars.update(self.tasks[phase], completed=done, total=total)

    def __enter__(self) -> _ImportProgress:
        self.bars.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.bars.stop()


def _print_import_summary(
    name: str,
    parsed: importing.ParsedFile,
    result: importing.ImportReport,
    *,
    source: str | None,
    dry_run: bool,
    skip_invalid: bool,
) -> None:
    echo = click.echo
    echo(f"{name}: {result.rows:,} {_plural(result.rows, 'line')} with people.")
    if parsed.ignored_columns:
        ignored = ", ".join(importing.shown(column, 30) for column in parsed.ignored_columns)
        echo(f"Ignored columns: {ignored}.")
    blocked = bool(result.rejected) and not skip_invalid
    how = "active" if result.status == Status.ACTIVE else "pending"
    people = f"{result.candidates:,} new {_plural(result.candidates, 'person', 'people')} as {how}"
    if result.written:
        echo(f"Imported {people}.")
    elif not result.candidates:
        echo("No new people to import." + (" Nothing was written." if dry_run else ""))
    elif blocked:
        echo(f"Nothing was imported (see the rejected lines below). The file has {people}.")
    else:
        echo(f"Dry run: nothing was written. Would import {people}.")
    if result.candidates:
        echo("  By role: " + ", ".join(f"{role} {count:,}" for role, count in result.by_role.items()) + ".")
        if source:
            echo(f"  Consent source: {importing.shown(source, 200)}.")
        if result.confirmations:
            emails = _plural(result.confirmations, "email")
            echo(
                f"  Queued {result.confirmations:,} confirmation {emails}: the running service sends "
                "them, and people become active when they confirm."
            )
    _print_notes("Skipped", result.skipped)
    _print_notes("Rejected", result.rejected)
    if blocked:
        count = len(result.rejected)
        lines, them = _plural(count, "line was", "lines were"), _plural(count, "it", "them")
        click.echo(
            f"Nothing was imported because {count:,} {lines} rejected. Fix {them} and run the import "
            "again, or add --skip-invalid to import the valid lines only.",
            err=True,
        )


def _print_notes(title: str, notes: list[importing.LineNote]) -> None:
    if not notes:
        return
    click.echo(f"{title} {len(notes):,} {_plural(len(notes), 'line')}:")
    for note in notes[:SHOWN_LINES]:
        click.echo(f"  {note}")
    if len(notes) > SHOWN_LINES:
        click.echo(f"  ... and {len(notes) - SHOWN_LINES:,} more (--report FILE lists every line)")


def _write_report(stream: TextIO, result: importing.ImportReport) -> None:
    """Every skipped and rejected line as CSV (it names people, so it is private like an export)."""
    notes = [("skipped", note) for note in result.skipped] + [("rejected", note) for note in result.rejected]
    notes.sort(key=lambda item: item[1].line)
    writer = csv.writer(stream)
    writer.writerow(["line", "outcome", "reason"])
    for outcome, note in notes:
        writer.writerow([note.line, outcome, directory.spreadsheet_safe(note.reason)])


def _plural(count: int, one: str, many: str | None = None) -> str:
    return one if count == 1 else (many or one + "s")


# list ---------------------------------------------------------------------------------------------


@subscribers.command("list", short_help="List subscribers: a table, or JSON with --json.")
@click.option("--status", type=STATUS_CHOICE, help="Only people with this status.")
@click.option("--role", type=ROLE_CHOICE, help="Only people with this role.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (everyone, unless --limit).")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    help=f"Show at most this many people (0: no limit). The table shows {TABLE_LIMIT} by default.",
)
def list_command(status: str | None, role: str | None, as_json: bool, limit: int | None) -> None:
    """List subscribers, oldest first: a table, or JSON with --json.

    In the table, topics are shortened: updates (pilot_updates), invitations
    (application_invitations) and wg (working_group).

    The JSON array holds one object per person with id, email, name, organization, role,
    status, language, zip, topics (a list), consent_method, consent_at, consent_source,
    consent_wording_version and created_at. Both stream, so long lists start at once.
    """
    settings = settings_or_exit()
    wanted_status = Status(status) if status else None
    wanted_role = Role(role) if role else None
    if limit == 0 or (limit is None and as_json):
        limit = None
    elif limit is None:
        limit = TABLE_LIMIT

    async def work() -> None:
        people = directory.iter_people(status=wanted_status, role=wanted_role, limit=limit)
        if as_json:
            await _print_json(people)
            return
        shown = await _print_table(people)
        total = await directory.count_people(status=wanted_status, role=wanted_role)
        if total == 0:
            click.echo("No subscribers" + (" match." if status or role else " yet."))
        elif shown < total:
            click.echo(f"{shown:,} of {total:,} shown: --limit 0 shows everyone.")
        else:
            click.echo(f"{total:,} {_plural(total, 'subscriber')}.")

    run_with_db(settings, work)


async def _print_json(people: Any) -> None:
    """A JSON array written as the rows arrive, one object per line."""
    first = True
    async for person in people:
        click.echo(("[\n  " if first else ",\n  ") + json.dumps(person, ensure_ascii=False), nl=False)
        first = False
    click.echo("[]" if first else "\n]")


TOPIC_LABELS = {"pilot_updates": "updates", "application_invitations": "invitations", "working_group": "wg"}

# title, record key
TABLE_COLUMNS = (
    ("id", "id"),
    ("email", "email"),
    ("name", "name"),
    ("role", "role"),
    ("status", "status"),
    ("lang", "language"),
    ("topics", "topics"),
    ("created", "created_at"),
)


async def _print_table(people: Any) -> int:
    """Print the people a page at a time, as a table if it fits the terminal, else one block each."""
    listing = Listing([title for title, _key in TABLE_COLUMNS], heading=1)
    page: list[dict[str, Any]] = []
    count = 0
    async for person in people:
        page.append(person)
        if len(page) == directory.PAGE_SIZE:
            listing.print_page([_row(person) for person in page])
            count += len(page)
            page = []
    if page:
        listing.print_page([_row(person) for person in page])
        count += len(page)
    return count


def _row(person: dict[str, Any]) -> list[str]:
    topics = " ".join(TOPIC_LABELS[topic] for topic in person["topics"])
    values = {**person, "topics": topics, "created_at": (person["created_at"] or "")[:10]}
    return [str(values[key]) for _title, key in TABLE_COLUMNS]


# export -------------------------------------------------------------------------------------------


@subscribers.command("export", short_help="Write every subscriber to a CSV file.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--status", type=STATUS_CHOICE, help="Only people with this status.")
@click.option("--role", type=ROLE_CHOICE, help="Only people with this role.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def export_command(file: Path, status: str | None, role: str | None, force: bool) -> None:
    """Write every subscriber, with their business profile, to a CSV file.

    The file is UTF-8 with a byte-order mark (so Excel shows accents correctly) and a header
    row; topics are separated by ";". Values that a spreadsheet would run as a formula (starting
    with = + - @, a tab or a carriage return) get a leading apostrophe, so they show as text.
    The file is readable only by you, since it holds personal data, and it appears only once
    complete. An existing FILE is not replaced unless you pass --force.
    """
    settings = settings_or_exit()
    try:
        with directory.export_file(file, force=force) as stream:

            async def work() -> int:
                return await directory.write_export(
                    stream, status=Status(status) if status else None, role=Role(role) if role else None
                )

            count = run_with_db(settings, work)
    except (FileExistsError, IsADirectoryError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:  # the database's own errors were reported by run_with_db
        raise UserError(f"can't write {file}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {count:,} {_plural(count, 'subscriber')} to {file} (readable only by you).")


# erase --------------------------------------------------------------------------------------------


@subscribers.command(
    "erase",
    short_help="Erase a person on request; never mail them again.",
    epilog="\b\nEXIT STATUS\n  0  erased (or erased before)\n  1  no subscriber had the address",
)
@click.argument("email")
@click.option("--yes", "-y", is_flag=True, help="Don't ask for confirmation.")
@as_option
def erase_command(email: str, yes: bool, as_email: str | None) -> None:
    """Erase a person's personal data at their request, and never mail them again.

    Removes their subscriber record and business profile, clears their address from every message
    we queued or sent them (unsent ones are cancelled), and deletes the copies of mail to them in
    the outbox folder (OUTBOX_DIR, where mail goes when no SMTP server is set). The audit trail
    keeps its events (they hold no personal data) plus one recording the erasure. The address goes
    on the suppression list as a hash, so no import or sign-up can add it again.

    If no subscriber has the address, it can still be added to the suppression list (you are
    asked, or --yes does it); the exit status is then 1, in case the address was mistyped.
    """
    settings = settings_or_exit()

    async def work() -> int:
        try:
            target = await erasure.look_up(email)
        except InvalidEmail:
            raise UserError(f"{importing.shown(email)} is not an email address") from None
        person = target.person
        if person is not None:
            question = (
                f"Erase subscriber #{person.id} ({person.status.value} {person.role.value}, "
                f"added {person.created_at:%Y-%m-%d})? This can't be undone."
            )
        elif target.suppression == erasure.ERASED:
            click.echo("That address was erased before; it stays on the suppression list.")
            if settings.outbox_dir is not None:  # copies left by an erasure before outbox cleanup
                address = normalise_email(email)
                removed = await asyncio.to_thread(
                    mail_erasure.remove_outbox_copies, settings.outbox_dir, address
                )
                if removed:
                    click.echo(_outbox_note(removed, settings.outbox_dir).strip())
            return 0
        else:
            click.echo("No subscriber has that address.")
            question = "Add it to the suppression list anyway, so it is never imported or mailed?"
        if not yes and not click.confirm(question, default=False):
            click.echo("Nothing changed.")
            return 1
        actor = await actor_for(as_email)
        result = await mail_erasure.erase(email, actor=actor, outbox_dir=settings.outbox_dir)
        outbox = _outbox_note(result.outbox_files, settings.outbox_dir) if result.outbox_files else ""
        if result.found:
            messages = ""
            if result.deliveries:
                count = f"{result.deliveries:,} {_plural(result.deliveries, 'message')}"
                messages = f" the address is cleared from {count}"
                if result.cancelled:
                    messages += f" ({result.cancelled:,} not yet sent, now cancelled),"
                else:
                    messages += ","
            click.echo(
                f"Erased subscriber #{result.subscriber_id}: their record and business profile are deleted,"
                f"{messages} and the address is on the suppression list for good.{outbox}"
            )
            return 0
        click.echo(
            f"The address is now on the suppression list: it will never be imported or mailed.{outbox}"
        )
        return 1

    sys.exit(run_with_db(settings, work))


def _outbox_note(count: int, folder: Path | None) -> str:
    return (
        f" Deleted {count:,} {_plural(count, 'copy', 'copies')} of mail to them from the outbox ({folder})."
    )
