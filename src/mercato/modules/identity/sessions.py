"""Sign-in sessions: access + refresh token pairs, rotation with reuse detection, logout.

A refresh token is opaque, stored as a SHA-256 hash, and valid once: using it returns a
new pair in the same *family*. Presenting a token that was already rotated means it was
copied, so the whole family is revoked and the security log records it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import get_database
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Unauthorized
from mercato.kernel.security import Principal
from mercato.modules.identity import access
from mercato.modules.identity.auth_events import record_auth_event
from mercato.modules.identity.models import RefreshToken, StaffUser
from mercato.modules.identity.tokens import issue_access_token

REFRESH_TOKEN_TTL = timedelta(days=30)
REFRESH_PREFIX = "rt_"
# The API's refresh cookie; the dashboard keeps its sessions in the same one.
REFRESH_COOKIE = "mercato_refresh"
REFRESH_COOKIE_PATH = "/api/v1/auth"
REFRESH_COOKIE_SAMESITE: Final = "strict"  # only the dashboard's own pages ever send it


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: uuid.UUID


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def _new_refresh_token(
    session: AsyncSession, *, user_id: uuid.UUID, family_id: uuid.UUID, auth_time: datetime
) -> str:
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            token_hash=_hash(token),
            family_id=family_id,
            user_id=user_id,
            auth_time=auth_time,
            expires_at=datetime.now(UTC) + REFRESH_TOKEN_TTL,
        )
    )
    await session.flush()
    return token


async def start_session(session: AsyncSession, user: StaffUser) -> IssuedTokens:
    """A fresh token pair in a new refresh family; `auth_time` is now."""
    auth_time = datetime.now(UTC)
    family_id = uuid.uuid4()
    refresh = await _new_refresh_token(
        session, user_id=user.id, family_id=family_id, auth_time=auth_time
    )
    access, expires_in = await issue_access_token(
        user_id=user.id, auth_time=auth_time, session_id=family_id
    )
    return IssuedTokens(access, refresh, expires_in, user.id)


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    """End a session: its refresh tokens, and (through `access`) its access tokens."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    access.sessions_revoked(session, [family_id])


async def _handle_reuse(token_row: RefreshToken, meta: RequestMeta) -> None:
    """Revoke the family in a transaction of its own: the refused request rolls back."""
    async with get_database().session() as own:
        await _revoke_family(own, token_row.family_id)
    await record_auth_event(
        None,
        "refresh_token_reuse",
        meta=meta,
        user_id=token_row.user_id,
        family_id=token_row.family_id,
    )


async def refresh(session: AsyncSession, *, refresh_token: str, meta: RequestMeta) -> IssuedTokens:
    """Rotate a refresh token. Reuse of a rotated one revokes its whole family (401)."""
    by_hash = select(RefreshToken).where(RefreshToken.token_hash == _hash(refresh_token))
    row = await session.scalar(by_hash)
    if row is None:
        raise Unauthorized("The refresh token is not valid")
    if row.rotated_at is not None:
        # Checked before taking the row lock: the revocation commits on its own connection.
        await _handle_reuse(row, meta)
        raise Unauthorized("The refresh token was already used; every session of it is revoked")
    row = await session.scalar(by_hash.with_for_update().execution_options(populate_existing=True))
    now = datetime.now(UTC)
    if row is None or row.rotated_at is not None:
        # A concurrent refresh with the same token won the lock: refuse, but this is a
        # race between two tabs, not evidence of theft.
        raise Unauthorized("The refresh token was just used by another request")
    if row.revoked_at is not None or row.expires_at <= now:
        raise Unauthorized("The refresh token has been revoked or has expired")
    row.rotated_at = now
    new_refresh = await _new_refresh_token(
        session, user_id=row.user_id, family_id=row.family_id, auth_time=row.auth_time
    )
    access, expires_in = await issue_access_token(
        user_id=row.user_id, auth_time=row.auth_time, session_id=row.family_id
    )
    return IssuedTokens(access, new_refresh, expires_in, row.user_id)


async def logout(
    session: AsyncSession, principal: Principal, *, refresh_token: str | None, meta: RequestMeta
) -> None:
    """End the caller's session: its refresh family, and every access token of it
    (step-up tokens included) on every API process once this commits."""
    if principal.session_id is not None:
        await _revoke_family(session, principal.session_id)
    if refresh_token:  # a cookie or body token from another family of the same user
        row = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == _hash(refresh_token))
        )
        if row is not None and row.user_id == principal.user_id:
            await _revoke_family(session, row.family_id)
    await record_auth_event(session, "logout", meta=meta, user_id=principal.user_id)


async def revoke_all_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    """End every session of the user (password reset): refresh and access tokens."""
    families = await session.scalars(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(RefreshToken.family_id)
    )
    access.sessions_revoked(session, list(set(families.all())))


async def step_up(principal: Principal) -> tuple[str, int]:
    """A fresh access token whose `auth_time` is now (the password was just checked).

    It stays in the caller's session, so logging out ends it too.
    """
    if principal.user_id is None or principal.session_id is None:
        raise Unauthorized("Step-up needs a staff user's access token")
    return await issue_access_token(
        user_id=principal.user_id, auth_time=datetime.now(UTC), session_id=principal.session_id
    )
