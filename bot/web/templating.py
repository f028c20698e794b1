"""Rendering a public page: the Jinja2 environment, the context every page shares, and the headers
every page carries.

Pages hold CSRF tokens and, behind emailed links, a person's preferences, so none is cached, none
sends a Referer (the link's token must not leak to another site), and the Content-Security-Policy
allows no scripts at all: the pages work without JavaScript by design.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot.web.i18n import CATALOGUES, LANGUAGE_NAMES, other_language, texts

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates" / "web"
STATIC_DIR = TEMPLATES_DIR / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


# Templates read texts as `t.key`: plain attributes are Jinja's fastest lookup.
_NAMESPACES = {lang: SimpleNamespace(**catalogue) for lang, catalogue in CATALOGUES.items()}


def _asset_version() -> str:
    """Changes when the stylesheet does, so browsers never keep an old one."""
    return hashlib.sha256((STATIC_DIR / "site.css").read_bytes()).hexdigest()[:10]


class PageRenderer:
    def __init__(self, *, postal_addresses: dict[str, str], directory: Path = TEMPLATES_DIR) -> None:
        # Templates are read once: the service doesn't edit its own pages while running.
        self._env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["breakable_address"] = breakable_address
        self._env.filters["fill"] = fill
        self._postal_addresses = postal_addresses  # by language: the footer's address
        self._common = {"asset_version": _asset_version()}
        self._templates: dict[str, Template] = {}

    def render(
        self,
        request: Request,
        template: str,
        lang: str,
        context: dict[str, Any] | None = None,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        error_values: dict[str, object] | None = None,
    ) -> HTMLResponse:
        """Render `template` in `lang`. `errors` maps field names to message keys, whose
        `{placeholders}` are filled from `error_values` when it is given."""
        catalogue = texts(lang)
        path = local_path(request.scope["path"])
        messages = {name: catalogue[key] for name, key in (errors or {}).items()}
        if error_values:
            messages = {name: message.format(**error_values) for name, message in messages.items()}
        values = {
            **self._common,
            "postal_address": self._postal_addresses[lang],
            "lang": lang,
            "t": _NAMESPACES[lang],
            "other_lang": other_language(lang),
            "language_names": LANGUAGE_NAMES,
            "switch_url": f"{path}?lang={other_language(lang)}",
            "request_path": path,
            "errors": messages,
            "errors_by_field": FieldMap(messages),
            "error_anchors": {"csrf": "submit", "too_many": "submit"},
            "noindex": path != "/",
            **(context or {}),
        }
        compiled = self._templates.get(template)
        if compiled is None:
            compiled = self._templates[template] = self._env.get_template(template)
        body = compiled.render(values)
        return HTMLResponse(body, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def breakable_address(address: str) -> Markup:
    """An email address that wraps where a reader expects: after the @ and before each dot (a
    line-break opportunity, `<wbr>`), not mid-word. A part longer than the line still wraps
    (`overflow-wrap: anywhere` in the stylesheet), rather than run off a phone's screen."""
    escaped = str(escape(address))
    return Markup(escaped.replace("@", "@<wbr>").replace(".", "<wbr>."))  # noqa: S704 (escaped above)


def fill(text: str, **values: object) -> Markup:
    """A text with `{placeholders}`, escaped, filled with `values` (escaped too, unless they are
    markup already, like a `breakable_address`)."""
    return escape(text).format(**values)


# What may stay unencoded in a path we print: RFC 3986's unreserved characters and "/". Everything
# else, a backslash, "?", "#", "%", a tab, is percent-encoded.
_PATH_SAFE = "/-._~"


def local_path(path: str) -> str:
    """A link to `path` on this site, whatever the request held.

    The path of a request is the client's choice (`/%2F%2Fevil.example` arrives as
    `//evil.example`), and a link that starts with two slashes, or a slash and a backslash, leads
    to another host. So the path is percent-encoded again (backslashes, tabs and newlines, which
    browsers treat as slashes or drop, become harmless `%5C`, `%09`, `%0A`) and begins with exactly
    one slash. Every link or redirect built from a request goes through here.
    """
    return "/" + quote(path, safe=_PATH_SAFE).lstrip("/")


class FieldMap(dict[str, Any]):
    """Values or errors by field name, where a field without one reads as None (not undefined)."""

    def __getattr__(self, name: str) -> str | None:
        return self.get(name)
