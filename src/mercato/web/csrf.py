"""CSRF protection for every state-changing dashboard request: a signed double-submit token.

The token is a random nonce plus an HMAC, under the server secret, of the nonce and the
sign-in session it was issued to (the refresh family named by the access token's `sid`;
"" before sign-in). It lives in an HttpOnly, SameSite=Strict cookie scoped to `/app`, and
every page repeats it in a hidden form field and in the `X-CSRF-Token` header htmx sends.
A POST is accepted only when the submitted token equals the cookie and its signature holds
for the browser's current session: another site can make the browser send the cookie but
cannot read it to repeat it, nor mint a token of its own; and a token obtained in one
session (say, an attacker's own, planted with its cookie from a sibling subdomain) is
worthless in another. A new sign-in gets a new token with its first page.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import uuid

from fastapi import Request, Response

from mercato.kernel.crypto import keyed_hash
from mercato.kernel.errors import Forbidden
from mercato.settings import get_settings
from mercato.web.session import ACCESS_COOKIE, SIGNED_IN_COOKIE, claimed_session_id

CSRF_COOKIE = "mercato_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
CSRF_PURPOSE = "dashboard-csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
COOKIE_PATH = "/app"


class CsrfRefused(Forbidden):
    slug, title = "csrf-failed", "The form has expired; reload the page and try again"


def _signature(nonce: str, session: str) -> str:
    digest = keyed_hash(f"{session}.{nonce}", purpose=CSRF_PURPOSE)
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def session_binding(request: Request) -> str:
    """The sign-in session a token belongs to: the access cookie's `sid`, or the session
    marker once the access cookie has lapsed (the page is about to resume it); "" for a
    browser that is not signed in.

    The access token is not verified here: a forged one fails the page's own
    authentication, which every state-changing dashboard route performs.
    """
    token = request.cookies.get(ACCESS_COOKIE)
    if token:
        return claimed_session_id(token)
    marker = request.cookies.get(SIGNED_IN_COOKIE, "")
    try:
        return str(uuid.UUID(marker))
    except ValueError:
        return ""


def new_token(session: str) -> str:
    nonce = secrets.token_urlsafe(32)
    return f"{nonce}.{_signature(nonce, session)}"


def is_genuine(token: str | None, session: str) -> bool:
    """The token was minted by this server for this sign-in session."""
    if not token or len(token) > 200 or "." not in token:
        return False
    nonce, _, signature = token.partition(".")
    return hmac.compare_digest(signature, _signature(nonce, session))


def csrf_token(request: Request) -> str:
    """The request's token: the cookie's if genuine, else a new one set on the response."""
    cached = getattr(request.state, "csrf_token", None)
    if isinstance(cached, str):
        return cached
    existing = request.cookies.get(CSRF_COOKIE)
    session = session_binding(request)
    token = existing if existing and is_genuine(existing, session) else new_token(session)
    request.state.csrf_token = token
    request.state.csrf_is_new = token != existing
    return token


def remember_csrf_token(request: Request, response: Response) -> None:
    """Set the cookie when this request minted the token."""
    if getattr(request.state, "csrf_is_new", False):
        response.set_cookie(
            CSRF_COOKIE,
            request.state.csrf_token,
            httponly=True,
            secure=get_settings().is_production,
            samesite="strict",
            path=COOKIE_PATH,
        )


async def check_csrf(request: Request) -> None:
    """Router dependency: refuse an unsafe request whose token is missing or wrong (403)."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if (
        not cookie
        or not sent
        or not hmac.compare_digest(cookie, sent)
        or not is_genuine(sent, session_binding(request))
    ):
        raise CsrfRefused("The request did not carry this browser's CSRF token")
