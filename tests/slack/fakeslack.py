"""A fake Slack Web API on loopback, in the test's own event loop.

It answers the methods the bot calls (`auth.test`, `users.info`, `views.open`, `views.publish`,
`chat.postMessage`, `chat.postEphemeral`, `conversations.open`, `apps.connections.open`, and the
file upload of `files_upload_v2`: `files.getUploadURLExternal`, a POST of the bytes to the URL it
gave, `files.completeUploadExternal`), a `response_url` webhook, and a Socket Mode WebSocket, and
records every call as (method, payload) so tests assert what the bot asked Slack to do. Tests
can make a method fail (`fail("views.open", "expired_trigger_id")`) or slow
(`slow("chat.postMessage", 5)`: the call is recorded at once, answered after that many seconds
or when the fake closes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"


@dataclass
class Call:
    method: str
    payload: dict[str, Any]
    token: str


@dataclass
class FakeSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id -> the bytes posted to its URL
    _server: TestServer | None = None
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    # --- set-up ---------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # users.info is a GET
        app.router.add_post("/hooks/{hook}", self._webhook)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return self

    async def close(self) -> None:
        self._closing.set()  # slow calls answer now
        for socket in list(self._sockets):
            await socket.close()
        if self._server is not None:
            await self._server.close()

    def add_user(self, user_id: str, email: str, name: str = "Test Person", **extra: Any) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name.lower().replace(" ", "."),
            "real_name": name,
            "is_bot": False,
            "is_email_confirmed": True,
            "profile": {"email": email, "real_name": name, "display_name": name.split()[0]},
            **extra,
        }

    def fail(self, method: str, error: str) -> None:
        self.failures[method] = error

    def slow(self, method: str, seconds: float) -> None:
        """Answer `method` (or "response_url") only after `seconds`, like a Slack having a bad day."""
        self.delays[method] = seconds

    async def _delay(self, method: str) -> None:
        seconds = self.delays.get(method)
        if seconds:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/api/"))

    def response_url(self, name: str = "cmd") -> str:
        assert self._server is not None
        return str(self._server.make_url(f"/hooks/{name}"))

    # --- what was asked ---------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [call.payload for call in self.calls if call.method == method]

    def methods(self) -> list[str]:
        return [call.method for call in self.calls]

    async def wait_for(self, predicate: Callable[[], Any], seconds: float = 3.0) -> Any:
        """Wait until `predicate()` is truthy (the bot may post after it answered)."""
        async with asyncio.timeout(seconds):
            while not (result := predicate()):
                self._changed.clear()
                await self._changed.wait()
        return result

    def _record(self, method: str, payload: dict[str, Any], token: str) -> None:
        self.calls.append(Call(method, payload, token))
        self._changed.set()

    # --- handlers -------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.method == "GET":
            payload: dict[str, Any] = dict(request.query)
        elif request.content_type == "application/json":
            payload = await request.json()
        else:
            payload = {**request.query, **dict(await request.post())}  # params= travel in the query
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if method == "apps.connections.open":
            token = token or str(payload.get("token", ""))
        self._record(method, payload, token)
        await self._delay(method)
        if token not in (BOT_TOKEN, APP_TOKEN):
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method in self.failures:
            return web.json_response({"ok": False, "error": self.failures[method]})
        return web.json_response(self._answer(method, payload))

    def _answer(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "madeinla"}
        if method == "users.info":
            user = self.users.get(str(payload.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "views.open":
            view = payload.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": {"id": "V1", **(view or {})}}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            return {"ok": True, "channel": payload.get("channel"), "ts": "1700000000.000100"}
        if method == "apps.connections.open":
            assert self._server is not None
            return {"ok": True, "url": str(self._server.make_url("/socket")).replace("http", "ws", 1)}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(payload.get("users", "")).lstrip("U")}}
        if method == "files.getUploadURLExternal":
            assert self._server is not None
            if not str(payload.get("filename", "")) or not str(payload.get("length", "")).isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{len(self.uploads) + 1:08d}"
            self.uploads[file_id] = b""
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": str(self._server.make_url(f"/upload/{file_id}")),
            }
        if method == "files.completeUploadExternal":
            files = payload.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            if not files or any(not self.uploads.get(item.get("id", "")) for item in files):
                return {"ok": False, "error": "file_not_found"}  # completed before the bytes arrived
            return {
                "ok": True,
                "files": [{"id": item["id"], "title": item.get("title", "")} for item in files],
            }
        if method == "views.publish":
            view = payload.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": {"id": "VHOME", **(view or {})}}
        return {"ok": True}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404, text="no such upload")
        self.uploads[file_id] = await request.read()
        self._record("upload", {"file_id": file_id, "bytes": len(self.uploads[file_id])}, "")
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    async def _webhook(self, request: web.Request) -> web.Response:
        self._record("response_url:" + request.match_info["hook"], await request.json(), "")
        await self._delay("response_url")
        if "response_url" in self.failures:
            return web.Response(status=404, text="expired_url")
        return web.Response(text="ok")

    # --- Socket Mode ----------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        self._changed.set()
        await socket.send_json({"type": "hello", "num_connections": 1})
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(message.data))
                    self._changed.set()
        finally:
            self._sockets.remove(socket)
        return socket

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        """Push a Socket Mode envelope (as Slack would) to the connected app."""
        await self.wait_for(lambda: self._sockets)
        await self._sockets[-1].send_json(envelope)
