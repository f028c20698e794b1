"""Who is in the registry, for staff: filtered listings, JSON-ready records and the CSV export.

Listings page through the table by id (keyset pagination), so listing or exporting 100,000
people streams in constant memory and sees each person once even while the form adds people.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from subscribers.models import BusinessProfile, Language, Role, Status, Subscriber, Topic

PAGE_SIZE = 1000

# What a listing reads per person: no consent wording, Slack id or timestamps staff don't need.
LISTED_FIELDS = (
    "id",
    "email",
    "name",
    "organization",
    "role",
    "status",
    "language",
    "zip",
    *(f"topic_{topic.value}" for topic in Topic),
    "consent_method",
    "consent_at",
    "consent_source",
    "consent_wording_version",
    "created_at",
)

PROFILE_FIELDS = (
    "legal_name",
    "principal_zip",
    "production_zip",
    "products",
    "naics",
    "employees",
    "years_in_county",
    "ca_small_business",
    "garment_work",
)

EXPORT_COLUMNS = (
    "email",
    "name",
    "organization",
    "role",
    "language",
    "zip",
    "topics",
    "status",
    "consent_method",
    "consent_at",
    "consent_source",
    "consent_wording_version",
    "created_at",
    *PROFILE_FIELDS,
)

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


async def iter_people(
    *, status: Status | None = None, role: Role | None = None, limit: int | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Everyone matching the filters, oldest first, as records (see `record`)."""
    last_id = 0
    remaining = limit
    while remaining is None or remaining > 0:
        query = Subscriber.filter(id__gt=last_id)
        if status is not None:
            query = query.filter(status=status)
        if role is not None:
            query = query.filter(role=role)
        size = PAGE_SIZE if remaining is None else min(PAGE_SIZE, remaining)
        page = await query.order_by("id").limit(size).values(*LISTED_FIELDS)
        for row in page:
            yield record(row)
        if len(page) < size:
            return
        last_id = page[-1]["id"]
        if remaining is not None:
            remaining -= len(page)


async def count_people(*, status: Status | None = None, role: Role | None = None) -> int:
    query = Subscriber.all()
    if status is not None:
        query = query.filter(status=status)
    if role is not None:
        query = query.filter(role=role)
    return await query.count()


def record(row: dict[str, Any]) -> dict[str, Any]:
    """A person as `subscribers list --json` prints them: plain JSON types, topics as a list."""
    return {
        "id": row["id"],
        "email": row["email"],
        "name": row["name"],
        "organization": row["organization"],
        "role": _plain(row["role"]),
        "status": _plain(row["status"]),
        "language": _plain(row["language"]),
        "zip": row["zip"],
        "topics": [topic.value for topic in Topic if row[f"topic_{topic.value}"]],
        "consent_method": _plain(row["consent_method"]),
        "consent_at": _iso(row["consent_at"]),
        "consent_source": row["consent_source"],
        "consent_wording_version": row["consent_wording_version"],
        "created_at": _iso(row["created_at"]),
    }


async def write_export(stream: TextIO, *, status: Status | None = None, role: Role | None = None) -> int:
    """Write everyone (with their business profile) as CSV to `stream`; returns how many."""
    writer = csv.writer(stream)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    page: list[dict[str, Any]] = []
    async for person in iter_people(status=status, role=role):
        page.append(person)
        if len(page) == PAGE_SIZE:
            count += await _write_page(writer, page)
            page = []
    count += await _write_page(writer, page)
    return count


async def _write_page(writer: Any, page: list[dict[str, Any]]) -> int:
    if not page:
        return 0
    ids = [person["id"] for person in page]
    profiles = {
        row["subscriber_id"]: row
        for row in await BusinessProfile.filter(subscriber_id__in=ids).values(
            "subscriber_id", *PROFILE_FIELDS
        )
    }
    for person in page:
        profile = profiles.get(person["id"], {})
        values = {**person, "topics": ";".join(person["topics"]), **profile}
        writer.writerow([spreadsheet_safe(values.get(column)) for column in EXPORT_COLUMNS])
    return len(page)


def spreadsheet_safe(value: object) -> str:
    """A value as a CSV cell that a spreadsheet shows as text, never runs as a formula.

    A leading apostrophe is the spreadsheets' own "this is text" marker (OWASP's advice for CSV
    injection); it is added to text starting with = + - @, a tab or a carriage return.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


@contextlib.contextmanager
def export_file(path: Path, *, force: bool = False) -> Iterator[TextIO]:
    """A new CSV file that appears at `path` only once it is complete.

    It is written next to `path` and renamed into place, so an interrupted export leaves no
    half-written file, and it is readable only by its owner: it holds personal data. UTF-8 with a
    byte-order mark, which is what makes Excel show accents (José, Núñez) correctly.
    """
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder: give a file name like subscribers.csv")
    if path.exists() and not force:
        raise FileExistsError(f"{path} already exists: choose another name, or pass --force to replace it")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder {path.parent} does not exist")
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8-sig", newline="") as stream:
            yield stream
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _plain(value: object) -> object:
    return getattr(value, "value", value)


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


# Searching (the staff console) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeopleFilter:
    """What staff look for: text in a name, address, organisation or product, and exact filters."""

    text: str = ""
    role: Role | None = None
    status: Status | None = None
    language: Language | None = None
    topic: Topic | None = None
    zip: str = ""

    def query(self) -> QuerySet[Subscriber]:
        query = Subscriber.all()
        if self.status is not None:
            query = query.filter(status=self.status)
        if self.role is not None:
            query = query.filter(role=self.role)
        if self.language is not None:
            query = query.filter(language=self.language)
        if self.topic is not None:
            query = query.filter(**{f"topic_{self.topic.value}": True})
        if self.zip:
            query = query.filter(zip__startswith=self.zip)
        text = self.text.strip()
        if text:
            if "@" in text and " " not in text:
                # An address: the unique index finds it, whatever the registry's size.
                query = query.filter(email=text.lower())
            else:
                query = query.filter(
                    Q(name__icontains=text)
                    | Q(organization__icontains=text)
                    | Q(email__icontains=text)
                    | Q(profile__products__icontains=text)
                )
        return query


@dataclass(frozen=True, slots=True)
class PeoplePage:
    people: list[dict[str, Any]]
    next_after: int | None  # the id to continue after; None on the last page


async def search_people(filters: PeopleFilter, *, after: int = 0, limit: int = 50) -> PeoplePage:
    """One page of people matching `filters`, oldest first, continuing after id `after`.

    Keyset paging and no total count: a page costs the same whatever its number and however many
    people there are, as long as matches are not rare (a rare word is a scan of the table either
    way; an address is an index look-up).
    """
    rows = await filters.query().filter(id__gt=after).order_by("id").limit(limit + 1).values(*LISTED_FIELDS)
    more = len(rows) > limit
    people = [record(row) for row in rows[:limit]]
    return PeoplePage(people, people[-1]["id"] if more and people else None)


async def iter_matching(filters: PeopleFilter) -> AsyncIterator[dict[str, Any]]:
    """Everyone matching `filters`, a page at a time (for the CSV export)."""
    after = 0
    while True:
        page = await search_people(filters, after=after, limit=PAGE_SIZE)
        for person in page.people:
            yield person
        if page.next_after is None:
            return
        after = page.next_after


async def export_chunks(filters: PeopleFilter) -> AsyncIterator[str]:
    """The export (an import file: see EXPORT_COLUMNS) of everyone matching `filters`, as CSV text
    a page at a time, for a web response that streams in constant memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    page: list[dict[str, Any]] = []
    async for person in iter_matching(filters):
        page.append(person)
        if len(page) == PAGE_SIZE:
            await _write_page(writer, page)
            page = []
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    await _write_page(writer, page)
    yield buffer.getvalue()
