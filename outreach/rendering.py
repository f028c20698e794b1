"""Email templates: `templates/email/<name>/<language>/{subject.txt, body.txt, body.html}`.

Templates are written by staff, so they render in Jinja2's immutable sandbox with limits on loops,
time and text size (`outreach.sandbox.LimitedSandbox`). HTML autoescapes, which is what
keeps a subscriber's name (they typed it into a public form) from breaking out of its place; the
plain-text part needs no escaping and the subject is folded to one line. Missing values fail loudly
(StrictUndefined) instead of sending "Dear ," to thousands of people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound

from outreach.sandbox import LimitedSandbox, TemplateLimitError

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
EMAIL_TEMPLATES_DIR = TEMPLATES_DIR / "email"
DEFAULT_LANGUAGE = "en"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class TemplateError(Exception):
    """A template is missing or doesn't render; the message says which and why."""


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def one_line(value: str) -> str:
    """Fold any control characters (CR/LF above all) into spaces: header-safe text."""
    if value.isprintable() and "  " not in value and value == value.strip():
        return value  # the usual, already clean value: no regular expression (the sender calls this a lot)
    return " ".join(_CONTROL.sub(" ", value).split())


# Emails the service sends by itself, each with the links and values of its own occasion; a campaign
# can't fill them in, so they are never offered as campaign templates.
SERVICE_TEMPLATES = frozenset(
    {
        "confirm",
        "already_subscribed",
        "email_change",
        "email_changed",
        "staff_sign_in",
        "staff_digest",
        "application",
    }
)


class EmailTemplates:
    def __init__(self, directory: Path = EMAIL_TEMPLATES_DIR) -> None:
        self.directory = directory
        loader = FileSystemLoader(directory)
        common = {"loader": loader, "undefined": StrictUndefined, "keep_trailing_newline": True}
        self._html = LimitedSandbox(autoescape=True, **common)
        self._text = LimitedSandbox(autoescape=False, trim_blocks=True, lstrip_blocks=True, **common)

    def names(self) -> list[str]:
        return sorted(p.name for p in self.directory.iterdir() if p.is_dir() and not p.name.startswith("_"))

    def campaign_names(self) -> list[str]:
        """The templates staff may send as campaigns: all but the service's own emails."""
        return [name for name in self.names() if name not in SERVICE_TEMPLATES]

    def languages(self, name: str) -> list[str]:
        folder = self.directory / name
        return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    def resolve_language(self, name: str, language: str) -> str:
        available = self.languages(name)
        if not available:
            raise TemplateError(
                f"there is no email template called {name!r} (have: {', '.join(self.names())})"
            )
        return (
            language
            if language in available
            else DEFAULT_LANGUAGE
            if DEFAULT_LANGUAGE in available
            else available[0]
        )

    def render(self, name: str, language: str, context: dict[str, Any]) -> RenderedEmail:
        lang = self.resolve_language(name, language)
        base = f"{name}/{lang}"
        try:
            part = "subject.txt"
            subject = self._text.render_limited(self._text.get_template(f"{base}/{part}"), context)
            part = "body.txt"
            text = self._text.render_limited(self._text.get_template(f"{base}/{part}"), context)
            part = "body.html"
            html = self._html.render_limited(self._html.get_template(f"{base}/{part}"), context)
        except TemplateNotFound as exc:
            raise TemplateError(f"template {base} is missing {exc.name}") from None
        except TemplateLimitError as exc:
            raise TemplateError(f"template {base}/{part} asks too much: {exc}") from None
        except Exception as exc:  # any Jinja error (syntax, undefined, sandbox) is a template problem
            raise TemplateError(f"template {base} does not render: {type(exc).__name__}: {exc}") from None
        return RenderedEmail(subject=one_line(subject), text=text.strip() + "\n", html=html)
