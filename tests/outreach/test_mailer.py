"""The SMTP transport on its own: pipelining, classification of every kind of answer, TLS, AUTH,
connection reuse and the outbox. Real servers (aiosmtpd, or a few lines of asyncio) on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pydantic import SecretStr

from bot.settings import Settings
from outreach.mailer import OutboxTransport, Outcome, OutgoingMessage, SmtpTransport
from tests.mailserver import MailServer, RecordingHandler, free_port
from tests.outreach.sending import smtp_options_of

FROM = "madeinla@example.gov"


def message(to: str, body: str = "Hello.\r\n", subject: str = "Test") -> OutgoingMessage:
    data = f"From: {FROM}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <x@example.gov>\r\n\r\n{body}"
    return OutgoingMessage(sender=FROM, recipient=to, data=data.encode(), message_id="<x@example.gov>")


def settings_for(settings: Settings, port: int, **changes: object) -> Settings:
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none", **changes}
    )


@pytest.fixture
def pipelining_server() -> Iterator[MailServer]:
    """aiosmtpd advertising PIPELINING (it reads pipelined commands fine; it just doesn't say so)."""
    server = MailServer()

    async def handle_EHLO(smtp, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    server.handler.handle_EHLO = handle_EHLO  # type: ignore[attr-defined]
    with server:
        yield server


@pytest.fixture
async def transport(settings: Settings, mail_server: MailServer) -> AsyncIterator[SmtpTransport]:
    smtp = SmtpTransport(smtp_options_of(settings_for(settings, mail_server.port)))
    yield smtp
    await smtp.close()


async def test_pipelined_sessions_send_refuse_and_reset(
    settings: Settings, pipelining_server: MailServer
) -> None:
    """With PIPELINING, a refused recipient leaves the session usable for the next message."""
    pipelining_server.handler.faults.refuse["gone@example.com"] = "550 5.1.1 No such user"
    smtp = SmtpTransport(smtp_options_of(settings_for(settings, pipelining_server.port, smtp_pool_size=1)))
    try:
        results = [
            await smtp.send(message(to)) for to in ("a@example.com", "gone@example.com", "b@example.com")
        ]
        assert smtp._idle and smtp._idle[0].pipelining
    finally:
        await smtp.close()
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.PERMANENT, Outcome.SENT]
    assert results[1].reply == "550 5.1.1 No such user"
    assert [r.rcpt_tos for r in pipelining_server.received] == [["a@example.com"], ["b@example.com"]]
    assert smtp.connections_opened == 1


async def test_lock_step_without_pipelining(transport: SmtpTransport, mail_server: MailServer) -> None:
    mail_server.handler.faults.refuse["gone@example.com"] = "550 5.1.1 No such user"
    outcomes = [(await transport.send(message(to))).outcome for to in ("a@example.com", "gone@example.com")]
    assert outcomes == [Outcome.SENT, Outcome.PERMANENT]
    assert not transport._idle[0].pipelining
    assert (await transport.send(message("c@example.com"))).outcome is Outcome.SENT
    assert transport.connections_opened == 1


async def test_lines_starting_with_a_dot_arrive_intact(
    transport: SmtpTransport, mail_server: MailServer
) -> None:
    body = ".hidden\r\n..two\r\nmiddle\r\n.\r\nend\r\n"
    sent = message("a@example.com", body=body)
    assert (await transport.send(sent)).outcome is Outcome.SENT
    [received] = mail_server.received
    assert received.data == sent.data


@pytest.mark.parametrize(
    "address", ["a@example.com>\r\nRCPT TO:<b@example.com", "<a@example.com>", "a b@x.com"]
)
async def test_an_address_that_could_inject_commands_is_refused_before_sending(
    transport: SmtpTransport, mail_server: MailServer, address: str
) -> None:
    result = await transport.send(message(address))
    assert result.outcome is Outcome.PERMANENT and "can't be used" in result.reply
    assert (await transport.send(message("ok@example.com"))).outcome is Outcome.SENT
    assert [r.rcpt_tos for r in mail_server.received] == [["ok@example.com"]]


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        ("554 5.7.1 <a@example.com>: Relay access denied", Outcome.CONFIG),  # about us, not them
        ("550 5.1.1 No such user", Outcome.PERMANENT),
        ("452 4.2.2 Mailbox full", Outcome.TEMPORARY),
        ("530 5.7.0 Must issue a STARTTLS command first", Outcome.CONFIG),
    ],
)
async def test_recipient_replies_are_classified(
    transport: SmtpTransport, mail_server: MailServer, reply: str, outcome: Outcome
) -> None:
    mail_server.handler.faults.refuse["a@example.com"] = reply
    result = await transport.send(message("a@example.com"))
    assert (result.outcome, result.reply) == (outcome, reply)


async def test_our_sender_refused_is_a_configuration_problem(settings: Settings) -> None:
    class Refusing(RecordingHandler):
        async def handle_MAIL(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
            return "553 5.7.1 Sender address rejected: not owned by user"

    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    smtp = SmtpTransport(smtp_options_of(settings_for(settings, port)))
    try:
        result = await smtp.send(message("a@example.com"))
    finally:
        await smtp.close()
        controller.stop()
    assert result.outcome is Outcome.CONFIG
    assert result.reply.startswith("sender refused: 553")


async def test_a_connection_that_died_while_idle_is_replaced_without_losing_the_message(
    settings: Settings,
) -> None:
    first = MailServer()
    with first:
        smtp = SmtpTransport(smtp_options_of(settings_for(settings, first.port)))
        assert (await smtp.send(message("a@example.com"))).outcome is Outcome.SENT
    second = MailServer()  # the first server went away (and with it our idle connection)
    second.port = first.port
    second.controller.port = first.port
    with second:
        try:
            result = await smtp.send(message("b@example.com"))
        finally:
            await smtp.close()
    assert result.outcome is Outcome.SENT
    assert smtp.connections_opened == 2
    assert [r.rcpt_tos for r in second.received] == [["b@example.com"]]


async def test_sessions_are_recycled_after_a_number_of_messages(
    transport: SmtpTransport, mail_server: MailServer
) -> None:
    transport.RECYCLE_AFTER = 3
    for i in range(7):
        assert (await transport.send(message(f"r{i}@example.com"))).outcome is Outcome.SENT
    assert transport.connections_opened == 3
    assert len(mail_server.received) == 7


@contextlib.asynccontextmanager
async def scripted_server(replies: dict[bytes, bytes | None]) -> AsyncIterator[int]:
    """A few lines of SMTP: answers each command by its first word; None means "never answer"."""

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(replies.get(b"greeting", b"220 ready\r\n") or b"")
        in_data = False
        with contextlib.suppress(ConnectionError):
            while line := await reader.readline():
                if in_data:
                    if line == b".\r\n":
                        in_data = False
                        answer = replies.get(b".", b"250 ok\r\n")
                        if answer:
                            writer.write(answer)
                    continue
                verb = line.split()[0].upper() if line.split() else b""
                answer = replies.get(verb, b"250 ok\r\n")
                in_data = verb == b"DATA"
                if answer:
                    writer.write(answer)
                if verb == b"QUIT":
                    break
        writer.close()

    server = await asyncio.start_server(talk, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_a_server_that_stops_answering_times_out_as_temporary(settings: Settings) -> None:
    async with scripted_server({b"DATA": b"354 go\r\n", b".": None}) as port:
        smtp = SmtpTransport(smtp_options_of(settings_for(settings, port, smtp_timeout_seconds=0.5)))
        try:
            result = await smtp.send(message("a@example.com"))
        finally:
            await smtp.close()
    assert result.outcome is Outcome.TEMPORARY and "timed out" in result.reply
    assert not smtp._idle  # the session is gone: a late answer can't be taken for the next message's


async def test_greetings_decide_unavailable_or_misconfigured(settings: Settings) -> None:
    async with scripted_server({b"greeting": b"554 5.7.1 Your IP is not allowed\r\n"}) as port:
        smtp = SmtpTransport(smtp_options_of(settings_for(settings, port)))
        refused = await smtp.send(message("a@example.com"))
    assert refused.outcome is Outcome.CONFIG and not refused.unavailable
    smtp = SmtpTransport(smtp_options_of(settings_for(settings, free_port())))  # nothing listens there
    down = await smtp.send(message("a@example.com"))
    assert down.outcome is Outcome.TEMPORARY and down.unavailable
    assert "connection problem" in down.reply


async def test_the_content_waits_for_ready_and_is_never_sent_if_ready_fails(
    transport: SmtpTransport, mail_server: MailServer
) -> None:
    ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    sending = asyncio.create_task(transport.send(message("a@example.com"), ready=ready))
    await asyncio.sleep(0.3)
    assert mail_server.received == [] and not sending.done()
    ready.set_result(None)
    assert (await sending).outcome is Outcome.SENT
    assert len(mail_server.received) == 1

    failing: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    failing.set_exception(RuntimeError("the database is down"))
    with pytest.raises(RuntimeError):
        await transport.send(message("b@example.com"), ready=failing)
    await asyncio.sleep(0.2)
    assert len(mail_server.received) == 1  # the half-sent transaction was abandoned, not delivered


# TLS and AUTH -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@contextlib.contextmanager
def secure_server(certificate: tuple[Path, Path], password: str) -> Iterator[tuple[RecordingHandler, int]]:
    """STARTTLS required, then AUTH required: what a County relay on port 587 looks like."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)

    def check(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        return AuthResult(success=auth_data.password == password.encode(), handled=False)

    handler, port = RecordingHandler(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=check,
        auth_required=True,
        ready_timeout=10,
    )
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


async def test_starttls_and_auth_then_pipelined_sending_over_tls(
    settings: Settings, certificate: tuple[Path, Path]
) -> None:
    client_tls = ssl.create_default_context(cafile=str(certificate[0]))
    with secure_server(certificate, "s3cret") as (handler, port):
        good = settings_for(
            settings, port, smtp_tls="starttls", smtp_username="madeinla", smtp_password=SecretStr("s3cret")
        )
        smtp = SmtpTransport(smtp_options_of(good), tls_context=client_tls)
        try:
            results = [await smtp.send(message(f"r{i}@example.com")) for i in range(5)]
        finally:
            await smtp.close()
        assert {r.outcome for r in results} == {Outcome.SENT}
        assert smtp.connections_opened == 1
        assert len(handler.received) == 5

        bad = good.model_copy(update={"smtp_password": SecretStr("wrong")})
        smtp = SmtpTransport(smtp_options_of(bad), tls_context=client_tls)
        wrong_password = await smtp.send(message("x@example.com"))
        plain = SmtpTransport(smtp_options_of(good.model_copy(update={"smtp_tls": "none"})))
        no_tls = await plain.send(message("x@example.com"))
        untrusted = await SmtpTransport(smtp_options_of(good)).send(
            message("x@example.com")
        )  # self-signed: not trusted
    assert wrong_password.outcome is Outcome.CONFIG and "authentication failed" in wrong_password.reply
    assert no_tls.outcome is Outcome.CONFIG and "TLS" in no_tls.reply
    assert untrusted.outcome is Outcome.CONFIG and "TLS" in untrusted.reply
    assert len(handler.received) == 5


# The outbox ---------------------------------------------------------------------------------------


async def test_the_outbox_writes_one_eml_file_per_message(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path / "outbox")
    sent = message("a@example.com", subject="Hola")
    result = await outbox.send(sent)
    assert result.outcome is Outcome.SENT
    [path] = (tmp_path / "outbox").glob("*.eml")
    assert path.read_bytes() == sent.data
    assert result.reply.endswith(path.name)
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Hola"
    assert not list((tmp_path / "outbox").glob("*.tmp"))


async def test_announcing_the_next_message_saves_a_round_trip_and_can_be_withdrawn(
    settings: Settings, pipelining_server: MailServer
) -> None:
    """With `then`, the next envelope rides with this content; the next send completes it. A
    withdrawn announcement closes that connection without delivering anything."""
    smtp = SmtpTransport(smtp_options_of(settings_for(settings, pipelining_server.port, smtp_pool_size=1)))
    first, second, third = (message(f"{name}@example.com") for name in ("a", "b", "c"))
    try:
        assert (await smtp.send(first, then=second)).outcome is Outcome.SENT
        assert not smtp._idle  # the session waits for `second`, whose envelope is already accepted
        assert (await smtp.send(second, then=third)).outcome is Outcome.SENT
        smtp.withdraw(third)
        await asyncio.sleep(0.2)
        assert (await smtp.send(message("d@example.com"))).outcome is Outcome.SENT
    finally:
        await smtp.close()
    assert [r.rcpt_tos for r in pipelining_server.received] == [
        ["a@example.com"],
        ["b@example.com"],
        ["d@example.com"],
    ]
    assert smtp.connections_opened == 2


async def test_an_announced_message_refused_at_rcpt_leaves_the_session_usable(
    settings: Settings, pipelining_server: MailServer
) -> None:
    pipelining_server.handler.faults.refuse["gone@example.com"] = "550 5.1.1 No such user"
    smtp = SmtpTransport(smtp_options_of(settings_for(settings, pipelining_server.port, smtp_pool_size=1)))
    gone = message("gone@example.com")
    try:
        assert (await smtp.send(message("a@example.com"), then=gone)).outcome is Outcome.SENT
        assert (await smtp.send(gone)).outcome is Outcome.PERMANENT
        assert (await smtp.send(message("b@example.com"))).outcome is Outcome.SENT
    finally:
        await smtp.close()
    assert [r.rcpt_tos for r in pipelining_server.received] == [["a@example.com"], ["b@example.com"]]
    assert smtp.connections_opened == 1
