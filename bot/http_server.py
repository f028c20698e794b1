"""The HTTP server: uvicorn, configured so slow or lying clients can't hold it.

- The client's address is the socket's peer, or what `TRUSTED_PROXY_HOPS` says to read from
  `X-Forwarded-For` (`bot.web.ratelimit.client_address`); uvicorn's own proxy-header handling, which
  trusts any `X-Forwarded-For` from 127.0.0.1, is off.
- Slowloris: uvicorn times out an idle keep-alive connection but not one that sends its headers a
  byte at a time, so `HeaderTimeoutH11` closes a connection whose request line and headers are not
  all in within HEADER_TIMEOUT_SECONDS (h11 already caps their size at 16 KiB). `BodyReadTimeout`
  answers 408 when a request's body stalls or takes too long in all.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_SECONDS = 10.0  # the request line and headers, from connect or the previous response
BODY_IDLE_SECONDS = 10.0  # the longest wait for the next piece of a body
BODY_TOTAL_SECONDS = 120.0  # a whole body (CSV uploads on a slow line included)
KEEP_ALIVE_SECONDS = 5


class HeaderTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers don't arrive in time."""

    header_timeout = HEADER_TIMEOUT_SECONDS
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the request's headers are in
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_header_timer()  # the next request on this connection gets the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self.transport.close()


class BodyReadTimeout:
    """ASGI middleware: a request body must keep coming (BODY_IDLE_SECONDS between pieces) and be
    complete within BODY_TOTAL_SECONDS, or the client gets a 408 and the connection closes.

    The app then sees the client as gone (`http.disconnect`), which it already handles quietly.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        idle_seconds: float = BODY_IDLE_SECONDS,
        total_seconds: float = BODY_TOTAL_SECONDS,
    ) -> None:
        self.app = app
        self.idle_seconds = idle_seconds
        self.total_seconds = total_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.total_seconds
        started = False
        timed_out = False

        async def timed_receive() -> Message:
            nonlocal timed_out
            if timed_out:
                return {"type": "http.disconnect"}
            try:
                async with asyncio.timeout(max(min(self.idle_seconds, deadline - loop.time()), 0)):
                    return await receive()
            except TimeoutError:
                if started:  # the app answered before reading the body: nothing more to say
                    return {"type": "http.disconnect"}
                timed_out = True
                await send(
                    {
                        "type": "http.response.start",
                        "status": 408,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b"The request took too long to arrive.\n"})
                return {"type": "http.disconnect"}

        async def watched_send(message: Message) -> None:
            nonlocal started
            if timed_out:
                return  # the client already has its 408
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, timed_receive, watched_send)


def run_server(app: Any, *, host: str, port: int, log_level: str) -> None:
    """Serve `app` until Ctrl-C or SIGTERM."""
    uvicorn.run(
        BodyReadTimeout(app),
        host=host,
        port=port,
        http=HeaderTimeoutH11,
        proxy_headers=False,  # the client address comes only from TRUSTED_PROXY_HOPS
        server_header=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        access_log=False,  # access logs would record tokens from emailed links, and client addresses
        log_level=log_level,
        lifespan="on",
    )
