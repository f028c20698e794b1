"""Email addresses: one rule for what we accept and how we store it."""

from __future__ import annotations

import hashlib

from email_validator import EmailNotValidError, validate_email


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
    if len(candidate) > 254 or any(ch in candidate for ch in "\r\n\0"):
        raise InvalidEmail("Enter an email address in the correct format, like name@example.com")
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidEmail("Enter an email address in the correct format, like name@example.com") from None
    return result.normalized.lower()


def email_hash(normalised: str) -> str:
    """The key of the suppression list: lets us refuse an erased address without keeping it."""
    return hashlib.sha256(normalised.encode()).hexdigest()
