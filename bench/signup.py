"""Sign-ups per second through the real HTTP server, next to a bare Starlette endpoint.

    .venv/bin/python bench/signup.py [--clients 50] [--rounds 3] [--seconds 5] [--sender off|on]
                                     [--limits on|off] [--database-url postgres://...]

Both servers are uvicorn subprocesses with the same options, started once and loaded in turn
(bare, sign-up, bare, sign-up, ...) so that a neighbour's load on a shared machine hits both alike.
The sign-up server is the real app (`bot.app.create_app`, as `madeinla serve` builds it) on a fresh
data directory with FORM_RATE_LIMIT_PER_MINUTE=0. By default its background sender is off while
we measure: a request only queues the confirmation (`madeinla worker`, or the sender afterwards,
sends it), and building MIME messages is the sender's cost, not the form's; `--sender on` measures
the single process with both. The confirmation limits (`subscribers.confirmation_limits`) are
counted as in production, with the per-domain allowance set out of reach (every address here is at
example.com); `--limits off` turns them off, to see what counting costs. The baseline is a
Starlette app with one POST route that parses the same form and answers a small HTML page.

Each of the N clients keeps one HTTP/1.1 connection, opens the form once (CSRF cookie and token),
then posts complete sign-ups with new addresses as fast as it is answered. The load generator is a
small asyncio HTTP client (httpx would spend more CPU than the servers). Besides requests per second
and latency, it reports the server's CPU time per request (from /proc), which a busy neighbour
doesn't change. At the end the database must hold exactly one pending person and one queued
confirmation for every sign-up the server answered with its redirect to "check your email".
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cpu import cpu_seconds  # noqa: E402 (after the path is set)

PYTHON = sys.executable

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

PAGE = "<!doctype html><html lang=en><title>Check your email</title><main><h1>Check your email</h1></main>"

async def get_form(request):
    return HTMLResponse(PAGE)

async def post_form(request):
    form = await request.form()
    return HTMLResponse(PAGE.replace("</h1>", "</h1>" + str(len(form))))

app = Starlette(routes=[Route("/", get_form, methods=["GET"]), Route("/", post_form, methods=["POST"])])
"""

SIGNUP_APP = """
import os

from bot.app import create_app
from bot.logs import configure_logging
from bot.settings import load_settings

settings = load_settings()
configure_logging(settings.log_level)
app = create_app(settings, run_sender=os.environ["BENCH_SENDER"] == "on")
"""

CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
COOKIE = re.compile(rb"set-cookie: (madeinla_csrf=[^;]+)", re.IGNORECASE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Run:
    label: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    failed: int = 0
    cpu: float = 0.0  # seconds of server CPU while counting
    emails: list[str] = field(default_factory=list)

    def add(self, other: Run) -> None:
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.accepted += other.accepted
        self.failed += other.failed
        self.cpu += other.cpu
        self.emails += other.emails

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu / self.accepted * 1000 if self.accepted else float("nan")

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.label:<20} {self.rate:6.0f} req/s  p50 {self.percentile(50):6.1f} ms  "
            f"p99 {self.percentile(99):6.1f} ms  server CPU {self.cpu_ms_per_request:5.2f} ms/req  "
            f"ok {self.accepted}  failed {self.failed}"
        )


class Connection:
    """One keep-alive HTTP/1.1 connection: just enough protocol for this benchmark."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = b""

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request(self, method: str, body: bytes = b"") -> tuple[int, bytes, bytes]:
        head = f"{method} / HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
        if self.cookie:
            head += b"Cookie: " + self.cookie + b"\r\n"
        if body:
            head += b"Content-Type: application/x-www-form-urlencoded\r\n"
            head += b"Content-Length: %d\r\n" % len(body)
        self.writer.write(head + b"\r\n" + body)
        headers = await self.reader.readuntil(b"\r\n\r\n")
        status = int(headers[9:12])
        length = int(re.search(rb"content-length: (\d+)", headers, re.IGNORECASE).group(1))  # type: ignore[union-attr]
        return status, headers, await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def signup_body(token: bytes, email: str) -> bytes:
    return urllib.parse.urlencode(
        {
            "csrf_token": token.decode(),
            "email": email,
            "name": "Bench Mark",
            "organization": "Bench Uniforms",
            "role": "manufacturer",
            "topics": ["pilot_updates", "application_invitations"],
            "language": "es",
            "principal_zip": "90021",
            "naics": "315250",
            "employees": "12",
            "consent": "yes",
            "website": "",
        },
        doseq=True,
    ).encode()


async def client(port: int, name: str, run: Run, warm_until: float, stop_at: float, signups: bool) -> None:
    """One client: open the form once, then post until `stop_at`; count only after `warm_until`."""
    conn = Connection(port)
    await conn.open()
    try:
        _, headers, page = await conn.request("GET")
        token = b""
        if signups:
            cookie, csrf = COOKIE.search(headers), CSRF.search(page)
            assert cookie and csrf, "the form page has no CSRF cookie or token"
            conn.cookie, token = cookie.group(1), csrf.group(1)
        sent = 0
        while (started := time.perf_counter()) < stop_at:
            email = f"bench-{name}-{sent}@example.com"
            sent += 1
            status, headers, page = await conn.request("POST", signup_body(token, email))
            if signups:  # the form redirects to its "check your email" page (Post/Redirect/Get)
                ok = status == 303 and b"location: /check-email" in headers.lower()
            else:
                ok = status == 200 and b"Check your email" in page
            if ok:
                run.emails.append(email)
            if started >= warm_until:
                run.latencies.append(time.perf_counter() - started)
                run.accepted += ok
                run.failed += not ok
            elif not ok:
                run.failed += 1
    finally:
        await conn.close()


async def measure(
    label: str,
    server: subprocess.Popen,
    port: int,
    clients: int,
    seconds: float,
    *,
    round_: int,
    signups: bool,
) -> Run:
    """One phase: a second of warm-up (not counted), then `seconds` of load; server CPU is sampled
    at both ends of the counted part."""
    run = Run(label)
    warm_until = time.perf_counter() + 1.0
    stop_at = warm_until + seconds

    async def sample_cpu() -> None:
        await asyncio.sleep(max(0.0, warm_until - time.perf_counter()))
        before = cpu_seconds(server.pid)
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        run.cpu = cpu_seconds(server.pid) - before

    await asyncio.gather(
        sample_cpu(),
        *(client(port, f"{round_}-{i}", run, warm_until, stop_at, signups) for i in range(clients)),
    )
    run.seconds = seconds
    return run


def start_server(code: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    script = log.with_suffix(".py")
    script.write_text(code)
    command = [
        PYTHON, "-m", "uvicorn", f"{script.stem}:app", "--app-dir", str(script.parent),
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server did not start:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start within 60 s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def check_database(database_url: str, emails: list[str]) -> tuple[int, int]:
    """How many of the accepted addresses are pending people with one queued confirmation each."""
    query_people = "SELECT COUNT(*) FROM subscriber WHERE status = 'pending' AND email LIKE 'bench-%'"
    query_mail = (
        "SELECT COUNT(DISTINCT address) FROM delivery WHERE template = 'confirm' AND address LIKE 'bench-%'"
    )
    if database_url.startswith("sqlite://"):
        with sqlite3.connect(database_url.removeprefix("sqlite://").split("?")[0]) as db:
            people = db.execute(query_people).fetchone()[0]
            mail = db.execute(query_mail).fetchone()[0]
            missing = [
                e
                for e in emails
                if not db.execute("SELECT 1 FROM subscriber WHERE email = ?", (e,)).fetchone()
            ]
    else:
        import asyncpg

        async def count() -> tuple[int, int, list[str]]:
            conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
            try:
                found = {
                    r["email"]
                    for r in await conn.fetch("SELECT email FROM subscriber WHERE email = ANY($1)", emails)
                }
                return (
                    await conn.fetchval(query_people),
                    await conn.fetchval(query_mail),
                    [e for e in emails if e not in found],
                )
            finally:
                await conn.close()

        people, mail, missing = asyncio.run(count())
    if missing:
        raise SystemExit(f"{len(missing)} accepted sign-ups are not in the database, e.g. {missing[:3]}")
    return people, mail


def scratch_database(server_url: str) -> str:
    """Make an empty database on the PostgreSQL server for this run (dropped at exit)."""
    import asyncpg

    base = server_url.rstrip("/").rpartition("/")[0]
    name = f"madeinla_bench_{os.getpid()}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    atexit.register(lambda: asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
    return f"{base}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=3, help="bare and sign-up phases alternate")
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server URL (a scratch database is made); default SQLite",
    )
    parser.add_argument(
        "--sender",
        choices=("off", "on"),
        default="off",
        help="run the background sender in the server process during the measurement (default off: "
        "confirmations queue up and are sent afterwards, or by `madeinla worker`)",
    )
    parser.add_argument(
        "--limits",
        choices=("on", "off"),
        default="on",
        help="count the confirmation limits per mailbox and domain (default on, as in production)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="madeinla-bench-") as tmp:
        work = Path(tmp)
        database_url = f"sqlite://{work / 'data' / 'madeinla.sqlite3'}"
        if args.database_url:
            database_url = scratch_database(args.database_url)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATA_DIR": str(work / "data"),
            "DATABASE_URL": database_url,
            "FORM_RATE_LIMIT_PER_MINUTE": "0",
            "SMTP_HOST": "",
            "BENCH_SENDER": args.sender,
            # Counted, never reached: every bench address is at one domain.
            "CONFIRMATIONS_PER_MAILBOX_PER_DAY": "5" if args.limits == "on" else "0",
            "CONFIRMATIONS_PER_DOMAIN_PER_HOUR": "1000000000" if args.limits == "on" else "0",
        }
        print(
            f"{args.clients} clients, {args.rounds} rounds of {args.seconds:.0f} s, {os.cpu_count()} CPUs, "
            f"database {database_url.split('://')[0]}, sender in the server process: {args.sender}, "
            f"confirmation limits: {args.limits}"
        )

        bare_port, signup_port = free_port(), free_port()
        bare = start_server(BARE_APP, bare_port, env, work / "bare_app.log")
        server = start_server(SIGNUP_APP, signup_port, env, work / "signup_app.log")
        baseline, run = Run("bare Starlette POST"), Run("sign-up form POST")
        try:
            # Alternate the two, so a neighbour's load on a shared machine hits both alike.
            for round_ in range(args.rounds):
                one_bare = asyncio.run(
                    measure(
                        baseline.label,
                        bare,
                        bare_port,
                        args.clients,
                        args.seconds,
                        round_=round_,
                        signups=False,
                    )
                )
                one_run = asyncio.run(
                    measure(
                        run.label,
                        server,
                        signup_port,
                        args.clients,
                        args.seconds,
                        round_=round_,
                        signups=True,
                    )
                )
                print(f"round {round_ + 1}: {one_bare.rate:6.0f} bare, {one_run.rate:6.0f} sign-ups/s")
                baseline.add(one_bare)
                run.add(one_run)
        finally:
            stop_server(bare)
            stop_server(server)

        print(baseline.line())
        print(run.line())
        ratio = run.rate / baseline.rate if baseline.rate else 0.0
        print(f"ratio: {ratio:.0%} of the bare endpoint")
        cpu_ratio = baseline.cpu_ms_per_request / run.cpu_ms_per_request
        print(
            f"by server CPU per request: {cpu_ratio:.0%} of the bare endpoint; one core to itself would take "
            f"{1000 / run.cpu_ms_per_request:.0f} sign-ups/s ({1000 / baseline.cpu_ms_per_request:.0f} bare)"
        )
        people, mail = check_database(database_url, run.emails)
        print(
            f"database: {people} pending people and {mail} queued confirmations "
            f"for {len(run.emails)} accepted sign-ups"
        )
        if run.failed or people != len(run.emails) or mail != len(run.emails):
            raise SystemExit("FAILED: not every accepted sign-up was stored exactly once")
        target = run.rate >= 1000 and ratio >= 0.25 and run.percentile(99) < 100
        print("targets (>= 1,000/s, >= 25% of bare, p99 < 100 ms):", "met" if target else "NOT met")


if __name__ == "__main__":
    main()
