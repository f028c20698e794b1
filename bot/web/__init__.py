"""The public pages: landing and interest form, confirmation, preferences, unsubscribe."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles


def routes() -> list[BaseRoute]:
    from bot.web import pages
    from bot.web.templating import STATIC_DIR

    found: list[BaseRoute] = [
        Route("/", pages.landing, methods=["GET"]),
        Route("/", pages.submit_signup, methods=["POST"]),
        Route("/privacy", pages.privacy, methods=["GET"]),
        Route("/confirm/{token}", pages.confirm_page, methods=["GET"]),
        Route("/confirm/{token}", pages.submit_confirm, methods=["POST"]),
        Route("/preferences/{token}", pages.preferences_page, methods=["GET"]),
        Route("/preferences/{token}", pages.submit_preferences, methods=["POST"]),
        Route("/unsubscribe/{token}", pages.unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe/{token}", pages.submit_unsubscribe, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    from bot.web import apply  # the application invitation's personal link (campaigns)

    found += apply.routes()
    return found


async def not_found(request: Request, exc: Exception) -> Response:
    from bot.web.pages import not_found_page

    return not_found_page(request)


async def server_error(request: Request, exc: Exception) -> Response:
    from bot.web.pages import server_error_page

    return server_error_page(request)


def exception_handlers() -> dict[int, object]:
    """Friendly 404 and 500 pages for the whole app: `Starlette(exception_handlers=...)`."""
    return {404: not_found, 500: server_error}
