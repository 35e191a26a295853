"""`GET {T}/audit-logs`: the tenant's audit trail for admins and owners.

Served here, not by the audit module: every module records into the trail (identity
included), so the trail itself must not depend on identity's request dependencies.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from mercato.kernel.deps import DbSession
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.kernel.timestamps import Timestamp
from mercato.modules.audit import list_entries
from mercato.modules.identity.auth import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["audit"])


class AuditEntryRead(BaseModel):
    id: uuid.UUID
    actor: str
    action: str
    target: str | None
    ip: str | None
    user_agent: str | None
    request_id: str | None
    changes: dict[str, Any]
    created_at: datetime


# The contract named this operation when the route lived in the audit module.
@router.get(
    "/audit-logs", response_model=Page[AuditEntryRead], operation_id="audit_list_audit_logs"
)
async def list_audit_logs(
    session: DbSession,
    principal: Annotated[TenantPrincipal, require(Permission.AUDIT_READ)],
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: Timestamp | None = None,
    until: Timestamp | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[AuditEntryRead]:
    rows, next_cursor = await list_entries(
        session,
        principal,
        action=action,
        actor=actor,
        target=target,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return Page[AuditEntryRead](
        data=[AuditEntryRead.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor,
    )
