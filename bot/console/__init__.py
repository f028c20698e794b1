"""The staff console at /staff/: sign-in, roles, and the pages DEO staff run the outreach from.

Each page module has a `routes()` list made with `bot.console.access.staff_route` (which names the
least role for each route) and may have a `MENU` of (label, path, role) entries for the layout's
menu. Add a module to PAGE_MODULES to put its pages in the app.
"""

from __future__ import annotations

import importlib

from starlette.routing import BaseRoute

from subscribers.staff_models import StaffRole

PAGE_MODULES = [
    "bot.console.signin",
    "bot.console.home",  # the dashboard (team metrics replaces the placeholder)
    "bot.console.people",
    "bot.console.composing",  # before campaigns: its /{verb} route would catch submit and approve
    "bot.console.applications",
    "bot.console.campaigns",
    "bot.console.audit",
    "bot.console.staff_pages",
]


def routes() -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for name in PAGE_MODULES:
        found += importlib.import_module(name).routes()
    return found


def navigation(role: StaffRole) -> list[tuple[str, str]]:
    """The menu for someone with `role`: every page module's MENU entries they may open."""
    entries: list[tuple[str, str]] = []
    for name in PAGE_MODULES:
        for label, path, needed in getattr(importlib.import_module(name), "MENU", ()):
            if role.includes(needed):
                entries.append((label, path))
    return entries
