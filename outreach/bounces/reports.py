"""What a message that came back says: a bounce, a delay warning, a complaint, an auto-reply, or
something a person should read. Pure code: bytes in, a `Report` out, no database.

Who failed is flufl.bounce's call (Mailman's maintained detector: RFC 3464 DSNs and the common
non-standard formats of Exchange, Microsoft 365, Gmail, Yahoo, Postfix, Exim, qmail...). What a DSN
adds, the status code (5.1.1) and the server's words, is read from its machine-readable fields with
the email package, as are ARF complaints (RFC 5965) and auto-replies (RFC 3834 and what Exchange,
Apple and others send instead). Order matters: a DSN is itself `Auto-Submitted: auto-replied`, so
bounces are looked for before auto-replies.

Nothing here trusts the message: it is cut to `max_bytes`, any exception while reading it makes it
`unrecognised` (for a person to read), and addresses are taken out of the diagnostic text we keep.
"""

from __future__ import annotations

import dataclasses
import email
import email.errors
import email.message
import functools
import hashlib
import logging
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from enum import StrEnum
from typing import Protocol

from flufl.bounce import all_failures

log = logging.getLogger(__name__)
# flufl.bounce logs every detector it runs at INFO and re-raises a detector's error after logging
# its traceback; we log one line of our own instead (hostile mail must not flood the log).
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

DEFAULT_MAX_BYTES = 512 * 1024


class ReportKind(StrEnum):
    BOUNCE = "bounce"  # the message was not delivered (DSN or a non-standard bounce)
    DELAYED = "delayed"  # a warning: the relay is still trying
    COMPLAINT = "complaint"  # an ARF abuse or fraud report: the person marked it as spam
    OPT_OUT = "opt_out"  # an ARF opt-out report: the person asked to be taken off
    AUTO_REPLY = "auto_reply"  # out of office, vacation: nothing to do
    DELIVERED = "delivered"  # a DSN saying the message was delivered or relayed: nothing to do
    OTHER_REPORT = "other_report"  # a DMARC failure report and the like: for the mail administrator
    UNRECOGNISED = "unrecognised"  # none of the above: for a person to read


class BounceType(StrEnum):
    HARD = "hard"  # the address is bad (5.1.1 no such user, 5.1.2 no such domain...)
    SOFT = "soft"  # for now (4.x.x, mailbox full): counts toward the person's bounce score
    REFUSED = "refused"  # our message was refused (5.7.x spam or policy, too big): not the address's fault


# Report kinds that need no person: the message goes to the done folder.
HANDLED = frozenset(ReportKind) - {ReportKind.UNRECOGNISED, ReportKind.OTHER_REPORT}


@dataclass(frozen=True, slots=True)
class Failure:
    """One recipient a report says failed (or was delayed)."""

    recipient: str  # lower-cased, as the report names it ("" when it names none)
    status: str = ""  # RFC 3463 enhanced status code, e.g. "5.1.1"; "" when the report gives none
    diagnostic: str = ""  # the server's words, one line, addresses replaced by <address>
    type: BounceType | None = None  # None for a delay warning


@dataclass(frozen=True, slots=True)
class Report:
    key: str  # identifies this message: the same report read twice has the same key
    kind: ReportKind
    failures: tuple[Failure, ...] = ()
    recipients: tuple[str, ...] = ()  # complaints and auto-replies: who it is about, when it says
    message_ids: tuple[str, ...] = ()  # Message-IDs of ours it mentions (the returned message)
    verp_delivery: int | None = None  # the delivery a genuine VERP token in it names
    feedback_type: str = ""  # ARF Feedback-Type, lower case
    note: str = ""  # why it is unrecognised, for the log and `bounces read`
    truncated: bool = False

    @property
    def worst(self) -> Failure | None:
        """The failure that decides what happens: hard before soft before refused."""
        order = {BounceType.HARD: 0, BounceType.SOFT: 1, BounceType.REFUSED: 2, None: 3}
        return min(self.failures, key=lambda f: order[f.type], default=None)


Parts = list[tuple[Message, str]]  # every part of a message with its content type, in walk order


# Status codes ------------------------------------------------------------------------------------

_STATUS = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
_REPLY_AND_STATUS = re.compile(r"(?<!\d)[245]\d\d[ -]+([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)")
_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]]+@[^\s<>\"'(),;:\[\]]+")
_PLAIN_ADDRESS = re.compile(r"<?([A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+)>?")


def status_code(text: str) -> str:
    """The first RFC 3463 status code in `text` ("5.1.1"), preferring one after an SMTP reply code."""
    found = _REPLY_AND_STATUS.search(text)
    if found:
        return found.group(1)
    found = _STATUS.search(text)
    return found.group(0) if found else ""


def bounce_type(status: str) -> BounceType | None:
    """What a status code says about the address (RFC 3463's subjects), None for success (2.x.x).

    Only a fault of the address may bounce a person. A full mailbox (x.2.2), a mail system that
    is full or not taking mail (x.3.1, x.3.2), a delivery that expired (x.4.7) and any 4.x.x the
    relay gave up on are temporary; a refusal of the message itself (x.7.x security or policy,
    x.6.x content, x.2.3 and x.3.4 too big) says nothing about the address, so it fails the
    delivery and leaves the person alone. The rest of 5.x.x (5.1.1 no such user, 5.1.2 no such
    domain, 5.2.1 disabled, 5.0.0, 5.3.0 as old servers say "unknown user") is permanent, as is a
    report without a code that the detector called permanent.
    """
    match = _STATUS.fullmatch(status.strip()) if status else None
    if match is None:
        return BounceType.HARD
    klass, subject, detail = match.group(1), int(match.group(2)), int(match.group(3))
    if klass == "2":
        return None
    if subject in (6, 7) or (subject, detail) in ((2, 3), (3, 4)):
        return BounceType.REFUSED
    if klass == "4":
        return BounceType.SOFT
    if (subject, detail) in ((2, 2), (3, 1), (3, 2), (4, 7)):
        return BounceType.SOFT
    return BounceType.HARD


def one_line(text: str, limit: int = 300) -> str:
    """Server words fit to keep: one line, no addresses (they are personal data), at most `limit`."""
    text = _ADDRESS.sub("<address>", " ".join(text.split()))
    return text[:limit]


def _clean_address(value: str) -> str:
    """`rfc822; Ana@Example.org` or `<ana@example.org>` -> `ana@example.org` ("" if not an address)."""
    value = value.strip()
    if ";" in value:
        value = value.split(";", 1)[1].strip()
    plain = _PLAIN_ADDRESS.fullmatch(value)  # the usual case, without parseaddr's full grammar
    address = (plain.group(1) if plain else parseaddr(value)[1]).strip().strip("<>").lower()
    return address if "@" in address and len(address) <= 254 and address.isascii() else ""


# Reading -----------------------------------------------------------------------------------------


class TokenFinder(Protocol):
    """What a reader needs of `outreach.bounces.verp.VerpSigner`."""

    def find(self, raw: bytes) -> int | None: ...


class ReportReader:
    """Reads messages for one installation: our Message-IDs' domain and, with VERP, its signer."""

    def __init__(
        self,
        *,
        message_id_domain: str,
        verp: TokenFinder | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.verp = verp
        self.max_bytes = max_bytes
        domain = re.escape(message_id_domain.lower().encode()) if message_id_domain else rb"[^\s<>]+"
        self._message_id = re.compile(rb"<([A-Za-z0-9._=+-]{1,100}@" + domain + rb")>", re.IGNORECASE)

    def read(self, raw: bytes) -> Report:
        truncated = len(raw) > self.max_bytes
        if truncated:
            raw = raw[: self.max_bytes]
        try:
            msg = email.message_from_bytes(raw)
        except Exception as exc:  # the email package is lenient, but a hostile message must not stop us
            return Report(_key(raw, None), ReportKind.UNRECOGNISED, note=f"unreadable: {type(exc).__name__}")
        key = _key(raw, msg)
        try:
            report = self._classify(raw, msg, key)
        except Exception as exc:
            log.warning("could not read an incoming message: %s", type(exc).__name__)
            return Report(key, ReportKind.UNRECOGNISED, note=f"unreadable: {type(exc).__name__}")
        if truncated:
            report = dataclasses.replace(report, truncated=True)
        return report

    def _classify(self, raw: bytes, msg: Message, key: str) -> Report:
        own_id = _header(msg, "Message-ID").lower()
        parts: Parts = [(part, part.get_content_type()) for part in msg.walk()]  # walked once
        texts = [raw, *_decoded_parts(parts)]
        message_ids = tuple(sorted({mid for mid in self._ids(texts) if f"<{mid}>" != own_id}))
        verp = self._verp_delivery(texts)
        # What every report of this message shares; each outcome below fills in the rest.
        base = Report(key=key, kind=ReportKind.UNRECOGNISED, message_ids=message_ids, verp_delivery=verp)
        new = functools.partial(dataclasses.replace, base)

        feedback = _feedback_report(parts)
        if feedback is not None:
            return _complaint(parts, feedback, base)
        jmrp = _legacy_jmrp(parts)
        if jmrp is not None:
            return new(kind=ReportKind.COMPLAINT, recipients=(jmrp,), feedback_type="abuse")

        try:
            temporary, permanent = all_failures(msg)
        except Exception as exc:  # flufl.bounce re-raises its detectors' errors
            log.warning("flufl.bounce could not read an incoming message: %s", type(exc).__name__)
            temporary, permanent = frozenset(), frozenset()
        blocks = _dsn_blocks(parts)
        if permanent or temporary:
            failures = _failures(parts, blocks, permanent, temporary)
            if not any(f.recipient for f in failures) and not message_ids and verp is None:
                # The detector matched something that names nobody and returns nothing of ours.
                return new(kind=ReportKind.UNRECOGNISED, note="a report that names no recipient")
            if permanent:
                return new(kind=ReportKind.BOUNCE, failures=failures)
            return new(kind=ReportKind.DELAYED, failures=failures)
        if blocks and all(b.action in ("delivered", "relayed", "expanded") for b in blocks):
            return new(kind=ReportKind.DELIVERED)
        if _from_mail_system(msg, parts):
            # A report from a mail system that the detector can't read: a person must look at it.
            note = "a delivery report flufl.bounce can't read"
            return new(kind=ReportKind.UNRECOGNISED, note=note)
        if is_auto_reply(msg):
            return new(kind=ReportKind.AUTO_REPLY, recipients=_senders(msg))
        return new(kind=ReportKind.UNRECOGNISED, note="not a bounce, complaint or auto-reply")

    def _verp_delivery(self, texts: list[bytes]) -> int | None:
        if self.verp is None:
            return None
        for text in texts:
            found = self.verp.find(text)
            if found is not None:
                return found
        return None

    def _ids(self, texts: list[bytes]) -> set[str]:
        found: set[str] = set()
        for text in texts:
            for match in self._message_id.finditer(text):
                found.add(match.group(1).decode("ascii", "replace").lower())
                if len(found) > 20:  # a message quoting a whole thread: enough to match on
                    return found
        return found


def _key(raw: bytes, msg: Message | None) -> str:
    """The same report, fetched again or saved to a file by hand, gives the same key: its Message-ID
    with its Date and From when it has one, else its bytes (line endings and trailing space aside)."""
    message_id = _header(msg, "Message-ID") if msg is not None else ""
    if message_id and msg is not None:
        basis = "\n".join(("mid", message_id, _header(msg, "Date"), _header(msg, "From")))
        return hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()
    body = b"\n".join(line.rstrip() for line in raw.replace(b"\r\n", b"\n").split(b"\n")).strip()
    return hashlib.sha256(b"raw\n" + body).hexdigest()


def _header(msg: Message, name: str) -> str:
    """A header as text (the email package may give a Header object for undecodable bytes)."""
    value = msg.get(name)
    return str(value).strip() if value is not None else ""


def _decoded_parts(parts: Parts, budget: int = 256 * 1024) -> list[bytes]:
    """Parts sent base64 or quoted-printable, decoded: a returned message's headers may be in one."""
    out: list[bytes] = []
    for part, _kind in parts:
        if part.is_multipart():
            continue
        encoding = str(part.get("Content-Transfer-Encoding", "")).lower()
        if encoding not in ("base64", "quoted-printable"):
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload:
            out.append(payload[:budget])
            budget -= len(out[-1])
            if budget <= 0:
                break
    return out


# DSNs --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Block:
    recipient: str
    action: str
    status: str
    diagnostic: str


def _dsn_blocks(parts: Parts) -> list[_Block]:
    """The per-recipient fields of every message/delivery-status part (RFC 3464)."""
    blocks: list[_Block] = []
    for part, kind in parts:
        if kind != "message/delivery-status" or not part.is_multipart():
            continue
        for fields in part.get_payload():
            if not isinstance(fields, Message):
                continue
            action = str(fields.get("Action", "")).strip().lower()
            if not action:
                continue  # the per-message block (Reporting-MTA...)
            final = _clean_address(str(fields.get("Final-Recipient", "")))
            recipient = _clean_address(str(fields.get("Original-Recipient", ""))) or final
            status = status_code(str(fields.get("Status", "")))
            diagnostic = str(fields.get("Diagnostic-Code", ""))
            if ";" in diagnostic:
                diagnostic = diagnostic.split(";", 1)[1]
            for address in {recipient, final} - {""} or {""}:
                blocks.append(_Block(address, action.split()[0], status, one_line(diagnostic)))
    return blocks


def _failures(
    parts: Parts, blocks: list[_Block], permanent: frozenset[bytes], temporary: frozenset[bytes]
) -> tuple[Failure, ...]:
    """flufl.bounce's verdict per address, with the DSN's status and words where there are some,
    else the first status code of the human-readable notice."""
    by_address = {block.recipient: block for block in blocks}
    notice = _notice_text(parts)
    fallback = status_code(notice)
    failures = []
    for addresses, delayed in ((permanent, False), (temporary - permanent, True)):
        for raw_address in sorted(addresses):
            address = _clean_address(raw_address.decode("ascii", "replace"))
            block = by_address.get(address)
            status = block.status if block and block.status else fallback
            diagnostic = block.diagnostic if block and block.diagnostic else _line_with(notice, status)
            kind = None if delayed else bounce_type(status)
            if kind is None and not delayed:  # flufl.bounce said it failed; a stray 2.x.x is no code
                status, kind = "", BounceType.HARD
            failures.append(Failure(address, status, diagnostic, kind))
    return tuple(failures)


def _notice_text(parts: Parts, limit: int = 16 * 1024) -> str:
    """The human-readable part: the first text/plain part that is not the returned message."""
    for part, kind in parts:
        if kind == "message/rfc822":
            break
        if kind == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload[:limit].decode("utf-8", "replace")
    return ""


def _line_with(text: str, status: str) -> str:
    if not status:
        return ""
    for line in text.splitlines():
        if status in line:
            return one_line(line)
    return ""


# Complaints (RFC 5965) -----------------------------------------------------------------------------

COMPLAINT_TYPES = frozenset({"abuse", "fraud"})
OPT_OUT_TYPES = frozenset({"opt-out", "optout", "unsubscribe"})


def _feedback_report(parts: Parts) -> Message | None:
    """The machine-readable part of an ARF report, parsed as header fields."""
    for part, kind in parts:
        if kind == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list):  # parsed as a message by the email package
                return payload[0] if payload and isinstance(payload[0], Message) else Message()
            data = part.get_payload(decode=True)
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(payload)
            return HeaderParser().parsestr(text.lstrip())
    return None


def _complaint(parts: Parts, feedback: Message, base: Report) -> Report:
    feedback_type = str(feedback.get("Feedback-Type", "abuse")).strip().lower() or "abuse"
    recipients = [
        _clean_address(str(value))
        for name in ("Original-Rcpt-To", "Removal-Recipient")
        for value in feedback.get_all(name, [])
    ]
    returned = _returned_headers(parts)
    if not any(recipients) and returned is not None:
        recipients = [address.lower() for _name, address in getaddresses(returned.get_all("To", []))]
    found = tuple(sorted({r for r in recipients if r and "@" in r}))
    if feedback_type in COMPLAINT_TYPES:
        kind = ReportKind.COMPLAINT
    elif feedback_type in OPT_OUT_TYPES:
        kind = ReportKind.OPT_OUT
    else:
        kind = ReportKind.OTHER_REPORT
    return dataclasses.replace(base, kind=kind, recipients=found, feedback_type=feedback_type[:40])


def _returned_headers(parts: Parts) -> Message | None:
    """The headers of the message a report returns (message/rfc822 or text/rfc822-headers)."""
    for part, kind in parts:
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        elif kind in ("text/rfc822-headers", "text/rfc822-header"):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                return HeaderParser().parsestr(data.decode("utf-8", "replace").lstrip())
    return None


def _legacy_jmrp(parts: Parts) -> str | None:
    """Microsoft's older junk-mail reports (JMRP, not ARF): the returned message carries the
    complaining recipient in X-HmXmrOriginalRecipient."""
    if parts[0][1] == "multipart/report":
        return None  # a DSN returns a message too; JMRP reports are multipart/mixed
    returned = _returned_headers(parts)
    if returned is None:
        return None
    value = returned.get("X-HmXmrOriginalRecipient")
    return _clean_address(str(value)) if value else None


# Auto-replies (RFC 3834 and what mail programs do instead) ----------------------------------------

_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:"
    r"auto(?:matic)?[ -]?(?:reply|response|respons|antwort)|autoreply|autorespon"
    r"|out of (?:the )?office|vacation|on vacation|away from (?:my|the) (?:mail|office)"
    r"|respuesta autom[aá]tica|fuera de la oficina|ausente de la oficina|de vacaciones"
    r"|r[ée]ponse automatique|absence|abwesenheit|risposta automatica|resposta autom[aá]tica"
    r")",
    re.IGNORECASE,
)


def is_auto_reply(msg: Message) -> bool:
    """RFC 3834's Auto-Submitted, the headers other programs use instead, or a vacation subject."""
    submitted = str(msg.get("Auto-Submitted", "")).strip().lower()
    if submitted and not submitted.startswith("no"):
        return True
    if any(msg.get(name) is not None for name in _AUTO_HEADERS):
        return True
    if str(msg.get("Precedence", "")).strip().lower() == "auto_reply":
        return True
    if str(msg.get("X-Apple-Action", "")).strip().upper() == "VACATION":
        return True
    return bool(_AUTO_SUBJECT.match(_subject(msg)))


_MAIL_SYSTEM = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)


def _from_mail_system(msg: Message, parts: Parts) -> bool:
    """A delivery report rather than a person's reply: a multipart/report, or from MAILER-DAEMON
    or postmaster (RFC 3834 replies come from the person's own address)."""
    if parts[0][1] == "multipart/report":
        return True
    return any(_MAIL_SYSTEM.match(address) for address in _senders(msg))


def _subject(msg: Message) -> str:
    raw = msg.get("Subject")
    if raw is None:
        return ""
    try:
        return str(make_header(decode_header(str(raw))))[:300]
    except (email.errors.HeaderParseError, LookupError, UnicodeDecodeError, ValueError):
        return str(raw)[:300]


def _senders(msg: Message) -> tuple[str, ...]:
    return tuple(sorted({a.lower() for _n, a in getaddresses(msg.get_all("From", [])) if "@" in a}))[:5]
