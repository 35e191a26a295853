"""Operators' view of tenants: usage, suspend, reactivate, and purge after the window.

Reads across tenants go through `platform_tenant_usage`, a SECURITY DEFINER function that
refuses callers whose `app.user_id` is not a platform operator (ADR 0003). Changes are
written to the affected tenant's own audit log, under the operator's name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import set_tenant
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict, NotFound
from mercato.kernel.jobs import defer
from mercato.kernel.pagination import newest_first
from mercato.kernel.security import Principal
from mercato.modules.audit import record_audit
from mercato.modules.identity.models import Tenant
from mercato.modules.platform.schemas import OperatorTenantRead, TenantUsage

PURGE_AFTER = timedelta(days=30)  # identity's promise: a deleted tenant's data is kept 30 days


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


def purge_after(tenant: Tenant) -> datetime | None:
    if tenant.status != "deleted" or tenant.deleted_at is None:
        return None
    return tenant.deleted_at + PURGE_AFTER


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


def _read(tenant: Tenant, usage: TenantUsage) -> OperatorTenantRead:
    return OperatorTenantRead(
        id=tenant.id,
        name=tenant.name,
        slug=tenant.slug,
        status=tenant.status,
        created_at=tenant.created_at,
        deleted_at=tenant.deleted_at,
        purge_after=purge_after(tenant),
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
    query = select(Tenant)
    if status:
        query = query.where(Tenant.status == status)
    rows, next_cursor = await newest_first(session, query, limit=limit, cursor=cursor)
    usage = await _usage(session, [t.id for t in rows])
    return TenantPage([_read(t, usage[t.id]) for t in rows], next_cursor)


async def _tenant(session: AsyncSession, tenant_id: uuid.UUID, *, lock: bool = True) -> Tenant:
    """The tenant, row-locked by default so two operators' changes serialise."""
    tenant = await session.get(Tenant, tenant_id, with_for_update=lock)
    if tenant is None:
        raise NotFound("No such tenant")
    return tenant


async def get_tenant(
    session: AsyncSession, operator: Principal, tenant_id: uuid.UUID
) -> OperatorTenantRead:
    tenant = await _tenant(session, tenant_id, lock=False)
    return _read(tenant, (await _usage(session, [tenant.id]))[tenant.id])


async def _audit(
    session: AsyncSession,
    operator: Principal,
    tenant: Tenant,
    action: str,
    before: str,
    meta: RequestMeta,
) -> None:
    await set_tenant(session, tenant.id)
    await record_audit(
        session,
        tenant_id=tenant.id,
        actor=operator,
        action=action,
        target=f"tenant:{tenant.id}",
        changes={"status": {"from": before, "to": tenant.status}},
        meta=meta,
    )


async def suspend_tenant(
    session: AsyncSession, operator: Principal, tenant_id: uuid.UUID, meta: RequestMeta
) -> OperatorTenantRead:
    """Suspend an active tenant (step-up): everyone but its owners gets 403."""
    operator.require_recent_auth()
    tenant = await _tenant(session, tenant_id)
    if tenant.status != "active":
        raise TenantStatusConflict(f"Only an active tenant can be suspended, not {tenant.status}")
    tenant.status = "suspended"
    await session.flush()
    await _audit(session, operator, tenant, "platform.tenant_suspended", "active", meta)
    return await get_tenant(session, operator, tenant_id)


async def reactivate_tenant(
    session: AsyncSession, operator: Principal, tenant_id: uuid.UUID, meta: RequestMeta
) -> OperatorTenantRead:
    """Lift a suspension, or undo a soft delete while the data is still there."""
    tenant = await _tenant(session, tenant_id)
    if tenant.status == "active":
        return await get_tenant(session, operator, tenant_id)
    before = tenant.status
    tenant.status = "active"
    tenant.deleted_at = None
    await session.flush()
    await _audit(session, operator, tenant, "platform.tenant_reactivated", before, meta)
    return await get_tenant(session, operator, tenant_id)


async def request_purge(
    session: AsyncSession, operator: Principal, tenant_id: uuid.UUID, meta: RequestMeta
) -> int:
    """Enqueue the hard delete of a tenant past its window (step-up); returns the job id."""
    operator.require_recent_auth()
    tenant = await _tenant(session, tenant_id)
    deadline = purge_after(tenant)
    if deadline is None or deadline > datetime.now(UTC):
        raise PurgeWindowOpen(
            "Only a tenant deleted more than 30 days ago can be purged"
            + (f"; this one after {deadline.isoformat()}" if deadline else "")
        )
    await _audit(session, operator, tenant, "platform.tenant_purge_requested", "deleted", meta)
    return await defer(session, "platform.purge_tenant", tenant_id=str(tenant.id))
