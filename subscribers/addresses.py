"""Email addresses: one rule for what we accept and how we store it."""

from __future__ import annotations

import functools
import hashlib
import re

from email_validator import EmailNotValidError, validate_email

# The part before the @ as email-validator's own dot-atom rule spells it, ASCII only. Addresses in this
# shape differ only in their domain, so the domain's verdict can be cached (see `_fast_normalise`).
_ATEXT = r"[a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~]"
_DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*", re.ASCII)


class InvalidEmail(ValueError):
    """The address can't be used; the message is fit to show the person who typed it."""


def normalise_email(raw: str) -> str:
    """Validate an address and return the form we store: trimmed, Unicode-normalised, lower case.

    Lower-casing the local part is what makes the unique index case-insensitive on every
    database; in practice no mail provider treats `Ana@` and `ana@` as different people.
    """
    candidate = (raw or "").strip()
    if not candidate:
        raise InvalidEmail("Enter an email address, like name@example.com")
    if len(candidate) > 254 or "\r" in candidate or "\n" in candidate or "\0" in candidate:
        raise InvalidEmail("Enter an email address in the correct format, like name@example.com")
    fast = _fast_normalise(candidate)
    if fast is not None:
        return fast
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidEmail("Enter an email address in the correct format, like name@example.com") from None
    return result.normalized.lower()


def _fast_normalise(candidate: str) -> str | None:
    """The common case without re-running the whole validator: a plain ASCII address at a domain
    we have already judged. Returns None whenever email-validator must decide (anything unusual).

    Validating the domain is most of email-validator's cost, and a contact list repeats a few
    hundred domains. The result is the validator's own, which tests/subscribers/test_addresses.py
    checks on generated addresses.
    """
    local, at, domain = candidate.rpartition("@")
    if not at or not _DOT_ATOM.fullmatch(local) or not domain.isascii():
        return None
    if not _domain_is_plain(domain.lower()):
        return None
    return candidate.lower()


@functools.lru_cache(maxsize=4096)
def _domain_is_plain(domain: str) -> bool:
    """True when email-validator accepts `domain` and keeps it exactly as given (no IDNA decoding)."""
    try:
        result = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return False
    return result.domain == domain


def email_hash(normalised: str) -> str:
    """The key of the suppression list: lets us refuse an erased address without keeping it."""
    return hashlib.sha256(normalised.encode()).hexdigest()
