"""Report jobs: render and queue a job's messages; every ten minutes, queue due schedules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from mercato.kernel.db import get_database
from mercato.kernel.jobs import periodic, task
from mercato.kernel.logging import get_logger
from mercato.kernel.tenant_runs import for_each_tenant
from mercato.modules.identity import active_tenant_ids
from mercato.modules.reports import service

log = get_logger("mercato.reports.jobs")


async def _mark_failed(tenant_id: uuid.UUID, job_id: uuid.UUID, error: str) -> None:
    async with get_database().tenant_session(tenant_id) as session:
        await session.execute(
            text(
                "UPDATE report_job SET status = 'failed', error = :error, finished_at = now() "
                "WHERE tenant_id = :tid AND id = :id"
            ),
            {"error": error[:2000], "tid": tenant_id, "id": job_id},
        )


@task("reports.send", queue="reports", timeout_s=900)
async def send_reports(*, tenant_id: str, job_id: str) -> None:
    """Render and queue one job's reports; a failure marks the job failed with the reason."""
    tenant, job = uuid.UUID(tenant_id), uuid.UUID(job_id)
    try:
        async with get_database().tenant_session(tenant) as session:
            await service.run_job(session, tenant, job)
    except Exception as exc:
        log.exception("report_job_failed", job_id=job_id)
        await _mark_failed(tenant, job, f"{type(exc).__name__}: {exc}")


async def queue_due(now: datetime | None = None) -> int:
    """Queue every tenant's due scheduled reports; returns how many jobs were queued."""
    now = now or datetime.now(UTC)
    tenants = await active_tenant_ids()

    async def queue_tenant(tenant_id: uuid.UUID) -> int:
        async with get_database().tenant_session(tenant_id) as session:
            return len(await service.queue_due_reports(session, tenant_id, now))

    return sum((await for_each_tenant("reports_queue_due", tenants, queue_tenant)).values())


@periodic("*/10 * * * *", periodic_id="reports-schedules")
@task("reports.queue_due", queue="reports", timeout_s=600)
async def queue_due_every_ten_minutes(*, timestamp: int) -> None:
    queued = await queue_due()
    if queued:
        log.info("reports_queued", jobs=queued)
