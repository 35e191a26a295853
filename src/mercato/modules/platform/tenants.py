"""Operators' view of tenants: usage, suspend, reactivate, and purge after the window.

Reads across tenants go through `platform_tenant_usage`, a SECURITY DEFINER function that
refuses callers whose `app.user_id` is not a platform operator (ADR 0003). Changes are
written to the affected tenant's own audit log, under the operator's name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import set_tenant
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict, NotFound
from mercato.kernel.jobs import defer
from mercato.kernel.security import Principal
from mercato.modules.audit import record_audit
from mercato.modules.identity import (
    TenantFacts,
    locked_tenant,
    set_status_for_operator,
    tenant_facts,
    tenant_page,
)
from mercato.modules.platform.schemas import OperatorTenantRead, TenantUsage


class PurgeWindowOpen(Conflict):
    slug, title = "purge-window-open", "The tenant is not past its 30-day soft-delete window"


class TenantStatusConflict(Conflict):
    slug, title = "tenant-status-conflict", "The tenant is not in a state that allows this"


@dataclass(frozen=True)
class TenantPage:
    tenants: list[OperatorTenantRead]
    next_cursor: str | None


def month_start(now: datetime | None = None) -> datetime:
    moment = now or datetime.now(UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def _usage(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, TenantUsage]:
    if not ids:
        return {}
    rows = await session.execute(
        text("SELECT * FROM platform_tenant_usage(CAST(:ids AS uuid[]), :month)"),
        {"ids": ids, "month": month_start()},
    )
    return {
        row.tenant_id: TenantUsage(
            staff=row.staff,
            products=row.products,
            events_month=row.events_month,
            storage_bytes=row.storage_bytes,
        )
        for row in rows
    }


def _read(tenant: TenantFacts, usage: TenantUsage) -> OperatorTenantRead:
    return OperatorTenantRead(
        id=tenant.id,
        name=tenant.name,
        slug=tenant.slug,
        status=tenant.status,
        created_at=tenant.created_at,
        deleted_at=tenant.deleted_at,
        purge_after=tenant.purge_after,
        usage=usage,
    )


async def list_tenants(
    session: AsyncSession,
    operator: Principal,
    *,
    status: str | None,
    limit: int | None,
    cursor: str | None,
) -> TenantPage:
    """Every tenant, newest first, with its usage (`operator` is checked by the route)."""
    rows, next_cursor = await tenant_page(session, status=status, limit=limit, cursor=cursor)
    usage = await _usage(session, [t.id for t in rows])
    return TenantPage([_read(t, usage[t.id]) for t in rows], next_cursor)


async def get_tenant(
    session: AsyncSession, operator: Principal, tenant_id: uuid.UUID
) -> OperatorTenantRead:
    tenant = await tenant_facts(session, tenant_id)
    if tenant is None:
        raise NotFound("No such tenant")
    return _read(tenant, (await _usage(session, [tenant.id]))[tenant.id])


async def _audit(
    session: AsyncSession,
    operator: Principal,
    tenant_id: uuid.UUID,
    action: str,
    status: dict[str, str],
    meta: RequestMeta,
) -> None:
    await set_tenant(session, tenant_id)
    await record_audit(
        session,
        tenant_id=tenant_id,
        actor=operator,
        action=action,
        target=f"tenant:{tenant_id}",
        changes={"status": status},
        meta=meta,
    )


async def suspend_tenant(
    session: AsyncSession, operator: Principal, tenant_id: uuid.UUID, meta: RequestMeta
) -> OperatorTenantRead:
    """Suspend an active tenant (step-up): everyone but its owners gets 403."""
    operator.require_recent_auth()
    tenant = await locked_tenant(session, tenant_id)
    if tenant.status != "active":
        raise TenantStatusConflict(f"Only an active tenant can be suspended, not {tenant.status}")
    await set_status_for_operator(session, tenant_id, "suspended")
    change = {"from": "active", "to": "suspended"}
    await _audit(session, operator, tenant_id, "platform.tenant_suspended", change, meta)
    return await get_tenant(session, operator, tenant_id)


async def reactivate_tenant(
    session: AsyncSession, operator: Principal, tenant_id: uuid.UUID, meta: RequestMeta
) -> OperatorTenantRead:
    """Lift a suspension, or undo a soft delete while the data is still there."""
    tenant = await locked_tenant(session, tenant_id)
    if tenant.status == "active":
        return await get_tenant(session, operator, tenant_id)
    await set_status_for_operator(session, tenant_id, "active")
    change = {"from": tenant.status, "to": "active"}
    await _audit(session, operator, tenant_id, "platform.tenant_reactivated", change, meta)
    return await get_tenant(session, operator, tenant_id)


async def request_purge(
    session: AsyncSession, operator: Principal, tenant_id: uuid.UUID, meta: RequestMeta
) -> int:
    """Enqueue the hard delete of a tenant past its window (step-up); returns the job id."""
    operator.require_recent_auth()
    tenant = await locked_tenant(session, tenant_id)
    deadline = tenant.purge_after
    if deadline is None or deadline > datetime.now(UTC):
        raise PurgeWindowOpen(
            "Only a tenant deleted more than 30 days ago can be purged"
            + (f"; this one after {deadline.isoformat()}" if deadline else "")
        )
    change = {"from": "deleted", "to": "deleted"}
    await _audit(session, operator, tenant_id, "platform.tenant_purge_requested", change, meta)
    return await defer(session, "platform.purge_tenant", tenant_id=str(tenant.id))
