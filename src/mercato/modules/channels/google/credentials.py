"""Access tokens for jobs that call Google on a tenant's behalf, refreshed before they expire.

Google's access tokens live an hour; a push of 100,000 products can outlast one. The token
is refreshed when less than `REFRESH_MARGIN` remains, under a row lock so two workers never
spend the refresh token at the same time (the second one finds the fresh token instead).
A refresh Google refuses (`invalid_grant`: the merchant revoked access) marks the link
revoked, which stops jobs until someone links again.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from mercato.kernel.crypto import unseal
from mercato.kernel.db import get_database
from mercato.modules.channels.google.oauth import (
    TOKEN_PURPOSE,
    GoogleLinkRevoked,
    GoogleNotLinked,
    GoogleOAuthFailed,
    apply_access_token,
    google_settings,
    token_request,
)
from mercato.modules.channels.models import GoogleOAuthLink

REFRESH_MARGIN = timedelta(minutes=5)


class GoogleCredentials:
    """A `TokenSource` for one tenant: `await credentials()` returns a usable access token.

    Keeps the token in memory between calls; only a token close to expiry costs a database
    round trip (and, when still needed after taking the lock, a call to Google).
    """

    def __init__(self, tenant_id: uuid.UUID) -> None:
        self.tenant_id = tenant_id
        self._token: str | None = None
        self._expires_at = datetime.min.replace(tzinfo=UTC)
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        if self._token is not None and self._fresh(self._expires_at):
            return self._token
        async with self._lock:
            if self._token is None or not self._fresh(self._expires_at):
                self._token, self._expires_at = await _usable_token(self.tenant_id)
            return self._token

    @staticmethod
    def _fresh(expires_at: datetime) -> bool:
        return expires_at - datetime.now(UTC) > REFRESH_MARGIN


async def _usable_token(tenant_id: uuid.UUID) -> tuple[str, datetime]:
    revoked_reason: str | None = None
    async with get_database().tenant_session(tenant_id) as session:
        link = await session.get(GoogleOAuthLink, tenant_id, with_for_update=True)
        if link is None:
            raise GoogleNotLinked("No Google account is linked to this tenant")
        if link.status != "active":
            raise GoogleLinkRevoked(link.last_error or "The Google link is no longer active")
        if link.access_token_expires_at - datetime.now(UTC) <= REFRESH_MARGIN:
            revoked_reason = await _refresh(link)
        token = unseal(link.access_token_sealed, purpose=TOKEN_PURPOSE).decode()
        expires_at = link.access_token_expires_at
    if revoked_reason is not None:  # raised after the commit that recorded it
        raise GoogleLinkRevoked(revoked_reason)
    return token, expires_at


async def _refresh(link: GoogleOAuthLink) -> str | None:
    """Refresh in place; returns why the link is revoked if Google refused, else None.

    `GoogleUnavailable` (network, 5xx) propagates: a transient failure changes nothing.
    """
    if link.refresh_token_sealed is None:
        link.status, link.last_error = "revoked", "No refresh token is stored; link again"
        return link.last_error
    refresh_token = unseal(link.refresh_token_sealed, purpose=TOKEN_PURPOSE).decode()
    try:
        tokens = await token_request(
            google_settings(), {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )
    except GoogleOAuthFailed as exc:
        link.status = "revoked"
        link.last_error = f"Google refused to refresh the access token: {exc.detail}"[:500]
        return link.last_error
    apply_access_token(link, tokens)
    link.refreshed_at = datetime.now(UTC)
    return None
