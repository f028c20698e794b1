"""`madeinla serve` on a real socket: the client address, slow clients, file modes and emailed links."""

from __future__ import annotations

import re
import socket
import stat
import time
from email import message_from_bytes, policy
from pathlib import Path

import httpx

from tests.service.process import clean_environment, running_service
from tests.web.support import csrf_token, valid_form


def post_signups(base: str, count: int, forwarded_for: str | None) -> list[int]:
    """Send the sign-up form `count` times, each claiming a different X-Forwarded-For address."""
    statuses = []
    with httpx.Client(base_url=base) as client:
        token = csrf_token(client.get("/").text)
        for i in range(count):
            headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for.format(i=i)}
            form = valid_form(email=f"visitor{i}@example.com", csrf_token=token)
            statuses.append(client.post("/", data=form, headers=headers).status_code)
    return statuses


def test_forwarded_for_cannot_dodge_the_rate_limit(tmp_path: Path) -> None:
    """With TRUSTED_PROXY_HOPS=0 a client on 127.0.0.1 that invents X-Forwarded-For addresses is still
    one client: the 11th form post in a minute gets a 429 (uvicorn's own proxy handling is off)."""
    env = clean_environment(DATA_DIR=str(tmp_path / "data"), TRUSTED_PROXY_HOPS="0")
    with running_service(env, tmp_path) as service:
        statuses = post_signups(service.url, 14, "203.0.113.{i}")
    assert statuses[:10] == [303] * 10
    assert statuses[10:] == [429] * 4


def test_one_trusted_proxy_hop_counts_each_visitor(tmp_path: Path) -> None:
    """Behind one proxy (TRUSTED_PROXY_HOPS=1) the last X-Forwarded-For entry is the visitor: 14
    visitors are 14 clients, and whatever a visitor wrote further left is ignored."""
    env = clean_environment(DATA_DIR=str(tmp_path / "data"), TRUSTED_PROXY_HOPS="1")
    with running_service(env, tmp_path) as service:
        statuses = post_signups(service.url, 14, "198.51.100.7, 203.0.113.{i}")
        spoofing_one_visitor = post_signups(service.url, 12, "198.51.100.{i}, 203.0.113.99")
    assert statuses == [303] * 14
    assert 429 in spoofing_one_visitor


def _open(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\0" * 8)
    return sock


def _closed_or_answer(sock: socket.socket) -> bytes | None:
    """What the server sent before closing, or None if the connection is still open and silent."""
    sock.setblocking(False)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except BlockingIOError:
        return received or None
    return received or b"closed"


def test_slow_clients_are_cut_off(tmp_path: Path) -> None:
    """Slowloris: connections that send their headers or their body a trickle at a time are closed
    (headers: within 10 s; a stalled body: a 408 within 10 s), and the server answers others meanwhile."""
    env = clean_environment(DATA_DIR=str(tmp_path / "data"))
    with running_service(env, tmp_path) as service:
        slow_headers = [_open(service.port) for _ in range(40)]
        stalled_bodies = [_open(service.port) for _ in range(10)]
        for sock in slow_headers:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for sock in stalled_bodies:
            sock.sendall(
                b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 5000\r\n\r\nemail=slow"
            )
        started = time.monotonic()
        answers: dict[int, bytes] = {}
        while time.monotonic() - started < 20 and len(answers) < 50:
            for number, sock in enumerate(slow_headers + stalled_bodies):
                if number in answers:
                    continue
                if number < 40:
                    try:
                        sock.sendall(b"X-a: b\r\n")  # a header line a second, never the blank line
                    except OSError:
                        answers[number] = b"closed"
                        continue
                answer = _closed_or_answer(sock)
                if answer is not None:
                    answers[number] = answer
                sock.setblocking(True)
            assert httpx.get(f"{service.url}/healthz", timeout=5).status_code == 200
            time.sleep(1)
        elapsed = time.monotonic() - started
        for sock in slow_headers + stalled_bodies:
            sock.close()
    assert len(answers) == 50, f"{50 - len(answers)} slow connections still open after {elapsed:.0f}s"
    assert elapsed < 16
    for number in range(40, 50):
        assert answers[number].startswith(b"HTTP/1.1 408"), answers[number][:80]


def test_data_folder_and_its_files_are_owner_only(tmp_path: Path) -> None:
    """The data folder, the SQLite file (and its WAL), the secret key, the outbox and each .eml in it
    hold personal data or working links: only the service's user may read them."""
    data = tmp_path / "data"
    env = clean_environment(DATA_DIR=str(data))
    with running_service(env, tmp_path) as service:
        assert post_signups(service.url, 1, None) == [303]
        deadline = time.monotonic() + 20
        while not list((data / "outbox").glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.1)
        made = [data, data / "outbox", *data.iterdir(), *(data / "outbox").iterdir()]
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in made}  # while the WAL exists
    assert any(name.endswith(".eml") for name in modes)
    assert {"madeinla.sqlite3", "madeinla.sqlite3-wal", "secret_key"} <= set(modes)
    for name, mode in modes.items():
        assert mode & 0o077 == 0, f"{name} is {oct(mode)}"


def test_links_follow_the_port_when_public_base_url_is_unset(tmp_path: Path) -> None:
    """`madeinla serve --port N` without PUBLIC_BASE_URL: the confirmation link points at port N."""
    data = tmp_path / "data"
    env = clean_environment(DATA_DIR=str(data))
    with running_service(env, tmp_path) as service:
        assert post_signups(service.url, 1, None) == [303]
        deadline = time.monotonic() + 20
        while not (emails := list((data / "outbox").glob("*.eml"))) and time.monotonic() < deadline:
            time.sleep(0.1)
        message = message_from_bytes(emails[0].read_bytes(), policy=policy.default)
        text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
        link = re.search(r"http://\S+/confirm/\S+", text.get_content())  # type: ignore[attr-defined]
        assert link is not None
        assert link.group(0).startswith(f"{service.url}/confirm/")
        assert httpx.get(link.group(0)).status_code == 200
        assert f"links in emails point at {service.url}" in service.output()
