"""Write and read the audit trail. Entries are append-only: the app role cannot alter them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import RequestMeta
from mercato.kernel.logging import redact
from mercato.kernel.pagination import newest_first
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal
from mercato.modules.audit.models import AuditEntry


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """`{field: {"from": old, "to": new}}` for fields that differ; secrets masked."""
    changed = {
        name: {"from": before.get(name), "to": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }
    masked: dict[str, Any] = redact(changed)
    return masked


async def record_audit(
    session: AsyncSession,
    *,
    actor: Principal | str,
    action: str,
    target: str | None = None,
    changes: Mapping[str, Any] | None = None,
    meta: RequestMeta | None = None,
    tenant_id: uuid.UUID | None = None,
) -> None:
    """Append an entry in the caller's transaction (it commits or rolls back with the change).

    The tenant is the acting principal's unless given (system actors name it explicitly).
    """
    if tenant_id is None:
        if isinstance(actor, str) or actor.tenant_id is None:
            raise ValueError("record_audit needs a tenant: a tenant-scoped principal or tenant_id")
        tenant_id = actor.tenant_id
    session.add(
        AuditEntry(
            tenant_id=tenant_id,
            actor=actor if isinstance(actor, str) else actor.actor,
            action=action,
            target=target,
            changes=redact(dict(changes or {})),
            ip=meta.ip if meta else None,
            user_agent=meta.user_agent if meta else None,
            request_id=meta.request_id if meta else None,
        )
    )
    await session.flush()


async def list_entries(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[AuditEntry], str | None]:
    """Newest first, filtered, cursor-paginated; the session is already tenant-scoped."""
    principal.require(Permission.AUDIT_READ)
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if target:
        query = query.where(AuditEntry.target == target)
    if since:
        query = query.where(AuditEntry.created_at >= since)
    if until:
        query = query.where(AuditEntry.created_at < until)
    return await newest_first(session, query, limit=limit, cursor=cursor)
