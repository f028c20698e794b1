"""Limits on the mail a stranger can make the form send (confirmation bombing).

Anyone can type any address into the form, and each new address gets a confirmation. Per address
that is already limited (one per `RESEND_AFTER`), but `victim+1@`, `victim+2@`, ... are new
addresses that all land in one inbox, and `a@shop.example`, `b@shop.example`, ... all land on one
small business's server. So every email the form triggers (a confirmation, a re-sent one, the
"already signed up" notice) also needs room in two allowances:

- per mailbox, with plus-tags folded (`victim+1@example.org` is `victim@example.org`) and, at
  Gmail, dots too: `CONFIRMATIONS_PER_MAILBOX_PER_DAY`;
- per domain: `CONFIRMATIONS_PER_DOMAIN_PER_HOUR`, except at the big shared providers (Gmail,
  Outlook, Yahoo, ...), where a domain-wide count would only turn real people away on a busy day;
  each mailbox there still has its own allowance.

Past either, the form stores and sends nothing for that sign-up, and the typist sees exactly the
page everyone sees. Each allowance is a fixed window counted in the `confirmation_window` table,
so it holds across restarts and processes. A batch of sign-ups costs one statement (an upsert of
every key it touches, keys in a fixed order so concurrent batches can't deadlock on each other),
run in the sign-up's own transaction: the count and the queued email commit together. Keys are
hashes, so the table holds no address; rows are deleted once their window has ended.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.connection import get_connection

MAILBOX_WINDOW_SECONDS = 24 * 3600
DOMAIN_WINDOW_SECONDS = 3600
PRUNE_EVERY_SECONDS = 600.0

# Mail providers shared by millions of people: no limit per domain there (see the module docstring).
SHARED_PROVIDERS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.com.mx",
        "ymail.com",
        "rocketmail.com",
        "outlook.com",
        "outlook.es",
        "hotmail.com",
        "hotmail.es",
        "hotmail.com.mx",
        "live.com",
        "live.com.mx",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "att.net",
        "sbcglobal.net",
        "pacbell.net",
        "comcast.net",
        "verizon.net",
        "charter.net",
        "cox.net",
        "earthlink.net",
        "protonmail.com",
        "proton.me",
        "mail.com",
        "gmx.com",
        "zoho.com",
        "prodigy.net.mx",
    }
)
# Providers that ignore dots before the @ (and its other name): one mailbox, however it's dotted.
_DOTLESS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


@dataclass(frozen=True, slots=True)
class ConfirmationLimits:
    """How many emails the form may trigger; 0 turns an allowance off."""

    per_mailbox_per_day: int = 0
    per_domain_per_hour: int = 0

    @property
    def enabled(self) -> bool:
        return self.per_mailbox_per_day > 0 or self.per_domain_per_hour > 0


def mailbox_of(address: str) -> str:
    """The inbox an address reaches: `Victim+news@example.org` and `victim@example.org` are one.
    `address` is normalised already (lower case, ASCII; see `normalise_email`)."""
    local, _, domain = address.rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _DOTLESS:
        domain = _DOTLESS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}"


def _keys(address: str, limits: ConfirmationLimits) -> list[tuple[str, int, int]]:
    """The allowances an email to `address` draws on: (key, limit, window seconds)."""
    keys = []
    if limits.per_mailbox_per_day > 0:
        keys.append(
            (_key("mailbox", mailbox_of(address)), limits.per_mailbox_per_day, MAILBOX_WINDOW_SECONDS)
        )
    domain = address.rpartition("@")[2]
    if limits.per_domain_per_hour > 0 and domain not in SHARED_PROVIDERS:
        keys.append((_key("domain", domain), limits.per_domain_per_hour, DOMAIN_WINDOW_SECONDS))
    return keys


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


_last_prune = -PRUNE_EVERY_SECONDS


async def claim_confirmations(
    addresses: Sequence[str], *, now: dt.datetime, limits: ConfirmationLimits
) -> list[bool]:
    """For each address, in order: may the form email it now? Each one counts against its
    allowances (granted or not). Runs in the caller's transaction."""
    if not addresses or not limits.enabled:
        return [True] * len(addresses)
    per_address = [_keys(address, limits) for address in addresses]
    asked = Counter(key for keys in per_address for key, _limit, _window in keys)
    if not asked:
        return [True] * len(addresses)
    windows = {key: window for keys in per_address for key, _limit, window in keys}
    stamp = int(now.timestamp())
    conn = get_connection("default")
    postgres = conn.capabilities.dialect == "postgres"
    values: list[object] = []
    for key in sorted(asked):  # one lock order for every transaction
        values += [key, stamp + windows[key], asked[key]]
    values += [stamp, stamp]
    marks = [f"${n}" for n in range(1, len(values) + 1)] if postgres else ["?"] * len(values)
    rows = ", ".join(f"({marks[i]}, {marks[i + 1]}, {marks[i + 2]})" for i in range(0, len(values) - 2, 3))
    statement = (
        f"INSERT INTO confirmation_window (key, resets_at, confirmations) VALUES {rows} "  # noqa: S608
        "ON CONFLICT (key) DO UPDATE SET "
        f"confirmations = CASE WHEN confirmation_window.resets_at <= {marks[-2]} "
        "THEN excluded.confirmations ELSE confirmation_window.confirmations + excluded.confirmations END, "
        f"resets_at = CASE WHEN confirmation_window.resets_at <= {marks[-1]} "
        "THEN excluded.resets_at ELSE confirmation_window.resets_at END "
        "RETURNING key, confirmations"
    )
    counted = {
        row["key"]: int(row["confirmations"]) for row in await conn.execute_query_dict(statement, values)
    }
    await _prune(stamp)
    seen: Counter[str] = Counter()
    allowed = []
    for keys in per_address:
        granted = True
        for key, limit, _window in keys:
            before = counted[key] - asked[key] + seen[key]  # asked for before this one
            seen[key] += 1
            granted = granted and before < limit
        allowed.append(granted)
    return allowed


async def _prune(stamp: int) -> None:
    """Now and then, delete the windows that have ended (every few minutes per process)."""
    global _last_prune
    if time.monotonic() - _last_prune < PRUNE_EVERY_SECONDS:
        return
    _last_prune = time.monotonic()
    conn = get_connection("default")
    mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
    await conn.execute_query(f"DELETE FROM confirmation_window WHERE resets_at <= {mark}", [stamp])  # noqa: S608
