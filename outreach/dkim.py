"""DKIM signing by the service itself (DKIM_SELECTOR, DKIM_DOMAIN, DKIM_PRIVATE_KEY_FILE), for
relays that don't sign what they relay.

dkimpy does the signing (RFC 6376). The signature covers the headers a receiver judges us by, and
RFC 8058 section 4 requires that it cover `List-Unsubscribe` and `List-Unsubscribe-Post`: those
two, `List-Id`, From, To, Subject, Date and Message-ID are signed one more time than they occur,
so nobody on the way can add a second one without breaking the signature. Canonicalisation is
relaxed for both headers and body, which survives relays that re-fold headers or re-wrap lines.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

if TYPE_CHECKING:
    from outreach.mailer import OutgoingMessage

# Headers a receiver needs intact; each is signed once more than it occurs ("oversigned").
FROZEN = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)
# Signed if present.
ALSO_SIGNED = (b"reply-to", b"mime-version", b"content-type", b"content-language")


class DkimKeyError(ValueError):
    """The DKIM private key file can't be used; the message says why."""


@dataclass(frozen=True, slots=True)
class DkimSigner:
    selector: str
    domain: str
    private_key: bytes  # PEM

    @classmethod
    def from_file(cls, selector: str, domain: str, path: Path) -> DkimSigner:
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            raise DkimKeyError(f"{path}: no such file") from None
        except OSError as exc:
            raise DkimKeyError(f"{path}: {exc.strerror}") from None
        try:
            parse_pem_private_key(key)
        except (UnparsableKeyError, ValueError, IndexError):
            raise DkimKeyError(f"{path}: not an RSA private key in PEM form") from None
        return cls(selector, domain, key)

    def signature(self, data: bytes) -> bytes:
        """The DKIM-Signature header (with its CRLF) for a whole message."""
        signer = dkim.DKIM(data, linesep=b"\r\n")
        present = {name.lower() for name, _value in signer.headers}
        headers = [name for name in (*FROZEN, *ALSO_SIGNED) if name in present]
        headers += FROZEN  # once more: a later copy of any of them breaks it
        header: bytes = signer.sign(
            self.selector.encode("ascii"),
            self.domain.encode("ascii"),
            self.private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=headers,
        )
        return header if header.endswith(b"\r\n") else header + b"\r\n"

    def sign(self, message: OutgoingMessage) -> OutgoingMessage:
        return replace(message, data=self.signature(message.data) + message.data)
