"""The pool of qualified businesses and the one search over it, for Slack, the console and the CLI.

"Who in the pool makes this?" is answered by full-text search, so a buyer's words work as they
would expect: English or Spanish, plural or singular ("uniform" finds "uniforms", "uniformes"),
category words in both languages ("camisetas" finds a business that wrote "t-shirts" and chose
Apparel), category names and NAICS codes (every prefix of the code is in the document).

- PostgreSQL: the document's English and Spanish `tsvector`s, joined, in a generated column
  `search` under a GIN index (migration 0011: SQL, Tortoise has no such field); the query is the
  English or the Spanish reading of the words, ranked by `ts_rank`.
- SQLite: an FTS5 table over `pool_entry.document` (porter stemmer, accents folded), kept in step
  by triggers; ranked by bm25.

Qualified businesses come first. Interest-form profiles (people who told us what they make but
have not qualified) are found only for staff, marked "interested", by a plain text match: they are
not the County's list, and the registry's own search covers them.
Contact addresses are only ever returned when the caller says the reader is staff.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from tortoise.connection import get_connection
from tortoise.expressions import Q, Subquery

from subscribers.application_models import Application, PoolEntry
from subscribers.models import BusinessProfile, Role, Status, Subscriber
from subscribers.product_categories import BY_CODE, CATEGORIES, Category, category_for

MAX_RESULTS = 10
MIN_TERM, MAX_TERM = 2, 80
_WORD = re.compile(r"[^\W_]+")  # letters and digits (FTS5 and PostgreSQL split on the rest)


class BadSearch(ValueError):
    """The search term can't be used; the message says why."""


def clean_term(raw: str) -> str:
    term = " ".join(raw.split())
    if len(term) < MIN_TERM or not _WORD.search(term):
        raise BadSearch(f"Say what to look for, at least {MIN_TERM} letters or digits, like scrubs or 315.")
    if len(term) > MAX_TERM:
        raise BadSearch(f"That search is too long; use up to {MAX_TERM} characters.")
    return term


def naics_prefixes(naics: str) -> list[str]:
    """315250 -> 315250 31525 3152 315 (what a search by a shorter code should find)."""
    return [naics[:size] for size in range(len(naics), 2, -1)] if naics.isdigit() else []


def search_document(
    *, name: str, dba: str, products: str, category: str, naics: str, capacity: str = ""
) -> str:
    parts = [name, dba, products, capacity]
    found: Category | None = BY_CODE.get(category) or category_for(naics)
    if found is not None:
        parts.append(found.search_words())
        parts.append(found.code)
    parts += naics_prefixes(naics)
    text = "\n".join(part for part in parts if part)
    # Accents folded too: "panaderia" typed on a phone finds "Panadería" on either database.
    folded = without_accents(text)
    return text if folded == text else f"{text}\n{folded}"


def without_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


async def add_to_pool(application: Application, *, qualified_at: dt.datetime | None) -> PoolEntry:
    """Put a qualified application in the pool (or refresh its entry)."""
    answers = application.answers
    naics = answers.get("naics", "")
    category = answers.get("category", "") or naics[:3]
    values: dict[str, Any] = {
        "name": (answers.get("dba") or answers.get("legal_name") or application.business_name or "?")[:200],
        "products": answers.get("products", ""),
        "category": category[:3],
        "naics": naics[:6],
        "capacity": answers.get("capacity", ""),
        "production_zips": answers.get("production_zips", "")[:200],
        "qualified_at": qualified_at or dt.datetime.now(dt.UTC),
        "document": search_document(
            name=answers.get("legal_name", ""),
            dba=answers.get("dba", ""),
            products=answers.get("products", ""),
            category=category,
            naics=naics,
        ),
    }
    entry = await PoolEntry.get_or_none(application_id=application.id)
    if entry is None:
        return await PoolEntry.create(application_id=application.id, **values)
    await PoolEntry.filter(id=entry.id).update(**values)
    return entry


async def remove_from_pool(application_id: int) -> None:
    await PoolEntry.filter(application_id=application_id).delete()


# Searching ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listing:
    kind: str  # "qualified" or "interested"
    name: str
    zips: str
    products: str
    category: str  # the category's English name, or ""
    capacity: str
    locally_owned: bool
    email: str | None  # staff only
    application_id: int | None = None
    subscriber_id: int | None = None


@dataclass(frozen=True, slots=True)
class PoolResults:
    term: str
    qualified: list[Listing]
    qualified_total: int
    interested: list[Listing]
    interested_total: int


def _is_postgres() -> bool:
    return get_connection("default").capabilities.dialect == "postgres"


def _fts5_query(term: str) -> str:
    """Each word quoted (so AND, OR, NEAR and * are words, never operators), all of them required."""
    return " ".join('"' + word.replace('"', "") + '"' for word in _WORD.findall(term.lower()))


async def _matching_entries(term: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    conn = get_connection("default")
    columns = (
        "p.id, p.application_id, p.name, p.products, p.category, p.capacity, p.production_zips, "
        "p.locally_owned"
    )
    if _is_postgres():
        query = "(plainto_tsquery('english', $1) || plainto_tsquery('spanish', $1))"
        rows = await conn.execute_query_dict(
            f"SELECT {columns}, ts_rank(p.search, s.q) AS rank "  # noqa: S608 (constants only)
            f"FROM pool_entry p CROSS JOIN (SELECT {query} AS q) s "
            "WHERE p.search @@ s.q ORDER BY rank DESC, p.id LIMIT $2",
            [term, limit],
        )
        counted = await conn.execute_query_dict(
            f"SELECT count(*) AS n FROM pool_entry WHERE search @@ {query}",  # noqa: S608 (constants)
            [term],
        )
    else:
        match = _fts5_query(term)
        if not match:
            return [], 0
        # The best matches first, from the FTS index alone, then their rows by id: a join the other
        # way round lets SQLite's planner walk the whole pool_entry table.
        rows = await conn.execute_query_dict(
            f"SELECT {columns} FROM (SELECT rowid, bm25(pool_entry_fts) AS rank FROM pool_entry_fts "  # noqa: S608
            "WHERE pool_entry_fts MATCH ? ORDER BY rank LIMIT ?) m JOIN pool_entry p ON p.id = m.rowid "
            "ORDER BY m.rank, p.id",
            [match, limit],
        )
        counted = await conn.execute_query_dict(
            "SELECT count(*) AS n FROM pool_entry_fts WHERE pool_entry_fts MATCH ?", [match]
        )
    return rows, int(counted[0]["n"])


async def _contacts(application_ids: Sequence[int]) -> dict[int, str]:
    rows = await Application.filter(id__in=list(application_ids)).values("id", "answers", "email")
    return {row["id"]: (row["answers"] or {}).get("contact_email") or row["email"] for row in rows}


def _variants(word: str) -> set[str]:
    """A word and its singular (uniforms, uniformes -> uniform(e)): for the plain-text match."""
    found = {word}
    for ending in ("es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            found.add(word[: -len(ending)])
    return found


async def _interested(term: str, limit: int, *, contacts: bool) -> tuple[list[Listing], int]:
    words = [word for word in _WORD.findall(term.lower()) if len(word) >= 2]
    query = Subscriber.filter(role=Role.MANUFACTURER, status=Status.ACTIVE).exclude(
        id__in=Subquery(
            Application.filter(pool_entry__id__isnull=False, subscriber_id__isnull=False).values_list(
                "subscriber_id", flat=True
            )
        )
    )
    for word in words:
        matches = Q()
        for variant in _variants(word):
            matches |= (
                Q(profile__products__icontains=variant)
                | Q(profile__legal_name__icontains=variant)
                | Q(organization__icontains=variant)
            )
        if word.isdigit() and len(word) >= 2:
            matches |= Q(profile__naics__startswith=word)
        for category in CATEGORIES:  # a category word ("camisetas") finds the category's NAICS codes
            if word in _WORD.findall(category.search_words().lower()):
                matches |= Q(profile__naics__startswith=category.code)
        query = query.filter(matches)
    total = await query.count()
    people = await query.order_by("organization", "id").limit(limit).prefetch_related("profile")
    listings = []
    for person in people:
        profile = cast("BusinessProfile | None", person.profile)  # prefetched: a one-to-one, or None
        found = category_for(profile.naics) if profile else None
        listings.append(
            Listing(
                kind="interested",
                name=(profile.legal_name if profile and profile.legal_name else person.organization)
                or "(no business name given)",
                zips=(profile.production_zip or profile.principal_zip) if profile else person.zip,
                products=profile.products if profile else "",
                category=found.en if found else "",
                capacity="",
                locally_owned=False,
                email=person.email if contacts else None,
                subscriber_id=person.id,
            )
        )
    return listings, total


async def search_pool(
    term: str, *, interested: bool = False, contacts: bool = False, limit: int = MAX_RESULTS
) -> PoolResults:
    """Who makes `term`: qualified businesses (ranked), then, when `interested`, interest-form
    profiles. `contacts` adds contact addresses: only ever for staff. Raises BadSearch."""
    cleaned = clean_term(term)
    rows, total = await _matching_entries(cleaned, limit)
    emails = await _contacts([row["application_id"] for row in rows]) if contacts and rows else {}
    qualified = [
        Listing(
            kind="qualified",
            name=row["name"],
            zips=row["production_zips"],
            products=row["products"],
            category=BY_CODE[row["category"]].en if row["category"] in BY_CODE else "",
            capacity=row["capacity"],
            locally_owned=bool(row["locally_owned"]),
            email=emails.get(row["application_id"]) if contacts else None,
            application_id=row["application_id"],
        )
        for row in rows
    ]
    others, others_total = await _interested(cleaned, limit, contacts=contacts) if interested else ([], 0)
    return PoolResults(cleaned, qualified, total, others, others_total)


# The whole pool and the products list --------------------------------------------------------------

POOL_COLUMNS = (
    "name",
    "category",
    "naics",
    "products",
    "capacity",
    "production_zips",
    "locally_owned",
    "qualified_at",
)


async def pool_rows(*, contacts: bool = False, term: str = "") -> list[dict[str, Any]]:
    """The pool (or the matches for `term`, all of them), as rows for a page or a CSV."""
    if term:
        rows, _ = await _matching_entries(clean_term(term), 100_000)
        ids = [row["id"] for row in rows]
        entries = {entry.id: entry for entry in await PoolEntry.filter(id__in=ids)}
        ordered = [entries[i] for i in ids if i in entries]
    else:
        ordered = await PoolEntry.all().order_by("category", "name", "id")
    emails = await _contacts([entry.application_id for entry in ordered]) if contacts and ordered else {}  # type: ignore[attr-defined]
    result = []
    for entry in ordered:
        category = BY_CODE.get(entry.category)
        row: dict[str, Any] = {
            "application_id": entry.application_id,  # type: ignore[attr-defined]
            "name": entry.name,
            "category": category.en if category else "",
            "naics": entry.naics,
            "products": entry.products,
            "capacity": entry.capacity,
            "production_zips": entry.production_zips,
            "locally_owned": entry.locally_owned,
            "qualified_at": entry.qualified_at.isoformat() if entry.qualified_at else None,
        }
        if contacts:
            row["contact_email"] = emails.get(entry.application_id, "")  # type: ignore[attr-defined]
        result.append(row)
    return result


@dataclass(frozen=True, slots=True)
class ProductLine:
    """One category of the products list for ISD (the motion's item 1.c)."""

    code: str
    name_en: str
    name_es: str
    manufacturers: int
    locally_owned: int
    capacity: list[tuple[str, str]]  # (business, what it says it can supply)


async def products_list() -> list[ProductLine]:
    """Every category with at least one qualified manufacturer, with their number and capacity."""
    entries = (
        await PoolEntry.all()
        .order_by("category", "name")
        .values("category", "name", "capacity", "locally_owned")
    )
    lines: list[ProductLine] = []
    for category in CATEGORIES:
        members = [entry for entry in entries if entry["category"] == category.code]
        if not members:
            continue
        lines.append(
            ProductLine(
                code=category.code,
                name_en=category.en,
                name_es=category.es,
                manufacturers=len(members),
                locally_owned=sum(1 for entry in members if entry["locally_owned"]),
                capacity=[(entry["name"], entry["capacity"]) for entry in members],
            )
        )
    return lines


def products_record(line: ProductLine) -> dict[str, Any]:
    return {
        "category": line.code,
        "name": line.name_en,
        "name_es": line.name_es,
        "manufacturers": line.manufacturers,
        "locally_owned": line.locally_owned,
        "capacity": [{"business": name, "capacity": text} for name, text in line.capacity],
    }


def _cell(value: object) -> str:
    from subscribers.directory import spreadsheet_safe

    return spreadsheet_safe(value)


async def pool_csv(*, contacts: bool, term: str = "") -> AsyncIterator[str]:
    """The pool as CSV text (a byte-order mark first is the caller's choice)."""
    columns = ("application_id", *POOL_COLUMNS, *(("contact_email",) if contacts else ()))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in await pool_rows(contacts=contacts, term=term):
        writer.writerow([_cell(row.get(column)) for column in columns])
    yield buffer.getvalue()


async def products_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("category", "name", "name_es", "qualified_manufacturers", "locally_owned", "capacity"))
    for line in await products_list():
        capacity = "; ".join(f"{name}: {' '.join(text.split())}" for name, text in line.capacity if text)
        writer.writerow(
            [
                _cell(value)
                for value in (
                    line.code,
                    line.name_en,
                    line.name_es,
                    line.manufacturers,
                    line.locally_owned,
                    capacity,
                )
            ]
        )
    return buffer.getvalue()
