"""`{T}/masterdata/*` and `{T}/sales-reps`: sync master data by SFTP and read the result."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from mercato.kernel.deps import DbSession
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.identity import require
from mercato.modules.masterdata import service
from mercato.modules.masterdata.schemas import SalesRepList, SalesRepRead, SyncRead

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["master data"])

Reader = Annotated[TenantPrincipal, require(Permission.MASTERDATA_READ)]


@router.post("/masterdata/sync", status_code=status.HTTP_202_ACCEPTED, response_model=SyncRead)
async def request_sync(
    session: DbSession, principal: Annotated[TenantPrincipal, require(Permission.MASTERDATA_WRITE)]
) -> SyncRead:
    return SyncRead.model_validate(await service.request_sync(session, principal))


@router.get("/masterdata/syncs", response_model=Page[SyncRead])
async def list_syncs(
    session: DbSession,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[SyncRead]:
    runs, next_cursor = await service.list_syncs(session, principal, limit=limit, cursor=cursor)
    return Page[SyncRead](data=[SyncRead.model_validate(r) for r in runs], next_cursor=next_cursor)


@router.get("/masterdata/syncs/{sync_id}", response_model=SyncRead)
async def get_sync(sync_id: uuid.UUID, session: DbSession, principal: Reader) -> SyncRead:
    return SyncRead.model_validate(await service.get_sync(session, principal, sync_id))


@router.get("/sales-reps", response_model=SalesRepList)
async def list_sales_reps(
    session: DbSession, principal: Reader, include_inactive: bool = False
) -> SalesRepList:
    reps = await service.list_sales_reps(session, principal, include_inactive=include_inactive)
    return SalesRepList(
        data=[
            SalesRepRead(
                id=rep.rep_id,
                name=rep.name,
                email=rep.email,
                active=rep.active,
                location_codes=codes,
                updated_at=rep.updated_at,
            )
            for rep, codes in reps
        ]
    )
