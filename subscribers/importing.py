"""Importing a contact list from CSV: check every row first, then write everyone in one transaction.

Two halves. `read_csv` is pure (bytes in; people to add and per-line problems out), so every kind of
malformed file is testable without a database. `record_import` compares those people with the
registry and writes them and their audit events; `outreach.contact_import.import_people` runs it
in one transaction with the confirmation emails pending people are owed (this side knows nothing
about mail: its report lists the `Notice`s due), so everything is written together, or nothing.

What an import never does: change someone already in the registry, re-subscribe an address that
unsubscribed, bounced, complained or was erased, or send mail itself (confirmations are queued for
the running service's sender).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import io
import re
import unicodedata
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from subscribers.addresses import InvalidEmail, email_hash, normalise_email
from subscribers.bulk_insert import BulkSql
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
from subscribers.person_text import InvalidText, clean_name
from subscribers.registry import utcnow
from subscribers.signup import Notice, NoticeKind

MAX_FILE_BYTES = 100 * 1024 * 1024  # a 100,000-person list is about 10 MB
MAX_ROWS = 250_000
CONSENT_SOURCE_LIMIT = 200
BATCH_SIZE = 5000  # people per lookup and per INSERT (SQLite allows 32,766 values in one statement)

# What each role hears about unless the file or --topics says otherwise.
DEFAULT_TOPICS: dict[Role, frozenset[Topic]] = {
    Role.MANUFACTURER: frozenset({Topic.PILOT_UPDATES, Topic.APPLICATION_INVITATIONS}),
    Role.WORKING_GROUP: frozenset({Topic.PILOT_UPDATES, Topic.APPLICATION_INVITATIONS, Topic.WORKING_GROUP}),
    Role.COUNTY_STAFF: frozenset({Topic.PILOT_UPDATES}),
    Role.OTHER: frozenset({Topic.PILOT_UPDATES}),
}

# Header spellings seen in real contact lists, mapped to our column names.
COLUMN_ALIASES = {
    "email": "email",
    "e_mail": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "name": "name",
    "full_name": "name",
    "organization": "organization",
    "organisation": "organization",
    "company": "organization",
    "business": "organization",
    "role": "role",
    "language": "language",
    "lang": "language",
    "zip": "zip",
    "zip_code": "zip",
    "zipcode": "zip",
    "postal_code": "zip",
    "topics": "topics",
}

LANGUAGE_NAMES = {
    "english": Language.EN,
    "inglés": Language.EN,
    "ingles": Language.EN,
    "spanish": Language.ES,
    "español": Language.ES,
    "espanol": Language.ES,
}

# Files people pick by mistake, recognised by their first bytes.
SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF"),
)
SAVE_AS_CSV = "save it as CSV UTF-8 (in Excel: File, Save As, CSV UTF-8) and import that"

_ZIP = re.compile(r"\d{5}(?:-\d{4})?", re.ASCII)
# Control characters (Unicode category Cc), line and paragraph separators, and the bidirectional
# overrides that can make a value display as something else: escaped when a value is shown.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

ProgressCallback = Callable[[str, int, int], None]  # (phase, done, total)


class ImportFileError(ValueError):
    """The file as a whole can't be imported; the message says why and what to do, in one line."""


class ImportConflict(RuntimeError):
    """The registry changed under the import (someone signed up meanwhile); nothing was written."""


@dataclass(frozen=True, slots=True)
class Defaults:
    """What staff chose on the command line; a row's own role/language/topics column wins."""

    role: Role | None = None  # None: Role.OTHER
    language: Language | None = None  # None: Language.EN
    topics: frozenset[Topic] | None = None  # None: DEFAULT_TOPICS for the person's role


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to build, and we build 100,000
class Candidate:
    """One person from the file, checked and ready to store."""

    line: int
    email: str
    name: str = ""
    organization: str = ""
    role: Role = Role.OTHER
    language: Language = Language.EN
    zip: str = ""
    topics: frozenset[Topic] = frozenset()

    def same_person_details(self, other: Candidate) -> bool:
        return replace(self, line=0) == replace(other, line=0)


@dataclass(frozen=True, slots=True)
class LineNote:
    """Why a line was rejected or skipped, fit to show staff."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(slots=True)
class ParsedFile:
    candidates: list[Candidate]
    rejected: list[LineNote]
    skipped: list[LineNote]  # repeats of an earlier line
    rows: int  # data rows, not counting blank lines
    columns: tuple[str, ...]  # the columns we use, in our names
    ignored_columns: tuple[str, ...]  # header cells we don't know, as written


@dataclass(slots=True)
class ImportReport:
    rows: int
    candidates: int  # valid rows that are new people (what was, or would be, imported)
    status: Status  # what imported people are: active (consent source given) or pending
    skipped: list[LineNote]
    rejected: list[LineNote]
    written: bool  # False for a dry run, or when rejected rows blocked the import
    by_role: dict[str, int] = field(default_factory=dict)
    # The confirmation each imported pending person is owed, for the caller to queue in the same
    # transaction (`outreach.contact_import`).
    to_confirm: list[Notice] = field(default_factory=list, repr=False)

    @property
    def imported(self) -> int:
        return self.candidates if self.written else 0

    @property
    def confirmations(self) -> int:
        return self.imported if self.status == Status.PENDING else 0


# Reading ------------------------------------------------------------------------------------------


def read_limited(stream: BinaryIO) -> bytes:
    """Read a whole upload, refusing one too large to be a contact list (a wrong file, or an attack)."""
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: split it into smaller files"
        )
    return data


def read_csv(
    data: bytes, defaults: Defaults = Defaults(), *, on_progress: ProgressCallback | None = None
) -> ParsedFile:
    """Check every row of a CSV file. Raises ImportFileError when the file as a whole is unusable."""
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = next((d for d in (",", ";", "\t") if d in first_line), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    total_lines = text.count("\n") + 1
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(
            "the file is empty: it needs a header row naming the columns, at least email"
        ) from None
    except csv.Error as exc:
        raise ImportFileError(f"the header row can't be read as CSV ({exc})") from None
    columns, ignored = _read_header(header)

    parsed = ParsedFile([], [], [], 0, tuple(c for c in columns if c), tuple(ignored))
    first_seen: dict[str, Candidate] = {}
    line_done = reader.line_num
    while True:
        line = line_done + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.rows += 1
            parsed.rejected.append(LineNote(line, _csv_problem(exc)))
            line_done = reader.line_num
            continue
        line_done = reader.line_num
        if on_progress is not None and parsed.rows % 5000 == 0:
            on_progress("read", line_done, total_lines)
        if not "".join(values).strip():
            continue  # blank lines and spreadsheets' empty ",,,," rows
        parsed.rows += 1
        if parsed.rows > MAX_ROWS:
            raise ImportFileError(f"the file has more than {MAX_ROWS:,} rows: split it into smaller files")
        result = check_row(values, columns, defaults, line=line)
        if isinstance(result, LineNote):
            parsed.rejected.append(result)
            continue
        earlier = first_seen.get(result.email)
        if earlier is None:
            first_seen[result.email] = result
            parsed.candidates.append(result)
        elif earlier.same_person_details(result):
            parsed.skipped.append(LineNote(line, f"{result.email} repeats line {earlier.line}"))
        else:
            parsed.rejected.append(
                LineNote(
                    line, f"{result.email} is also on line {earlier.line}, with different details: keep one"
                )
            )
    if parsed.rows == 0:
        raise ImportFileError("the file has a header row but no people in it")
    if on_progress is not None:
        on_progress("read", total_lines, total_lines)
    return parsed


def _decode(data: bytes) -> str:
    if not data.strip():
        raise ImportFileError("the file is empty: it needs a header row naming the columns, at least email")
    for signature, what in SIGNATURES:
        if data.startswith(signature):
            raise ImportFileError(f"this is {what}, not a CSV file: {SAVE_AS_CSV}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_like_utf16(data):
        raise ImportFileError(f"the file is UTF-16 text, not UTF-8: {SAVE_AS_CSV}")
    if b"\0" in data:
        raise ImportFileError("the file contains binary data, not CSV text: is it the right file?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start]
        guess = ""
        try:
            data.decode("cp1252")
            guess = " (it looks like Latin-1 or Windows-1252 text)"
        except UnicodeDecodeError:
            pass
        raise ImportFileError(
            f"the file is not UTF-8: line {line} has the byte 0x{byte:02X}, which UTF-8 doesn't allow"
            f"{guess}. {SAVE_AS_CSV[0].upper()}{SAVE_AS_CSV[1:]}"
        ) from None


def _looks_like_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: ASCII text with a NUL after (or before) every character."""
    sample = data[:200]
    return len(sample) >= 8 and (
        sample[1::2].count(0) > len(sample) // 3 or sample[0::2].count(0) > len(sample) // 3
    )


def _read_header(header: list[str]) -> tuple[list[str | None], list[str]]:
    """Our name for each column (None for columns we ignore), and the ignored cells as written."""
    cells = [cell.strip() for cell in header]
    if not any(cells):
        raise ImportFileError(
            "the first row is empty: it must be the header, naming the columns (at least email)"
        )
    columns: list[str | None] = []
    ignored: list[str] = []
    where: dict[str, int] = {}
    for number, cell in enumerate(cells, start=1):
        key = re.sub(r"[\s\-]+", "_", cell.lower())
        name = COLUMN_ALIASES.get(key)
        if name is None:
            if cell:
                ignored.append(cell)
        elif name in where:
            raise ImportFileError(
                f"the header has two {name} columns (columns {where[name]} and {number}): keep one"
            )
        else:
            where[name] = number
        columns.append(name)
    if "email" not in where:
        if any("@" in cell for cell in cells):
            raise ImportFileError(
                "the first row looks like a person, not a header: add a header row naming the columns, "
                "at least email"
            )
        found = ", ".join(shown(cell, 30) for cell in cells if cell)
        raise ImportFileError(f"there is no email column (the header has {found}): name that column email")
    return columns, ignored


def _csv_problem(exc: csv.Error) -> str:
    message = str(exc)
    if "field larger than field limit" in message:
        return f"a value is longer than {csv.field_size_limit():,} characters"
    if "unexpected end of data" in message:
        return 'a quoted value is never closed (a " is missing), so the rest of the file is inside it'
    return f'the line is not valid CSV ({message}): put values containing "," or quotes inside "quotes"'


def check_row(
    values: list[str], columns: list[str | None], defaults: Defaults, *, line: int
) -> Candidate | LineNote:
    """One data row → a person to add, or every reason the row is rejected."""
    if len(values) != len(columns):
        return LineNote(line, f"has {len(values)} values but the header has {len(columns)} columns")
    row = dict(zip(columns, values, strict=True))  # ignored columns all land on the key None
    problems: list[str] = []

    raw_email = row["email"]
    email = ""
    try:
        email = normalise_email(raw_email)
    except InvalidEmail as error:
        if not raw_email.strip():
            problems.append("email is empty")
        elif error.non_ascii_local:  # valid, but not one we can send to: say why
            problems.append(f"email {shown(raw_email)}: {error}")
        else:
            problems.append(f"email {shown(raw_email)} is not a valid address")

    texts = {}
    for name in ("name", "organization"):
        try:
            texts[name] = clean_name(row.get(name, ""), field=name)  # the form's rule too
        except InvalidText as exc:
            problems.append(str(exc))

    role = defaults.role or Role.OTHER
    language = defaults.language or Language.EN
    topics = defaults.topics
    try:
        if row.get("role", "").strip():
            role = parse_role(row["role"])
    except ValueError as exc:
        problems.append(str(exc))
    try:
        if row.get("language", "").strip():
            language = parse_language(row["language"])
    except ValueError as exc:
        problems.append(str(exc))
    try:
        if row.get("topics", "").strip():
            topics = parse_topics(row["topics"]) or topics  # a cell of only separators says nothing
    except ValueError as exc:
        problems.append(str(exc))
    zip_code = row.get("zip", "").strip()
    if zip_code and not _ZIP.fullmatch(zip_code):
        problems.append(f"zip {shown(zip_code)} is not a ZIP code like 90011 or 90011-1234")

    if problems:
        return LineNote(line, "; ".join(problems))
    return Candidate(
        line=line,
        email=email,
        name=texts["name"],
        organization=texts["organization"],
        role=role,
        language=language,
        zip=zip_code,
        topics=topics if topics is not None else DEFAULT_TOPICS[role],
    )


@functools.lru_cache(maxsize=512)  # a list repeats a handful of spellings
def parse_role(text: str) -> Role:
    key = re.sub(r"[\s\-]+", "_", text.strip().lower())
    try:
        return Role(key)
    except ValueError:
        raise ValueError(f"role {shown(text)} is not one of {', '.join(Role)}") from None


@functools.lru_cache(maxsize=512)
def parse_language(text: str) -> Language:
    key = text.strip().lower()
    if key in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[key]
    try:
        return Language(key.replace("_", "-").split("-", 1)[0])  # en-US, es_MX
    except ValueError:
        raise ValueError(f"language {shown(text)} is not one of en (English), es (Spanish)") from None


@functools.lru_cache(maxsize=512)
def parse_topics(text: str) -> frozenset[Topic]:
    """Topics written as `pilot_updates;working_group` (also , | or spaces between them)."""
    names = [name for name in re.split(r"[;,|\s]+", text.strip().lower()) if name]
    unknown = [name for name in names if name not in set(Topic)]
    if unknown:
        raise ValueError(f"topic {shown(unknown[0])} is not one of {', '.join(Topic)}")
    return frozenset(Topic(name) for name in names)


def clean_consent_source(text: str) -> str:
    """Where the consent of a list was given, as staff name it (stored with each person and audited)."""
    if _UNPRINTABLE.search(text.strip()):
        raise ValueError("--consent-source must be one line of plain text")
    value = " ".join(text.split())
    if not value:
        raise ValueError("--consent-source can't be empty: name where these people agreed to be emailed")
    if len(value) > CONSENT_SOURCE_LIMIT:
        raise ValueError(f"--consent-source is longer than {CONSENT_SOURCE_LIMIT} characters")
    return value


def shown(value: str, limit: int = 60) -> str:
    """A value from the file, quoted and made safe to print: control characters escaped, long ones cut."""
    out = []
    for char in value[:limit]:
        if _UNPRINTABLE.match(char) or unicodedata.category(char) in ("Cf", "Cs"):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + ("…" if len(value) > limit else "") + '"'


# Writing ------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def import_transaction() -> AsyncIterator[BaseDBAsyncClient]:
    """The one transaction an import runs in. Another writer getting in the way becomes an
    ImportConflict, a message fit to show staff (nothing was written then)."""
    try:
        async with in_transaction() as conn:
            yield conn
    except IntegrityError:
        raise ImportConflict(
            "an address in the file was added to the registry while the import ran; nothing was imported. "
            "Run the import again"
        ) from None
    except OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        raise ImportConflict("the database was busy; nothing was imported. Run the import again") from None


async def record_import(
    conn: BaseDBAsyncClient,
    parsed: ParsedFile,
    *,
    consent_source: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Add the file's new people to the registry, inside `import_transaction()` (`conn`).

    With `consent_source` they are active at once; without it they are pending, and the report's
    `to_confirm` lists the confirmation each is owed. Rejected rows block the whole import unless
    `skip_invalid`.
    """
    status = Status.ACTIVE if consent_source else Status.PENDING
    blocked = bool(parsed.rejected) and not skip_invalid
    new, skipped = await _compare_with_registry(BulkSql(conn), parsed.candidates, on_progress)
    report = ImportReport(
        rows=parsed.rows,
        candidates=len(new),
        status=status,
        skipped=sorted(parsed.skipped + skipped, key=lambda note: note.line),
        rejected=parsed.rejected,
        written=False,
        by_role=dict(Counter(person.role.value for person in new).most_common()),
    )
    if new and not blocked and not dry_run:
        ids = await _write(BulkSql(conn), new, status, consent_source or "", now or utcnow(), on_progress)
        report.written = True
        if status == Status.PENDING:
            report.to_confirm = [
                Notice(NoticeKind.CONFIRM, ids[person.email], person.email, person.language) for person in new
            ]
    return report


async def _compare_with_registry(
    sql: BulkSql, candidates: list[Candidate], on_progress: ProgressCallback | None
) -> tuple[list[Candidate], list[LineNote]]:
    """Split the file's people into new ones and those to skip (already known, or never to import)."""
    hashes = {person.email: email_hash(person.email) for person in candidates}
    known: dict[str, str] = {}
    suppressed: dict[str, str] = {}
    total = len(candidates)
    for start in range(0, total, BATCH_SIZE):
        chunk = candidates[start : start + BATCH_SIZE]
        known.update(await sql.lookup(Subscriber, "email", "status", [p.email for p in chunk]))
        suppressed.update(
            await sql.lookup(Suppression, "email_hash", "reason", [hashes[p.email] for p in chunk])
        )
        if on_progress is not None:
            on_progress("check", start + len(chunk), total)

    new: list[Candidate] = []
    skipped: list[LineNote] = []
    for person in candidates:
        status = known.get(person.email)
        reason = suppressed.get(hashes[person.email])
        if status in (Status.ACTIVE, Status.PENDING):
            skipped.append(LineNote(person.line, f"{person.email} is already in the registry ({status})"))
        elif status is not None:
            why = f"{person.email} {status}: an import never subscribes them again"
            skipped.append(LineNote(person.line, why))
        elif reason == "erased":
            why = "this address was erased at the person's request: never imported"
            skipped.append(LineNote(person.line, why))
        elif reason is not None:
            skipped.append(LineNote(person.line, f"{person.email} is on the suppression list ({reason})"))
        else:
            new.append(person)
    return new, skipped


# The columns an import fills for each person, then those with one value for everyone it imports.
TOPICS = tuple(Topic)
PERSON_FIELDS = (
    "email",
    "name",
    "organization",
    "role",
    "language",
    "zip",
    *(f"topic_{topic.value}" for topic in TOPICS),
)
IMPORT_FIELDS = (
    "status",
    "consent_method",
    "consent_at",
    "consent_source",
    "confirmation_sent_at",
    "created_at",
    "updated_at",
)


async def _write(
    sql: BulkSql,
    people: list[Candidate],
    status: Status,
    source: str,
    now: dt.datetime,
    on_progress: ProgressCallback | None,
) -> dict[str, int]:
    """Insert the people and their audit events; returns the new people's ids by address."""
    active = status == Status.ACTIVE
    actor = f"import:{source}"[:100] if source else "import"
    consent = f"import {source}"[:200]
    stamp = sql.timestamp(now)
    insert_people = sql.insert(Subscriber, PERSON_FIELDS + IMPORT_FIELDS)
    same_for_all = (status.value, ConsentMethod.IMPORT.value, stamp if active else None, source)
    same_for_all += (None if active else stamp, stamp, stamp)
    insert_events = sql.insert(
        AuditEvent, ("subscriber_id", "action", "old_value", "new_value", "actor", "at")
    )
    total = len(people)
    every_id: dict[str, int] = {}
    for start in range(0, total, BATCH_SIZE):
        batch = people[start : start + BATCH_SIZE]
        await insert_people([(*_person_values(p), *same_for_all) for p in batch])
        ids = await sql.lookup(Subscriber, "email", "id", [p.email for p in batch])
        events = [(ids[p.email], "status", "", status.value, actor, stamp) for p in batch]
        if active:
            events += [(ids[p.email], "consent", "", consent, actor, stamp) for p in batch]
        await insert_events(events)
        every_id.update(ids)
        if on_progress is not None:
            on_progress("write", start + len(batch), total)
    return every_id


def _person_values(person: Candidate) -> tuple[Any, ...]:
    """The values of PERSON_FIELDS for one person."""
    topics = person.topics
    return (
        person.email,
        person.name,
        person.organization,
        person.role,  # a StrEnum is a str: both drivers take it as its value
        person.language,
        person.zip,
        *(topic in topics for topic in TOPICS),
    )
