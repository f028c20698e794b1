"""Tortoise's SQLite client, with write transactions that wait for the lock instead of failing.

Tortoise opens a transaction with a plain `BEGIN` (deferred): it takes SQLite's write lock only at
its first write. If another process (`madeinla serve` taking sign-ups while a staff member runs
`madeinla subscribers import`) committed since the transaction's first read, SQLite can't let it
write on what it read and fails at once with "database is locked", whatever the busy timeout:
waiting could not help a snapshot that is already stale. `BEGIN IMMEDIATE` takes the write lock
first, so a transaction waits its turn (up to `busy_timeout`) and then reads and writes a current
database. SQLite serves one writer at a time anyway, so nothing is lost in concurrency.

It also counts the rows a statement changed as SQLite's `changes()` does: Tortoise counts
`total_changes`, which includes the rows the statement's triggers wrote (the figures' counters,
outreach/metrics/triggers.py), so `.update()` would return more rows than it changed.

The module's name contains "sqlite": Tortoise's migration executor picks its SQLite schema editor
by the client's module name.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
    translate_exceptions,
)
from tortoise.exceptions import TransactionManagementError


def _run(connection: sqlite3.Connection, query: str, values: list[Any] | None) -> tuple[int, list[Any]]:
    cursor = connection.execute(query, values or [])
    try:
        rows = cursor.fetchall()
        return cursor.rowcount, rows  # sqlite3_changes(): this statement's rows, not its triggers'
    finally:
        cursor.close()


class DirectChanges(SqliteClient):
    """`execute_query` returning the rows the statement itself changed (or the rows it returned).

    In one trip to aiosqlite's thread, as Tortoise's own (the sender's statements go through here):
    aiosqlite has no public call that runs a statement and keeps its cursor's row count, so this
    uses its `_execute` and `_conn`, as aiosqlite's own methods do."""

    @translate_exceptions
    async def execute_query(
        self, query: str, values: list[Any] | None = None
    ) -> tuple[int, Sequence[dict[str, Any]]]:
        query = query.replace("\x00", "'||CHAR(0)||'")  # as Tortoise's own
        async with self.acquire_connection() as connection:
            changed, rows = await connection._execute(_run, connection._conn, query, values)
            return (changed if changed > 0 else 0) or len(rows), rows


class ImmediateTransaction(DirectChanges, SqliteTransactionWrapper):
    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(ImmediateTransaction(self))

    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class WaitingSqliteClient(DirectChanges):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransaction(self), self._lock)

    @translate_exceptions
    async def execute_many(self, query: str, values: list[list[Any]]) -> None:
        async with self.acquire_connection() as connection:
            await connection.execute("BEGIN IMMEDIATE")
            try:
                await connection.executemany(query, values)
            except Exception:
                await connection.rollback()
                raise
            else:
                await connection.commit()


client_class = WaitingSqliteClient
