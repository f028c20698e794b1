"""`normalise_email` accepts, rejects and normalises exactly as email-validator does, fast path or not."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from subscribers.addresses import InvalidEmail, email_hash, normalise_email


def reference(raw: str) -> str | None:
    """The rule without the fast path: email-validator on every address (None: rejected).

    ASCII only (no SMTPUTF8), and the domain in its ASCII form: what a mail header can carry."""
    candidate = (raw or "").strip()
    if not candidate or len(candidate) > 254 or any(ch in candidate for ch in "\r\n\0"):
        return None
    try:
        return validate_email(candidate, check_deliverability=False, allow_smtputf8=False).ascii_email.lower()
    except EmailNotValidError:
        return None


def ours(raw: str) -> str | None:
    try:
        return normalise_email(raw)
    except InvalidEmail:
        return None


LOCAL_PIECES = [
    "ana",
    "Ana",
    "o'brien",
    "j.doe",
    "x+tag",
    "a..b",
    ".a",
    "a.",
    '"q"',
    "é",
    "a b",
    "=1+2",
    "{}",
]
DOMAIN_PIECES = [
    "example.com",
    "EXAMPLE.COM",
    "mail.example.org",
    "localhost",
    "example.test",
    "example.local",
    "xn--bcher-kva.com",
    "bücher.de",
    "-bad.com",
    "bad-.com",
    "example.123",
    "a" * 64 + ".com",
    "a" * 63 + ".com",
    "[127.0.0.1]",
    "example..com",
    "example.com.",
    "co",
    "example.c",
]


@pytest.mark.parametrize("domain", DOMAIN_PIECES)
@pytest.mark.parametrize("local", LOCAL_PIECES)
def test_examples_agree_with_email_validator(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    assert ours(address) == reference(address)
    assert ours(address) == reference(address)  # again, now that the domain's verdict is cached


@settings(max_examples=400, deadline=None)
@given(
    local=st.text(alphabet=st.sampled_from("aZ0._-+'=!#é \"@"), min_size=0, max_size=12),
    labels=st.lists(
        st.text(alphabet=st.sampled_from("abZ09-ü_"), min_size=0, max_size=8), min_size=1, max_size=4
    ),
    padding=st.sampled_from(["", " ", "\t", "\n"]),
)
def test_generated_addresses_agree_with_email_validator(local: str, labels: list[str], padding: str) -> None:
    address = f"{padding}{local}@{'.'.join(labels)}{padding}"
    assert ours(address) == reference(address)


def test_normalised_form_is_lower_case_and_trimmed() -> None:
    assert normalise_email("  Ana.Garcia@Example.COM ") == "ana.garcia@example.com"
    assert normalise_email("ana@xn--bcher-kva.com") == "ana@xn--bcher-kva.com"


@pytest.mark.parametrize(
    "raw", ["ana@bücher.de", "Ana@BÜCHER.de", "ana@xn--bcher-kva.de", "ANA@XN--BCHER-KVA.DE"]
)
def test_internationalised_domains_are_stored_in_ascii(raw: str) -> None:
    """One person however the domain is typed, and an address any mail header can carry."""
    assert normalise_email(raw) == "ana@xn--bcher-kva.de"
    assert normalise_email(raw) == "ana@xn--bcher-kva.de"  # again, with the domain's verdict cached


@pytest.mark.parametrize(
    "raw", ["josé@example.com", "José@bücher.de", "ñandú@example.com", '"josé"@example.com']
)
def test_accented_letters_before_the_at_get_their_own_message(raw: str) -> None:
    """Mail to such an address can't be built without SMTPUTF8: refuse it where it is typed."""
    with pytest.raises(InvalidEmail, match="before the @ can use only unaccented letters") as refused:
        normalise_email(raw)
    assert refused.value.non_ascii_local


@pytest.mark.parametrize(
    "raw", ["", "   ", "ana", "ana@", "@example.com", "ana@@example.com", "ana@exa\nmple.com"]
)
def test_rejections_have_a_message_for_people(raw: str) -> None:
    with pytest.raises(InvalidEmail, match="email address"):
        normalise_email(raw)


def test_email_hash_is_stable_and_hides_the_address() -> None:
    digest = email_hash("ana@example.com")
    assert digest == email_hash("ana@example.com")
    assert len(digest) == 64
    assert "ana" not in digest
