"""Importing a CSV contact list: every malformed file or line is reported, and the write is all or nothing."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import unicodedata
from dataclasses import dataclass

import pytest
from tortoise.transactions import in_transaction

from bot.runtime import build_runtime
from bot.settings import Settings
from outreach import contact_import
from outreach.models import Delivery, DeliveryState, Priority
from subscribers import importing
from subscribers.addresses import email_hash
from subscribers.bulk_insert import BulkSql
from subscribers.importing import Defaults, ImportConflict, ImportFileError, read_csv
from subscribers.models import (
    AuditEvent,
    ConsentMethod,
    Language,
    Role,
    Status,
    Subscriber,
    Suppression,
    Topic,
)
from tests.mailserver import MailServer

SOURCE = "Made in LA Coalition member list, 2026-10"


def parse(data: str | bytes, defaults: Defaults | None = None) -> importing.ParsedFile:
    return read_csv(data.encode() if isinstance(data, str) else data, defaults or Defaults())


# The bad-input table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileRejected:
    message: str


@dataclass(frozen=True)
class LineRejected:
    line: int
    message: str


GOOD = "email,name\nana@example.com,Ana\n"

BAD_CSV = {
    # the file as a whole
    "empty file": (b"", FileRejected("the file is empty")),
    "only blank lines": (b"\n \n\r\n", FileRejected("the file is empty")),
    "header only": (b"email,name,organization\n", FileRejected("a header row but no people")),
    "header and blank rows only": (b"email,name\n,\n\n", FileRejected("a header row but no people")),
    "no email column": (
        b"name,organization\nAna,Taller\n",
        FileRejected('no email column (the header has "name"'),
    ),
    "no header row": (b"ana@example.com,Ana\n", FileRejected("looks like a person, not a header")),
    "two email columns": (b"email,name,E-mail\na@x.com,A,b@x.com\n", FileRejected("two email columns")),
    "Latin-1": (
        "email,name\nana@example.com,José\n".encode("latin-1"),
        FileRejected("not UTF-8: line 2 has the byte 0xE9"),
    ),
    "Windows-1252 curly quote": (
        "email,name\na@x.com,Ann\nb@x.com,O’Neil\n".encode("cp1252"),
        FileRejected("line 3 has the byte 0x92"),
    ),
    "UTF-16 with BOM": (GOOD.encode("utf-16"), FileRejected("UTF-16")),
    "UTF-16 without BOM": (GOOD.encode("utf-16-le"), FileRejected("UTF-16")),
    "binary file": (bytes(range(256)) * 8, FileRejected("binary data")),
    "NUL inside text": (b"email,name\nana@example.com,An\x00a\n", FileRejected("binary data")),
    "xlsx workbook": (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 50, FileRejected("Excel workbook (.xlsx)")),
    "old xls workbook": (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50,
        FileRejected("old Excel workbook"),
    ),
    "PDF": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", FileRejected("a PDF")),
    # single lines
    "bad email": (b"email\nana@@x\n", LineRejected(2, 'email "ana@@x" is not a valid address')),
    "empty email": (b"email,name\n,Ana\n", LineRejected(2, "email is empty")),
    "accented letters before the @": (
        "email\njosé@example.com\n".encode(),
        LineRejected(2, 'email "josé@example.com": The part before the @ can use only unaccented letters'),
    ),
    "display name in email": (b"email\nAna <ana@example.com>\n", LineRejected(2, "is not a valid address")),
    "overlong email": (
        f"email\n{'a' * 250}@example.com\n".encode(),
        LineRejected(2, "is not a valid address"),
    ),
    "formula as email": (
        b'email\n"=HYPERLINK(""http://evil"",""x"")"\n',
        LineRejected(2, "is not a valid address"),
    ),
    "overlong name": (
        f"email,name\na@x.com,{'N' * 201}\n".encode(),
        LineRejected(2, "name is longer than 200"),
    ),
    "overlong organization": (
        f"email,organization\na@x.com,{'O' * 300}\n".encode(),
        LineRejected(2, "organization is longer than 200 characters (300)"),
    ),
    "line feed in name": (
        b'email,name\na@x.com,"Ana\nGarcia"\n',
        LineRejected(2, "name contains a line break"),
    ),
    "carriage return in name": (
        b'email,name\na@x.com,"Ana\rBcc: x"\n',
        LineRejected(2, "name contains a line break"),
    ),
    "bell in name": (b"email,name\na@x.com,Ana\x07\n", LineRejected(2, "control character (U+0007)")),
    "web address in organization": (
        b"email,organization\na@x.com,Best prices www.example.ru\n",
        LineRejected(2, "organization contains a web address"),
    ),
    "markup in name": (b"email,name\na@x.com,<script>alert(1)</script>\n", LineRejected(2, "< or >")),
    "right-to-left override in name": (
        "email,name\na@x.com,Ana\u202egnp.exe\n".encode(),
        LineRejected(2, "control character (U+202E)"),
    ),
    "unknown role": (
        b"email,role\na@x.com,chef\n",
        LineRejected(2, 'role "chef" is not one of manufacturer, working_group'),
    ),
    "unknown language": (
        b"email,language\na@x.com,fr\n",
        LineRejected(2, 'language "fr" is not one of en (English)'),
    ),
    "unknown topic": (
        b"email,topics\na@x.com,pilot_updates;newsletters\n",
        LineRejected(2, 'topic "newsletters" is not one of pilot_updates'),
    ),
    "bad zip": (b"email,zip\na@x.com,9001\n", LineRejected(2, 'zip "9001" is not a ZIP code')),
    "too many values": (
        b"email,name\na@x.com,Garcia, Ana\n",
        LineRejected(2, "has 3 values but the header has 2"),
    ),
    "too few values": (
        b"email,name,organization\na@x.com,Ana\n",
        LineRejected(2, "has 2 values but the header has 3"),
    ),
    "formula in name": (
        b'email,name\na@x.com,"=HYPERLINK(""http://evil"",""click"")"\n',
        LineRejected(2, "which spreadsheets run as a formula"),
    ),
    "plus formula in organization": (
        b"email,organization\na@x.com,+cmd|' /C calc'!A0\n",
        LineRejected(2, "formula"),
    ),
    "at formula in name": (b"email,name\na@x.com,@SUM(A1:A9)\n", LineRejected(2, "formula")),
    "minus formula in name": (b"email,name\na@x.com,-2+3\n", LineRejected(2, "formula")),
    "same address, other details": (
        b"email,name\nana@example.com,Ana\nANA@example.com,Ana Maria\n",
        LineRejected(3, "ana@example.com is also on line 2, with different details"),
    ),
    "huge line": (
        b"email,name\na@x.com," + b"x" * 200_000 + b"\n",
        LineRejected(2, "longer than 131,072 characters"),
    ),
    "quote never closed": (
        b'email,name\na@x.com,"Ana\nb@x.com,Bo\n',
        LineRejected(2, "a quoted value is never closed"),
    ),
    "text after a closing quote": (b'email,name\na@x.com,"Ana"x\n', LineRejected(2, "not valid CSV")),
}


@pytest.mark.parametrize("data, expected", BAD_CSV.values(), ids=BAD_CSV.keys())
def test_bad_csv_is_rejected_with_a_clear_reason(data: bytes, expected: FileRejected | LineRejected) -> None:
    if isinstance(expected, FileRejected):
        with pytest.raises(ImportFileError) as caught:
            parse(data)
        message = str(caught.value)
        assert expected.message in message
        assert "\n" not in message  # one line, fit for the terminal
        return
    parsed = parse(data)
    lines = {note.line: note.reason for note in parsed.rejected}
    assert expected.line in lines, parsed.rejected
    assert expected.message in lines[expected.line]
    assert all(person.line != expected.line for person in parsed.candidates)


def test_the_table_covers_at_least_fifteen_cases() -> None:
    assert len(BAD_CSV) >= 15


def test_every_problem_of_a_line_is_reported_at_once() -> None:
    parsed = parse("email,name,role,language\nana@@x,=x,chef,fr\n")
    [note] = parsed.rejected
    assert str(note).startswith("line 2: ")
    for part in ("email", "name", "role", "language"):
        assert part in note.reason


def test_shown_values_cannot_garble_the_terminal() -> None:
    parsed = parse(b"email\nana\x1b[31m@x\n")
    [note] = parsed.rejected
    assert "\x1b" not in note.reason
    assert "\\u001b" in note.reason


def test_a_bad_line_does_not_hide_the_lines_after_it() -> None:
    data = b"email,name\na@x.com," + b"x" * 200_000 + b"\nb@x.com,Bo\n"
    parsed = parse(data)
    assert [note.line for note in parsed.rejected] == [2]
    assert [person.email for person in parsed.candidates] == ["b@x.com"]
    assert parsed.candidates[0].line == 3


def test_too_many_rows_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    rows = "".join(f"p{i}@x.com\n" for i in range(4))
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        parse("email\n" + rows)


def test_too_large_a_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "MAX_FILE_BYTES", 1024 * 1024)
    with pytest.raises(ImportFileError, match="larger than 1 MB"):
        importing.read_limited(io.BytesIO(b"x" * (1024 * 1024 + 1)))
    assert importing.read_limited(io.BytesIO(b"email\n")) == b"email\n"


# What is accepted ---------------------------------------------------------------------------------


def test_utf8_byte_order_mark_is_accepted() -> None:
    parsed = parse(codecs.BOM_UTF8 + "email,name\nana@example.com,José Núñez\n".encode())
    [person] = parsed.candidates
    assert person.email == "ana@example.com"
    assert person.name == "José Núñez"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_comma_semicolon_and_tab_separated_files(delimiter: str) -> None:
    stream = io.StringIO()
    writer = csv.writer(stream, delimiter=delimiter)  # Excel's way: \r\n, quotes where needed
    writer.writerows([["email", "name", "organization"], ["ana@example.com", "Ana García", "Taller, Inc."]])
    [person] = parse(stream.getvalue()).candidates
    assert (person.name, person.organization) == ("Ana García", "Taller, Inc.")


def test_header_spellings_and_unknown_columns() -> None:
    parsed = parse(
        "E-mail Address , Full Name,Organisation,Phone,ZIP Code\nAna@Example.com,Ana,Taller,555,90011\n"
    )
    [person] = parsed.candidates
    assert (person.email, person.name, person.organization, person.zip) == (
        "ana@example.com",
        "Ana",
        "Taller",
        "90011",
    )
    assert parsed.ignored_columns == ("Phone",)


def test_lenient_role_and_language_spellings() -> None:
    parsed = parse(
        "email,role,language\n"
        "a@x.com,Working Group,Español\n"
        "b@x.com,county-staff,es-MX\n"
        "c@x.com,MANUFACTURER,English\n"
    )
    got = [(p.role, p.language) for p in parsed.candidates]
    assert got == [
        (Role.WORKING_GROUP, Language.ES),
        (Role.COUNTY_STAFF, Language.ES),
        (Role.MANUFACTURER, Language.EN),
    ]


def test_blank_lines_are_ignored_and_line_numbers_stay_true() -> None:
    parsed = parse('email,name\n\na@x.com,"Two\nlines"\n,\nb@@x,B\n')
    assert parsed.rows == 2
    [note] = [n for n in parsed.rejected if "b@@x" in n.reason]
    assert note.line == 6  # header 1, blank 2, a quoted value over 3-4, ",," on 5


def test_names_are_tidied() -> None:
    decomposed = unicodedata.normalize("NFD", "José")
    [person] = parse(f"email,name\na@x.com,  {decomposed}   Pérez  \n").candidates
    assert person.name == "José Pérez"
    assert unicodedata.is_normalized("NFC", person.name)


def test_a_tab_pasted_into_a_cell_is_a_space() -> None:
    """The form's rule (subscribers.person_text): a tab is invisible spacing, not a reason to refuse."""
    [person] = parse('email,organization\na@x.com,"Taller\tAna"\n').candidates
    assert person.organization == "Taller Ana"


def test_exact_repeats_are_skipped_not_rejected() -> None:
    parsed = parse("email,name\nana@example.com,Ana\n ANA@example.com ,Ana\n")
    assert [p.line for p in parsed.candidates] == [2]
    assert [str(n) for n in parsed.skipped] == ["line 3: ana@example.com repeats line 2"]
    assert parsed.rejected == []


def test_topics_come_from_the_row_then_the_option_then_the_role() -> None:
    text = (
        "email,role,topics\n"
        "a@x.com,manufacturer,\n"
        "b@x.com,working_group,\n"
        "c@x.com,other,\n"
        "d@x.com,manufacturer,working_group\n"
    )
    by_role = {p.email: p.topics for p in parse(text).candidates}
    assert by_role == {
        "a@x.com": {Topic.PILOT_UPDATES, Topic.APPLICATION_INVITATIONS},
        "b@x.com": {Topic.PILOT_UPDATES, Topic.APPLICATION_INVITATIONS, Topic.WORKING_GROUP},
        "c@x.com": {Topic.PILOT_UPDATES},
        "d@x.com": {Topic.WORKING_GROUP},
    }
    chosen = parse(text, Defaults(topics=frozenset({Topic.PILOT_UPDATES})))
    assert [p.topics for p in chosen.candidates][:3] == [{Topic.PILOT_UPDATES}] * 3
    assert chosen.candidates[3].topics == {Topic.WORKING_GROUP}


def test_command_line_defaults_apply_where_the_row_is_silent() -> None:
    parsed = parse(
        "email,role,language\na@x.com,,\nb@x.com,other,en\n",
        Defaults(role=Role.MANUFACTURER, language=Language.ES),
    )
    assert [(p.role, p.language) for p in parsed.candidates] == [
        (Role.MANUFACTURER, Language.ES),
        (Role.OTHER, Language.EN),
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "can't be empty"),
        ("   ", "can't be empty"),
        ("Coalition\nlist", "one line"),
        ("x" * 201, "longer than 200"),
    ],
)
def test_consent_source_must_be_one_line_of_text(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        importing.clean_consent_source(text)
    assert importing.clean_consent_source(f"  {SOURCE}  ") == SOURCE


# Writing ------------------------------------------------------------------------------------------


async def test_import_with_consent_source_makes_people_active_and_audits_them(db: str) -> None:
    parsed = parse(
        "email,name,organization,role,language,zip\n"
        "ana@example.com,Ana García,Taller Ana,manufacturer,es,90011\n"
        "bo@example.com,Bo Lee,,working_group,,\n"
    )
    before = dt.datetime.now(dt.UTC)
    report = await contact_import.import_people(parsed, consent_source=SOURCE)
    assert (report.imported, report.written, report.status, report.confirmations) == (
        2,
        True,
        Status.ACTIVE,
        0,
    )
    assert report.by_role == {"manufacturer": 1, "working_group": 1}

    ana = await Subscriber.get(email="ana@example.com")
    assert (ana.name, ana.organization, ana.role, ana.language, ana.zip) == (
        "Ana García",
        "Taller Ana",
        Role.MANUFACTURER,
        Language.ES,
        "90011",
    )
    assert ana.status == Status.ACTIVE
    assert ana.topics == ["pilot_updates", "application_invitations"]
    assert ana.consent_method == ConsentMethod.IMPORT
    assert ana.consent_source == SOURCE
    assert ana.consent_at is not None and ana.consent_at >= before - dt.timedelta(seconds=1)
    assert ana.consent_at.tzinfo is not None
    assert ana.created_at == ana.consent_at
    assert ana.confirmation_sent_at is None

    events = (
        await AuditEvent.filter(subscriber_id=ana.id)
        .order_by("id")
        .values_list("action", "new_value", "actor")
    )
    assert events == [
        ("status", "active", f"import:{SOURCE}"),
        ("consent", f"import {SOURCE}", f"import:{SOURCE}"),
    ]
    assert await Delivery.all().count() == 0


async def test_import_without_consent_source_queues_confirmations_the_sender_sends(
    db: str, smtp_settings: Settings, mail_server: MailServer
) -> None:
    """The bulk-written confirmation rows are real queue rows: the real sender delivers them."""
    parsed = parse("email,name,language\nana@example.com,Ana,es\nbo@example.com,Bo,\n")
    report = await contact_import.import_people(parsed)
    assert (report.imported, report.status, report.confirmations) == (2, Status.PENDING, 2)

    people = {p.email: p for p in await Subscriber.all()}
    assert {p.status for p in people.values()} == {Status.PENDING}
    assert all(p.confirmation_sent_at is not None and p.consent_at is None for p in people.values())
    deliveries = await Delivery.all().order_by("id")
    assert [(d.address, d.template, d.language, d.priority, d.state) for d in deliveries] == [
        ("ana@example.com", "confirm", "es", Priority.TRANSACTIONAL, DeliveryState.QUEUED),
        ("bo@example.com", "confirm", "en", Priority.TRANSACTIONAL, DeliveryState.QUEUED),
    ]
    assert [d.subscriber_id for d in deliveries] == [
        people["ana@example.com"].id,
        people["bo@example.com"].id,
    ]
    assert await AuditEvent.filter(action="status", new_value="pending", actor="import").count() == 2

    runtime = build_runtime(smtp_settings)
    try:
        assert await runtime.sender.send_due() == 2
    finally:
        await runtime.transport.close()
    assert sorted(r.rcpt_tos[0] for r in mail_server.received) == ["ana@example.com", "bo@example.com"]
    text = mail_server.received[0].message.get_body(("plain",)).get_content()
    assert "http://testserver/confirm/" in text


async def test_rows_written_in_bulk_read_back_like_rows_the_orm_writes(db: str) -> None:
    """The import writes with executemany; what comes back through the models is what `create` gives."""
    await contact_import.import_people(parse("email,name\nana@example.com,Ana\n"), consent_source=SOURCE)
    imported = await Subscriber.get(email="ana@example.com")
    made = await Subscriber.create(
        email="orm@example.com",
        name="Ana",
        status=Status.ACTIVE,
        consent_method=ConsentMethod.IMPORT,
        consent_source=SOURCE,
        consent_at=imported.consent_at,
        topic_pilot_updates=True,
    )
    made = await Subscriber.get(id=made.id)
    skip = {"id", "email", "created_at", "updated_at"}
    for name in Subscriber._meta.fields_db_projection:
        if name not in skip:
            assert getattr(imported, name) == getattr(made, name), name
            assert type(getattr(imported, name)) is type(getattr(made, name)), name
    assert type(imported.created_at) is type(made.created_at)
    event = await AuditEvent.filter(subscriber_id=imported.id).first()
    assert event is not None and event.at.tzinfo is not None


async def test_ids_stay_matched_across_batches(db: str) -> None:
    """Audit events and confirmations point at the right person in every batch of the write."""
    count = importing.BATCH_SIZE * 2 + 7
    parsed = parse("email\n" + "".join(f"p{i}@example{i % 13}.org\n" for i in range(count)))
    report = await contact_import.import_people(parsed)
    assert report.imported == count
    people = dict(await Subscriber.all().values_list("id", "email"))
    deliveries = await Delivery.all().values_list("subscriber_id", "address")
    assert len(deliveries) == count
    assert all(people[subscriber_id] == address for subscriber_id, address in deliveries)
    events = await AuditEvent.all().values_list("subscriber_id", flat=True)
    assert sorted(events) == sorted(people)


async def test_people_already_known_are_skipped_and_left_alone(db: str) -> None:
    existing = {}
    for status in Status:
        existing[status] = await Subscriber.create(
            email=f"{status.value}@example.com", name="Old", status=status
        )
    await Suppression.create(email_hash=email_hash("erased@example.com"), reason="erased")
    await Suppression.create(email_hash=email_hash("blocked@example.com"), reason="complained")
    rows = "".join(f"{status.value}@example.com,New\n" for status in Status)
    parsed = parse(
        "email,name\n" + rows + "erased@example.com,New\nblocked@example.com,New\nnew@example.com,New\n"
    )

    report = await contact_import.import_people(parsed, consent_source=SOURCE)

    assert report.imported == 1
    reasons = [str(note) for note in report.skipped]
    assert reasons == [
        "line 2: pending@example.com is already in the registry (pending)",
        "line 3: active@example.com is already in the registry (active)",
        "line 4: unsubscribed@example.com unsubscribed: an import never subscribes them again",
        "line 5: bounced@example.com bounced: an import never subscribes them again",
        "line 6: complained@example.com complained: an import never subscribes them again",
        "line 7: this address was erased at the person's request: never imported",
        "line 8: blocked@example.com is on the suppression list (complained)",
    ]
    for status, person in existing.items():
        again = await Subscriber.get(id=person.id)
        assert (again.status, again.name) == (status, "Old")
    assert not await Subscriber.filter(email="erased@example.com").exists()
    assert await AuditEvent.all().count() == 2  # the new person's status and consent


async def test_rejected_lines_block_the_import_unless_skip_invalid(db: str) -> None:
    parsed = parse("email,name\nana@example.com,Ana\nbad@@x,Bad\nbo@example.com,Bo\n")
    blocked = await contact_import.import_people(parsed, consent_source=SOURCE)
    assert (blocked.written, blocked.imported, blocked.candidates) == (False, 0, 2)
    assert [str(n) for n in blocked.rejected] == ['line 3: email "bad@@x" is not a valid address']
    assert await Subscriber.all().count() == 0
    assert await AuditEvent.all().count() == 0

    done = await contact_import.import_people(parsed, consent_source=SOURCE, skip_invalid=True)
    assert (done.written, done.imported) == (True, 2)
    assert sorted(await Subscriber.all().values_list("email", flat=True)) == [
        "ana@example.com",
        "bo@example.com",
    ]


async def test_dry_run_reports_and_writes_nothing(db: str) -> None:
    await Subscriber.create(email="ana@example.com", status=Status.ACTIVE)
    parsed = parse("email\nana@example.com\nbo@example.com\n")
    report = await contact_import.import_people(parsed, dry_run=True)
    assert (report.written, report.candidates, report.imported) == (False, 1, 0)
    assert [n.line for n in report.skipped] == [2]
    assert await Subscriber.all().count() == 1
    assert await Delivery.all().count() == 0


async def test_a_failure_midway_leaves_nothing_written(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """People are inserted before their confirmation emails: an error at that point undoes them too."""
    insert = BulkSql.insert

    def failing_insert(self: BulkSql, model: type, fields: tuple[str, ...]):  # type: ignore[no-untyped-def]
        run = insert(self, model, fields)
        if model is not Delivery:
            return run

        async def explode(rows: list) -> None:
            raise RuntimeError("disk full")

        return explode

    monkeypatch.setattr(BulkSql, "insert", failing_insert)
    parsed = parse("email\n" + "".join(f"p{i}@example.com\n" for i in range(50)))
    with pytest.raises(RuntimeError, match="disk full"):
        await contact_import.import_people(parsed)
    assert await Subscriber.all().count() == 0
    assert await AuditEvent.all().count() == 0
    assert await Delivery.all().count() == 0


async def test_someone_signing_up_meanwhile_undoes_the_import(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    compare = importing._compare_with_registry

    async def then_a_sign_up(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = await compare(*args, **kwargs)
        async with in_transaction():
            await Subscriber.create(email="bo@example.com", status=Status.PENDING)
        return result

    monkeypatch.setattr(importing, "_compare_with_registry", then_a_sign_up)
    parsed = parse("email\nana@example.com\nbo@example.com\n")
    with pytest.raises(ImportConflict, match="nothing was imported"):
        await contact_import.import_people(parsed, consent_source=SOURCE)
    assert not await Subscriber.filter(email="ana@example.com").exists()
    assert await AuditEvent.all().count() == 0
