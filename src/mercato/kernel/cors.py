"""CORS with two policies chosen by the request's origin.

Storefront pages call the API from other origins with publishable keys, never with
cookies: for them (`MERCATO_CORS_ORIGINS`) browsers are not allowed to send credentials
or read credentialed answers. Only origins an operator lists for the dashboard
(`MERCATO_CORS_CREDENTIALED_ORIGINS`) may, so a storefront page, or a script injected
into one, cannot use a staff member's refresh cookie to mint tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

EXPOSED_HEADERS = (
    "X-Request-ID",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)


class SplitCORSMiddleware:
    """Credentialed CORS for the dashboard's origins, credential-less CORS for the rest."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        origins: Sequence[str],
        credentialed_origins: Sequence[str],
    ) -> None:
        self.app = app
        self.credentialed = frozenset(credentialed_origins)
        self.with_credentials = self._policy(app, credentialed_origins, credentials=True)
        self.without_credentials = self._policy(app, origins, credentials=False)

    @staticmethod
    def _policy(app: ASGIApp, origins: Sequence[str], *, credentials: bool) -> CORSMiddleware:
        return CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_credentials=credentials,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=list(EXPOSED_HEADERS),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        policy = self.with_credentials if origin in self.credentialed else self.without_credentials
        await policy(scope, receive, send)
