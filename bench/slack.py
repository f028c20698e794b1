"""Signed `/madeinla eligible ...` commands through the real HTTP server, next to three baselines.

    .venv/bin/python bench/slack.py [--clients 50] [--seconds 2] [--sequential 1000] [--rounds 10]

Four uvicorn subprocesses with the same options, measured one after another in each round (the
order turns every round, so a busy spell on the host does not always fall on the same server):

- `real`: the service as `madeinla serve` builds it (`bot.app.create_app`: SQLite in a temporary
  folder, background sender, scheduler) with Slack configured; Bolt verifies each signature and
  the listener answers with the screener's verdict from the ack.
- `bolt`: a minimal Bolt app with the same Bolt settings (`process_before_response=True`, a client
  pointed at the same fake Web API, served by Bolt's own Starlette adapter) whose listener only acks.
- `text`: the same minimal Bolt app acking, every time, with the real app's reply to a typical
  command (2.2 KB): the plumbing and the reply's size without the screening, so `real / text`
  is what the screening itself costs and `text / bolt` what sending a full explanation costs.
- `bare`: a Starlette endpoint that reads the form body and answers a small JSON reply.

Every command differs (ZIP, start year and head count vary) and is signed as Slack signs it, so
nothing can be served from a cache. Each client keeps one HTTP/1.1 connection; the load generator
is a small asyncio client in this process, the servers are separate processes (this machine has
2 cores). A fake Slack Web API on loopback answers the one `auth.test` Bolt makes.

Printed: requests/s per server (median of the rounds), the ratios (median of each round's ratio,
with the lowest and highest: the servers run seconds apart, so a busy neighbour on the machine
hits all of them alike, and many short rounds beat a few long ones), latency
percentiles at N connections, the median latency of one request at a time, each server's CPU time
per request (from /proc: what a busy neighbour changes least), and what the eligibility reply
alone costs per command, measured in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cpu import cpu_seconds  # noqa: E402 (after the path is set)

PYTHON = sys.executable
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"  # noqa: S105 (a throwaway for loopback)
BOT_TOKEN = "xoxb-bench"  # noqa: S105

REAL_APP = """
from bot.app import create_app
from bot.logs import configure_logging
from bot.settings import load_settings

settings = load_settings(_env_file=None)
configure_logging(settings.log_level)
app = create_app(settings)
"""

BOLT_APP = """
import os

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.routing import Route

bolt = AsyncApp(
    client=AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    process_before_response=True,
)


REPLY = os.environ.get("BENCH_FIXED_REPLY", "ok")


@bolt.command("/madeinla")
async def only_ack(ack):
    await ack(text=REPLY, response_type="ephemeral")


handler = AsyncSlackRequestHandler(bolt)


async def events(request):
    return await handler.handle(request)


app = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
"""

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def events(request):
    form = await request.form()
    return JSONResponse({"response_type": "ephemeral", "text": "ok " + str(len(form["text"]))})


app = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
"""

# What a correct answer contains, per server: a 200 alone would also pass a polite error.
EXPECTED = {
    "real": b"Eligibility screening",
    "bolt": b'"ok"',
    "text": b"Eligibility screening",
    "bare": b'"ok ',
}
PEOPLE = 50  # distinct Slack users: each one's language is looked up once, then remembered
POOL = 40_000  # distinct signed requests per server and round (more than one round sends)
LA_ZIPS = ("90021", "90058", "90011", "90023", "90033", "90040", "91331", "90255", "91706", "90813")


# --- a fake Slack Web API (auth.test) ---------------------------------------------------------


class FakeSlackApi(BaseHTTPRequestHandler):
    """auth.test's answer to everything: users.info (the person's language) reads no locale: English."""

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.dumps({"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def start_fake_slack() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSlackApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/api/"


# --- requests ---------------------------------------------------------------------------------


def command_bodies(count: int, nonce: str = "0") -> list[bytes]:
    """`count` different commands from 50 people. Each body is unique (Slack's trigger_id is): the
    service refuses a signature it has seen, so a benchmark that replays requests would only
    measure refusals."""
    bodies = []
    for number in range(count):
        text = (
            f"eligible zip={LA_ZIPS[number % len(LA_ZIPS)]} since={2005 + number % 20} "
            f"employees={1 + number % 140}"
        )
        bodies.append(
            urllib.parse.urlencode(
                {
                    "token": "unused",
                    "team_id": "T1",
                    "team_domain": "lacounty",
                    "channel_id": "CBENCH",
                    "channel_name": "made-in-la",
                    "user_id": f"U{number % PEOPLE:06d}",
                    "user_name": "bench",
                    "command": "/madeinla",
                    "text": text,
                    "api_app_id": "A1",
                    "is_enterprise_install": "false",
                    "response_url": "https://hooks.slack.invalid/commands/1",
                    "trigger_id": f"1.{nonce}.{number}",
                }
            ).encode()
        )
    return bodies


def signed_requests(port: int, bodies: list[bytes]) -> list[bytes]:
    """Complete HTTP requests, signed now (Slack accepts a signature for 5 minutes)."""
    stamp = str(int(time.time())).encode()
    requests = []
    for body in bodies:
        digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + stamp + b":" + body, hashlib.sha256).hexdigest()
        head = (
            b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n"
            b"X-Slack-Request-Timestamp: %s\r\nX-Slack-Signature: v0=%s\r\n\r\n"
        ) % (port, len(body), stamp, digest.encode())
        requests.append(head + body)
    return requests


@dataclass
class Run:
    rate: float = 0.0
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    failed: int = 0
    first_failure: bytes = b""
    cpu: float = 0.0  # seconds of the server's CPU while counting

    @property
    def cpu_per_request(self) -> float:
        """Microseconds of server CPU per answered request: what a busy neighbour changes least."""
        return self.cpu / self.ok * 1e6 if self.ok else float("nan")

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else float("nan")


_LENGTH = re.compile(rb"content-length: *(\d+)", re.IGNORECASE)


async def client(port: int, requests: Iterator[bytes], run: Run, expected: bytes, stop: float | int):
    """One keep-alive connection; `stop` is a deadline (float) or a number of requests (int).

    The connections share `requests`, so no request is sent twice (that would be a replay)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        sent = 0
        while (time.perf_counter() < stop) if isinstance(stop, float) else sent < stop:
            started = time.perf_counter()
            request = next(requests, None)
            if request is None:
                raise SystemExit("ran out of distinct requests: raise POOL in bench/slack.py")
            writer.write(request)
            sent += 1
            head = await reader.readuntil(b"\r\n\r\n")
            match = _LENGTH.search(head)
            body = await reader.readexactly(int(match[1])) if match else b""
            run.latencies.append(time.perf_counter() - started)
            if head[9:12] == b"200" and expected in body:
                run.ok += 1
            else:
                run.failed += 1
                run.first_failure = run.first_failure or head + body[:300]
    finally:
        writer.close()
        await writer.wait_closed()


async def measure(
    pid: int,
    port: int,
    requests: Iterator[bytes],
    expected: bytes,
    clients: int,
    seconds: float,
    warm_up: float,
) -> Run:
    warm = Run()  # connections; the first time also Bolt's auth.test and the first database pages
    deadline = time.perf_counter() + warm_up
    await asyncio.gather(*(client(port, requests, warm, expected, deadline) for _ in range(clients)))
    if warm.failed:
        raise SystemExit(
            f"the server answered wrongly during warm-up:\n{warm.first_failure.decode(errors='replace')}"
        )
    run = Run()
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(client(port, requests, run, expected, deadline) for _ in range(clients)))
    run.rate = run.ok / (time.perf_counter() - started)
    run.cpu = cpu_seconds(pid) - cpu_before
    return run


async def measure_sequential(port: int, requests: Iterator[bytes], expected: bytes, count: int) -> Run:
    run = Run()
    await client(port, requests, run, expected, count)
    return run


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(name: str, code: str, env: dict[str, str], work: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    script = work / f"bench_{name}_app.py"
    script.write_text(code)
    log = work / f"{name}.log"
    command = [
        PYTHON, "-m", "uvicorn", f"{script.stem}:app", "--app-dir", str(work),
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the {name} server did not start:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the {name} server did not start within 60 s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def command_texts(bodies: list[bytes]) -> list[str]:
    return [urllib.parse.parse_qs(body.decode())["text"][0].removeprefix("eligible ") for body in bodies]


def typical_reply(bodies: list[bytes]) -> str:
    """The real app's reply to the first command (all replies are within a few percent of its size)."""
    from bot.slack.commands import eligibility_reply, pilot_today

    return eligibility_reply(command_texts(bodies)[0], pilot_today()).text


def reply_cost_microseconds(bodies: list[bytes], count: int = 3000) -> float:
    """What the listener itself adds per command (screen + render + escape), in this process."""
    from bot.slack.commands import eligibility_reply, pilot_today

    texts = command_texts(bodies)
    today = pilot_today()
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        for number in range(count):
            eligibility_reply(texts[number % len(texts)], today)
        timings.append((time.perf_counter() - started) / count * 1e6)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=2.0, help="per server and round")
    parser.add_argument("--sequential", type=int, default=1000, help="requests one at a time, per round")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    fake, api_url = start_fake_slack()
    bodies = command_bodies(2000)
    names = ("real", "bolt", "text", "bare")
    loaded: dict[str, list[Run]] = {name: [] for name in names}
    sequential: dict[str, list[Run]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="madeinla-bench-slack-") as tmp:
        work = Path(tmp)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SLACK_", "SMTP_", "DATABASE_", "DATA_DIR"))
        }
        env |= {
            "PYTHONPATH": str(ROOT),
            "DATA_DIR": str(work / "data"),
            "LOG_LEVEL": "warning",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": api_url,
        }
        print(
            f"{args.clients} connections, {args.seconds:.0f} s per server, {args.rounds} rounds, "
            f"{os.cpu_count()} CPUs (shared: compare the ratios, not the absolute rates)"
        )
        # `text` is the minimal Bolt app answering, every time, what `real` answers to a typical
        # command: same plumbing, same reply size, no screening. real / text is the screening alone.
        fixed = {"text": {"BENCH_FIXED_REPLY": typical_reply(bodies)}}
        servers = {
            name: start_server(name, code, env | fixed.get(name, {}), work)
            for name, code in zip(names, (REAL_APP, BOLT_APP, BOLT_APP, BARE_APP), strict=True)
        }
        try:
            for round_number in range(1, args.rounds + 1):
                turn = (round_number - 1) % len(names)
                for name in names[turn:] + names[:turn]:
                    process, port = servers[name]
                    requests = iter(signed_requests(port, command_bodies(POOL, f"{round_number}{name}")))
                    warm_up = 1.0 if round_number == 1 else 0.25
                    run = asyncio.run(
                        measure(
                            process.pid, port, requests, EXPECTED[name], args.clients, args.seconds, warm_up
                        )
                    )
                    one = asyncio.run(measure_sequential(port, requests, EXPECTED[name], args.sequential))
                    for result in (run, one):
                        if result.failed:
                            failure = result.first_failure.decode(errors="replace")
                            raise SystemExit(f"{name}: {result.failed} wrong answers, e.g.\n{failure}")
                    loaded[name].append(run)
                    sequential[name].append(one)
                    print(
                        f"  round {round_number} {name:<4} {run.rate:7.0f} req/s  "
                        f"p99 {run.percentile(99):5.1f} ms  one at a time p50 {one.percentile(50):5.2f} ms  "
                        f"server CPU {run.cpu_per_request:4.0f} µs/req"
                    )
        finally:
            for process, _ in servers.values():
                stop_server(process)
            fake.shutdown()

    rates = {name: statistics.median(run.rate for run in loaded[name]) for name in names}
    print()
    print(f"{'server':<34} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7}   one at a time p50")
    labels = {
        "real": "real app, /madeinla eligible",
        "bolt": "minimal Bolt app (ack only)",
        "text": "minimal Bolt app, fixed reply",
        "bare": "bare Starlette endpoint",
    }
    for name in names:
        merged = Run(latencies=[latency for run in loaded[name] for latency in run.latencies])
        alone = Run(latencies=[latency for run in sequential[name] for latency in run.latencies])
        print(
            f"{labels[name]:<34} {rates[name]:7.0f} {merged.percentile(50):6.1f}ms "
            f"{merged.percentile(95):6.1f}ms {merged.percentile(99):6.1f}ms   {alone.percentile(50):.2f} ms"
        )

    # Ratios within each round (the servers ran seconds apart) resist the shared machine's swings
    # better than a ratio of medians taken from different moments.
    def ratios(top: str, bottom: str) -> list[float]:
        return [a.rate / b.rate for a, b in zip(loaded[top], loaded[bottom], strict=True)]

    def ratio(top: str, bottom: str) -> float:
        return statistics.median(ratios(top, bottom))

    versus_bolt = ratio("real", "bolt")
    print()
    per_request = {name: 1e6 / rates[name] for name in names}
    print(
        f"wall time per request: bare {per_request['bare']:.0f} µs, Bolt {per_request['bolt']:.0f} µs, "
        f"real {per_request['real']:.0f} µs; the eligibility reply alone (in-process) "
        f"{reply_cost_microseconds(bodies):.0f} µs"
    )
    cpu = {name: statistics.median(run.cpu_per_request for run in loaded[name]) for name in names}
    print(
        "server CPU per request (median): "
        + ", ".join(f"{name} {cpu[name]:.0f} µs" for name in names)
        + f" -> Bolt / real {cpu['bolt'] / cpu['real']:.0%}"
    )
    spread = ratios("real", "bolt")
    print(
        f"real / minimal Bolt:   {versus_bolt:.0%}  (median of the rounds' ratios; "
        f"lowest {min(spread):.0%}, highest {max(spread):.0%})"
    )
    print(f"fixed reply / minimal Bolt: {ratio('text', 'bolt'):.0%}  (the same reply, no screening)")
    print(f"real / fixed reply:    {ratio('real', 'text'):.0%}  (the screening alone)")
    print(f"real / bare Starlette: {ratio('real', 'bare'):.0%}")
    print(f"Bolt / bare Starlette: {ratio('bolt', 'bare'):.0%}")
    real = Run(latencies=[latency for run in loaded["real"] for latency in run.latencies])
    alone = Run(latencies=[latency for run in sequential["real"] for latency in run.latencies])
    checks = {
        ">= 90% of the minimal Bolt app": versus_bolt >= 0.90,
        f"p99 < 25 ms at {args.clients} connections": real.percentile(99) < 25,
        "one at a time p50 < 3 ms": alone.percentile(50) < 3,
    }
    for label, met in checks.items():
        print(f"target {label}: {'met' if met else 'NOT met'}")
    # At N connections a server's median latency is about N / its rate, so p99 is bounded by the
    # machine: where even the ack-only Bolt app misses the p99 target, no Bolt app can meet it.
    bolt = Run(latencies=[latency for run in loaded["bolt"] for latency in run.latencies])
    print(f"(the minimal Bolt app's own p99 on this machine: {bolt.percentile(99):.1f} ms)")


if __name__ == "__main__":
    main()
