"""API key management for a tenant: create (shown once), list, revoke — step-up for changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import NotFound, ValidationFailed, field_error
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.identity import apikeys
from mercato.modules.identity.models import ApiKey
from mercato.modules.identity.schemas import ApiKeyCreate, ApiKeyRead


def api_key_read(key: ApiKey) -> ApiKeyRead:
    """A key as its tenant's staff see it: never the key itself, which is not stored."""
    return ApiKeyRead(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        kind=key.kind,
        permission=key.permission,
        mode=key.mode,
        allowed_origins=list(key.allowed_origins or []),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


async def create_key(
    session: AsyncSession, principal: TenantPrincipal, request: ApiKeyCreate, meta: RequestMeta
) -> tuple[ApiKey, str]:
    """Create a key; the raw key is returned this once and never stored."""
    principal.require(Permission.API_KEYS_WRITE)
    principal.require_recent_auth()
    origins = request.allowed_origins or []
    if request.kind == "publishable" and not origins:
        message = "publishable keys are used from browsers and need at least one origin"
        raise ValidationFailed(message, errors=[field_error("allowed_origins", message)])
    return await issue_key(
        session,
        principal.tenant_id,
        request,
        actor=principal,
        created_by=principal.user_id,
        meta=meta,
    )


async def issue_key(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    request: ApiKeyCreate,
    *,
    actor: Principal | str,
    created_by: uuid.UUID | None,
    meta: RequestMeta | None = None,
) -> tuple[ApiKey, str]:
    """Store and audit a key already allowed; the raw key is returned this once."""
    origins = request.allowed_origins or []
    raw = apikeys.generate_key(request.mode)
    key = ApiKey(
        tenant_id=tenant_id,
        name=request.name.strip(),
        prefix=raw[: apikeys.PREFIX_LENGTH],
        key_hash=apikeys.hash_key(raw),
        kind=request.kind,
        permission=request.permission,
        mode=request.mode,
        allowed_origins=origins,
        created_by=created_by,
    )
    session.add(key)
    await session.flush()
    await record_audit(
        session,
        actor=actor,
        action="api_key.created",
        target=f"api_key:{key.id}",
        changes={
            "name": {"from": None, "to": key.name},
            "kind": {"from": None, "to": key.kind},
            "permission": {"from": None, "to": key.permission},
            "prefix": {"from": None, "to": key.prefix},
            "allowed_origins": {"from": None, "to": origins},
        },
        meta=meta,
        tenant_id=tenant_id,
    )
    return key, raw


async def list_keys(session: AsyncSession, principal: Principal) -> list[ApiKey]:
    principal.require(Permission.API_KEYS_READ)
    rows = await session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc()))
    return list(rows.all())


async def revoke_key(
    session: AsyncSession, principal: TenantPrincipal, key_id: uuid.UUID, meta: RequestMeta
) -> None:
    """Revoke at once: every API process forgets the key when the revocation commits.

    (A trigger on `api_key` notifies them; see `access`.)
    """
    principal.require(Permission.API_KEYS_WRITE)
    principal.require_recent_auth()
    key = await session.get(ApiKey, (principal.tenant_id, key_id), with_for_update=True)
    if key is None:
        raise NotFound("No such API key")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await session.flush()
        await record_audit(
            session,
            actor=principal,
            action="api_key.revoked",
            target=f"api_key:{key.id}",
            changes={"revoked": {"from": False, "to": True}},
            meta=meta,
        )
