"""Link a tenant to a Google account (OAuth 2.0 Authorization Code + PKCE), and unlink it.

The merchant's browser goes to Google's consent page with a `state` naming the tenant and
a single-use nonce; the nonce's Redis entry (ten minutes) binds it to the staff user who
started and holds the PKCE verifier. Google sends the browser back to the callback with a
code, which is exchanged (with the verifier) for an access token and a refresh token. Both
are sealed with the server secret before they touch the database; neither is ever logged.

The callback is public (Google redirects a browser to it), so the state alone would let
anyone who lures a merchant through a consent URL they started land that merchant's grant
in their own tenant. The start therefore also hands the starting browser a random value in
an HttpOnly cookie scoped to the callback path; the state remembers only its hash, and the
callback refuses a browser that does not present it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from mercato.kernel import egress
from mercato.kernel.crypto import seal, unseal
from mercato.kernel.db import set_tenant
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict, DomainError, ValidationFailed, field_error
from mercato.kernel.logging import get_logger
from mercato.kernel.redis import get_redis, tenant_key
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.channels.models import GoogleOAuthLink
from mercato.settings import Settings, get_settings

MERCHANT_SCOPE = "https://www.googleapis.com/auth/content"
BUSINESS_SCOPE = "https://www.googleapis.com/auth/business.manage"
SCOPES = ("openid", "email", MERCHANT_SCOPE, BUSINESS_SCOPE)
STATE_TTL_S = 600
TOKEN_PURPOSE = "google-oauth-token"  # noqa: S105 - a key-derivation label, not a secret
HTTP_TIMEOUT_S = 15.0
CALLBACK_PATH = "/api/v1/google/oauth/callback"
RETURN_TO_PREFIX = "/app/"
BROWSER_COOKIE = "mercato_google_link"

log = get_logger("mercato.channels.google_oauth")


class GoogleNotConfigured(DomainError):
    status, slug, title = 409, "google-not-configured", "Google is not configured"


class GoogleNotLinked(Conflict):
    slug, title = "google-not-linked", "No Google account is linked"


class GoogleLinkRevoked(Conflict):
    slug, title = "google-link-revoked", "The Google link was revoked; link again"


class GoogleOAuthFailed(DomainError):
    status, slug, title = 400, "google-oauth-failed", "Linking the Google account failed"


class GoogleUnavailable(DomainError):
    status, slug, title = 503, "google-unavailable", "Google did not answer"


@dataclass(frozen=True, slots=True)
class LinkStart:
    authorization_url: str
    browser_binding: str  # for `remember_browser` on the response to the starting browser


@dataclass(frozen=True, slots=True)
class LinkedAccount:
    tenant_id: uuid.UUID
    google_email: str | None
    scopes: list[str]
    return_to: str | None


def google_settings() -> Settings:
    """Settings with an OAuth client configured, else `GoogleNotConfigured` (409)."""
    settings = get_settings()
    if not (settings.google_client_id and settings.google_client_secret):
        raise GoogleNotConfigured(
            "Set MERCATO_GOOGLE_CLIENT_ID and MERCATO_GOOGLE_CLIENT_SECRET to link Google accounts"
        )
    return settings


def redirect_uri(settings: Settings) -> str:
    return settings.google_redirect_uri or settings.public_url.rstrip("/") + CALLBACK_PATH


def client_credentials(settings: Settings) -> dict[str, str]:
    assert settings.google_client_id
    assert settings.google_client_secret
    return {
        "client_id": settings.google_client_id,
        "client_secret": settings.google_client_secret.get_secret_value(),
    }


def _state_key(tenant_id: uuid.UUID, nonce: str) -> str:
    return tenant_key(tenant_id, "google-oauth-state", nonce)


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _checked_return_to(return_to: str | None) -> str | None:
    """Only a path of our own dashboard: the callback must never redirect elsewhere."""
    if return_to is None:
        return None
    if not return_to.startswith(RETURN_TO_PREFIX) or "//" in return_to or "\\" in return_to:
        message = f"return_to must be a dashboard path starting with {RETURN_TO_PREFIX}"
        raise ValidationFailed(message, errors=[field_error("return_to", message)])
    return return_to


async def start_link(principal: TenantPrincipal, return_to: str | None = None) -> LinkStart:
    """The Google consent URL for this tenant, staff user and browser; valid ten minutes.

    Step-up: the link gives Mercato (and so this tenant) access to a Google account.
    """
    principal.require_recent_auth()
    settings = google_settings()
    nonce = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)
    binding = secrets.token_urlsafe(32)
    remembered = {
        "actor": principal.actor,
        "verifier": verifier,
        "return_to": _checked_return_to(return_to),
        "browser": _digest(binding),
    }
    await get_redis().set(
        _state_key(principal.tenant_id, nonce), json.dumps(remembered), ex=STATE_TTL_S
    )
    query = {
        "response_type": "code",
        "client_id": settings.google_client_id,
        "redirect_uri": redirect_uri(settings),
        "scope": " ".join(SCOPES),
        "state": f"{principal.tenant_id}.{nonce}",
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
        "access_type": "offline",  # a refresh token, so jobs run while nobody is logged in
        "prompt": "consent",
        "include_granted_scopes": "true",
    }
    return LinkStart(f"{settings.google_oauth_authorize_url}?{urlencode(query)}", binding)


def _digest(binding: str) -> str:
    return hashlib.sha256(binding.encode()).hexdigest()


def remember_browser(response: Response, binding: str) -> None:
    """Give the starting browser the cookie the callback asks for (Lax: Google's redirect
    back is a top-level navigation, which carries it)."""
    response.set_cookie(
        BROWSER_COOKIE,
        binding,
        max_age=STATE_TTL_S,
        httponly=True,
        secure=get_settings().is_production,
        samesite="lax",
        path=CALLBACK_PATH,
    )


def forget_browser(response: Response) -> None:
    response.delete_cookie(BROWSER_COOKIE, path=CALLBACK_PATH)


async def _claim_state(state: str) -> tuple[uuid.UUID, dict[str, Any]]:
    tenant_part, _, nonce = state.partition(".")
    try:
        tenant_id = uuid.UUID(tenant_part)
    except ValueError:
        raise GoogleOAuthFailed("The state parameter is not one Mercato issued") from None
    saved = await get_redis().getdel(_state_key(tenant_id, nonce)) if nonce else None
    if saved is None:
        raise GoogleOAuthFailed("The link request is unknown, used or expired; start again")
    remembered: dict[str, Any] = json.loads(saved)
    return tenant_id, remembered


async def complete_link(
    session: AsyncSession,
    *,
    state: str,
    code: str | None,
    error: str | None,
    browser: str | None,
    meta: RequestMeta,
) -> LinkedAccount:
    """Exchange Google's code for tokens and store them sealed; the state is single-use.

    `browser` is the cookie `remember_browser` set: a state is honoured only in the
    browser that started it (a state claimed by another browser is spent all the same).
    """
    settings = google_settings()
    tenant_id, remembered = await _claim_state(state)
    expected = str(remembered.get("browser", ""))
    if not browser or not expected or not hmac.compare_digest(_digest(browser), expected):
        raise GoogleOAuthFailed(
            "This link was started in another browser; start it again from the dashboard"
        )
    if error or not code:
        raise GoogleOAuthFailed(f"Google did not grant access ({error or 'no code'})")
    tokens = await token_request(
        settings,
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": remembered["verifier"],
            "redirect_uri": redirect_uri(settings),
        },
    )
    refresh_token = tokens.get("refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise GoogleOAuthFailed("Google returned no refresh token, so jobs could not run later")
    await set_tenant(session, tenant_id)
    link = await session.get(GoogleOAuthLink, tenant_id, with_for_update=True)
    if link is None:
        link = GoogleOAuthLink(tenant_id=tenant_id)
        session.add(link)
    apply_access_token(link, tokens)
    link.refresh_token_sealed = seal(refresh_token.encode(), purpose=TOKEN_PURPOSE)
    link.scopes = sorted(str(tokens.get("scope", "")).split())
    link.google_email = _email(tokens.get("id_token"))
    link.status = "active"
    link.last_error = None
    link.linked_by = str(remembered["actor"])
    link.linked_at = datetime.now(UTC)
    await session.flush()
    await record_audit(
        session,
        tenant_id=tenant_id,
        actor=link.linked_by,
        action="google.linked",
        target="google:oauth",
        changes={"google_email": {"from": None, "to": link.google_email}},
        meta=meta,
    )
    return LinkedAccount(tenant_id, link.google_email, link.scopes, remembered.get("return_to"))


def apply_access_token(link: GoogleOAuthLink, tokens: dict[str, Any]) -> None:
    """Seal a token answer's access token and note when it expires."""
    access_token = tokens.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise GoogleOAuthFailed("Google's token answer has no access token")
    expires_in = int(tokens.get("expires_in") or 3600)
    link.access_token_sealed = seal(access_token.encode(), purpose=TOKEN_PURPOSE)
    link.access_token_expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)


def _email(id_token: object) -> str | None:
    """The account's address, for display. The ID token came straight from Google's token
    endpoint over TLS, which OpenID Connect accepts in place of checking its signature."""
    if not isinstance(id_token, str):
        return None
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    email = claims.get("email")
    return str(email) if email else None


async def token_request(settings: Settings, form: dict[str, str]) -> dict[str, Any]:
    """POST to Google's token endpoint; 4xx → `GoogleOAuthFailed`, 5xx/network → unavailable.

    What Google says about a refusal goes to the log; the error names only the status.
    """
    try:
        async with egress.http_client(timeout_s=HTTP_TIMEOUT_S) as http:
            response = await http.post(
                settings.google_oauth_token_url, data={**form, **client_credentials(settings)}
            )
    except httpx.HTTPError as exc:
        log.info("google_token_unreachable", error=repr(exc))
        raise GoogleUnavailable(f"Google's token endpoint: {egress.public_message(exc)}") from None
    if response.status_code >= 500:
        raise GoogleUnavailable(f"Google's token endpoint answered {response.status_code}")
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        log.info("google_token_refused", status=response.status_code, error=str(body.get("error")))
        raise GoogleOAuthFailed(f"Google refused the token request (HTTP {response.status_code})")
    return body


async def unlink(session: AsyncSession, principal: TenantPrincipal, meta: RequestMeta) -> bool:
    """Revoke the grant at Google and forget the tokens; returns whether Google confirmed.

    The local link goes whatever Google answers: a merchant who unlinks must never be left
    with Mercato still holding a working token.
    """
    link = await session.get(GoogleOAuthLink, principal.tenant_id, with_for_update=True)
    if link is None:
        raise GoogleNotLinked("No Google account is linked to this tenant")
    sealed = link.refresh_token_sealed or link.access_token_sealed
    revoked = await _revoke(unseal(sealed, purpose=TOKEN_PURPOSE).decode())
    email = link.google_email
    await session.delete(link)
    await session.flush()
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="google.unlinked",
        target="google:oauth",
        changes={
            "google_email": {"from": email, "to": None},
            "revoked_at_google": {"from": None, "to": revoked},
        },
        meta=meta,
    )
    return revoked


async def _revoke(token: str) -> bool:
    settings = get_settings()
    try:
        async with egress.http_client(timeout_s=HTTP_TIMEOUT_S) as http:
            response = await http.post(settings.google_oauth_revoke_url, data={"token": token})
    except httpx.HTTPError:
        return False
    # 400 invalid_token: Google no longer knows the grant, which is what unlinking wants.
    return response.status_code in (200, 400)


async def get_link(session: AsyncSession, tenant_id: uuid.UUID) -> GoogleOAuthLink | None:
    return await session.get(GoogleOAuthLink, tenant_id)
