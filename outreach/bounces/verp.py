"""The VERP token: `bounces+TOKEN@domain` as the envelope sender names the Delivery a bounce is about.

The token is the delivery id and 64 bits of an HMAC (SECRET_KEY, with a purpose of its own), in
lower-case base32: mail systems may change the case of an address's local part, and base32 survives
that, which itsdangerous's base64 tokens would not. It has no expiry (a bounce can come days late)
and needs none: it only ever says "this bounce is about delivery N", and a forged one says nothing.
A delivery id below four billion gives a token of at most 20 characters; the whole address stays well inside
the 64 characters a local part may have.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable

PURPOSE = b"madeinla.verp"
MAC_BYTES = 8
MAX_ID_BYTES = 8


class VerpSigner:
    """Makes and checks tokens for one BOUNCE_ADDRESS (`bounces@outreach.example.gov`)."""

    def __init__(self, secret: str, bounce_address: str) -> None:
        local, at, domain = bounce_address.strip().rpartition("@")
        if not at or not local or not domain:
            raise ValueError("BOUNCE_ADDRESS must be an address, like bounces@outreach.example.gov")
        self.local = local
        self.domain = domain.lower()
        key = hmac.new(secret.encode(), PURPOSE, hashlib.sha256).digest()
        self._mac = hmac.new(key, digestmod=hashlib.sha256)  # keyed once, copied per token
        # Where a token can show up: the bounce's own headers (To:, Delivered-To:, X-Original-To:),
        # the returned message's Return-Path, a DSN's X-Postfix-Sender field.
        self._pattern = re.compile(
            rb"(?<![A-Za-z0-9.+_-])"
            + re.escape(local.encode())
            + rb"\+([A-Za-z2-7]{10,32})@"
            + re.escape(self.domain.encode()),
            re.IGNORECASE,
        )

    def _digest(self, payload: bytes) -> bytes:
        mac = self._mac.copy()
        mac.update(payload)
        return mac.digest()[:MAC_BYTES]

    def token(self, delivery_id: int) -> str:
        if delivery_id < 0 or delivery_id >= 1 << (8 * MAX_ID_BYTES):
            raise ValueError("a delivery id is a non-negative 64-bit number")
        payload = delivery_id.to_bytes(max(1, (delivery_id.bit_length() + 7) // 8), "big")
        raw = payload + self._digest(payload)
        return base64.b32encode(raw).decode().rstrip("=").lower()

    def address(self, delivery_id: int) -> str:
        """The envelope sender (Return-Path) for a delivery's message."""
        return f"{self.local}+{self.token(delivery_id)}@{self.domain}"

    def delivery_id(self, token: str) -> int | None:
        """The delivery a token names, or None if it is forged, damaged or not a token at all."""
        text = token.strip().upper()
        if not 10 <= len(text) <= 32:
            return None
        try:
            raw = base64.b32decode(text + "=" * (-len(text) % 8))
        except (binascii.Error, ValueError):
            return None
        payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if not 1 <= len(payload) <= MAX_ID_BYTES or not hmac.compare_digest(mac, self._digest(payload)):
            return None
        return int.from_bytes(payload, "big")

    def find(self, raw: bytes) -> int | None:
        """The delivery named by the first genuine token anywhere in a message, or None."""
        return self.first_valid(match.group(1).decode() for match in self._pattern.finditer(raw))

    def first_valid(self, tokens: Iterable[str]) -> int | None:
        for token in tokens:
            delivery_id = self.delivery_id(token)
            if delivery_id is not None:
                return delivery_id
        return None
