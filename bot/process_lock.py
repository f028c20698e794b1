"""One serving process per SQLite database: a lock file beside it.

SQLite has no row claims or advisory locks, so two `serve` or `worker` processes on one file would
both run the scheduler and the sender. The lock is an `fcntl` lock on `<database>.lock`: the
operating system drops it when the process ends, however it ends, so a crash never leaves a stale
lock. The file holds the owner's process id, for the message the second process prints.
Short commands (imports, lists) don't take it: they share the file through SQLite's own locking.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DatabaseInUse(Exception):
    """Another serving process holds the database; the message says which and what to do."""


def hold_sqlite_lock(database: Path) -> int:
    """Take the lock for this process's lifetime; return its file descriptor (keep it open)."""
    lock_path = database.with_name(database.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        owner = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise DatabaseInUse(
            f"another madeinla serve or worker (process {owner}) is already using the SQLite database "
            f"{os.path.abspath(database)}; SQLite allows one. Stop that one first, or use PostgreSQL "
            "(DATABASE_URL) to run several"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd
