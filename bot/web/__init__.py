"""The public pages: landing and interest form, confirmation, preferences, unsubscribe."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles

Handler = Callable[[Request], Awaitable[Response]]
log = logging.getLogger(__name__)


def routes() -> list[BaseRoute]:
    from bot.web import pages
    from bot.web.templating import STATIC_DIR

    found: list[BaseRoute] = [
        Route("/", _by_method(pages.landing, pages.submit_signup), methods=["GET", "POST"]),
        Route("/privacy", pages.privacy, methods=["GET"]),
        Route("/check-email", pages.check_email, methods=["GET"]),
        Route(
            "/confirm/{token}", _by_method(pages.confirm_page, pages.submit_confirm), methods=["GET", "POST"]
        ),
        Route(
            "/preferences/{token}",
            _by_method(pages.preferences_page, pages.submit_preferences),
            methods=["GET", "POST"],
        ),
        Route(
            "/email/{token}",
            _by_method(pages.email_change_page, pages.submit_email_change),
            methods=["GET", "POST"],
        ),
        Route(
            "/unsubscribe/{token}",
            _by_method(pages.unsubscribe_page, pages.submit_unsubscribe),
            methods=["GET", "POST"],
        ),
        Route("/test-send/{token}", pages.test_send_link, methods=["GET", "POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    from bot.web import apply  # the application invitation's personal link (campaigns)

    found += apply.routes()
    return found


def _by_method(get: Handler, post: Handler) -> Handler:
    """One route per path for its GET page and its POST: with two routes Starlette would answer a
    wrong method from the first alone, with an Allow header that leaves out POST."""

    async def endpoint(request: Request) -> Response:
        return await (post if request.method == "POST" else get)(request)

    endpoint.__name__ = get.__name__
    return endpoint


async def not_found(request: Request, exc: Exception) -> Response:
    from bot.web.pages import not_found_page

    return _other_slash(request) or not_found_page(request)


def _other_slash(request: Request) -> Response | None:
    """`/privacy/` for `/privacy`, `/staff` for `/staff/`: a redirect to the page the address names
    with or without its trailing slash, when there is one.

    Starlette's own `redirect_slashes` (turned off in `bot.app`) builds an absolute Location from
    the Host header, which the client chooses; this one is a path on our own site (`local_path`).
    """
    from bot.web.templating import local_path

    path = request.scope["path"]
    if request.method not in ("GET", "HEAD") or path == "/":
        return None
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    scope = {**request.scope, "path": other}
    if not any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
        return None
    query = quote(request.scope.get("query_string", b"").decode("latin-1"), safe="=&;+%/?:@!$'()*,-._~")
    return RedirectResponse(local_path(other) + (f"?{query}" if query else ""), status_code=308)


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    from bot.web.pages import method_not_allowed_page

    allowed = (getattr(exc, "headers", None) or {}).get("Allow", "")
    return method_not_allowed_page(request, sorted(m.strip() for m in allowed.split(",") if m.strip()))


async def client_disconnected(request: Request, exc: Exception) -> Response:
    """A client that hung up before sending its whole body, wherever the body was read (a form of
    ours, the console's, Slack's): nobody is left to answer, and it is no error of ours. One line."""
    log.info("%s %s: the client disconnected before sending the whole body", request.method, request.url.path)
    return Response(status_code=400)


async def server_error(request: Request, exc: Exception) -> Response:
    from bot.web.pages import server_error_page

    return server_error_page(request)


def exception_handlers() -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """Friendly 404, 405 and 500 pages for the whole app, and one quiet line for a client that hung
    up mid-request: `Starlette(exception_handlers=...)`."""
    return {404: not_found, 405: method_not_allowed, 500: server_error, ClientDisconnect: client_disconnected}
