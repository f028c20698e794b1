"""A real SMTP server (aiosmtpd) in-process, recording what it receives and able to misbehave.

Faults are set per test: refuse chosen recipients with a code, answer every RCPT or DATA with a code
for a while, or drop connections. The controller runs in its own thread with its own loop, so the
handler only touches plain lists and dicts guarded by a lock.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class Faults:
    refuse: dict[str, str] = field(default_factory=dict)  # address -> "550 5.1.1 No such user"
    rcpt_reply: str | None = None  # answer every RCPT with this (e.g. "451 4.3.0 Try later")
    data_reply: str | None = None  # answer every DATA with this (e.g. "452 4.3.1 Out of storage")
    rcpt_reply_count: int | None = None  # how many times to use rcpt_reply (None: until cleared)
    drop_every: int = 0  # close the connection after every Nth DATA without answering
    data_refuse: dict[str, str] = field(default_factory=dict)  # address -> reply after its content


class RecordingHandler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.faults = Faults()
        self._data_count = 0
        self.quits = 0  # QUIT commands received

    async def handle_RCPT(
        self, server: SMTPProtocol, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            faults = self.faults
            if address.lower() in faults.refuse:
                return faults.refuse[address.lower()]
            if faults.rcpt_reply and (faults.rcpt_reply_count is None or faults.rcpt_reply_count > 0):
                if faults.rcpt_reply_count is not None:
                    faults.rcpt_reply_count -= 1
                return faults.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self._data_count += 1
            if self.faults.drop_every and self._data_count % self.faults.drop_every == 0:
                server.transport.close()  # type: ignore[union-attr]
                return "421 4.4.2 closing"  # never seen by the client: the socket is gone
            if self.faults.data_reply:
                return self.faults.data_reply
            for address in envelope.rcpt_tos:
                if address.lower() in self.faults.data_refuse:
                    return self.faults.data_refuse[address.lower()]
            self.received.append(
                Received(envelope.mail_from or "", list(envelope.rcpt_tos), envelope.original_content or b"")
            )
        return "250 2.0.0 Message accepted"

    async def handle_QUIT(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.quits += 1
        return "221 Bye"

    def messages_to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]

    def count_by_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.lock:
            for item in self.received:
                for rcpt in item.rcpt_tos:
                    counts[rcpt] = counts.get(rcpt, 0) + 1
        return counts


class MailServer:
    """`with MailServer() as server:` gives a running server at `server.host:server.port`."""

    def __init__(self, **controller_options: Any) -> None:
        self.handler = RecordingHandler()
        self.host = "127.0.0.1"
        self.port = free_port()  # aiosmtpd's port=0 breaks its readiness probe
        self.controller = Controller(
            self.handler, hostname=self.host, port=self.port, ready_timeout=10, **controller_options
        )

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return self.received
            time.sleep(0.02)
        raise AssertionError(f"expected {count} messages, got {len(self.received)} within {timeout}s")
