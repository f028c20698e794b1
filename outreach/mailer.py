"""The mailer: one interface, two transports.

`SmtpTransport` sends through a small pool of reused aiosmtplib connections when SMTP_HOST is set;
`OutboxTransport` (the embedded default) writes each message as an `.eml` file, so the service runs
with no mail server and a person can open what would have been sent.

Transports never raise for a mail problem: they return a `SendResult` saying whether the message
was sent, failed for now (retry), failed for good (suppress the address) or failed because our own
configuration is wrong (pause and tell staff).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import aiosmtplib

from bot.settings import Settings


class Outcome(StrEnum):
    SENT = "sent"
    TEMPORARY = "temporary"  # 4xx, dropped connection, timeout, server down: retry later
    PERMANENT = "permanent"  # 5xx for this recipient: fail and suppress the address
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


class MailTransport(Protocol):
    async def send(self, message: OutgoingMessage) -> SendResult: ...

    async def close(self) -> None: ...


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain or 'localhost'}>"


class OutboxTransport:
    """Writes `<OUTBOX_DIR>/<time>-<id>.eml`, atomically, so a reader never sees half a file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)

    async def send(self, message: OutgoingMessage) -> SendResult:
        name = f"{asyncio.get_running_loop().time():.6f}-{uuid.uuid4().hex[:12]}.eml"
        try:
            await asyncio.to_thread(self._write, self.directory / name, message.data)
        except OSError as exc:
            return SendResult(Outcome.TEMPORARY, f"could not write to the outbox: {exc.strerror}")
        return SendResult(Outcome.SENT, f"250 written to {name}")

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    async def close(self) -> None:
        return None


def _reply(code: int, message: str) -> str:
    return f"{code} {message}".strip()[:500]


def classify_smtp_error(exc: BaseException) -> SendResult:
    """Map an aiosmtplib exception to what the sender should do about it."""
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
        if exc.code in (530, 534, 535, 538):  # authentication/encryption required: our configuration
            return SendResult(Outcome.CONFIG, _reply(exc.code, exc.message))
        outcome = Outcome.TEMPORARY if exc.code < 500 else Outcome.PERMANENT
        return SendResult(outcome, _reply(exc.code, exc.message))
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
        return SendResult(Outcome.TEMPORARY, f"connection problem: {type(exc).__name__}: {exc}"[:500])
    raise exc


class SmtpTransport:
    """A pool of at most SMTP_POOL_SIZE connections, opened when first needed and reused."""

    def __init__(self, settings: Settings, *, tls_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.tls_context = tls_context
        self._idle: asyncio.LifoQueue[aiosmtplib.SMTP] = asyncio.LifoQueue()
        self._slots = asyncio.Semaphore(settings.smtp_pool_size)
        self.connections_opened = 0

    def _new_client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password.get_secret_value() or None,
            use_tls=s.smtp_tls == "tls",
            start_tls=s.smtp_tls == "starttls",
            timeout=s.smtp_timeout_seconds,
            tls_context=self.tls_context,
        )

    async def send(self, message: OutgoingMessage) -> SendResult:
        async with self._slots:
            client = await self._checkout()
            if isinstance(client, SendResult):
                return client
            try:
                errors, reply = await client.sendmail(message.sender, [message.recipient], message.data)
            except aiosmtplib.SMTPException as exc:
                result = classify_smtp_error(exc)
                if result.outcome is not Outcome.PERMANENT or not client.is_connected:
                    await _quietly_close(client)
                else:
                    self._idle.put_nowait(client)
                return result
            except (OSError, TimeoutError) as exc:
                await _quietly_close(client)
                return classify_smtp_error(exc)
            self._idle.put_nowait(client)
            if errors:  # one recipient refused while the transaction went on
                code, text = errors[message.recipient]
                return classify_smtp_error(aiosmtplib.SMTPRecipientRefused(code, text, message.recipient))
            return SendResult(Outcome.SENT, reply[:500])

    async def _checkout(self) -> aiosmtplib.SMTP | SendResult:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            if client.is_connected:
                return client
        client = self._new_client()
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await _quietly_close(client)
            return classify_smtp_error(exc)
        self.connections_opened += 1
        return client

    async def close(self) -> None:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            with contextlib.suppress(Exception):
                await client.quit()
            await _quietly_close(client)


async def _quietly_close(client: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        client.close()


def build_transport(settings: Settings) -> MailTransport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    assert settings.outbox_dir is not None  # filled in by Settings
    return OutboxTransport(settings.outbox_dir)
