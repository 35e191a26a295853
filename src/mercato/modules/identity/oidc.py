"""Staff login through an external OpenID Connect provider (Authorization Code + PKCE).

`MERCATO_OIDC_ISSUER`, `_CLIENT_ID`, `_CLIENT_SECRET` and `_REDIRECT_URI` configure one
provider per deployment. The state, nonce and PKCE verifier live in Redis for ten minutes
and are single-use. The ID token is verified against the provider's JWKS (signature,
issuer, audience, expiry, nonce); only a verified e-mail address signs a person in, and
its first login takes over an existing account of that address only as `_find_or_create`
describes.

Every call to the provider (discovery, the code exchange, the JWKS) goes through egress,
and what the provider says when it refuses goes to the log, not into the error.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import egress
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import DomainError, NotFound, Unauthorized
from mercato.kernel.logging import get_logger
from mercato.kernel.redis import get_redis, tenant_key
from mercato.modules.identity.accounts import find_user_by_email, normalise_email
from mercato.modules.identity.auth_events import record_auth_event
from mercato.modules.identity.models import StaffUser
from mercato.modules.identity.sessions import revoke_all_sessions
from mercato.settings import Settings, get_settings

STATE_TTL_S = 600
DISCOVERY_TTL_S = 3600
ID_TOKEN_ALGORITHMS = ["RS256", "ES256", "PS256"]
HTTP_TIMEOUT_S = 10.0
MAX_ANSWER_BYTES = 1_048_576  # discovery, token and JWKS documents are a few KB

log = get_logger("mercato.identity.oidc")

_discovery: dict[str, tuple[float, dict[str, Any]]] = {}


class OidcNotConfigured(NotFound):
    slug, title = "oidc-not-configured", "Single sign-on is not configured"


class OidcFailed(DomainError):
    status, slug, title = 400, "oidc-failed", "Single sign-on did not complete"


def _config() -> Settings:
    settings = get_settings()
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_redirect_uri):
        raise OidcNotConfigured("Set MERCATO_OIDC_ISSUER, _CLIENT_ID and _REDIRECT_URI")
    return settings


async def _provider_call(what: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request to the provider through egress; a transport failure is `OidcFailed`."""
    try:
        async with egress.http_client(
            timeout_s=HTTP_TIMEOUT_S, max_response_bytes=MAX_ANSWER_BYTES
        ) as http:
            response = await http.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        log.info("oidc_provider_unreachable", what=what, error=repr(exc))
        raise OidcFailed(f"The identity provider's {what}: {egress.public_message(exc)}") from None
    return response


def _json_object(what: str, response: httpx.Response) -> dict[str, Any]:
    """The provider's answer as a JSON object; any other status or shape is `OidcFailed`."""
    try:
        document = response.json() if response.status_code == 200 else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        log.info("oidc_provider_refused", what=what, status=response.status_code)
        raise OidcFailed(f"The identity provider's {what} answered {response.status_code}")
    return document


async def _metadata(issuer: str) -> dict[str, Any]:
    cached = _discovery.get(issuer)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_S:
        return cached[1]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = _json_object("discovery document", await _provider_call("discovery", "GET", url))
    missing = [
        name
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(document.get(name), str)
    ]
    if missing:
        raise OidcFailed(f"The identity provider's discovery document lacks {', '.join(missing)}")
    _discovery[issuer] = (time.monotonic(), document)
    return document


def _code_challenge(verifier: str) -> str:
    """PKCE S256 (RFC 7636): base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


async def _exchange_code(
    settings: Settings, metadata: dict[str, Any], code: str, verifier: str
) -> dict[str, Any]:
    """The token endpoint's answer to the authorization code (client_secret_basic + PKCE)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": str(settings.oidc_redirect_uri),
        "code_verifier": verifier,
    }
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    client_id = str(settings.oidc_client_id)
    if secret is None:
        form["client_id"] = client_id  # a public client names itself in the body
    response = await _provider_call(
        "token endpoint",
        "POST",
        metadata["token_endpoint"],
        data=form,
        auth=(quote(client_id, safe=""), quote(secret, safe="")) if secret else None,
        headers={"Accept": "application/json"},
    )
    return _json_object("token endpoint", response)


def _state_key(state: str) -> str:
    return tenant_key(None, "oidc-state", state)


async def authorization_url() -> str:
    """Where to send the browser; remembers state, nonce and PKCE verifier for 10 minutes."""
    settings = _config()
    assert settings.oidc_issuer is not None
    metadata = await _metadata(settings.oidc_issuer)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    await get_redis().set(
        _state_key(state), json.dumps({"nonce": nonce, "verifier": verifier}), ex=STATE_TTL_S
    )
    query = {
        "response_type": "code",
        "client_id": settings.oidc_client_id,
        "redirect_uri": settings.oidc_redirect_uri,
        "scope": settings.oidc_scopes,
        "state": state,
        "nonce": nonce,
        "code_challenge": _code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    endpoint = str(metadata["authorization_endpoint"])
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"


async def _verified_claims(
    settings: Settings, metadata: dict[str, Any], id_token: str, nonce: str
) -> dict[str, Any]:
    keys = _json_object("JWKS", await _provider_call("JWKS", "GET", metadata["jwks_uri"]))
    try:
        kid = jwt.get_unverified_header(id_token).get("kid")
        key_set = jwt.PyJWKSet.from_dict(keys)
        key = next(k for k in key_set.keys if kid is None or k.key_id == kid)
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key.key,
            algorithms=ID_TOKEN_ALGORITHMS,
            audience=settings.oidc_client_id,
            issuer=metadata.get("issuer", settings.oidc_issuer),
            leeway=60,
            options={"require": ["sub", "exp", "iat", "iss", "aud"]},
        )
    except (jwt.PyJWTError, StopIteration) as exc:
        raise Unauthorized("The identity provider's ID token is not valid") from exc
    if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise Unauthorized("The ID token does not answer this login (nonce mismatch)")
    return claims


async def complete_login(
    session: AsyncSession, *, code: str, state: str, meta: RequestMeta
) -> StaffUser:
    """Exchange the code, verify the ID token, and find or create the staff account."""
    settings = _config()
    assert settings.oidc_issuer is not None
    saved = await get_redis().getdel(_state_key(state))
    if saved is None:
        raise OidcFailed("The login state is unknown or expired; start again")
    remembered = json.loads(saved)
    metadata = await _metadata(settings.oidc_issuer)
    token = await _exchange_code(settings, metadata, code, remembered["verifier"])
    if not isinstance(token.get("id_token"), str):
        raise OidcFailed("The identity provider returned no ID token")
    claims = await _verified_claims(settings, metadata, token["id_token"], remembered["nonce"])
    email = claims.get("email")
    if not email or claims.get("email_verified") is not True:
        raise OidcFailed("The identity provider did not vouch for a verified e-mail address")
    user = await _find_or_create(
        session,
        subject=f"{settings.oidc_issuer}|{claims['sub']}",
        email=str(email),
        name=str(claims.get("name") or email),
        meta=meta,
    )
    await record_auth_event(session, "login_oidc", meta=meta, user_id=user.id)
    return user


async def _find_or_create(
    session: AsyncSession, *, subject: str, email: str, name: str, meta: RequestMeta
) -> StaffUser:
    """The account of this provider subject; on its first login, the address's account.

    Linking an existing account to the subject revokes every session the account had. If
    that account never proved its mailbox, its password was chosen by whoever signed up,
    perhaps not the address's owner (account pre-hijacking): the provider vouches that its
    user owns the mailbox, so the unproven password is dropped rather than kept beside the
    provider login.
    """
    user = await session.scalar(select(StaffUser).where(StaffUser.oidc_subject == subject))
    if user is not None:
        return user
    user = await find_user_by_email(session, email)
    now = datetime.now(UTC)
    if user is None:
        user = StaffUser(email=normalise_email(email), name=name, email_verified_at=now)
        session.add(user)
        user.oidc_subject = subject
        await session.flush()
        return user
    if user.email_verified_at is None:
        user.password_hash = None
        user.email_verified_at = now  # the provider verified the address
        await record_auth_event(session, "unverified_password_dropped", meta=meta, user_id=user.id)
    user.oidc_subject = subject
    await revoke_all_sessions(session, user.id)
    await record_auth_event(session, "oidc_linked", meta=meta, user_id=user.id)
    await session.flush()
    return user
