"""A fast SMTP sink for benchmarks: accepts everything, pipelined, and counts what it got.

`python bench/smtp_sink.py --port 2525` (or `start_sink()` from another script) runs it in its own
process, so the sender under test has a core to itself. It answers EHLO with PIPELINING, 8BITMIME
and SMTPUTF8, parses commands straight from the receive buffer (so a pipelined group of commands
costs one read), and never looks inside a message beyond finding its end. The extra command
`XSTATS` answers `250 <messages> <distinct recipients> <duplicate deliveries>`, which is how a
benchmark checks that every recipient got exactly one message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

END_OF_DATA = b"\r\n.\r\n"


class Stats:
    def __init__(self) -> None:
        self.messages = 0
        self.recipients: set[bytes] = set()
        self.duplicates = 0


class SinkProtocol(asyncio.Protocol):
    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.buffer = bytearray()
        self.in_data = False
        self.rcpts: list[bytes] = []
        self.closing = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(b"220 sink ESMTP ready\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out = bytearray()
        buf = self.buffer
        pos = 0
        while True:
            if self.in_data:
                # `pos` sits on the CRLF before the message, so even an empty message ends in "\r\n.\r\n".
                end = buf.find(END_OF_DATA, pos)
                if end == -1:
                    break
                pos = end + len(END_OF_DATA)
                self.in_data = False
                self._delivered()
                out += b"250 2.0.0 Ok: queued\r\n"
                continue
            eol = buf.find(b"\r\n", pos)
            if eol == -1:
                break
            line = bytes(buf[pos:eol])
            pos = eol + 2
            out += self._command(line)
            if self.in_data:
                pos = eol
        del buf[:pos]
        if out and self.transport is not None:
            self.transport.write(bytes(out))
            if self.closing:
                self.transport.close()

    def _command(self, line: bytes) -> bytes:
        verb = line[:4].upper()
        if verb == b"MAIL":
            self.rcpts = []
            return b"250 2.1.0 Ok\r\n"
        if verb == b"RCPT":
            start, end = line.find(b"<"), line.rfind(b">")
            self.rcpts.append(line[start + 1 : end].lower())
            return b"250 2.1.5 Ok\r\n"
        if verb == b"DATA":
            self.in_data = True
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb in (b"EHLO", b"HELO"):
            return b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800\r\n"
        if verb == b"RSET" or verb == b"NOOP":
            self.rcpts = []
            return b"250 2.0.0 Ok\r\n"
        if verb == b"QUIT":
            self.closing = True
            return b"221 2.0.0 Bye\r\n"
        if line.upper().startswith(b"XSTATS"):
            s = self.stats
            return f"250 {s.messages} {len(s.recipients)} {s.duplicates}\r\n".encode()
        if line.upper().startswith(b"XRESET"):
            self.stats.__init__()  # type: ignore[misc]
            return b"250 2.0.0 reset\r\n"
        return b"502 5.5.2 Command not recognized\r\n"

    def _delivered(self) -> None:
        stats = self.stats
        stats.messages += 1
        for rcpt in self.rcpts:
            if rcpt in stats.recipients:
                stats.duplicates += 1
            else:
                stats.recipients.add(rcpt)
        self.rcpts = []


async def serve(host: str, port: int) -> None:
    stats = Stats()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SinkProtocol(stats), host, port, backlog=512)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    print(f"SMTP sink on {host}:{port} (Ctrl-C to stop)", flush=True)
    async with server:
        await stop.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sink(host: str = "127.0.0.1", port: int = 0) -> tuple[subprocess.Popen[bytes], int]:
    """Start the sink as a child process; returns (process, port). Stop it with `.terminate()`."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--host", host, "--port", str(port)],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    if not process.stdout.readline().startswith(b"SMTP sink on"):
        process.terminate()
        raise RuntimeError("the SMTP sink did not start")
    return process, port


def sink_stats(host: str, port: int) -> tuple[int, int, int]:
    """(messages, distinct recipients, duplicate deliveries) so far."""
    with socket.create_connection((host, port), timeout=10) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b"XSTATS\r\n")
        _code, messages, distinct, duplicates = reader.readline().split()
        sock.sendall(b"QUIT\r\n")
        return int(messages), int(distinct), int(duplicates)


def sink_reset(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=10) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b"XRESET\r\n")
        reader.readline()
        sock.sendall(b"QUIT\r\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    args = parser.parse_args()
    started = time.monotonic()
    asyncio.run(serve(args.host, args.port))
    print(f"stopped after {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
