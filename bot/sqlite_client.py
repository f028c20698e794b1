"""Tortoise's SQLite client, with write transactions that wait for the lock instead of failing.

Tortoise opens a transaction with a plain `BEGIN` (deferred): it takes SQLite's write lock only at
its first write. If another process (`madeinla serve` taking sign-ups while a staff member runs
`madeinla subscribers import`) committed since the transaction's first read, SQLite can't let it
write on what it read and fails at once with "database is locked", whatever the busy timeout:
waiting could not help a snapshot that is already stale. `BEGIN IMMEDIATE` takes the write lock
first, so a transaction waits its turn (up to `busy_timeout`) and then reads and writes a current
database. SQLite serves one writer at a time anyway, so nothing is lost in concurrency.

The module's name contains "sqlite": Tortoise's migration executor picks its SQLite schema editor
by the client's module name.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
    translate_exceptions,
)
from tortoise.exceptions import TransactionManagementError


class ImmediateTransaction(SqliteTransactionWrapper):
    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(ImmediateTransaction(self))

    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class WaitingSqliteClient(SqliteClient):
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
