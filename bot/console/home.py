"""The console's home page at /staff/.

A placeholder until the dashboard (issue 13, team metrics) replaces it: it says who is signed in
and links to what their role can open.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bot.console.access import render, staff_route
from subscribers.staff_models import StaffRole

MENU = [("Home", "/staff/", StaffRole.VIEWER)]


async def home(request: Request) -> Response:
    return render(request, "home.html")


def routes() -> list[BaseRoute]:
    return [staff_route("/staff/", home, role=StaffRole.VIEWER)]
