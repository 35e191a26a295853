"""`{T}/reports/*`: branch recipients, schedules, send now, job history."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.identity import require
from mercato.modules.locations import CODE_PATTERN
from mercato.modules.reports import service
from mercato.modules.reports.schemas import (
    BranchList,
    BranchRecipients,
    BranchRecipientsWrite,
    Frequency,
    ReportJobCreated,
    ReportJobPage,
    ReportJobRead,
    ReportSend,
    ScheduleList,
    ScheduleRead,
    ScheduleWrite,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/reports", tags=["reports"])
Reader = Annotated[TenantPrincipal, require(Permission.REPORTS_READ)]
Writer = Annotated[TenantPrincipal, require(Permission.REPORTS_WRITE)]
Code = Annotated[str, Path(pattern=CODE_PATTERN, description="The branch's location code")]


@router.get("/branches", response_model=BranchList)
async def list_branches(principal: Reader, session: DbSession) -> BranchList:
    return BranchList(data=await service.list_branches(session, principal))


@router.put("/branches/{code}", response_model=BranchRecipients)
async def put_branch(
    code: Code, body: BranchRecipientsWrite, principal: Writer, session: DbSession, meta: Meta
) -> BranchRecipients:
    """Replace the recipients of a branch's report (an empty list stops it)."""
    updated = await service.set_branch_recipients(
        session, principal, code, [str(e) for e in body.recipients]
    )
    await record_audit(
        session,
        actor=principal,
        action="report.recipients_set",
        target=f"location:{code}",
        changes={"recipients": {"from": None, "to": len(updated.recipients)}},
        meta=meta,
    )
    return updated


@router.get("/schedules", response_model=ScheduleList)
async def list_schedules(principal: Reader, session: DbSession) -> ScheduleList:
    rows = await service.list_schedules(session, principal)
    return ScheduleList(data=[ScheduleRead.model_validate(row) for row in rows])


@router.put("/schedules/{frequency}", response_model=ScheduleRead)
async def put_schedule(
    frequency: Frequency, body: ScheduleWrite, principal: Writer, session: DbSession, meta: Meta
) -> ScheduleRead:
    schedule = await service.put_schedule(session, principal, frequency, body)
    await record_audit(
        session,
        actor=principal,
        action="report.schedule_set",
        target=f"schedule:{frequency}",
        changes={"hour": {"from": None, "to": body.hour}},
        meta=meta,
    )
    return ScheduleRead.model_validate(schedule)


@router.delete("/schedules/{frequency}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_schedule(frequency: Frequency, principal: Writer, session: DbSession) -> Response:
    await service.delete_schedule(session, principal, frequency)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/send", status_code=status.HTTP_202_ACCEPTED, response_model=ReportJobCreated)
async def send_now(
    body: ReportSend, principal: Writer, session: DbSession, meta: Meta
) -> ReportJobCreated:
    job = await service.request_send(session, principal, body)
    await record_audit(
        session, actor=principal, action="report.sent", target=f"report_job:{job.id}", meta=meta
    )
    return ReportJobCreated(job_id=job.id)


@router.get("/jobs", response_model=ReportJobPage)
async def list_jobs(
    principal: Reader,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> ReportJobPage:
    return await service.list_jobs(session, principal, limit=limit, cursor=cursor)


@router.get("/jobs/{job_id}", response_model=ReportJobRead)
async def get_job(job_id: uuid.UUID, principal: Reader, session: DbSession) -> ReportJobRead:
    return await service.get_job(session, principal, job_id)
