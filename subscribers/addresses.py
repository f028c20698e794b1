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
    """The address can't be used; the message is fit to show the person who typed it.

    `non_ascii_local` marks the one refusal with its own message: accented or other non-ASCII
    letters before the @. Such an address needs SMTPUTF8 end to end, which we can't promise (and
    the message builder can't put it in a header), so it is refused where it is typed.
    """

    def __init__(self, message: str, *, non_ascii_local: bool = False) -> None:
        super().__init__(message)
        self.non_ascii_local = non_ascii_local


NON_ASCII_LOCAL_MESSAGE = "The part before the @ can use only unaccented letters (a to z), digits and . _ - +"


def normalise_email(raw: str) -> str:
    """Validate an address and return the form we store: trimmed, ASCII, lower case.

    Lower-casing the local part is what makes the unique index case-insensitive on every
    database; in practice no mail provider treats `Ana@` and `ana@` as different people. An
    internationalised domain is stored in its ASCII (IDNA, "xn--") form, the one a mail header and
    an SMTP envelope can carry, so `ana@bücher.de` and `ana@xn--bcher-kva.de` are one person.
    """
    candidate = (raw or "").strip()
    if not candidate:
        raise InvalidEmail("Enter an email address, like name@example.com")
    if len(candidate) > 254 or "\r" in candidate or "\n" in candidate or "\0" in candidate:
        raise InvalidEmail("Enter an email address in the correct format, like name@example.com")
    fast = _fast_normalise(candidate)
    if fast is not None:
        return fast
    local = candidate.rpartition("@")[0]
    if local and not local.isascii():
        raise InvalidEmail(NON_ASCII_LOCAL_MESSAGE, non_ascii_local=True)
    try:
        result = validate_email(candidate, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise InvalidEmail("Enter an email address in the correct format, like name@example.com") from None
    # allow_smtputf8=False: an address it accepts always has its ASCII form.
    assert result.ascii_email is not None
    return result.ascii_email.lower()


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
    """True when email-validator accepts `domain` and keeps its ASCII form exactly as given."""
    try:
        result = validate_email(f"a@{domain}", check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return result.ascii_domain == domain


def email_hash(normalised: str) -> str:
    """The key of the suppression list: lets us refuse an erased address without keeping it."""
    return hashlib.sha256(normalised.encode()).hexdigest()
