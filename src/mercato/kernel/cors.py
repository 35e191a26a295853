"""CORS with three policies chosen by the request's origin.

Storefront pages call the API from other origins with publishable keys, never with
cookies: for them browsers are not allowed to send credentials or read credentialed
answers. Only origins an operator lists for the dashboard
(`MERCATO_CORS_CREDENTIALED_ORIGINS`) may, so a storefront page, or a script injected
into one, cannot use a staff member's refresh cookie to mint tokens.

Origins come from two places:

- the deployment (`MERCATO_CORS_ORIGINS`), for every path;
- the tenant, per request: a publishable key lists the origins it may be used from, and
  whoever owns keys installs a check with `allow_key_origins_with` (the kernel knows no
  keys). A preflight carries no key, so the check answers it for the tenant in the path;
  an actual request is answered for its own key. Such answers never allow credentials.

An origin nobody allows gets no CORS headers at all, so the browser refuses the answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXPOSED_HEADERS = (
    "X-Request-ID",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)
ALLOWED_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
PREFLIGHT_MAX_AGE_S = 600

KeyOriginCheck = Callable[[Scope, str, bool], Awaitable[bool]]
"""`(scope, origin, preflight)` → whether a credential-less call from `origin` is allowed:
for a preflight, to the request's path; for an actual request, with its credential."""

_key_origins: list[KeyOriginCheck] = []


def allow_key_origins_with(check: KeyOriginCheck) -> None:
    """Install the per-request origin check of API keys (replacing any earlier one)."""
    _key_origins[:] = [check]


def _is_preflight(scope: Scope, headers: Headers) -> bool:
    return scope["method"] == "OPTIONS" and "access-control-request-method" in headers


def _varying(send: Send) -> Send:
    """`send` marking the answer as depending on `Origin` (the answer of a listed origin
    carries CORS headers; caches must not hand this one to it)."""

    async def send_varying(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).add_vary_header("Origin")
        await send(message)

    return send_varying


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
        self.listed = frozenset(origins)
        self.configured = bool(origins or credentialed_origins)
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
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
        elif origin in self.credentialed:
            await self.with_credentials(scope, receive, send)
        elif origin in self.listed or "*" in self.listed:
            await self.without_credentials(scope, receive, send)
        elif await self._key_allows(scope, headers, origin):
            await self._answer_for_key(scope, receive, send, headers, origin)
        elif self.configured:
            # Refused the way the deployment's policy refuses: no CORS headers.
            await self.without_credentials(scope, receive, _varying(send))
        else:
            await self.app(scope, receive, _varying(send))

    @staticmethod
    async def _key_allows(scope: Scope, headers: Headers, origin: str) -> bool:
        return bool(_key_origins) and await _key_origins[0](
            scope, origin, _is_preflight(scope, headers)
        )

    async def _answer_for_key(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, origin: str
    ) -> None:
        if _is_preflight(scope, headers):
            allowed = {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
                "Vary": "Origin",
            }
            requested = headers.get("access-control-request-headers")
            if requested:
                allowed["Access-Control-Allow-Headers"] = requested
            await PlainTextResponse("OK", headers=allowed)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                answer["Access-Control-Allow-Origin"] = origin
                answer["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
                answer.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)
