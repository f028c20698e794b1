"""Issue 11, the connection to the relay and the messages themselves: SMTP_CA_FILE against a real
TLS aiosmtpd with its own CA, QUIT after SMTP_IDLE_SECONDS, List-Id, and DKIM signatures that a
verifier accepts and that cover the unsubscribe headers (RFC 8058 section 4)."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Iterator
from pathlib import Path

import dkim
import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.runtime import smtp_options, transport_for
from bot.settings import Settings, SettingsError, load_settings
from outreach.mailer import Outcome, OutgoingMessage, SmtpTransport
from outreach.queue import enqueue_transactional
from subscribers.models import Status
from tests.mailserver import MailServer
from tests.outreach.people import person
from tests.outreach.sending import make_sender, people, send_until_settled, started_campaign


def message(to: str = "someone@example.com") -> OutgoingMessage:
    data = (
        f"From: madeinla@example.gov\r\nTo: {to}\r\nSubject: hello\r\n"
        "Message-ID: <1@example.gov>\r\n\r\nHi\r\n"
    ).encode()
    return OutgoingMessage(
        sender="madeinla@example.gov", recipient=to, data=data, message_id="<1@example.gov>"
    )


# SMTP_CA_FILE -------------------------------------------------------------------------------------


@pytest.fixture
def county_ca(tmp_path: Path) -> trustme.CA:
    return trustme.CA(organization_name="County of Los Angeles internal CA")


@pytest.fixture
def tls_server(county_ca: trustme.CA) -> Iterator[MailServer]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    county_ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    with MailServer(tls_context=server_context, require_starttls=True) as server:
        yield server


def relay_settings(settings: Settings, server: MailServer, **more: object) -> Settings:
    return load_settings(
        **{
            **settings.model_dump(),
            "smtp_host": server.host,
            "smtp_port": server.port,
            "smtp_tls": "starttls",
            **more,
        }
    )


async def test_the_relay_is_trusted_through_smtp_ca_file(
    settings: Settings, tls_server: MailServer, county_ca: trustme.CA, tmp_path: Path
) -> None:
    bundle = tmp_path / "county-ca.pem"
    county_ca.cert_pem.write_to_path(str(bundle))
    transport = transport_for(relay_settings(settings, tls_server, smtp_ca_file=bundle))
    try:
        result = await transport.send(message())
    finally:
        await transport.close()
    assert result.outcome is Outcome.SENT, result.reply
    assert len(tls_server.received) == 1


async def test_without_the_county_ca_the_relay_is_not_trusted(
    settings: Settings, tls_server: MailServer
) -> None:
    transport = transport_for(relay_settings(settings, tls_server))
    try:
        result = await transport.send(message())
    finally:
        await transport.close()
    assert result.outcome is Outcome.CONFIG
    assert "certificate" in result.reply.lower()
    assert tls_server.received == []


def test_smtp_ca_file_comes_from_dotenv_like_every_setting(
    county_ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "county-ca.pem"
    county_ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.delenv("SMTP_CA_FILE", raising=False)
    monkeypatch.setitem(Settings.model_config, "env_file", ".env")  # the test suite turns it off
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"SMTP_CA_FILE={bundle}\nSMTP_HOST=relay.example.gov\n")
    assert load_settings().smtp_ca_file == bundle
    (tmp_path / ".env").write_text(f"SMTP_CA_FILE={tmp_path / 'missing.pem'}\n")
    with pytest.raises(SettingsError, match=r"^SMTP_CA_FILE: no such file"):
        load_settings()
    (tmp_path / "not-a-ca.pem").write_text("hello\n")
    (tmp_path / ".env").write_text(f"SMTP_CA_FILE={tmp_path / 'not-a-ca.pem'}\n")
    with pytest.raises(SettingsError, match=r"^SMTP_CA_FILE: can't be used"):
        load_settings()


# SMTP_IDLE_SECONDS --------------------------------------------------------------------------------


async def test_an_idle_pooled_connection_says_quit(smtp_settings: Settings, mail_server: MailServer) -> None:
    options = smtp_options(smtp_settings.model_copy(update={"smtp_idle_seconds": 0.3}))
    assert options is not None
    transport = SmtpTransport(options)
    try:
        assert (await transport.send(message())).outcome is Outcome.SENT
        await asyncio.sleep(0.1)
        assert mail_server.handler.quits == 0  # still within SMTP_IDLE_SECONDS: kept for the next one
        await asyncio.sleep(0.6)
        assert mail_server.handler.quits == 1  # said goodbye, not timed out by the server
        assert transport._idle == []
        assert (await transport.send(message())).outcome is Outcome.SENT  # a fresh one when needed
        assert transport.connections_opened == 2
    finally:
        await transport.close()


# List-Id and DKIM ---------------------------------------------------------------------------------


@pytest.fixture
def dkim_key(tmp_path: Path) -> tuple[Path, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def dns(record: bytes):  # type: ignore[no-untyped-def]
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"mail2027._domainkey.example.gov." else None

    return lookup


def signed_headers(data: bytes) -> list[str]:
    message = dkim.DKIM(data)
    [signature] = [value for name, value in message.headers if name.lower() == b"dkim-signature"]
    tags = dict(
        part.strip().split("=", 1)
        for part in signature.decode().replace("\r\n", "").split(";")
        if "=" in part
    )
    return [name.strip() for name in tags["h"].replace(" ", "").split(":")]


async def test_the_service_signs_with_dkim_covering_the_unsubscribe_headers(
    db: str, smtp_settings: Settings, mail_server: MailServer, dkim_key: tuple[Path, bytes]
) -> None:
    path, record = dkim_key
    settings = load_settings(
        **{
            **smtp_settings.model_dump(),
            "dkim_selector": "mail2027",
            "dkim_domain": "example.gov",
            "dkim_private_key_file": path,
        }
    )
    await people(2, name="Ana María López")
    await started_campaign(settings)
    newcomer = await person("new@example.com", status=Status.PENDING)
    await enqueue_transactional(
        address=newcomer.email, template="confirm", language="es", subscriber_id=newcomer.id
    )
    sender = make_sender(settings)
    try:
        await send_until_settled(sender)
    finally:
        await sender.transport.close()
    received = mail_server.wait_for(3)
    for item in received:
        assert dkim.verify(item.data, dnsfunc=dns(record)), item.message["To"]
    campaign_mail = [r for r in received if r.message["List-Unsubscribe"]]
    assert len(campaign_mail) == 2
    for item in campaign_mail:
        headers = signed_headers(item.data)
        # Each signed one time more than it occurs: a second copy added on the way breaks it.
        assert headers.count("list-unsubscribe") == 2 and headers.count("list-unsubscribe-post") == 2
        assert headers.count("list-id") == 2 and "from" in headers and "subject" in headers
        assert item.message["List-Id"] == "Made in LA pilot update <pilot-update.example.gov>"
        tampered = item.data.replace(b"List-Unsubscribe: <http", b"List-Unsubscribe: <https", 1)
        assert not dkim.verify(tampered, dnsfunc=dns(record))
        added = b"List-Unsubscribe: <https://evil.example/x>\r\n" + item.data
        assert not dkim.verify(added, dnsfunc=dns(record))
    [confirmation] = [r for r in received if not r.message["List-Unsubscribe"]]
    assert confirmation.message["List-Id"] is None  # not list mail


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"dkim_selector": "mail2027"}, "DKIM_SELECTOR, DKIM_DOMAIN and DKIM_PRIVATE_KEY_FILE go together"),
        (
            {
                "dkim_selector": "mail2027",
                "dkim_domain": "example.gov",
                "dkim_private_key_file": "/nonexistent.pem",
            },
            "DKIM_PRIVATE_KEY_FILE: /nonexistent.pem: no such file",
        ),
        ({"dkim_selector": "mail 2027"}, "DKIM_SELECTOR: must be a DNS name"),
    ],
)
def test_bad_dkim_settings_are_one_clear_line(settings: Settings, change: dict[str, str], error: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**{**settings.model_dump(), **change})
    assert error in str(caught.value) and "\n" not in str(caught.value)


def test_a_key_that_is_not_a_key_is_refused(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    change = {
        "dkim_selector": "s",
        "dkim_domain": "example.gov",
        "dkim_private_key_file": tmp_path / "key.pem",
    }
    with pytest.raises(SettingsError, match="not an RSA private key in PEM form"):
        load_settings(**{**settings.model_dump(), **change})
