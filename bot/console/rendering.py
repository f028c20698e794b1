"""Rendering a staff page: templates/staff/, the layout's shared values, and the headers.

Staff pages are English only and server-rendered; the one script they load is htmx, served from
our own static folder (copied from its npm package by scripts/vendor-htmx), which makes progress
and counts live. Everything works without it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot.web.templating import SECURITY_HEADERS, STATIC_DIR, TEMPLATES_DIR, FieldMap
from outreach.timing import la_time

STAFF_TEMPLATES = TEMPLATES_DIR.parent / "staff"

STAFF_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; "
        "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


def _version(*names: str) -> str:
    digest = hashlib.sha256()
    for name in names:
        digest.update((STATIC_DIR / name).read_bytes())
    return digest.hexdigest()[:10]


class StaffRenderer:
    def __init__(self, directory: Path = STAFF_TEMPLATES) -> None:
        self._env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["la_time"] = la_time
        self._common = {"asset_version": _version("site.css", "staff.css", "htmx.min.js")}
        self._templates: dict[str, Template] = {}

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
        errors: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """`errors` maps field names to messages (shown next to each field and in a summary)."""
        messages = dict(errors or {})
        values = {
            **self._common,
            **getattr(request.state, "staff_page", {}),
            "request_path": request.scope["path"],
            "errors": messages,
            "errors_by_field": FieldMap(messages),
            **(context or {}),
        }
        compiled = self._templates.get(template)
        if compiled is None:
            compiled = self._templates[template] = self._env.get_template(template)
        return HTMLResponse(
            compiled.render(values), status_code=status, headers={**STAFF_HEADERS, **(headers or {})}
        )
