"""Many rows in few statements, for any model, in the current transaction: what a batch of sign-ups
(`insert_many`), a contact list's import and a batch of bounces (`BulkSql`) write.

Building ORM instances costs more than the rest of a sign-up together, and these rows are plain, so
a batch goes in as one statement per table with the values the ORM itself would write. `BulkSql` is
where the two databases differ in how a batch's values travel: arrays on PostgreSQL, lists of
placeholders on SQLite.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.models import Model


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def insert_many(
    model: type[Model], rows: list[dict[str, Any]], *, returning: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """`INSERT INTO <table> (...) VALUES (...), (...)` for `rows`, in the current transaction.

    Fields a row leaves out take the model's default (auto_now fields: the time now), and every
    value goes through its field's `to_db_value`, as in the ORM's own inserts.
    """
    if not rows:
        return []
    meta = model._meta
    fields = [
        (name, meta.fields_map[name])
        for name in meta.fields_db_projection
        if not meta.fields_map[name].generated
    ]
    now = utcnow()
    defaults: dict[str, Any] = {}
    for name, field_object in fields:
        if getattr(field_object, "auto_now", False) or getattr(field_object, "auto_now_add", False):
            defaults[name] = now
        elif not callable(field_object.default):
            defaults[name] = field_object.default
    values: list[Any] = []
    for row in rows:
        for name, field_object in fields:
            value = row[name] if name in row else defaults.get(name, _MISSING)
            if value is _MISSING:
                value = field_object.default()
            values.append(field_object.to_db_value(value, model))
    conn = get_connection(meta.default_connection or "default")
    width = len(fields)
    marks = placeholders(conn, width * len(rows))
    groups = ", ".join("(" + ", ".join(marks[i : i + width]) + ")" for i in range(0, len(marks), width))
    columns = ", ".join(f'"{meta.fields_db_projection[name]}"' for name, _ in fields)
    statement = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES {groups}'  # noqa: S608 (model names)
    if returning:
        statement += " RETURNING " + ", ".join(f'"{column}"' for column in returning)
        return await conn.execute_query_dict(statement, values)
    await conn.execute_query(statement, values)
    return []


_MISSING = object()


def placeholders(conn: BaseDBAsyncClient, count: int) -> list[str]:
    """`count` query placeholders in the connection's style."""
    if conn.capabilities.dialect == "postgres":
        return [f"${n}" for n in range(1, count + 1)]
    return ["?"] * count


class BulkSql:
    """Plain SQL for the import's bulk reads and writes, on whichever database is open.

    The ORM builds a query object per IN-list value and a model object per inserted row (tens of
    microseconds each), which was most of the time of a 100,000-person import. The values written
    are the ORM's own: tests/subscribers/test_importing.py reads imported rows back through the
    models. Only names from the models' metadata are formatted into SQL; every value is a parameter.
    """

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self.conn = conn
        self.postgres = conn.capabilities.dialect == "postgres"

    def sql(self, statement: str) -> str:
        """`statement`, written with `?` placeholders, in this database's placeholder style."""
        if not self.postgres:
            return statement
        counter = itertools.count(1)
        return re.sub(r"\?", lambda _m: f"${next(counter)}", statement)

    def among(self, column: str, values: Sequence[Any], sql_type: str) -> tuple[str, list[Any]]:
        """The condition "`column` is one of `values`" (`?` placeholders) and its parameters.

        PostgreSQL gets one array (`sql_type[]`) as a set to join: one statement text whatever the
        batch's length, whose plan looks each value up by index, or hashes them while the table is
        small. `IN ($1, ..., $100)` was planned generically after five runs, and on a table that had
        been small then, as a scan comparing every row with every value (10 ms a lookup once a
        bounce table held 10,000 rows). SQLite, planned each time, gets the IN list.
        """
        if self.postgres:
            return f"{column} IN (SELECT unnest(?::{sql_type}[]))", [list(values)]
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    def rows(self, rows: Sequence[Sequence[Any]], sql_types: Sequence[str]) -> tuple[str, list[Any]]:
        """A set of rows to `INSERT INTO t (columns) <rows>` or to name in a `WITH v (columns) AS
        (<rows>)`, and its parameters: one array a column on PostgreSQL (`SELECT * FROM unnest(...)`),
        `VALUES (?, ...), ...` on SQLite (whose limit is 32,766 values a statement)."""
        if self.postgres:
            arrays = ", ".join(f"?::{sql_type}[]" for sql_type in sql_types)
            columns = [list(column) for column in zip(*rows, strict=True)]
            return f"SELECT * FROM unnest({arrays})", columns  # noqa: S608 (placeholders only)
        one = "(" + ", ".join("?" * len(sql_types)) + ")"
        return "VALUES " + ", ".join(one for _ in rows), [value for row in rows for value in row]

    def timestamp(self, moment: dt.datetime) -> dt.datetime | str:
        """A datetime as a parameter: SQLite gets the text Tortoise's adapter writes, made once."""
        return moment if self.postgres else moment.isoformat(" ")

    async def lookup(self, model: type[Model], key: str, value: str, keys: list[str]) -> dict[str, Any]:
        """`{key: value}` for the rows whose `key` column is one of `keys` (text values)."""
        if not keys:
            return {}
        table = model._meta.db_table
        if self.postgres:
            # One array joined in, not `IN ($1, ..., $1000)`: PostgreSQL's cached generic plan for a
            # long IN list compares every row with every value, and inside the import's transaction
            # (no statistics for the rows it added) that took minutes for 100,000 people.
            join = f'JOIN unnest($1::text[]) k(v) ON t."{key}" = k.v'
            query = f'SELECT t."{key}", t."{value}" FROM "{table}" t {join}'  # noqa: S608
            params: list[Any] = [keys]
        else:
            marks = ", ".join("?" * len(keys))
            query = f'SELECT "{key}", "{value}" FROM "{table}" WHERE "{key}" IN ({marks})'  # noqa: S608
            params = keys
        _count, rows = await self.conn.execute_query(query, params)
        return {row[0]: row[1] for row in rows}

    def insert(
        self, model: type[Model], fields: tuple[str, ...]
    ) -> Callable[[list[tuple[Any, ...]]], Awaitable[None]]:
        """An INSERT of rows of `fields`, with every other column at the model's default.

        SQLite runs it with executemany. PostgreSQL gets one statement per batch with each column as
        an array (`INSERT ... SELECT * FROM unnest(...)`), which took about 30% less time than a
        statement per row in bench/import.py.
        """
        meta = model._meta
        names = list(fields)
        defaults: list[Any] = []
        for name in meta.fields_db_projection:
            if name in fields or name == meta.pk_attr:
                continue
            field_ = meta.fields_map[name]
            default = field_.default() if callable(field_.default) else field_.default
            if default is None and not field_.null:
                raise TypeError(f"{model.__name__}.{name} has no default: the import must give it a value")
            names.append(name)
            defaults.append(None if default is None else field_.to_db_value(default, model))
        columns = ", ".join(f'"{meta.fields_db_projection[name]}"' for name in names)
        tail = tuple(defaults)

        if self.postgres:
            arrays = ", ".join(
                f"${i}::{meta.fields_map[name].get_for_dialect('postgres', 'SQL_TYPE')}[]"
                for i, name in enumerate(names, start=1)
            )
            by_array = f'INSERT INTO "{meta.db_table}" ({columns}) SELECT * FROM unnest({arrays})'  # noqa: S608

            async def run_postgres(rows: list[tuple[Any, ...]]) -> None:
                if rows:
                    by_column = [list(column) for column in zip(*(row + tail for row in rows), strict=True)]
                    await self.conn.execute_query(by_array, by_column)

            return run_postgres

        marks = ", ".join("?" * len(names))
        by_row = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES ({marks})'  # noqa: S608

        async def run_sqlite(rows: list[tuple[Any, ...]]) -> None:
            if rows:
                # Tortoise annotates the rows as lists; sqlite3's executemany takes any sequences.
                await self.conn.execute_many(by_row, [row + tail for row in rows])  # type: ignore[misc]

        return run_sqlite
