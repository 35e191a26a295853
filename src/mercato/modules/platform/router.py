"""`/api/v1/platform/…`: the operator API (platform operators only; see `operators`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.pagination import Page
from mercato.modules.platform import kpis, tenants
from mercato.modules.platform.operators import Operator
from mercato.modules.platform.schemas import OperatorTenantRead, PilotKpis, PurgeAccepted

router = APIRouter(prefix="/api/v1/platform", tags=["platform"])
TenantStatus = Literal["active", "suspended", "deleted"]


@router.get("/tenants", response_model=Page[OperatorTenantRead])
async def list_tenants(
    operator: Operator,
    session: DbSession,
    status: TenantStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[OperatorTenantRead]:
    """Every tenant with its usage: staff, products, events this month, storage."""
    found = await tenants.list_tenants(session, operator, status=status, limit=limit, cursor=cursor)
    return Page[OperatorTenantRead](data=found.tenants, next_cursor=found.next_cursor)


@router.get("/tenants/{tenant_id}", response_model=OperatorTenantRead)
async def get_tenant(
    tenant_id: uuid.UUID, operator: Operator, session: DbSession
) -> OperatorTenantRead:
    return await tenants.get_tenant(session, operator, tenant_id)


@router.post(
    "/tenants/{tenant_id}/suspend", response_model=OperatorTenantRead, summary="Suspend (step-up)"
)
async def suspend_tenant(
    tenant_id: uuid.UUID, operator: Operator, session: DbSession, meta: Meta
) -> OperatorTenantRead:
    return await tenants.suspend_tenant(session, operator, tenant_id, meta)


@router.post("/tenants/{tenant_id}/reactivate", response_model=OperatorTenantRead)
async def reactivate_tenant(
    tenant_id: uuid.UUID, operator: Operator, session: DbSession, meta: Meta
) -> OperatorTenantRead:
    """Lift a suspension, or restore a soft-deleted tenant within its 30 days."""
    return await tenants.reactivate_tenant(session, operator, tenant_id, meta)


@router.post(
    "/tenants/{tenant_id}/purge",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PurgeAccepted,
    summary="Hard-delete a tenant deleted over 30 days ago (step-up)",
)
async def purge_tenant(
    tenant_id: uuid.UUID, operator: Operator, session: DbSession, meta: Meta
) -> PurgeAccepted:
    job_id = await tenants.request_purge(session, operator, tenant_id, meta)
    return PurgeAccepted(tenant_id=tenant_id, job_id=job_id)


@router.get("/pilot-kpis", response_model=PilotKpis)
async def pilot_kpis(
    operator: Operator,
    session: DbSession,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> PilotKpis:
    return await kpis.pilot_kpis(session, operator, days=days)
