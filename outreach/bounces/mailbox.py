"""The bounce mailbox poller: reads BOUNCE_IMAP_FOLDER, processes every message, files it away.

With aioimaplib (maintained, asyncio). One pass (`drain`): the folder's UIDs, then in batches: fetch
(at most BOUNCE_MAX_MESSAGE_KB of each, without marking it read), process (one transaction per
batch, `processing`), and only then MOVE each message to BOUNCE_IMAP_DONE_FOLDER, or to
BOUNCE_IMAP_UNRECOGNISED_FOLDER when nobody could read it automatically. Nothing is ever deleted.
A crash between the commit and the move leaves messages in the folder that the next pass
recognises as processed (their keys) and only moves; a crash before the commit did nothing. Between
passes the poller waits in IMAP IDLE where the server offers it (new mail is read at once), else
polls every BOUNCE_POLL_SECONDS.

One process at a time reads the mailbox: on PostgreSQL the one holding an advisory lock (any
`serve` or `worker` may take over when it stops). A server that can't be reached, refuses the login
or fails mid-pass is retried with a growing pause; the database being away is retried the same way
without moving anything. aioimaplib has no STARTTLS, so `starttls` upgrades its connection with
asyncio's own `start_tls` after the STARTTLS command.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import ssl
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import aioimaplib  # type: ignore[import-untyped]
from aioimaplib.aioimaplib import Command  # type: ignore[import-untyped]

from outreach.bounces.processing import BounceProcessor, DatabaseUnavailable, Outcome

log = logging.getLogger(__name__)

# pg_try_advisory_lock key: "MLAB" (Made in LA, bounces); the scheduler uses "MLAS" + 1.
MAILBOX_LOCK_KEY = 0x4D4C4142
BATCH = 100
# aioimaplib handles each line of a response in a recursive call, and a UID MOVE is answered with a
# line for each message moved (`* n EXPUNGE`): a batch of 1,000 exceeded Python's recursion limit
# (1,000 frames). Larger batches gain nothing either: aioimaplib's FETCH parsing time grows with the
# square of the batch (bench/bounces.py: 100, 250 and 500 within a few percent of each other).
MAX_BATCH = 500
MAX_BACKOFF_SECONDS = 300.0


class MailboxError(Exception):
    """The IMAP server refused something (login, a folder); the text is safe to log."""


class Lock(Protocol):
    """Who may read the mailbox (outreach.scheduling.Leadership)."""

    async def hold(self) -> bool: ...

    async def release(self) -> None: ...


class AlwaysHeld:
    """One process per database (SQLite), or a test: nobody else to ask."""

    async def hold(self) -> bool:
        return True

    async def release(self) -> None:
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class MailboxOptions:
    host: str
    username: str
    password: str
    port: int = 993
    tls: str = "tls"  # tls, starttls, none
    folder: str = "INBOX"
    done_folder: str = "Processed"
    unrecognised_folder: str = "Unrecognised"
    poll_seconds: float = 60.0
    max_bytes: int = 512 * 1024
    timeout_seconds: float = 30.0
    batch: int = BATCH

    def __post_init__(self) -> None:
        if not 1 <= self.batch <= MAX_BATCH:
            raise ValueError(f"a batch is 1 to {MAX_BATCH} messages (aioimaplib's limits), not {self.batch}")


@dataclasses.dataclass
class PassReport:
    """What one pass over the folder did."""

    processed: int = 0  # messages newly processed
    duplicates: int = 0  # processed before (a crash after the commit): only moved
    unrecognised: int = 0  # moved to the Unrecognised folder


class BounceMailbox:
    def __init__(
        self,
        options: MailboxOptions,
        processor: BounceProcessor,
        *,
        lock: Lock | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.options = options
        self.processor = processor
        self.lock = lock or AlwaysHeld()
        self.ssl_context = ssl_context

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set: what `serve` and `worker` run in the background."""
        backoff = 1.0
        try:
            while not stop.is_set():
                if not await self.lock.hold():
                    await _wait(stop, self.options.poll_seconds)
                    continue
                try:
                    async with self.session() as imap:
                        backoff = 1.0
                        while not stop.is_set() and await self.lock.hold():
                            await self._drain(imap)
                            await self._wait_for_mail(imap, stop)
                except (MailboxError, DatabaseUnavailable, aioimaplib.AioImapException, OSError) as exc:
                    log.warning("bounce mailbox: %s; trying again in %.0f s", _describe(exc), backoff)
                except TimeoutError:
                    log.warning("bounce mailbox: the server did not answer in time; trying again")
                await _wait(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        finally:
            await self.lock.release()

    async def drain_once(self) -> PassReport:
        """Connect, process everything in the folder, disconnect (tests, benchmarks, one-off runs)."""
        async with self.session() as imap:
            return await self._drain(imap)

    # The IMAP conversation -----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        """Connected, secured, logged in, folders present, the folder selected."""
        o = self.options
        if o.tls == "tls":
            context = self.ssl_context or ssl.create_default_context()
            imap = aioimaplib.IMAP4_SSL(
                host=o.host, port=o.port, timeout=o.timeout_seconds, ssl_context=context
            )
        else:
            imap = aioimaplib.IMAP4(host=o.host, port=o.port, timeout=o.timeout_seconds)
        try:
            await imap.wait_hello_from_server()
            if o.tls == "starttls":
                await self._starttls(imap)
            response = await imap.login(o.username, o.password)
            if response.result != "OK":
                raise MailboxError(f"the server refused the login for {o.username!r} (check BOUNCE_IMAP_*)")
            await imap.protocol.capability()  # what it offers once logged in (MOVE, IDLE, UIDPLUS)
            for folder in (o.done_folder, o.unrecognised_folder):
                await imap.create(_quoted(folder))  # NO [ALREADYEXISTS] is fine
            response = await imap.select(_quoted(o.folder))
            if response.result != "OK":
                raise MailboxError(f"can't open the folder {o.folder!r}: {_text(response)}")
            yield imap
        finally:
            with contextlib.suppress(Exception):
                if imap.protocol.state in ("AUTH", "SELECTED"):
                    await asyncio.wait_for(imap.logout(), 5)
            with contextlib.suppress(Exception):
                if imap.protocol.transport is not None:
                    imap.protocol.transport.close()

    async def _starttls(self, imap: Any) -> None:
        protocol = imap.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise MailboxError("the server does not offer STARTTLS (BOUNCE_IMAP_TLS=starttls)")
        response = await asyncio.wait_for(
            protocol.execute(Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)),
            self.options.timeout_seconds,
        )
        if response.result != "OK":
            raise MailboxError(f"STARTTLS refused: {_text(response)}")
        context = self.ssl_context or ssl.create_default_context()
        protocol.transport = await asyncio.get_running_loop().start_tls(
            protocol.transport, protocol, context, server_hostname=self.options.host
        )
        await protocol.capability()  # capabilities must be asked again after TLS (RFC 3501 6.2.1)

    async def _drain(self, imap: Any) -> PassReport:
        report = PassReport()
        tried: set[str] = set()
        # One IMAP command at a time, in the order asked: aioimaplib sends a command once the one
        # before it is answered, but lets only one wait for that.
        turn = asyncio.Lock()
        while True:
            # Mail that arrived meanwhile is taken in the same pass; a UID that stays (the server
            # would not move it) is not fetched again and again.
            uids = [uid for uid in await self._uids(imap) if uid not in tried]
            if not uids:
                return report
            tried.update(uids)
            batches = [
                uids[start : start + self.options.batch] for start in range(0, len(uids), self.options.batch)
            ]
            # While a batch is read and written, the server sends the next one and files the one
            # before (moving waits for the commit, never the other way round).
            ahead: asyncio.Future[list[tuple[str, bytes]]] = asyncio.ensure_future(
                self._fetch(imap, batches[0], turn)
            )
            filing: asyncio.Future[None] | None = None
            try:
                for index in range(len(batches)):
                    fetched = await ahead
                    if index + 1 < len(batches):
                        ahead = asyncio.ensure_future(self._fetch(imap, batches[index + 1], turn))
                    if not fetched:
                        continue  # gone meanwhile (another client moved them)
                    outcomes = await self.processor.process([raw for _uid, raw in fetched], source="imap")
                    if filing is not None:
                        await filing  # the batch before: if it could not be moved, the pass stops here
                    moves = self._file(imap, [uid for uid, _raw in fetched], outcomes, report, turn)
                    filing = asyncio.ensure_future(moves)
                if filing is not None:
                    await filing
            finally:
                for pending in (ahead, filing):
                    if pending is not None and not pending.done():
                        pending.cancel()
                        with contextlib.suppress(BaseException):
                            await pending

    async def _uids(self, imap: Any) -> list[str]:
        response = await imap.uid_search("ALL")
        if response.result != "OK":
            raise MailboxError(f"searching the folder failed: {_text(response)}")
        for line in response.lines:
            if isinstance(line, bytes | bytearray) and re.fullmatch(rb"[\d ]*", bytes(line)):
                return [uid.decode() for uid in bytes(line).split()]
        return []

    async def _fetch(self, imap: Any, uids: Sequence[str], turn: asyncio.Lock) -> list[tuple[str, bytes]]:
        async with turn:
            response = await imap.uid(
                "fetch", ",".join(uids), f"(UID BODY.PEEK[]<0.{self.options.max_bytes}>)"
            )
        if response.result != "OK":
            raise MailboxError(f"fetching messages failed: {_text(response)}")
        return _parse_fetch(response.lines)

    async def _file(
        self, imap: Any, uids: list[str], outcomes: list[Outcome], report: PassReport, turn: asyncio.Lock
    ) -> None:
        done = [uid for uid, outcome in zip(uids, outcomes, strict=True) if not outcome.for_a_person]
        other = [uid for uid, outcome in zip(uids, outcomes, strict=True) if outcome.for_a_person]
        for outcome in outcomes:
            report.duplicates += outcome.duplicate
            report.processed += not outcome.duplicate
            report.unrecognised += outcome.for_a_person
        async with turn:
            await self._move(imap, done, self.options.done_folder)
            await self._move(imap, other, self.options.unrecognised_folder)

    async def _move(self, imap: Any, uids: list[str], folder: str) -> None:
        if not uids:
            return
        uid_set = ",".join(uids)
        if imap.has_capability("MOVE"):
            response = await imap.uid("move", uid_set, _quoted(folder))
        else:  # RFC 6851's fallback: copy, flag, and expunge only those (UIDPLUS) or the flagged ones
            response = await imap.uid("copy", uid_set, _quoted(folder))
            if response.result == "OK":
                response = await imap.uid("store", uid_set, "+FLAGS.SILENT", r"(\Deleted)")
            if response.result == "OK":
                if imap.has_capability("UIDPLUS"):
                    response = await imap.uid("expunge", uid_set)
                else:
                    response = await imap.expunge()
        if response.result != "OK":
            raise MailboxError(f"moving messages to {folder!r} failed: {_text(response)}")

    async def _wait_for_mail(self, imap: Any, stop: asyncio.Event) -> None:
        """IDLE until the server says something changed (or the poll interval passes), else sleep."""
        if not imap.has_capability("IDLE"):
            await _wait(stop, self.options.poll_seconds)
            return
        idle = await imap.idle_start(timeout=self.options.poll_seconds)
        push = asyncio.ensure_future(imap.wait_server_push(timeout=self.options.poll_seconds + 5))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({push, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            push.cancel()
            stopped.cancel()
            imap.idle_done()
            await asyncio.wait_for(idle, self.options.timeout_seconds)


def _parse_fetch(lines: Sequence[Any]) -> list[tuple[str, bytes]]:
    """(uid, message) pairs from a UID FETCH response: `n FETCH (UID u BODY[]<0> {size}`, the
    literal, then `)` (the UID may also come after the literal)."""
    found: list[tuple[str, bytes]] = []
    uid: str | None = None
    literal: bytes | None = None
    for line in lines:
        if isinstance(line, bytearray):
            literal = bytes(line)
            continue
        text = bytes(line)
        if re.match(rb"\d+ FETCH \(", text):
            if uid is not None and literal is not None:
                found.append((uid, literal))
            uid, literal = None, None
        match = re.search(rb"\bUID (\d+)", text)
        if match:
            uid = match.group(1).decode()
    if uid is not None and literal is not None:
        found.append((uid, literal))
    return found


def _quoted(name: str) -> str:
    """A folder name as an IMAP quoted string (names with spaces; no line breaks reach here)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(response: Any) -> str:
    lines = [bytes(line).decode("utf-8", "replace") for line in response.lines if isinstance(line, bytes)]
    return " ".join(lines)[-200:] or response.result


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is BOUNCE_IMAP_HOST/PORT right?)"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc}); check BOUNCE_IMAP_TLS and the server's certificate"
    if isinstance(exc, DatabaseUnavailable):
        return f"the database is not available ({exc}); nothing was moved"
    return f"{type(exc).__name__}: {exc}"[:300]


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
