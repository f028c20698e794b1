"""Reading what comes back: every message of the corpus as it must be read, status codes, VERP
tokens, and garbage that must never raise."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach.bounces.reports import BounceType, ReportKind, ReportReader, bounce_type, one_line, status_code
from outreach.bounces.verp import VerpSigner

CORPUS = Path(__file__).with_name("bounce_corpus")
EXPECTED: list[dict[str, Any]] = tomllib.loads((CORPUS / "expected.toml").read_text())["message"]
READER = ReportReader(message_id_domain="outreach.example.gov")


def test_the_corpus_is_large_and_covers_every_source() -> None:
    """At least 30 real formats, from every source the README names, every file listed once."""
    files = {entry["file"] for entry in EXPECTED}
    assert len(files) == len(EXPECTED) >= 30
    assert files == {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.eml")}
    assert {f.split("/")[0] for f in files} == {"postfix", "flufl_bounce", "sisimai", "dovecot", "written"}
    kinds = {entry["kind"] for entry in EXPECTED}
    assert kinds == {k.value for k in ReportKind}


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_corpus_message_is_read_as_expected(entry: dict[str, Any]) -> None:
    """Each real message gives the kind, the failed recipients, their codes and types on record."""
    report = READER.read((CORPUS / entry["file"]).read_bytes())
    assert report.kind.value == entry["kind"], report.note
    failures = [[f.recipient, f.status, f.type.value if f.type else ""] for f in report.failures]
    assert sorted(failures) == sorted(entry.get("failures", []))
    if "recipients" in entry:
        assert list(report.recipients) == entry["recipients"]
    assert all("@" not in f.diagnostic for f in report.failures)  # no addresses kept in the words


def test_our_message_id_is_found_in_the_returned_message() -> None:
    """A Postfix bounce names the returned message's Message-ID, and not its own."""
    report = READER.read((CORPUS / "postfix/relay-unknown-user.eml").read_bytes())
    assert "corpus01a1b2c3d4e5f60718293a4b5c6d@outreach.example.gov" in report.message_ids
    assert not any("relay.county.example.gov" in mid for mid in report.message_ids)


def test_the_same_report_has_the_same_key_however_it_was_saved() -> None:
    """CRLF or LF, fetched or saved by hand: the same report is recognised as the same."""
    raw = (CORPUS / "postfix/relay-unknown-user.eml").read_bytes()
    assert READER.read(raw).key == READER.read(raw.replace(b"\n", b"\r\n")).key
    other = (CORPUS / "postfix/relay-mailbox-full.eml").read_bytes()
    assert READER.read(raw).key != READER.read(other).key


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("host said: 550 5.1.1 <a@b>: User unknown", "5.1.1"),
        ("Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)", "4.4.1"),
        ("X-Mailer: Mailman v2.0.13", ""),
        ("from 10.5.1.1 port 25", ""),
        ("421-4.7.0 try again later", "4.7.0"),
    ],
)
def test_status_code_is_found_in_words(text: str, code: str) -> None:
    """Enhanced status codes are found in text, version numbers and IP addresses are not."""
    assert status_code(text) == code


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("5.1.1", BounceType.HARD),
        ("5.1.10", BounceType.HARD),
        ("5.2.1", BounceType.HARD),
        ("5.0.0", BounceType.HARD),
        ("5.3.0", BounceType.HARD),
        ("5.2.2", BounceType.SOFT),
        ("4.2.2", BounceType.SOFT),
        ("4.4.7", BounceType.SOFT),
        ("5.7.1", BounceType.REFUSED),
        ("5.7.26", BounceType.REFUSED),
        ("4.7.0", BounceType.REFUSED),
        ("5.2.3", BounceType.REFUSED),
        ("5.3.4", BounceType.REFUSED),
        ("", BounceType.HARD),
        ("2.0.0", None),
    ],
)
def test_status_code_decides_who_is_at_fault(status: str, expected: BounceType | None) -> None:
    """Only a fault of the address is hard; a full mailbox is soft; a refusal of our message is ours."""
    assert bounce_type(status) is expected


def test_diagnostic_text_keeps_no_address() -> None:
    assert one_line("550 5.1.1 <ana@example.org>:\n   User unknown") == "550 5.1.1 <<address>>: User unknown"


# VERP --------------------------------------------------------------------------------------------

SIGNER = VerpSigner("test-secret-key-0123456789", "bounces@outreach.example.gov")


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_verp_token_round_trips(delivery_id: int) -> None:
    """Any delivery id comes back from its token, in upper or lower case, and fits a local part."""
    token = SIGNER.token(delivery_id)
    assert SIGNER.delivery_id(token) == delivery_id
    assert SIGNER.delivery_id(token.upper()) == delivery_id
    assert len(SIGNER.address(delivery_id).partition("@")[0]) <= 64


def test_forged_or_foreign_tokens_name_nothing() -> None:
    """A changed character, another key, or another purpose's token says nothing."""
    token = SIGNER.token(1234)
    forged = ("a" if token[3] != "a" else "b").join((token[:3], token[4:]))
    assert SIGNER.delivery_id(forged) is None
    other = VerpSigner("another-secret-key-0123456789", "bounces@outreach.example.gov")
    assert other.delivery_id(token) is None
    assert SIGNER.delivery_id("") is None
    assert SIGNER.delivery_id("not a token at all!!") is None


def test_verp_token_is_found_anywhere_in_a_bounce() -> None:
    """The token in the bounce's To: header (or the returned Return-Path) names the delivery; a
    forged one next to it is skipped."""
    raw = (CORPUS / "postfix/relay-unknown-user.eml").read_bytes()
    address = SIGNER.address(77).encode()
    forged = b"bounces+" + SIGNER.token(78)[:-2].encode() + b"aa@outreach.example.gov"
    raw = raw.replace(b"To: bounces@relay.county.example.gov", b"To: " + forged + b", " + address, 1)
    reader = ReportReader(message_id_domain="outreach.example.gov", verp=SIGNER)
    assert reader.read(raw).verp_delivery == 77


@given(st.integers(min_value=0, max_value=2**40), st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567"))
def test_random_tokens_are_refused(delivery_id: int, noise: str) -> None:
    """Text that was not made by the signer is (practically) never a valid token."""
    if noise != SIGNER.token(delivery_id):
        assert SIGNER.delivery_id(noise) in (None,)


# Garbage ------------------------------------------------------------------------------------------


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=4000))
def test_any_bytes_are_read_without_raising(raw: bytes) -> None:
    """Whatever arrives, the reader returns a report (most likely `unrecognised`)."""
    report = READER.read(raw)
    assert isinstance(report.kind, ReportKind)
    assert len(report.key) == 64


_header_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.sampled_from(sorted(p.name for p in (CORPUS / "postfix").glob("*.eml"))),
    st.integers(min_value=0, max_value=4000),
    st.binary(max_size=300),
)
def test_damaged_real_bounces_are_read_without_raising(name: str, cut: int, junk: bytes) -> None:
    """A real report cut short or with junk spliced in is still read, never raised on."""
    raw = (CORPUS / "postfix" / name).read_bytes()
    READER.read(raw[:cut] + junk + raw[cut:])


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    _header_text,
    _header_text,
    _header_text,
    st.sampled_from(
        ["message/delivery-status", "message/feedback-report", "text/rfc822-headers", "message/rfc822"]
    ),
)
def test_hostile_report_parts_are_read_without_raising(
    action: str, status: str, recipient: str, part: str
) -> None:
    """Report parts with arbitrary field values (long, non-ASCII, empty) never raise."""
    fields = (
        f"Final-Recipient: rfc822; {recipient}\nAction: {action}\nStatus: {status}\n"
        f"Feedback-Type: {action}\nX-HmXmrOriginalRecipient: {recipient}\n"
    )
    raw = (
        "From: MAILER-DAEMON@example.org\nSubject: Undelivered\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        f"--b\nContent-Type: text/plain\n\nnotice {status}\n--b\nContent-Type: {part}\n\n{fields}\n--b--\n"
    )
    READER.read(raw.encode("utf-8", "surrogateescape"))


def test_oversized_message_is_cut_and_still_read() -> None:
    """A message over the limit is read from its first bytes (where a DSN's report parts are)."""
    raw = (CORPUS / "postfix/relay-unknown-user.eml").read_bytes()
    reader = ReportReader(message_id_domain="outreach.example.gov", max_bytes=len(raw) - 200)
    report = reader.read(raw + b"x" * 10_000_000)
    assert report.truncated
    assert report.kind is ReportKind.BOUNCE
    assert report.failures[0].status == "5.1.1"
