"""No personal data in logs: addresses and the row values PostgreSQL quotes are redacted from every
log line, tracebacks included, whichever logger and handler write it; expected events (a sign-up
race, a client that hangs up) are one quiet line, not a traceback."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator

import httpx
import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.logs import configure_logging, redact
from outreach.signup import SignupBatcher
from subscribers.models import Language, Role, Subscriber, Topic
from subscribers.signup import Outcome, SignupRequest

RACE_DETAIL = (
    'duplicate key value violates unique constraint "subscriber_email_key"\n'
    "DETAIL:  Key (email)=(race1@example.com) already exists."
)
ROW_DETAIL = (
    'null value in column "role" violates not-null constraint\n'
    "DETAIL:  Failing row contains (7, ana.lopez@example.com, Ana López, López Uniforms, null)."
)


@pytest.fixture
def service_log() -> Iterator[io.StringIO]:
    """Logging as `madeinla serve` sets it up, written to a string; put back afterwards."""
    root = logging.getLogger()
    handlers, level, factory = root.handlers[:], root.level, logging.getLogRecordFactory()
    configure_logging("info")
    out = io.StringIO()
    root.handlers[0].stream = out  # type: ignore[attr-defined]
    try:
        yield out
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.setLogRecordFactory(factory)


def test_redact_removes_addresses_and_quoted_row_values() -> None:
    assert "race1@example.com" not in redact(RACE_DETAIL)
    assert "Key (email)=(…) already exists" in redact(RACE_DETAIL)
    cleaned = redact(ROW_DETAIL)
    assert "Ana López" not in cleaned and "ana.lopez" not in cleaned
    assert "Failing row contains (…)" in cleaned
    assert redact("delivery 7 sent to <email>") == "delivery 7 sent to <email>"


def test_a_traceback_is_redacted_too(service_log: io.StringIO) -> None:
    try:
        try:
            raise ValueError("first contact with maria@example.org failed")
        except ValueError as first:
            raise IntegrityError(RACE_DETAIL) from first
    except IntegrityError:
        logging.getLogger("bot.test").exception("a sign-up failed")
    try:
        raise IntegrityError(ROW_DETAIL)
    except IntegrityError as exc:
        logging.getLogger("bot.test").warning("write failed: %s", exc, exc_info=True)
    written = service_log.getvalue()
    assert "Traceback" in written and "IntegrityError" in written  # still useful to a developer
    for personal in ("race1@example.com", "maria@example.org", "ana.lopez@example.com", "Ana López"):
        assert personal not in written, personal


def test_a_library_logger_with_its_own_handler_is_redacted_too(service_log: io.StringIO) -> None:
    """uvicorn gives its loggers their own handlers (they don't reach ours): redaction happens
    when a record is made, not in one handler."""
    own = io.StringIO()
    library = logging.getLogger("uvicorn.error.test")
    handler = logging.StreamHandler(own)
    library.addHandler(handler)
    library.propagate = False
    try:
        try:
            raise IntegrityError(RACE_DETAIL)
        except IntegrityError:
            library.exception("Exception in ASGI application for %s", "ana@example.com")
    finally:
        library.removeHandler(handler)
        library.propagate = True
    written = own.getvalue()
    assert "Exception in ASGI application" in written and "Traceback" in written
    assert "@example.com" not in written


def signup(email: str) -> SignupRequest:
    return SignupRequest(
        email=email, role=Role.OTHER, language=Language.EN, topics=frozenset({Topic.PILOT_UPDATES})
    )


@pytest.mark.postgres
async def test_a_sign_up_race_between_processes_is_quiet_and_right(db: str, service_log: io.StringIO) -> None:
    """Another process creates the address between this batch's look-up and its insert: the batch
    meets the unique index, is written again one by one, and the log says so in one line."""
    batcher = SignupBatcher()
    other_process_inserted = asyncio.Event()
    release = asyncio.Event()

    async def other_process() -> None:
        async with in_transaction():
            await Subscriber.create(email="race1@example.com", role=Role.OTHER)
            other_process_inserted.set()
            await release.wait()  # commit only once the batch is waiting on the unique index

    other = asyncio.create_task(other_process())
    await other_process_inserted.wait()
    ours = asyncio.create_task(batcher.sign_up(signup("race1@example.com")))
    await asyncio.sleep(0.3)  # the batch's INSERT now waits for the other transaction
    release.set()
    await other
    result = await ours
    assert result.outcome in (Outcome.RESENT, Outcome.PENDING)
    assert await Subscriber.filter(email="race1@example.com").count() == 1
    written = service_log.getvalue()
    assert "one by one" in written  # said once, plainly
    assert len(written.splitlines()) == 1, written
    assert " WARNING " not in written and " ERROR " not in written and "Traceback" not in written
    assert "race1@example.com" not in written


@pytest.mark.parametrize("path", ["/", "/staff/sign-in"])
async def test_a_client_that_hangs_up_mid_body_is_one_quiet_line(
    app, service_log: io.StringIO, path: str
) -> None:
    """The body stops half way and the client is gone: nothing to answer, nobody to tell; one line.
    The public form and the console's forms alike (wherever a body is read)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        await c.get("/")  # the app is up
    messages = iter(
        [
            {"type": "http.request", "body": b"email=ana%40example.com&na", "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return next(messages)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"200"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    service_log.truncate(0)
    await app(scope, receive, send)
    written = service_log.getvalue()
    assert len(written.splitlines()) <= 1, written
    assert "Traceback" not in written and " ERROR " not in written and " WARNING " not in written
