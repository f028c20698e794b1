"""Campaign messages at volume: render a template once, then fill in only what is personal.

`MessageBuilder.build` renders three Jinja templates and builds an `EmailMessage` for every message,
about 1.5 ms each: fine for a confirmation, the bottleneck of a 200,000-person campaign. Here a
campaign is compiled once per *shape* (language, role, topics, and whether the person gave a name
and an organization: the things a template may branch on) into a skeleton: the finished MIME
message with holes for the personal values (name, organization, address, the signed preferences,
unsubscribe and invitation links). Each message then costs a few string joins.

A skeleton is only used if it is exact. The template is rendered twice with two different sets of
marker values, and the skeleton filled with the second set must reproduce the second rendering
byte for byte. A template that transforms a personal value (`name|upper`, `name|truncate(10)`,
`name|length`, `name|urlencode`) fails that check, and its messages are built the slow way, one
full render each. So the fast path never sends something the template would not have produced.

Encoding: both parts are UTF-8 quoted-printable. The fixed text between holes is encoded once; a
value goes in between two soft line breaks ("=" at the end of a line, which decoders remove), so
it can be encoded on its own without re-encoding the whole body. HTML values are escaped exactly
as Jinja's autoescape does (markupsafe); header values go through `email.header` (RFC 2047) after
control characters, CR and LF above all, are folded away, so no value can add a header.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from itsdangerous.encoding import int_to_bytes
from markupsafe import escape

from outreach.mailer import OutgoingMessage
from outreach.messages import MessageBuilder, Recipient
from outreach.rendering import RenderedEmail, TemplateError, one_line
from subscribers.tokens import LinkSigner, Purpose

# The personal values a message may contain, in the order of the marker numbers.
NAME, ORGANIZATION, EMAIL, PREFERENCES, UNSUBSCRIBE, APPLY = range(6)
_SLOTS = range(6)


def _marker(slot: int, variant: int) -> str:
    """Marker values for the two probe renderings. They differ in first and last character, length,
    case and word count, and carry characters that HTML escaping and URL encoding change, so any
    filter applied to a personal value shows up as a difference between the two renderings."""
    if variant == 0:
        return f"\u27e6{slot}a<&>'\"{slot}\u27e7"
    return f"\u27ea{slot}b b<&>'\"{slot}{slot}\u27eb"


_MARKERS = [[_marker(slot, variant) for slot in _SLOTS] for variant in (0, 1)]


class TokenMinter:
    """Signs tokens exactly as `LinkSigner.sign` does (same format, same key, `unsign` accepts them)
    with the key derived once instead of per call: 5 µs a token instead of 85 µs."""

    def __init__(self, signer: LinkSigner, purpose: Purpose) -> None:
        # Every call below is LinkSigner's or itsdangerous's public API, so the tokens stay
        # compatible with `LinkSigner.unsign`.
        timestamp_signer = signer.timestamp_signer(purpose)
        # What itsdangerous's HMAC would compute, with the keyed state made once and copied per token.
        self._mac = hmac.new(timestamp_signer.derive_key(), digestmod=timestamp_signer.digest_method)
        self._sep = timestamp_signer.sep
        self._second = -1
        self._stamp = b""

    def __call__(self, object_id: int) -> str:
        now = int(time.time())
        if now != self._second:
            self._second, self._stamp = now, _urlsafe_b64(int_to_bytes(now))
        # The payload is the compact JSON of an int (its digits), never worth compressing.
        value = _urlsafe_b64(b"%d" % object_id) + self._sep + self._stamp
        mac = self._mac.copy()
        mac.update(value)
        return (value + self._sep + _urlsafe_b64(mac.digest())).decode()


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _urlsafe_b64(data: bytes) -> bytes:
    """itsdangerous's `base64_encode` (URL-safe alphabet, no padding), without its layers."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


def _qp(text: str) -> bytes:
    """Quoted-printable with CRLF line ends, lines of at most 76 characters, the last at most 75
    (room for the soft line break that may follow it), and no line starting with "." (written
    "=2E"), so SMTP's dot-stuffing has nothing to rewrite."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False).replace(b"\n", b"\r\n")
    if encoded.startswith(b"."):
        encoded = b"=2E" + encoded[1:]
    if b"\n." in encoded:
        encoded = encoded.replace(b"\r\n.", b"\r\n=2E")
    lines = encoded.split(b"\r\n")
    if len(lines[-1]) <= 75 and all(len(line) <= 76 for line in lines):
        return encoded
    fitted = []
    for index, line in enumerate(lines):
        limit = 75 if index == len(lines) - 1 else 76
        while len(line) > limit:
            cut = limit - 1  # and the soft break "=" makes the limit
            escape_at = line.rfind(b"=", cut - 2, cut)
            if escape_at != -1:
                cut = escape_at  # never split "=XX"
            fitted.append(line[:cut] + b"=")
            line = line[cut:]
            if line.startswith(b"."):
                line = b"=2E" + line[1:]
        fitted.append(line)
    return b"\r\n".join(fitted)


_SOFT_BREAK = b"=\r\n"


def _qp_value(value: str) -> bytes:
    """`_qp` for a one-line personal value (no line breaks: see `one_line`), the common short case fast."""
    encoded = binascii.b2a_qp(value.encode("utf-8"), quotetabs=False, istext=True, header=False)
    if len(encoded) > 75 or encoded.startswith(b"."):
        return _qp(value)  # long, or a leading dot to write as "=2E" (which makes it longer)
    return encoded


def encoded_words(value: str) -> str:
    """RFC 2047 encoded words (UTF-8, base64), each at most 75 characters, folded one per line.

    `email.header.Header.encode` does the same but costs ~300 µs for a name; this costs ~3 µs.
    Characters are never split across words (every word must decode to whole UTF-8 on its own).
    """
    data = value.encode("utf-8")
    if len(data) <= 45:
        return f"=?utf-8?b?{binascii.b2a_base64(data, newline=False).decode('ascii')}?="
    words, start = [], 0
    while start < len(value):
        end = start + 45
        piece = value[start:end].encode("utf-8")
        while len(piece) > 45:  # 45 bytes = 60 base64 characters + 12 of framing = 72
            end -= (len(piece) - 42) // 4 + 1  # a character is at most 4 bytes: drop enough of them
            piece = value[start:end].encode("utf-8")
        space = value.rfind(" ", start + 8, end)
        if end < len(value) and space != -1:
            # Cut after a space: readers must join adjacent encoded words without a gap (RFC 2047),
            # and some (Python's address parser) add one; after a space that is harmless.
            end = space + 1
            piece = value[start:end].encode("utf-8")
        words.append(f"=?utf-8?b?{binascii.b2a_base64(piece, newline=False).decode('ascii')}?=")
        start = end
    return "\r\n ".join(words)


def _needs_encoding(value: str) -> bool:
    return not value.isascii() or "=?" in value


def _header(name: str, value: str) -> bytes:
    """One header line, RFC 2047-encoded when it isn't plain ASCII, folded when long."""
    if _needs_encoding(value):
        return f"{name}: {encoded_words(value)}\r\n".encode("ascii")
    line, lines = f"{name}:", []
    for word in value.split(" "):
        if len(line) + 1 + len(word) > 78 and line.strip() and not line.endswith(":"):
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def address_header(header: str, name: str, address: str) -> bytes:
    """`To: Name <address>`, quoting or RFC 2047-encoding the name as it needs."""
    if not name:
        return f"{header}: {address}\r\n".encode()
    if _needs_encoding(name):
        return f"{header}: {encoded_words(name)} <{address}>\r\n".encode()
    return f"{header}: {formataddr((name, address))}\r\n".encode()


@dataclass(frozen=True, slots=True)
class _Body:
    """A part's encoded body: fixed pieces with a slot number between each two."""

    pieces: tuple[bytes, ...]
    slots: tuple[int, ...]  # len(pieces) == len(slots) + 1
    distinct: frozenset[int]


def _split(rendered: str, markers: list[str], *, html: bool) -> tuple[list[str], list[int]]:
    forms = {(str(escape(m)) if html else m): slot for slot, m in enumerate(markers)}
    pattern = re.compile("|".join(re.escape(form) for form in forms))
    texts, slots, last = [], [], 0
    for match in pattern.finditer(rendered):
        texts.append(rendered[last : match.start()])
        slots.append(forms[match.group()])
        last = match.end()
    texts.append(rendered[last:])
    return texts, slots


def _fill(texts: list[str], slots: list[int], values: list[str], *, html: bool) -> str:
    out = [texts[0]]
    for slot, text in zip(slots, texts[1:], strict=True):
        out.append(str(escape(values[slot])) if html else values[slot])
        out.append(text)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _Skeleton:
    subject: list[str]  # texts around slots (unencoded: the subject is folded per message)
    subject_slots: list[int]
    subject_line: bytes  # the encoded header when the subject has no personal value
    text: _Body
    html: _Body
    used: frozenset[int]  # which personal values appear anywhere (the invitation link costs a token)
    head: bytes  # headers that are the same for everyone of this shape
    middle: bytes  # from the end of the personal headers to the start of the text body
    between: bytes  # from the end of the text body to the start of the HTML body
    tail: bytes


class CompiledCampaign:
    """Builds every message of one campaign; `message()` is the per-recipient fast path."""

    def __init__(
        self,
        builder: MessageBuilder,
        *,
        template: str,
        subject: str = "",
        values_for: Callable[[str], dict[str, Any]] = lambda language: {},
        manage_token: Callable[[int], str] | None = None,
        invitation_token: Callable[[int], str] | None = None,
    ) -> None:
        self.builder = builder
        self.template = template
        self.subject = one_line(subject)
        self.values_for = values_for  # campaign-wide template values for a language
        self._manage = manage_token or TokenMinter(builder.signer, Purpose.MANAGE)
        self._invitation = invitation_token or TokenMinter(builder.signer, Purpose.INVITATION)
        self._shapes: dict[tuple[Any, ...], _Skeleton | None] = {}
        self._base = builder.options.public_base_url
        self._sender = builder.sender.addr_spec
        self._date_second = -1
        self._date = b""
        self.slow_messages = 0  # how many went the slow way (a template that transforms values)

    def message(self, recipient: Recipient, *, delivery_id: int, message_id: str) -> OutgoingMessage:
        """The message for one person. Raises TemplateError if the template doesn't render."""
        name, organization = one_line(recipient.name), one_line(recipient.organization)
        key = (recipient.language, recipient.role, tuple(recipient.topics), bool(name), bool(organization))
        if key not in self._shapes:
            self._shapes[key] = self._compile(recipient, bool(name), bool(organization))
        skeleton = self._shapes[key]
        if skeleton is None or recipient.subscriber_id is None or not recipient.address.isascii():
            self.slow_messages += 1
            return self.builder.build(
                self.template,
                recipient,
                list_mail=True,
                delivery_id=delivery_id,
                extra=self.values_for(recipient.language),
                subject=self.subject,
                message_id=message_id,
            )
        token = self._manage(recipient.subscriber_id)
        values = [
            name,
            organization,
            recipient.address,
            f"{self._base}/preferences/{token}",
            f"{self._base}/unsubscribe/{token}",
            f"{self._base}/apply/{self._invitation(delivery_id)}" if APPLY in skeleton.used else "",
        ]
        if skeleton.subject_slots:
            subject = one_line(_fill(skeleton.subject, skeleton.subject_slots, values, html=False))
            subject_line = _header("Subject", subject)
        else:
            subject_line = skeleton.subject_line
        now = int(time.time())
        if now != self._date_second:
            self._date_second = now
            self._date = f"Date: {format_datetime(dt.datetime.fromtimestamp(now, dt.UTC))}\r\n".encode()
        parts = [
            skeleton.head,
            subject_line,
            address_header("To", name[:100], recipient.address),
            self._date,
            b"Message-ID: " + message_id.encode("ascii") + b"\r\n",
            b"List-Unsubscribe: <" + values[UNSUBSCRIBE].encode("ascii") + b">\r\n",
            skeleton.middle,
        ]
        # Each value once per part, however often the template uses it (the unsubscribe link: 3 times).
        text_values = [b""] * len(values)
        for slot in skeleton.text.distinct:
            text_values[slot] = _qp_value(values[slot])
        _append_body(parts, skeleton.text, text_values)
        parts.append(skeleton.between)
        html_values = [b""] * len(values)
        for slot in skeleton.html.distinct:
            value = values[slot]
            escaped = str(escape(value))
            # A link needs no escaping: its text-part encoding serves the HTML part too.
            html_values[slot] = (
                text_values[slot] if escaped == value and text_values[slot] else _qp_value(escaped)
            )
        _append_body(parts, skeleton.html, html_values)
        parts.append(skeleton.tail)
        return OutgoingMessage(
            sender=self._sender,
            recipient=recipient.address,
            data=b"".join(parts),
            message_id=message_id,
        )

    def _render(self, recipient: Recipient, variant: int, has_name: bool, has_org: bool) -> RenderedEmail:
        markers = _MARKERS[variant]
        probe = Recipient(
            address=markers[EMAIL],
            subscriber_id=recipient.subscriber_id,
            name=markers[NAME] if has_name else "",
            organization=markers[ORGANIZATION] if has_org else "",
            role=recipient.role,
            language=recipient.language,
            topics=list(recipient.topics),
        )
        links = {
            "home": f"{self._base}/",
            "preferences": markers[PREFERENCES],
            "unsubscribe": markers[UNSUBSCRIBE],
            "apply": markers[APPLY],
        }
        context = self.builder.context(probe, links, self.values_for(recipient.language))
        rendered = self.builder.templates.render(self.template, recipient.language, context)
        if self.subject:
            rendered = RenderedEmail(subject=self.subject, text=rendered.text, html=rendered.html)
        return rendered

    def _compile(self, recipient: Recipient, has_name: bool, has_org: bool) -> _Skeleton | None:
        first = self._render(recipient, 0, has_name, has_org)
        second = self._render(recipient, 1, has_name, has_org)
        split = {}
        for part, html in (("subject", False), ("text", False), ("html", True)):
            texts, slots = _split(getattr(first, part), _MARKERS[0], html=html)
            if _fill(texts, slots, _MARKERS[1], html=html) != getattr(second, part):
                return None  # the template does more with a personal value than print it
            split[part] = (texts, slots)
        used = frozenset(slot for _texts, slots in split.values() for slot in slots)
        boundary = f"=_madeinla_{secrets.token_hex(12)}"  # "=_" can't occur in quoted-printable text
        sender = self.builder.sender
        head = [address_header("From", sender.display_name, sender.addr_spec)]
        if self.builder.options.mail_reply_to:
            head.append(address_header("Reply-To", *parseaddr(self.builder.options.mail_reply_to)))
        subject_texts, subject_slots = split["subject"]
        part_headers = (
            'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        )
        return _Skeleton(
            subject=subject_texts,
            subject_slots=subject_slots,
            subject_line=b"" if subject_slots else _header("Subject", one_line(subject_texts[0])),
            text=_encode_body(*split["text"]),
            html=_encode_body(*split["html"]),
            used=used,
            head=b"".join(head),
            middle=(
                "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                f"Content-Language: {recipient.language}\r\n"
                "MIME-Version: 1.0\r\n"
                f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'
                "\r\n"
                f"--{boundary}\r\n" + part_headers.format("plain")
            ).encode("ascii"),
            between=f"\r\n--{boundary}\r\n{part_headers.format('html')}".encode("ascii"),
            tail=f"\r\n--{boundary}--\r\n".encode("ascii"),
        )


def _encode_body(texts: list[str], slots: list[int]) -> _Body:
    if not texts[-1].endswith("\n"):
        texts = [*texts[:-1], texts[-1] + "\n"]  # a MIME text part ends with a line break
    return _Body(pieces=tuple(_qp(text) for text in texts), slots=tuple(slots), distinct=frozenset(slots))


def _append_body(parts: list[bytes], body: _Body, encoded: list[bytes]) -> None:
    pieces = body.pieces
    parts.append(pieces[0])
    for index, slot in enumerate(body.slots, start=1):
        parts += (_SOFT_BREAK, encoded[slot], _SOFT_BREAK, pieces[index])


__all__ = ["CompiledCampaign", "TemplateError", "TokenMinter", "address_header"]
