"""`{T}/tasks/*`: the sales-rep task lists and their item status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from mercato.kernel.deps import DbSession, Meta, ReadSession
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.identity import require, tenant_formats
from mercato.modules.insights import service
from mercato.modules.insights.export import tasks_csv
from mercato.modules.insights.schemas import (
    StatusFilter,
    TaskList,
    TaskPage,
    TaskStatusRead,
    TaskStatusUpdate,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/tasks", tags=["tasks"])

ListName = Annotated[TaskList, Path(description="purchase-followups, cart-abandonment, …")]
LocationCode = Annotated[str | None, Query(max_length=64)]
RepId = Annotated[str | None, Query(max_length=128, description="Only this rep's locations")]


@router.get("/{list_name}", response_model=TaskPage)
async def list_tasks(
    list_name: ListName,
    principal: Annotated[TenantPrincipal, require(Permission.TASKS_READ)],
    session: DbSession,
    read: ReadSession,
    location: LocationCode = None,
    rep: RepId = None,
    status: StatusFilter = StatusFilter.open,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> TaskPage:
    return await service.list_tasks(
        session,
        principal,
        list_name,
        location=location,
        rep=rep,
        status=status,
        limit=limit,
        cursor=cursor,
        read=read,
    )


@router.get("/{list_name}/export.csv", response_class=Response)
async def export_tasks(
    list_name: ListName,
    principal: Annotated[TenantPrincipal, require(Permission.TASKS_READ)],
    session: DbSession,
    read: ReadSession,
    location: LocationCode = None,
    rep: RepId = None,
    status: StatusFilter = StatusFilter.open,
) -> Response:
    page = await service.list_tasks(
        session,
        principal,
        list_name,
        location=location,
        rep=rep,
        status=status,
        limit=10_000,
        read=read,
    )
    return Response(
        tasks_csv(page, await tenant_formats(session, principal.tenant_id)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{list_name.value}.csv"'},
    )


@router.post("/{list_name}/status", response_model=TaskStatusRead)
async def set_task_status(
    list_name: ListName,
    body: TaskStatusUpdate,
    principal: Annotated[TenantPrincipal, require(Permission.TASKS_WRITE)],
    session: DbSession,
    meta: Meta,
) -> TaskStatusRead:
    updated = await service.set_status(session, principal, list_name, body)
    await record_audit(
        session,
        actor=principal,
        action="task.status_changed",
        target=f"task:{list_name.value}:{body.key}"[:300],
        changes={"status": {"from": None, "to": updated.status.value}},
        meta=meta,
    )
    return updated
