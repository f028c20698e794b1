"""The public pages: landing and interest form, confirmation, preferences, unsubscribe."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    return []
