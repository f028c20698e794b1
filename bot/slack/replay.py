"""Refuse a signed Slack request seen before.

A signature is valid for Slack's five-minute window, so anyone who captured a request (a proxy
log, a shared screen) could send it again, and a staff command like `campaigns pause 1` would run
again. Slack never signs two requests alike (the timestamp is in the signature), so a signature
seen before is a replay.

Each process remembers the signatures it let in until their window closes. On PostgreSQL every
process also claims each signature in `slack_request_seen` (primary key: the second `INSERT ...
ON CONFLICT DO NOTHING` inserts nothing), so a replay to another process behind the load balancer
is refused as well; each process deletes expired rows once a minute. SQLite serves one process,
where memory is enough (a restart forgets, within the five minutes). If the database can't be
reached the check falls back to memory (with a warning) rather than refusing Slack altogether:
the screener, the commonest command, needs no database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from tortoise.connection import get_connection

from bot.slack.intake import MAX_AGE_SECONDS, Signed

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 60.0


class ReplayGuard:
    def __init__(self, *, shared: bool, now: Callable[[], float] = time.time) -> None:
        self.shared = shared
        self._now = now
        self._seen: dict[str, int] = {}  # signature -> when its timestamp goes stale (Unix seconds)
        self._next_prune = 0.0

    async def first_time(self, request: Signed) -> bool:
        """True the first time this signature is seen (and remember it), False for a replay."""
        now = self._now()
        prune = now >= self._next_prune
        if prune:
            self._next_prune = now + PRUNE_EVERY_SECONDS
            self._seen = {signature: until for signature, until in self._seen.items() if until >= now}
        if request.signature in self._seen:
            return False
        # The signature check accepts timestamps up to five minutes off either way.
        until = request.timestamp + MAX_AGE_SECONDS + 1
        self._seen[request.signature] = until
        if not self.shared:
            return True
        try:
            if prune:
                await _delete_expired(int(now))
            return await _claim(request.signature, until)
        except Exception as error:  # the database is away: this process's memory still holds
            log.warning("Slack replay check used this process's memory only: %s", type(error).__name__)
            return True


async def _claim(signature: str, until: int) -> bool:
    rows = await get_connection("default").execute_query_dict(
        "INSERT INTO slack_request_seen (signature, expires_at) VALUES ($1, $2) "
        "ON CONFLICT (signature) DO NOTHING RETURNING signature",
        [signature, until],
    )
    return bool(rows)


async def _delete_expired(now: int) -> None:
    await get_connection("default").execute_query(
        "DELETE FROM slack_request_seen WHERE expires_at < $1", [now]
    )
