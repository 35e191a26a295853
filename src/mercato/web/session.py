"""The dashboard's sign-in session: the API's own tokens, kept in HttpOnly cookies.

- The access token (the same RS256 JWT the API issues) sits in `mercato_access`,
  HttpOnly and scoped to `/app`, for as long as the token lives.
- The refresh token sits in the API's own refresh cookie (`mercato_refresh`, path
  `/api/v1/auth`), so rotation and reuse detection are exactly the API's.
- `mercato_signed_in` (HttpOnly, `/app`) remembers that a session exists (its id, the
  refresh family), so a page reached after the access token lapsed offers to resume it
  rather than a bare login, and the CSRF token stays bound to that session meanwhile.

The page script refreshes ahead of expiry: it calls `POST /api/v1/auth/refresh` (the
refresh cookie travels by itself) and hands the new access token to
`POST /app/session/access`, which checks it and stores it in the cookie.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import jwt
from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import set_actor
from mercato.kernel.errors import DomainError, Unauthorized
from mercato.kernel.security import Principal, PrincipalKind
from mercato.modules.identity import (
    REFRESH_COOKIE,
    REFRESH_COOKIE_PATH,
    REFRESH_COOKIE_SAMESITE,
    REFRESH_TOKEN_TTL,
    IssuedTokens,
    authenticate,
)
from mercato.settings import get_settings

APP_PATH = "/app"
ACCESS_COOKIE = "mercato_access"
SIGNED_IN_COOKIE = "mercato_signed_in"
TENANT_COOKIE = "mercato_tenant"


class SignInRequired(DomainError):
    """Raised by page dependencies; the dashboard answers it with the login page."""

    status, slug, title = 401, "sign-in-required", "Log in to continue"


def _cookie(
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int,
    path: str,
    samesite: Literal["lax", "strict"] = "lax",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        secure=get_settings().is_production,
        samesite=samesite,
        path=path,
    )


def claimed_session_id(access_token: str) -> str:
    """The `sid` (refresh family) an access token names, read without verifying it: for
    binding, never for trusting (pages authenticate the token themselves)."""
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return ""
    return str(claims.get("sid") or "")


def store_access_token(response: Response, token: str, expires_in: int) -> None:
    _cookie(response, ACCESS_COOKIE, token, max_age=expires_in, path=APP_PATH)


def store_session(response: Response, issued: IssuedTokens) -> None:
    """Cookies for a new sign-in: access token, the API's refresh cookie, the marker."""
    store_access_token(response, issued.access_token, issued.expires_in)
    lifetime = int(REFRESH_TOKEN_TTL.total_seconds())
    _cookie(
        response,
        REFRESH_COOKIE,
        issued.refresh_token,
        max_age=lifetime,
        path=REFRESH_COOKIE_PATH,
        samesite=REFRESH_COOKIE_SAMESITE,
    )
    marker = claimed_session_id(issued.access_token) or "1"
    _cookie(response, SIGNED_IN_COOKIE, marker, max_age=lifetime, path=APP_PATH)


def forget_session(response: Response) -> None:
    for name, path in (
        (ACCESS_COOKIE, APP_PATH),
        (SIGNED_IN_COOKIE, APP_PATH),
        (TENANT_COOKIE, APP_PATH),
        (REFRESH_COOKIE, REFRESH_COOKIE_PATH),
    ):
        response.delete_cookie(name, path=path)


def remember_tenant(response: Response, tenant_id: object) -> None:
    _cookie(response, TENANT_COOKIE, str(tenant_id), max_age=365 * 86400, path=APP_PATH)


def _as_bearer(request: Request, token: str) -> Request:
    """The same request with the token as its bearer credential, for the API's resolver."""
    headers = [
        (name, value)
        for name, value in request.scope["headers"]
        if name not in (b"authorization", b"x-api-key")
    ]
    headers.append((b"authorization", b"Bearer " + token.encode()))
    return Request({**request.scope, "headers": headers})


async def principal_from_token(request: Request, session: AsyncSession, token: str) -> Principal:
    """Resolve an access token exactly as the API does (signature, expiry, deny-list)."""
    principal = await authenticate(_as_bearer(request, token), session)
    if principal.kind is not PrincipalKind.user or principal.user_id is None:
        raise Unauthorized("The dashboard needs a staff user's access token")
    await set_actor(session, principal.user_id)
    return principal


async def signed_in_principal(request: Request, session: AsyncSession) -> Principal:
    """The staff user behind the access cookie, or `SignInRequired`."""
    token = request.cookies.get(ACCESS_COOKIE)
    if not token:
        raise SignInRequired("Your session has ended")
    try:
        return await principal_from_token(request, session, token)
    except Unauthorized as refused:
        raise SignInRequired(refused.detail) from refused


def seconds_left(principal: Principal) -> int:
    if principal.token_expires_at is None:
        return 0
    return max(0, int((principal.token_expires_at - datetime.now(UTC)).total_seconds()))
