"""Logging set-up. Our log lines name deliveries and subscribers by id, never by address.

A safety net catches what other code logs: mail libraries like to log recipients, and a database
error quotes the row it refused (PostgreSQL's `Key (email)=(ana@example.com) already exists`,
`Failing row contains (7, ana@example.com, Ana López, ...)`), in the message and in the traceback.
The net is the log record factory, so it holds for every logger and every handler, uvicorn's own
included (they don't pass through ours): each record's message, traceback and stack are redacted
once, when it is made.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# PostgreSQL's DETAIL lines quote column values: keep the column names, drop the values.
_KEY_VALUES = re.compile(
    r"(Key \([^)\n]*\)=)\([^\n]*?\)(?=( already exists| is not present| is still referenced|\.?$))",
    re.MULTILINE,
)
_KEY_VALUES_REST = re.compile(r"(Key \([^)\n]*\)=)\((?!…\))[^\n]*")
_FAILING_ROW = re.compile(r"(Failing row contains )\([^\n]*")
_FORMATTER = logging.Formatter()


def redact(text: str) -> str:
    """`text` without email addresses or the row values a database error quotes."""
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    if "Key (" in text:
        text = _KEY_VALUES_REST.sub(r"\1(…)", _KEY_VALUES.sub(r"\1(…)", text))
    if "Failing row contains" in text:
        text = _FAILING_ROW.sub(r"\1(…)", text)
    return text


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it itself when the record is written
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        # Formatters use exc_text when it is set, so the traceback is redacted for all of them.
        record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_redaction() -> None:
    """Make every log record of this process redacted (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _redact_record(record)
        return record

    redacting: Callable[..., logging.LogRecord] = factory
    redacting.redacting = True  # type: ignore[attr-defined]  # a mark on the function: installed once
    logging.setLogRecordFactory(redacting)


def configure_logging(level: str) -> None:
    install_redaction()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiosmtplib", "tortoise", "apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
