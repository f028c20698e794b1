"""What arrives at `/slack/events`, checked before anything reads it.

In this order: the signature over the raw bytes (401), a signature seen before (401, see
`bot.slack.replay`), then the body's shape (400). Only a signed, first-time, well-formed body
reaches Bolt, whose request parser and matchers index payloads without checking them
(`body["view"]["type"]`, `len(body["authorizations"])`): a `payload=[1]` or a view without a
type would otherwise raise inside Bolt, and even inside Bolt's own error handler, and become a 500.

The shape check covers what Bolt's extractors and our listeners dereference, not Slack's whole
schema: a field we never read may hold anything.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.signature import Clock, SignatureVerifier

# Slack refuses requests older than this itself, and says receivers should too.
MAX_AGE_SECONDS = 5 * 60


@dataclass(frozen=True, slots=True)
class Signed:
    """A request whose signature matched: the signature and its timestamp (for the replay check)."""

    signature: str
    timestamp: int


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: Callable[[], float]) -> Signed | None:
    """The request's signature and timestamp when Slack signed these exact bytes lately, else None.

    Slack always sends whole seconds and a `v0=` hex signature; anything else is refused here,
    before slack_sdk's `int()` or `hmac.compare_digest` (which raises on non-ASCII text) sees it.
    """
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return None
    if not (signature.isascii() and signature.startswith("v0=") and len(signature) <= 100):
        return None
    verifier = SignatureVerifier(secret, clock=_Clock(now))
    # slack_sdk decodes bytes as strict UTF-8; bytes that aren't become U+FFFD and fail the check.
    text = body.decode("utf-8", errors="replace")
    if not verifier.is_valid(body=text, timestamp=timestamp, signature=signature):
        return None
    return Signed(signature=signature, timestamp=int(timestamp))


def is_ssl_check(body: bytes) -> bool:
    """Slack's certificate check for a slash command's URL (unsigned; it runs nothing)."""
    return urllib.parse.parse_qs(body.decode("utf-8", errors="replace")).get("ssl_check") == ["1"]


class MalformedPayload(ValueError):
    """A signed body we can't read; the message names the problem (never a value from the body)."""


def read_payload(text: str, content_type: str) -> dict[str, Any]:
    """The body as Bolt will read it (JSON or `payload=` JSON), checked for shape; a slash
    command's form (the common case, and always well formed) is left to Bolt: `{}`."""
    if content_type.split(";")[0].strip() == "application/json" or text.startswith("{"):
        payload = _json_object(text, "the body")
    elif "payload" not in text:
        return {}  # a slash command: a form, whose values are all strings (Bolt reads it itself)
    else:
        fields = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
        if "payload" not in fields:
            return fields
        payload = _json_object(fields["payload"], "payload=")
    problem = payload_problem(payload)
    if problem:
        raise MalformedPayload(problem)
    return payload


def _json_object(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise MalformedPayload(f"{where} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where} is not a JSON object")
    return value


_Check = Callable[[Any], bool]


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _optional(check: _Check) -> _Check:
    return lambda value: value is None or check(value)


def _object(**fields: _Check) -> _Check:
    """A dict whose listed fields, when present, pass their checks."""
    return lambda value: (
        isinstance(value, dict)
        and all(name not in value or check(value[name]) for name, check in fields.items())
    )


def _list_of(check: _Check) -> _Check:
    return lambda value: isinstance(value, list) and all(check(item) for item in value)


def _id_or_object(value: Any) -> bool:
    return value is None or isinstance(value, str) or _object(id=_optional(_text))(value)


def _with_ids(**more: _Check) -> _Check:
    """An object whose team, enterprise, user and channel are ids or `{"id": ...}` objects."""
    return _object(
        team=_id_or_object, enterprise=_id_or_object, user=_id_or_object, channel=_id_or_object, **more
    )


_MESSAGE = _optional(_with_ids(thread_ts=_optional(_text)))
_ANSWER = _object(value=_optional(_text), selected_option=_optional(_object(value=_optional(_text))))
_STATE = _object(
    values=lambda values: (
        isinstance(values, dict)
        and all(
            isinstance(block, dict) and all(_ANSWER(answer) for answer in block.values())
            for block in values.values()
        )
    )
)

# field -> check, for every payload that has the field.
_FIELDS: dict[str, _Check] = {
    "type": _text,
    "team": _id_or_object,
    "enterprise": _id_or_object,
    "user": _id_or_object,
    "channel": _id_or_object,
    "authorizations": _list_of(_with_ids()),
    "response_url": _text,
    "message": _MESSAGE,
    "previous_message": _MESSAGE,
    "view": _object(
        type=_text, callback_id=_text, private_metadata=_optional(_text), state=_optional(_STATE)
    ),
    "actions": _list_of(_object(action_id=_text, block_id=_optional(_text))),
    "event": _with_ids(
        type=_text,
        tab=_optional(_text),
        message=_MESSAGE,
        previous_message=_MESSAGE,
        item=_optional(_with_ids()),
        assistant_thread=_optional(_with_ids()),
    ),
    "function_data": _object(),
    "workflow_step": _object(),
    "assistant_thread": _optional(_with_ids()),
}

# type -> fields it must have (Bolt reads them with [] once it knows the type).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "view_submission": ("view",),
    "view_closed": ("view",),
    "block_actions": ("actions",),
    "block_suggestion": ("action_id", "value"),
    "event_callback": ("event",),
    "shortcut": ("callback_id",),
    "message_action": ("callback_id",),
}


def payload_problem(payload: Mapping[str, Any]) -> str:
    """What is wrong with a JSON payload's shape, or "" when Bolt and our listeners can read it."""
    for name, check in _FIELDS.items():
        if name in payload and not check(payload[name]):
            return f"`{name}` has the wrong shape"
    kind = payload.get("type")
    for name in _REQUIRED.get(kind, ()) if isinstance(kind, str) else ():
        if name not in payload:
            return f"a {kind} without `{name}`"
        if name in ("action_id", "value", "callback_id") and not isinstance(payload[name], str):
            return f"`{name}` is not text"
    if "view" in payload and "type" not in payload["view"]:
        return "a view without a type"
    if "event" in payload and "type" not in payload["event"]:
        return "an event without a type"
    return ""
