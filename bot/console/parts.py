"""What the console's pages share, built once per running app: the page renderer, the CSRF guard,
the sign-in link maker, the sign-in rate limits and (when configured) the single sign-on client."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from itsdangerous import URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from bot.console.rendering import StaffRenderer
from bot.console.sso import StaffSso
from bot.runtime import Runtime
from bot.settings import Settings
from bot.web.csrf import CsrfGuard
from bot.web.ratelimit import RateLimiter
from subscribers.staff_sessions import SESSION_MAX_AGE, SignedIn, SignInLinks, current_session

SESSION_COOKIE = "madeinla_staff"
SECURE_SESSION_COOKIE = "__Host-madeinla_staff"  # the prefix makes browsers insist on Secure, path /
BROWSER_COOKIE = "madeinla_staff_browser"  # binds an emailed sign-in link to the browser that asked
SIGN_INS_PER_CLIENT_PER_MINUTE = 10
SIGN_INS_PER_ADDRESS = 5  # per ADDRESS_WINDOW
ADDRESS_WINDOW_SECONDS = 15 * 60


@dataclass
class ConsoleParts:
    runtime: Runtime
    renderer: StaffRenderer
    csrf: CsrfGuard
    links: SignInLinks
    per_client: RateLimiter
    per_address: RateLimiter
    sso: StaffSso | None
    notices: URLSafeTimedSerializer

    @classmethod
    def of(cls, request: Request) -> ConsoleParts:
        runtime: Runtime = request.app.state.runtime
        parts = runtime.extras.get("console")
        if parts is None:
            settings = runtime.settings
            parts = runtime.extras["console"] = cls(
                runtime=runtime,
                renderer=StaffRenderer(),
                csrf=CsrfGuard(settings.secret(), secure_cookie=_https(settings)),
                links=SignInLinks(settings.secret()),
                per_client=RateLimiter(SIGN_INS_PER_CLIENT_PER_MINUTE),
                per_address=RateLimiter(SIGN_INS_PER_ADDRESS, window_seconds=ADDRESS_WINDOW_SECONDS),
                sso=StaffSso(settings) if settings.staff_sso_enabled else None,
                notices=URLSafeTimedSerializer(settings.secret(), salt="madeinla.staff-notice"),
            )
        return parts  # type: ignore[return-value]  # extras holds objects; this key holds ConsoleParts

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def secure(self) -> bool:
        return _https(self.settings)

    @property
    def session_cookie(self) -> str:
        return SECURE_SESSION_COOKIE if self.secure else SESSION_COOKIE

    async def signed_in(self, request: Request) -> SignedIn | None:
        key = request.cookies.get(self.session_cookie, "")
        idle = dt.timedelta(minutes=self.settings.staff_session_idle_minutes)
        return await current_session(key, idle=idle)

    def set_session_cookie(self, response: Response, key: str) -> None:
        response.set_cookie(
            self.session_cookie,
            key,
            max_age=int(SESSION_MAX_AGE.total_seconds()),
            httponly=True,
            secure=self.secure,
            samesite="lax",
            path="/",
        )

    def clear_session_cookie(self, response: Response) -> None:
        response.delete_cookie(
            self.session_cookie, path="/", secure=self.secure, httponly=True, samesite="lax"
        )


def _https(settings: Settings) -> bool:
    return settings.public_base_url.startswith("https://")
