"""Single sign-on with OpenID Connect (for the County: Microsoft Entra ID), through Authlib.

Authlib does the protocol: discovery, the authorization URL with PKCE and a nonce, the code
exchange, and checking the ID token's signature (the provider's published keys), issuer,
audience, expiry and nonce. What stays here is what Authlib's Starlette helper keeps in a server
session, which we don't have before sign-in: the state, nonce and PKCE verifier travel in a
signed, short-lived, HttpOnly cookie of the browser that started, so a callback in any other
browser (or a replayed one) fails.

A person signs in only with a verified address (`email_verified`, or Entra ID's `xms_edov`) that
is an active staff account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.settings import Settings

log = logging.getLogger(__name__)

STATE_COOKIE = "madeinla_staff_sso"
STATE_MAX_AGE_SECONDS = 600


class SsoError(Exception):
    """Single sign-on did not give us a usable identity; the message is fit to show."""


@dataclass(frozen=True, slots=True)
class Identity:
    email: str
    subject: str


class StaffSso:
    def __init__(self, settings: Settings) -> None:
        from authlib.integrations.starlette_client import OAuth

        self.redirect_uri = f"{settings.public_base_url}/staff/sso/callback"
        self._state = URLSafeTimedSerializer(settings.secret(), salt="madeinla.staff-sso")
        self._client: Any = OAuth().register(
            "staff",
            client_id=settings.staff_oidc_client_id,
            client_secret=settings.staff_oidc_client_secret.get_secret_value() or None,
            server_metadata_url=f"{settings.staff_oidc_issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "timeout": 10},
        )

    async def begin(self) -> tuple[str, str]:
        """The provider's sign-in address, and the value for STATE_COOKIE."""
        try:
            started = await self._client.create_authorization_url(self.redirect_uri)
        except Exception as exc:
            log.warning("single sign-on: the identity provider could not be reached: %s", type(exc).__name__)
            raise SsoError(
                "The County sign-in service could not be reached. Try again, or sign in by email."
            ) from None
        cookie = self._state.dumps(
            {"state": started["state"], "nonce": started["nonce"], "verifier": started["code_verifier"]}
        )
        return str(started["url"]), str(cookie)

    async def finish(self, query: dict[str, str], cookie: str) -> Identity:
        """Check the provider's answer and return the verified identity."""
        if query.get("error"):
            raise SsoError("The County sign-in service did not sign you in. Try again, or sign in by email.")
        try:
            saved = self._state.loads(cookie, max_age=STATE_MAX_AGE_SECONDS) if cookie else None
        except BadSignature:
            saved = None
        if not isinstance(saved, dict) or not query.get("state") or query.get("state") != saved.get("state"):
            raise SsoError("This sign-in did not start in this browser, or took too long. Start again.")
        code = query.get("code", "")
        if not code or len(code) > 2000:
            raise SsoError("The County sign-in service sent an answer we can't use. Start again.")
        try:
            token = await self._client.fetch_access_token(
                redirect_uri=self.redirect_uri, code=code, code_verifier=saved["verifier"]
            )
            claims = await self._client.parse_id_token(token, nonce=saved["nonce"])
            if claims is not None and not claims.get("email"):
                # Providers that follow the spec strictly put the email in UserInfo, not the ID
                # token, when an access token is issued. The subject must be the same person.
                info = await self._client.userinfo(token=token)
                if info.get("sub") == claims.get("sub"):
                    claims = {**info, **{k: v for k, v in claims.items() if v is not None}}
        except Exception as exc:  # Authlib's OAuthError, joserfc's claim errors, network errors
            log.warning("single sign-on: the answer was refused: %s: %s", type(exc).__name__, exc)
            raise SsoError("The County sign-in service's answer could not be checked. Start again.") from None
        if claims is None:
            raise SsoError("The County sign-in service sent no identity. Start again.")
        email = str(claims.get("email") or "")
        verified = claims.get("email_verified") is True or claims.get("xms_edov") is True
        if not email or not verified:
            raise SsoError(
                "Your County account did not give a verified email address, so we can't tell which "
                "staff account is yours. Sign in by email instead."
            )
        return Identity(email=email, subject=str(claims.get("sub", "")))
