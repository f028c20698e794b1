"""The mailer: one interface, two transports.

`SmtpTransport` sends through a small pool of reused, pipelined SMTP sessions when SMTP_HOST is set;
`OutboxTransport` (the embedded default) writes each message as an `.eml` file, so the service runs
with no mail server and a person can open what would have been sent.

Transports never raise for a mail problem: they return a `SendResult` saying whether the message
was sent, failed for now (retry), failed for good because of the address (bounce the person), was
refused for what it is (our content or our account: fail it, keep the person), hit the relay's
quota (wait for the next window), or failed because our own configuration is wrong (pause and tell
staff).

Who a refusal is about decides everything (`classify_reply`). A County relay (Microsoft 365,
Exchange) refuses after DATA for reasons that have nothing to do with the recipient: a content
filter ("550 5.7.1"), a submission quota ("554 5.2.0 ...SubmissionQuotaExceeded"). Suppressing
the person for that loses a valid address for good, so only a refusal of the recipient itself (a
5xx to RCPT, or an enhanced status 5.1.x, "bad destination mailbox address", at any stage) bounces
the person.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import ssl
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal, Protocol

import aiosmtplib

from outreach.smtp import AUTH_OR_TLS_REQUIRED, Reply, SessionLost, SmtpSession


class Outcome(StrEnum):
    SENT = "sent"
    TEMPORARY = "temporary"  # 4xx, dropped connection, timeout, server down: retry later
    PERMANENT = "permanent"  # 5xx for this recipient: fail and suppress the address
    REFUSED = "refused"  # 5xx for the message or our account (content, policy): fail it, keep the person
    QUOTA = "quota"  # the relay's sending quota or rate limit: hold everything until the next window
    CONFIG = "config"  # authentication, TLS or sender refused: nothing will work until staff fix it


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    sender: str  # envelope MAIL FROM
    recipient: str  # envelope RCPT TO
    data: bytes  # the whole RFC 5322 message, CRLF line endings
    message_id: str


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    reply: str  # what the server said, or what went wrong, for the delivery record
    # The mail server could not be reached at all (refused, timed out, greeted us with 4xx): every
    # other message would fail the same way right now, so the sender defers them instead of trying.
    unavailable: bool = False


@dataclass(frozen=True, slots=True)
class SmtpOptions:
    """How to reach the mail relay (`bot.runtime` makes it from the SMTP_* settings)."""

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    tls: Literal["none", "starttls", "tls"] = "starttls"
    timeout_seconds: float = 30
    pool_size: int = 4
    idle_seconds: float = 30  # a pooled connection without work says QUIT after this
    ca_file: Path | None = None  # CAs trusted for the relay on top of the system's (SMTP_CA_FILE)


class MailTransport(Protocol):
    concurrency: int  # how many `send` calls may usefully run at once

    async def send(
        self,
        message: OutgoingMessage,
        *,
        ready: Awaitable[None] | None = None,
        then: OutgoingMessage | None = None,
    ) -> SendResult:
        """Send one message. With `ready`, hand over the content only once it is done. `then` is
        the message this caller sends next (a transport may start on it early); a caller that
        changes its mind calls `withdraw(then)`."""
        ...

    def withdraw(self, message: OutgoingMessage) -> None: ...

    async def close(self) -> None: ...


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain or 'localhost'}>"


class OutboxTransport:
    """Writes `<OUTBOX_DIR>/<time>-<id>.eml`, atomically, so a reader never sees half a file."""

    concurrency = 4

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Messages carry addresses and working links: only the service's user may read them.
        for folder in [*reversed(directory.parents), directory]:
            if not folder.exists():
                folder.mkdir(mode=0o700, exist_ok=True)

    async def send(
        self,
        message: OutgoingMessage,
        *,
        ready: Awaitable[None] | None = None,
        then: OutgoingMessage | None = None,
    ) -> SendResult:
        if ready is not None:
            await ready
        name = f"{asyncio.get_running_loop().time():.6f}-{uuid.uuid4().hex[:12]}.eml"
        try:
            await asyncio.to_thread(self._write, self.directory / name, message.data)
        except OSError as exc:
            return SendResult(Outcome.TEMPORARY, f"could not write to the outbox: {exc.strerror}")
        return SendResult(Outcome.SENT, f"250 written to {name}")

    def withdraw(self, message: OutgoingMessage) -> None:
        return None

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(tmp, path)

    async def close(self) -> None:
        return None


def _reply(code: int, message: str) -> str:
    return f"{code} {message}".strip()[:500]


def classify_smtp_error(exc: BaseException) -> SendResult:
    """Map an aiosmtplib exception (raised while connecting, securing or logging in) to what the
    sender should do about it."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = exc.recipients[0]
        return classify_smtp_error(refused)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendResult(Outcome.CONFIG, _reply(exc.code, f"authentication failed: {exc.message}"))
    if isinstance(exc, aiosmtplib.SMTPNotSupported | ssl.SSLError):
        return SendResult(Outcome.CONFIG, f"TLS or extension problem: {exc}"[:500])
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        outcome = Outcome.TEMPORARY if 400 <= exc.code < 500 else Outcome.CONFIG
        return SendResult(outcome, _reply(exc.code, f"sender refused: {exc.message}"))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if exc.code in AUTH_OR_TLS_REQUIRED:  # authentication/encryption required: our configuration
            return SendResult(Outcome.CONFIG, _reply(exc.code, exc.message))
        outcome = Outcome.TEMPORARY if exc.code < 500 else Outcome.PERMANENT
        return SendResult(outcome, _reply(exc.code, exc.message))
    if isinstance(
        exc, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError | OSError | TimeoutError
    ):
        return SendResult(Outcome.TEMPORARY, f"connection problem: {type(exc).__name__}: {exc}"[:500])
    if isinstance(exc, aiosmtplib.SMTPException):  # e.g. "AUTH not offered without TLS": our settings
        return SendResult(Outcome.CONFIG, f"{exc}"[:500])
    raise exc


# "4.7.0 Temporary rate limit", "554 5.2.0 ...SubmissionQuotaExceededException", "452 4.3.1 Quota
# exceeded", "550 5.7.60 ... sending rate": about our account, not the recipient.
_QUOTA = re.compile(r"quota|\brate\b|rate.?limit|too many messages", re.IGNORECASE)
# The enhanced status code (RFC 3463) at the start of a reply's text: "5.1.1", "5.7.1".
_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


def enhanced_status(text: str) -> tuple[int, int, int] | None:
    match = _ENHANCED.match(text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def classify_reply(stage: str, reply: Reply) -> SendResult:
    """What one reply of a mail transaction means for the delivery (see outreach.smtp), by stage:
    "mail", "rcpt", "data" (the DATA command) or "content" (the answer after the message)."""
    code, text = reply.code, str(reply)
    if stage == "sent":
        return SendResult(Outcome.SENT, text)
    if code in AUTH_OR_TLS_REQUIRED:
        return SendResult(Outcome.CONFIG, text)
    status = enhanced_status(reply.text)
    if stage != "mail" and status is not None and code >= 400:
        # About the recipient, whatever else the text says ("5.2.2 ... over quota" is their mailbox,
        # not our account): the address (x.1.x) or the mailbox disabled (x.2.1) or full (x.2.2),
        # as the bounce reader (outreach.bounces) reads the same codes.
        if status[1] == 1 or (status[1] == 2 and status[2] == 1):
            return SendResult(Outcome.PERMANENT if code >= 500 else Outcome.TEMPORARY, text)
        if status[1] == 2 and status[2] == 2:
            return SendResult(Outcome.TEMPORARY, text)  # full: try again later; the person stays
    if 400 <= code < 600 and _QUOTA.search(reply.text):
        return SendResult(Outcome.QUOTA, text)
    if 400 <= code < 500 or code < 200:
        return SendResult(Outcome.TEMPORARY, text)
    if stage == "mail":  # our own sender address refused for good: nothing will go until it's fixed
        return SendResult(Outcome.CONFIG, f"sender refused: {text}"[:500])
    if stage == "rcpt":
        if "relay" in reply.text.lower():
            # "554 5.7.1 Relay access denied" names the recipient but is about us: the relay won't
            # take mail for other domains from this account. Suppressing the list would be a disaster.
            return SendResult(Outcome.CONFIG, text)
        if status is not None and status[1] == 7:
            # 5.7.x (security or policy: "5.7.26 unauthenticated email", "5.7.1 ... spam") is about
            # our message or our domain's SPF/DKIM/DMARC, not the mailbox.
            return SendResult(Outcome.REFUSED, text)
        return SendResult(Outcome.PERMANENT, text)
    # Refused at DATA or after the content: about the message (the address and mailbox codes,
    # which Exchange sends only then for some recipients, were answered above).
    return SendResult(Outcome.REFUSED, text)


class SmtpTransport:
    """At most SMTP_POOL_SIZE sessions, opened when first needed, reused, and recycled.

    Each session sends one message at a time, pipelined (see outreach.smtp), so `concurrency`
    is the pool size. A caller that says which message it sends next (`then`) gets the same session
    for it, its envelope already on the way. A session is closed after RECYCLE_AFTER messages (some
    relays count per connection), and one left without work for SMTP_IDLE_SECONDS says QUIT and
    closes (a timer, not the next checkout: a relay that times an idle client out logs it as an
    error, and Exchange counts a dropped session against the client).
    """

    RECYCLE_AFTER = 500

    def __init__(self, options: SmtpOptions, *, tls_context: ssl.SSLContext | None = None) -> None:
        self.options = options
        self.tls_context = tls_context or relay_tls_context(options.ca_file)
        self.concurrency = options.pool_size
        self._idle: list[SmtpSession] = []
        self._busy: set[SmtpSession] = set()
        # Sessions whose next envelope went out with the last content, by the announced message.
        self._reserved: dict[int, tuple[OutgoingMessage, SmtpSession]] = {}
        self._watchdog: asyncio.TimerHandle | None = None
        self._reaper: asyncio.TimerHandle | None = None
        self.idle_seconds = options.idle_seconds
        self._slots = asyncio.Semaphore(options.pool_size)
        self.connections_opened = 0

    def _new_client(self) -> aiosmtplib.SMTP:
        o = self.options
        return aiosmtplib.SMTP(
            hostname=o.host,
            port=o.port,
            username=o.username or None,
            password=o.password or None,
            use_tls=o.tls == "tls",
            start_tls=o.tls == "starttls",
            timeout=o.timeout_seconds,
            tls_context=self.tls_context,
        )

    async def send(
        self,
        message: OutgoingMessage,
        *,
        ready: Awaitable[None] | None = None,
        then: OutgoingMessage | None = None,
    ) -> SendResult:
        async with self._slots:
            for fresh in (False, True):
                session = self._reserved.pop(id(message), (None, None))[1] if not fresh else None
                if session is None:
                    checked_out = await self._checkout(fresh=fresh)
                    if isinstance(checked_out, SendResult):
                        return checked_out
                    session = checked_out
                sender = session.envelope_address(message.sender)
                recipient = session.envelope_address(message.recipient)
                if sender is None or recipient is None:
                    self._checkin(session)
                    if sender is None:
                        return SendResult(Outcome.CONFIG, "MAIL_FROM is not an address the server can take")
                    return SendResult(Outcome.PERMANENT, "the address can't be used over SMTP")
                following = None
                if then is not None and session.messages + 1 < self.RECYCLE_AFTER:
                    then_recipient = session.envelope_address(then.recipient)
                    following = (
                        (sender, then_recipient) if then_recipient and then.sender == message.sender else None
                    )
                self._busy.add(session)
                self._watch()
                try:
                    stage, reply = await session.send(
                        sender, recipient, message.data, ready=ready, then=following
                    )
                except SessionLost as exc:
                    if exc.before_reply and not fresh:
                        continue  # a reused connection had died while idle: nothing was sent, try anew
                    return SendResult(Outcome.TEMPORARY, f"connection problem: {exc}"[:500])
                finally:
                    self._busy.discard(session)
                if session.early is not None and then is not None and session.usable:
                    self._reserved[id(then)] = (then, session)  # its envelope is already on its way
                else:
                    self._checkin(session)
                return classify_reply(stage, reply)
        raise AssertionError("unreachable")  # pragma: no cover

    def withdraw(self, message: OutgoingMessage) -> None:
        """`message` was announced as `then` but won't be sent: drop the session waiting for it
        (closing a connection in the middle of a transaction delivers nothing)."""
        _message, session = self._reserved.pop(id(message), (None, None))
        if session is not None:
            session.abort()

    async def _checkout(self, *, fresh: bool) -> SmtpSession | SendResult:
        now = time.monotonic()
        while self._idle and not fresh:
            session = self._idle.pop()
            if session.usable and now - session.last_used < self.idle_seconds:
                return session
            session.close()
        client = self._new_client()
        try:
            await client.connect()
            session = await SmtpSession.start(client, message_timeout=self.options.timeout_seconds)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            with contextlib.suppress(Exception):
                client.close()
            result = classify_smtp_error(exc)
            if result.outcome is Outcome.PERMANENT:  # a 5xx greeting: this server won't talk to us
                result = SendResult(Outcome.CONFIG, result.reply)
            return SendResult(result.outcome, result.reply, unavailable=result.outcome is Outcome.TEMPORARY)
        self.connections_opened += 1
        return session

    def _watch(self) -> None:
        """Expire sessions the server hasn't answered within SMTP_TIMEOUT_SECONDS; re-arms itself
        while any session is busy (a timer per command would cost more than the rest of a send)."""
        if self._watchdog is not None:
            return
        interval = min(1.0, self.options.timeout_seconds / 4)

        def check() -> None:
            self._watchdog = None
            now = time.monotonic()
            for session in list(self._busy):
                if session.deadline and now > session.deadline:
                    session.expire()
            if self._busy:
                self._watch()

        self._watchdog = asyncio.get_running_loop().call_later(interval, check)

    def _checkin(self, session: SmtpSession) -> None:
        if session.early is not None:
            session.abort()  # announced a message that won't come: the transaction must not complete
        elif session.usable and session.messages < self.RECYCLE_AFTER:
            self._idle.append(session)
            self._reap_later(self.idle_seconds)
        else:
            session.close()

    def _reap_later(self, delay: float) -> None:
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().call_later(delay, self._reap)

    def _reap(self) -> None:
        """QUIT the sessions idle for SMTP_IDLE_SECONDS; look again when the next one will be."""
        self._reaper = None
        now = time.monotonic()
        keep = []
        for session in self._idle:
            if now - session.last_used >= self.idle_seconds or not session.usable:
                session.close()
            else:
                keep.append(session)
        self._idle = keep
        if keep:
            self._reap_later(max(min(s.last_used for s in keep) + self.idle_seconds - now, 0.05))

    async def close(self) -> None:
        for timer in (self._watchdog, self._reaper):
            if timer is not None:
                timer.cancel()
        self._watchdog = self._reaper = None
        while self._idle:
            self._idle.pop().close()
        while self._reserved:
            self._reserved.popitem()[1][1].abort()
        await asyncio.sleep(0)  # let the transports write QUIT and close


def relay_tls_context(ca_file: Path | None) -> ssl.SSLContext | None:
    """The system's trusted CAs plus SMTP_CA_FILE (a County's internal CA), or None for
    aiosmtplib's default (the system's alone). Verification stays on either way."""
    if ca_file is None:
        return None
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=str(ca_file))
    return context


def build_transport(smtp: SmtpOptions | None, outbox_dir: Path) -> MailTransport:
    """SMTP when a relay is configured, else `.eml` files in `outbox_dir`."""
    return SmtpTransport(smtp) if smtp is not None else OutboxTransport(outbox_dir)
