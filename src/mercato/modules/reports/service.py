"""Branch report mappings, schedules, and report jobs (send now, scheduled, history).

A job renders each mapped branch's report once and queues one message per recipient in the
mail outbox (`mail.deliver` sends it over SMTP with retries); the job's deliveries point at
those messages, so per-recipient status is the outbox's status.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import NotFound, ValidationFailed, field_error
from mercato.kernel.jobs import defer
from mercato.kernel.pagination import encode_cursor, read_cursor
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.analytics import tenant_timezone
from mercato.modules.locations import list_locations
from mercato.modules.mail import MailOutcome, mail_outcomes, queue_mail
from mercato.modules.reports.content import last_full_period, render_report
from mercato.modules.reports.models import (
    ReportDelivery,
    ReportJob,
    ReportRecipient,
    ReportSchedule,
)
from mercato.modules.reports.schemas import (
    BranchRecipients,
    DeliveryRead,
    Frequency,
    Period,
    ReportJobPage,
    ReportJobRead,
    ReportSend,
    ScheduleWrite,
)

PERIOD_DAYS = {Period.day: 1, Period.week: 7}
FREQUENCY_PERIOD = {Frequency.daily: Period.day, Frequency.weekly: Period.week}


async def list_branches(session: AsyncSession, principal: Principal) -> list[BranchRecipients]:
    """Every branch with recipients, by location code."""
    principal.require(Permission.REPORTS_READ)
    rows = await session.scalars(
        select(ReportRecipient).order_by(ReportRecipient.location_code, ReportRecipient.email)
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.location_code, []).append(row.email)
    return [BranchRecipients(location_code=c, recipients=r) for c, r in found.items()]


async def set_branch_recipients(
    session: AsyncSession, principal: TenantPrincipal, code: str, recipients: list[str]
) -> BranchRecipients:
    """Replace who receives the report of location `code` (an empty list removes it)."""
    principal.require(Permission.REPORTS_WRITE)
    if code not in {loc.code for loc in await list_locations(session)}:
        raise NotFound(f"No active location {code!r}")
    await session.execute(delete(ReportRecipient).where(ReportRecipient.location_code == code))
    unique = sorted({email.lower() for email in recipients})
    for email in unique:
        session.add(ReportRecipient(tenant_id=principal.tenant_id, location_code=code, email=email))
    await session.flush()
    return BranchRecipients(location_code=code, recipients=unique)


async def list_schedules(session: AsyncSession, principal: Principal) -> list[ReportSchedule]:
    principal.require(Permission.REPORTS_READ)
    return list(
        (await session.scalars(select(ReportSchedule).order_by(ReportSchedule.frequency))).all()
    )


async def put_schedule(
    session: AsyncSession, principal: TenantPrincipal, frequency: Frequency, body: ScheduleWrite
) -> ReportSchedule:
    """Create or replace the daily or weekly schedule (weekly needs a weekday)."""
    principal.require(Permission.REPORTS_WRITE)
    if frequency is Frequency.weekly and body.weekday is None:
        raise ValidationFailed(
            "A weekly schedule needs a weekday",
            errors=[field_error("weekday", "required for weekly schedules (0 = Monday)")],
        )
    schedule = await session.get(
        ReportSchedule, (principal.tenant_id, frequency.value), with_for_update=True
    )
    if schedule is None:
        schedule = ReportSchedule(tenant_id=principal.tenant_id, frequency=frequency.value)
        session.add(schedule)
    schedule.hour = body.hour
    schedule.weekday = body.weekday if frequency is Frequency.weekly else None
    schedule.enabled = body.enabled
    await session.flush()
    return schedule


async def delete_schedule(
    session: AsyncSession, principal: Principal, frequency: Frequency
) -> None:
    principal.require(Permission.REPORTS_WRITE)
    result = await session.execute(
        delete(ReportSchedule).where(ReportSchedule.frequency == frequency.value)
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound("No such schedule")


async def _local_today(session: AsyncSession, tenant_id: uuid.UUID, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(await tenant_timezone(session, tenant_id)))


async def _create_job(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    trigger: str,
    start: date,
    end: date,
    location_code: str | None,
    requested_by: str,
) -> ReportJob:
    job = ReportJob(
        tenant_id=tenant_id,
        trigger=trigger,
        period_start=start,
        period_end=end,
        location_code=location_code,
        status="queued",
        requested_by=requested_by,
    )
    session.add(job)
    await session.flush()
    await defer(session, "reports.send", tenant_id=str(tenant_id), job_id=str(job.id))
    return job


async def request_send(
    session: AsyncSession,
    principal: TenantPrincipal,
    body: ReportSend,
    *,
    now: datetime | None = None,
) -> ReportJob:
    """Queue a report job now (the worker renders and sends it)."""
    principal.require(Permission.REPORTS_WRITE)
    if body.location_code is not None and body.location_code not in {
        b.location_code for b in await list_branches(session, principal)
    }:
        raise NotFound(f"No recipients are mapped to location {body.location_code!r}")
    if body.start is not None and body.end is not None:
        start, end = body.start, body.end
        if start.year < 1971 or end.year > 2199 or (end - start).days > 366:
            raise ValidationFailed(
                "A report covers at most a year", errors=[field_error("start", "too far back")]
            )
    else:
        local = await _local_today(session, principal.tenant_id, now or datetime.now(UTC))
        start, end = last_full_period(local.date(), PERIOD_DAYS[body.period])
    return await _create_job(
        session,
        principal.tenant_id,
        trigger="manual",
        start=start,
        end=end,
        location_code=body.location_code,
        requested_by=principal.actor,
    )


def _due(schedule: ReportSchedule, local: datetime) -> bool:
    if not schedule.enabled or local.hour < schedule.hour:
        return False
    if schedule.last_run_on == local.date():
        return False
    return schedule.frequency == Frequency.daily or local.weekday() == schedule.weekday


async def queue_due_reports(
    session: AsyncSession, tenant_id: uuid.UUID, now: datetime
) -> list[ReportJob]:
    """Queue the jobs of this tenant's schedules that are due at `now` (local time)."""
    local = await _local_today(session, tenant_id, now)
    jobs = []
    schedules = await session.scalars(
        select(ReportSchedule)
        .where(ReportSchedule.tenant_id == tenant_id)
        .with_for_update(skip_locked=True)
    )
    for schedule in schedules:
        if not _due(schedule, local):
            continue
        period = FREQUENCY_PERIOD[Frequency(schedule.frequency)]
        start, end = last_full_period(local.date(), PERIOD_DAYS[period])
        schedule.last_run_on = local.date()
        jobs.append(
            await _create_job(
                session,
                tenant_id,
                trigger=schedule.frequency,
                start=start,
                end=end,
                location_code=None,
                requested_by="schedule",
            )
        )
    await session.flush()
    return jobs


async def run_job(session: AsyncSession, tenant_id: uuid.UUID, job_id: uuid.UUID) -> str:
    """Render each branch of the job once and queue a message per recipient."""
    job = await session.get(ReportJob, (tenant_id, job_id), with_for_update=True)
    if job is None or job.status != "queued":
        return job.status if job else "missing"
    job.status = "running"
    query = select(ReportRecipient).order_by(ReportRecipient.location_code, ReportRecipient.email)
    if job.location_code is not None:
        query = query.where(ReportRecipient.location_code == job.location_code)
    recipients: dict[str, list[str]] = {}
    for row in await session.scalars(query):
        recipients.setdefault(row.location_code, []).append(row.email)
    names = {loc.code: loc.name for loc in await list_locations(session, include_archived=True)}
    for code, emails in recipients.items():
        report = await render_report(
            session,
            tenant_id,
            location_code=code,
            branch_name=names.get(code),
            start=job.period_start,
            end=job.period_end,
        )
        for email in emails:
            message_id = await queue_mail(
                session,
                to=email,
                subject=report.subject,
                text=report.text,
                html=report.html,
                category="report",
                attachments=report.attachments,
                tenant_id=tenant_id,
            )
            session.add(
                ReportDelivery(
                    tenant_id=tenant_id,
                    job_id=job.id,
                    location_code=code,
                    recipient=email,
                    mail_message_id=message_id,
                )
            )
    job.status = "completed"
    job.finished_at = datetime.now(UTC)
    await session.flush()
    return job.status


async def _deliveries(
    session: AsyncSession, job_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[DeliveryRead]]:
    if not job_ids:
        return {}
    rows = (
        await session.scalars(
            select(ReportDelivery)
            .where(ReportDelivery.job_id.in_(job_ids))
            .order_by(ReportDelivery.location_code, ReportDelivery.recipient)
        )
    ).all()
    mails = await mail_outcomes(
        session, [row.mail_message_id for row in rows if row.mail_message_id]
    )
    queued = MailOutcome(status="queued", attempts=0, last_error=None, sent_at=None)
    found: dict[uuid.UUID, list[DeliveryRead]] = {}
    for row in rows:
        mail = mails.get(row.mail_message_id, queued) if row.mail_message_id else queued
        found.setdefault(row.job_id, []).append(
            DeliveryRead(
                location_code=row.location_code,
                recipient=row.recipient,
                status=mail.status,
                attempts=mail.attempts,
                last_error=mail.last_error,
                sent_at=mail.sent_at,
            )
        )
    return found


def _read(job: ReportJob, deliveries: list[DeliveryRead]) -> ReportJobRead:
    return ReportJobRead(
        id=job.id,
        trigger=job.trigger,
        period_start=job.period_start,
        period_end=job.period_end,
        location_code=job.location_code,
        status=job.status,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        deliveries=deliveries,
    )


async def list_jobs(
    session: AsyncSession, principal: Principal, *, limit: int = 20, cursor: str | None = None
) -> ReportJobPage:
    """Report jobs, newest first, each with its per-recipient delivery status."""
    principal.require(Permission.REPORTS_READ)
    position = read_cursor(cursor, lambda v: (datetime.fromisoformat(v["c"]), uuid.UUID(v["i"])))
    query = select(ReportJob).order_by(ReportJob.created_at.desc(), ReportJob.id.desc())
    if position is not None:
        created, last_id = position
        query = query.where(
            (ReportJob.created_at < created)
            | ((ReportJob.created_at == created) & (ReportJob.id < last_id))
        )
    jobs = list((await session.scalars(query.limit(limit + 1))).all())
    more = len(jobs) > limit
    jobs = jobs[:limit]
    deliveries = await _deliveries(session, [job.id for job in jobs])
    next_cursor = (
        encode_cursor({"c": jobs[-1].created_at.isoformat(), "i": str(jobs[-1].id)})
        if more
        else None
    )
    return ReportJobPage(
        data=[_read(job, deliveries.get(job.id, [])) for job in jobs], next_cursor=next_cursor
    )


async def get_job(
    session: AsyncSession, principal: TenantPrincipal, job_id: uuid.UUID
) -> ReportJobRead:
    principal.require(Permission.REPORTS_READ)
    job = await session.get(ReportJob, (principal.tenant_id, job_id))
    if job is None:
        raise NotFound("No such report job")
    return _read(job, (await _deliveries(session, [job.id])).get(job.id, []))
