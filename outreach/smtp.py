"""One SMTP session for the sender: aiosmtplib opens it, a small pipelining protocol drives it.

aiosmtplib (>= 5.1.2) does the parts that are easy to get wrong and matter for security: the
connection, the greeting, EHLO, STARTTLS (it discards anything the server sent before the
handshake) and AUTH. What it can't do is pipeline: it sends each command and waits for its reply
(its protocol keeps one reply waiter and drops replies that arrive early), so a message costs four
round trips and a pool of eight connections tops out near 1,000 messages a second on loopback.

Once the session is ready, this module takes its transport over and sends each message the way
RFC 2920 allows when the server offers PIPELINING: MAIL, RCPT and DATA in one write, the content
once DATA is answered with 354, and (when the caller says what comes next) the next message's
MAIL, RCPT and DATA in the same write as this content: one write and one round trip a message
instead of four. Without PIPELINING it sends the same commands one at a time. Only this module
writes to the socket after that, and it refuses control characters and angle brackets in the
envelope addresses (command injection). Timeouts are deadlines the transport's watchdog checks
(see `SmtpSession.expire`), not a timer per command.
"""

from __future__ import annotations

import asyncio
import collections
import re
import time
from collections.abc import Awaitable
from typing import NamedTuple

import aiosmtplib

MAX_REPLY_BYTES = 32 * 1024  # a reply longer than any real one: the peer is not a mail server
_PERIOD_AT_LINE_START = re.compile(rb"(?m)^\.")
_UNSAFE_IN_ADDRESS = re.compile(r"[\x00-\x20\x7f<>]")
AUTH_OR_TLS_REQUIRED = frozenset({530, 534, 535, 538})


class Reply(NamedTuple):
    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()[:500]


class SessionLost(ConnectionError):
    """The connection ended (or timed out). `before_reply` is True when the server answered
    nothing of this message, so nothing can have been delivered and a fresh connection may retry."""

    def __init__(self, message: str, *, before_reply: bool) -> None:
        super().__init__(message)
        self.before_reply = before_reply


class _ReplyReader(asyncio.Protocol):
    """Splits what the server sends into replies and hands them, in order, to whoever expects them."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        # Each waiter expects `count` replies (a pipelined group) and gets them as one list.
        self.waiters: collections.deque[tuple[int, list[Reply], asyncio.Future[list[Reply]]]] = (
            collections.deque()
        )
        self.buffer = b""
        self.lines: list[str] = []  # the lines so far of a multi-line reply
        self.lost = False
        self.unsolicited: Reply | None = None  # e.g. "421 idle timeout" between messages

    def expect(self, count: int = 1) -> asyncio.Future[list[Reply]]:
        waiter = self.loop.create_future()
        self.waiters.append((count, [], waiter))
        return waiter

    def data_received(self, data: bytes) -> None:
        if self.buffer:
            data, self.buffer = self.buffer + data, b""
        end = data.rfind(b"\n")
        if end != len(data) - 1:
            self.buffer = data[end + 1 :]
            if len(self.buffer) > MAX_REPLY_BYTES:
                self._fail("the server sent an over-long reply")
                return
            if end == -1:
                return
            data = data[: end + 1]
        for line in data.split(b"\n")[:-1]:
            if line[3:4] == b"-":
                self.lines.append(line[4:].decode("utf-8", "replace").strip())
                if len(self.lines) > 100:
                    self._fail("the server sent an over-long reply")
                    return
                continue
            try:
                code = int(line[:3])
            except ValueError:
                self._fail("the server sent something that is not an SMTP reply")
                return
            text = line[4:].decode("utf-8", "replace").strip()
            if self.lines:
                text = " ".join([*self.lines, text])
                self.lines = []
            self._deliver(Reply(code, text))

    def _deliver(self, reply: Reply) -> None:
        if not self.waiters:
            self.unsolicited = reply
            return
        count, replies, waiter = self.waiters[0]
        replies.append(reply)
        if len(replies) == count:
            self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(replies)

    def _fail(self, reason: str) -> None:
        if self.transport is not None:
            self.transport.abort()
        self.fail_waiters(reason)

    def fail_waiters(self, reason: str) -> None:
        self.lost = True
        while self.waiters:
            _count, _replies, waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ConnectionResetError(reason))
                waiter.exception()  # retrieved: nobody may be awaiting it any more

    def eof_received(self) -> bool:
        return False  # close our side too; connection_lost follows

    def connection_lost(self, exc: BaseException | None) -> None:
        self.fail_waiters("the mail server closed the connection")
        self.transport = None


class SmtpSession:
    """A connected, authenticated session that sends one message at a time."""

    def __init__(
        self, transport: asyncio.Transport, reader: _ReplyReader, extensions: dict[str, str], timeout: float
    ) -> None:
        self.transport = transport
        self.reader = reader
        self.timeout = timeout  # for each message, from MAIL to the answer after the content
        self.pipelining = "pipelining" in extensions
        self.smtputf8 = "smtputf8" in extensions
        self.messages = 0
        self.last_used = time.monotonic()
        self.deadline = 0.0  # while waiting for the server: when to give up (0: not waiting)
        self.timed_out = False
        self.early: tuple[tuple[bytes, bytes], asyncio.Future[list[Reply]]] | None = None  # see `send`
        self._needs_reset = False

    @classmethod
    async def start(cls, client: aiosmtplib.SMTP, *, message_timeout: float) -> SmtpSession:
        """Take over a client that aiosmtplib has connected (and secured and authenticated)."""
        if client.is_ehlo_or_helo_needed:  # connect() greets only when it needed to (TLS, AUTH)
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()
        transport = client.transport
        assert isinstance(transport, asyncio.Transport)
        extensions = dict(client.esmtp_extensions)
        reader = _ReplyReader()
        transport.set_protocol(reader)
        reader.transport = transport
        return cls(transport, reader, extensions, message_timeout)

    @property
    def usable(self) -> bool:
        return not self.reader.lost and self.reader.unsolicited is None and not self.transport.is_closing()

    def envelope_address(self, address: str) -> bytes | None:
        """The address as it goes in MAIL FROM / RCPT TO, or None if it can't go there safely."""
        if not address or _UNSAFE_IN_ADDRESS.search(address):
            return None
        if address.isascii():
            return address.encode("ascii")
        return address.encode("utf-8") if self.smtputf8 else None

    async def send(
        self,
        sender: bytes,
        recipient: bytes,
        data: bytes,
        *,
        ready: Awaitable[None] | None = None,
        then: tuple[bytes, bytes] | None = None,
    ) -> tuple[str, Reply]:
        """Run one mail transaction. Returns (stage, reply): stage is "sent" when the server took
        the message, else the command that was refused ("mail", "rcpt", "data", "content").

        The envelope goes at once; the content only when `ready` is done (the sender passes "the
        previous message's outcome is written", so the envelope's round trip overlaps that write).
        With `then` (the next message's sender and recipient) and PIPELINING, the next envelope
        goes in the same write as this content (RFC 2920 allows content to open a group), so a
        message costs one round trip; the next `send` must then be for exactly that message.
        Raises SessionLost if the connection ends or times out; the session is then unusable.
        """
        early, self.early = self.early, None
        if early is not None:
            announced, waiter = early
            if announced != (sender, recipient):
                self.abort()  # closing while the server waits for content delivers nothing
                raise SessionLost("a different message than the one announced", before_reply=True)
            replies = await self._wait(waiter, before_reply=True)
        else:
            commands = self._envelope(sender, recipient)
            if self._needs_reset:
                commands.insert(0, b"RSET\r\n")
            replies = await self._commands(commands)
            if self._needs_reset:
                reset = replies.pop(0)
                if reset.code != 250:
                    self.abort()
                    raise SessionLost(f"the server refused RSET: {reset}", before_reply=True)
                self._needs_reset = False
        if any(r.code == 421 for r in replies):
            self.abort()  # 421: the server is closing the connection
        stage, reply = _first_refusal(replies)
        if stage:
            self._needs_reset = True  # a refused envelope leaves the transaction open
            if len(replies) == 3 and replies[2].code == 354:
                self.abort()  # DATA accepted although a command before it failed: never send
            return stage, reply
        if ready is not None:
            try:
                await ready
            except BaseException:
                self.abort()  # closing in the DATA phase delivers nothing
                raise
        if data.startswith(b".") or b"\n." in data:
            data = _PERIOD_AT_LINE_START.sub(b"..", data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        data += b".\r\n"
        if then is not None and self.pipelining and not self.reader.lost:
            following = self._envelope(*then)
            waiter = self.reader.expect(1)
            self.early = (then, self.reader.expect(len(following)))
            self.transport.write(data + b"".join(following))
            [final] = await self._wait(waiter, before_reply=False)
        else:
            [final] = await self._exchange(data, 1, before_reply=False)
        self.messages += 1
        if final.code == 421:
            self.abort()
        return ("sent" if 200 <= final.code < 300 else "content"), final

    @staticmethod
    def _envelope(sender: bytes, recipient: bytes) -> list[bytes]:
        options = b" SMTPUTF8" if not (sender.isascii() and recipient.isascii()) else b""
        return [
            b"MAIL FROM:<" + sender + b">" + options + b"\r\n",
            b"RCPT TO:<" + recipient + b">\r\n",
            b"DATA\r\n",
        ]

    async def _commands(self, commands: list[bytes]) -> list[Reply]:
        if self.pipelining:
            return await self._exchange(b"".join(commands), len(commands), before_reply=True)
        replies: list[Reply] = []
        for command in commands:
            [reply] = await self._exchange(command, 1, before_reply=True)
            replies.append(reply)
            if command != b"RSET\r\n" and not 200 <= reply.code < 400:
                break  # lock-step: don't go on after a refusal
        return replies

    async def _exchange(self, data: bytes, replies: int, *, before_reply: bool) -> list[Reply]:
        """Write, then wait for `replies` replies."""
        if self.reader.lost or self.transport.is_closing():
            raise SessionLost("the connection is closed", before_reply=before_reply)
        waiter = self.reader.expect(replies)
        self.transport.write(data)
        return await self._wait(waiter, before_reply=before_reply)

    async def _wait(self, waiter: asyncio.Future[list[Reply]], *, before_reply: bool) -> list[Reply]:
        """At most SMTP_TIMEOUT_SECONDS (see `expire`)."""
        self.deadline = time.monotonic() + self.timeout
        try:
            return await waiter
        except ConnectionError as exc:
            self.abort()
            reason = str(exc) or "connection lost"
            if self.timed_out:
                reason = "timed out waiting for the mail server"
            raise SessionLost(reason, before_reply=before_reply) from None
        finally:
            self.deadline = 0.0
            self.last_used = time.monotonic()

    def expire(self) -> None:
        """Called by the transport's watchdog when the server hasn't answered in time. One cheap
        check a second for all sessions beats a timer per command at thousands of messages a second."""
        self.timed_out = True
        self.reader.fail_waiters("timed out")
        self.abort()

    def abort(self) -> None:
        self.reader.lost = True
        self.transport.abort()

    def close(self) -> None:
        """Say QUIT without waiting for the answer, then close (after the QUIT is written)."""
        if not self.transport.is_closing():
            if not self.reader.lost:
                self.transport.write(b"QUIT\r\n")
            self.transport.close()
        self.reader.lost = True


def _first_refusal(replies: list[Reply]) -> tuple[str, Reply]:
    """("", ...) when MAIL and RCPT were accepted and DATA got 354; else the refused stage."""
    for stage, reply in zip(("mail", "rcpt", "data"), replies, strict=False):
        accepted = reply.code == 354 if stage == "data" else 200 <= reply.code < 300
        if not accepted:
            return stage, reply
    return "", replies[-1]
