"""Ingestion jobs: import events from GA4 files or BigQuery, or sync master data by SFTP.

`request_import` records an `ingest_job` and enqueues `tracking.import` in the same
transaction; the worker runs `run_import`, which moves the job through
queued → running → completed | failed, keeps counts and the error, and gives up after
30 minutes. A job whose worker died is failed by the hourly maintenance (`reap_stale`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import get_database
from mercato.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from mercato.kernel.events import emit
from mercato.kernel.jobs import defer
from mercato.kernel.logging import get_logger
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.identity import live_tenants
from mercato.modules.integrations import get_integration_config
from mercato.modules.masterdata import sync_master_data
from mercato.modules.tracking import bigquery_source, ga4_import
from mercato.modules.tracking.ga4 import ExportFileRefused
from mercato.modules.tracking.import_batches import ImportCounts
from mercato.modules.tracking.models import IngestJob
from mercato.modules.tracking.schemas import IngestJobCreate
from mercato.settings import get_settings

log = get_logger("mercato.tracking.imports")

IMPORT_TIMEOUT_S = 1_800
MAX_RANGE_DAYS = 400
PROGRESS_EVERY_S = 5.0
SCHEDULED_BY = "schedule"
# The integration each source needs configured before a job may be queued.
SOURCE_INTEGRATION = {"bigquery": "bigquery", "sftp": "sftp"}


class IntegrationNotConfigured(Conflict):
    slug, title = "integration-not-configured", "The integration this needs is not configured"


def _check_range(body: IngestJobCreate) -> None:
    if body.source == "sftp":
        return
    if body.start is None or body.end is None:
        raise ValidationFailed(
            f"A {body.source} import needs `start` and `end`",
            errors=[
                field_error(n, "required", "missing")
                for n in ("start", "end")
                if not getattr(body, n)
            ],
        )
    if body.end < body.start or (body.end - body.start).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(
            f"`start`..`end` must span 1 to {MAX_RANGE_DAYS} days",
            errors=[field_error("end", "not a valid range")],
        )


async def request_import(
    session: AsyncSession, principal: TenantPrincipal, body: IngestJobCreate
) -> IngestJob:
    """Queue an import; 422 for a bad range or path, 409 when the source is not configured."""
    principal.require(Permission.EVENTS_IMPORT)
    _check_range(body)
    if body.source == "ga4_file":
        await ga4_import.export_sources(get_settings(), principal.tenant_id, body.path)
    integration = SOURCE_INTEGRATION.get(body.source)
    if (
        integration
        and await get_integration_config(session, principal.tenant_id, integration) is None
    ):
        raise IntegrationNotConfigured(
            f"Configure the {integration} integration first (PUT …/integrations/{integration})"
        )
    return await _queue(
        session,
        IngestJob(
            tenant_id=principal.tenant_id,
            source=body.source,
            start=body.start,
            end=body.end,
            requested_by=principal.actor,
            options={"path": body.path} if body.path else {},
        ),
    )


async def queue_scheduled_import(
    session: AsyncSession, tenant_id: uuid.UUID, day: date
) -> IngestJob:
    """Queue the daily BigQuery import of `day` (its export table must exist)."""
    return await _queue(
        session,
        IngestJob(
            tenant_id=tenant_id,
            source="bigquery",
            start=day,
            end=day,
            requested_by=SCHEDULED_BY,
            options={"scheduled": True},
        ),
    )


async def _queue(session: AsyncSession, job: IngestJob) -> IngestJob:
    job.status, job.counts = "queued", {}
    session.add(job)
    await session.flush()
    job.queue_job_id = await _defer(session, "tracking.import", job)
    await session.flush()
    return job


async def _defer(session: AsyncSession, task: str, job: IngestJob) -> int:
    return await defer(session, task, tenant_id=str(job.tenant_id), ingest_job_id=str(job.id))


async def list_jobs(
    session: AsyncSession, principal: Principal, *, limit: int | None, cursor: str | None
) -> tuple[list[IngestJob], str | None]:
    """The tenant's ingestion jobs, newest first."""
    principal.require(Permission.EVENTS_READ)
    size = clamp_limit(limit)
    query = select(IngestJob).where(IngestJob.tenant_id == principal.tenant_id)
    position = read_cursor(cursor, lambda c: (datetime.fromisoformat(c["t"]), uuid.UUID(c["id"])))
    if position is not None:
        query = query.where(
            tuple_(IngestJob.created_at, IngestJob.id)
            < tuple_(literal(position[0]), literal(position[1]))
        )
    query = query.order_by(IngestJob.created_at.desc(), IngestJob.id.desc()).limit(size + 1)
    jobs = list((await session.scalars(query)).all())
    if len(jobs) <= size:
        return jobs, None
    last = jobs[size - 1]
    return jobs[:size], encode_cursor({"t": last.created_at.isoformat(), "id": str(last.id)})


async def get_job(session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> IngestJob:
    principal.require(Permission.EVENTS_READ)
    job = await session.get(IngestJob, (principal.tenant_id, job_id))
    if job is None:
        raise NotFound("No such ingestion job")
    return job


async def _set_status(tenant_id: uuid.UUID, job_id: uuid.UUID, **values: Any) -> None:
    async with get_database().tenant_session(tenant_id) as session:
        await session.execute(
            update(IngestJob)
            .where(IngestJob.tenant_id == tenant_id, IngestJob.id == job_id)
            .values(**values)
        )


async def _announce_replaced(session: AsyncSession, job: IngestJob) -> None:
    """Days whose events an import replaced, for listeners that derive data from them."""
    await emit(
        session,
        job.tenant_id,
        "tracking.events_replaced",
        {"start": str(job.start), "end": str(job.end)},
    )


async def _run_source(session: AsyncSession, job: IngestJob, counts: ImportCounts) -> None:
    settings = get_settings()
    if job.source == "ga4_file":
        assert job.start is not None
        assert job.end is not None
        files = await ga4_import.export_sources(
            settings, job.tenant_id, job.options.get("path"), job.start, job.end
        )
        await ga4_import.import_ga4_files(
            session, job.tenant_id, files, start=job.start, end=job.end, counts=counts
        )
        await _announce_replaced(session, job)
    elif job.source == "bigquery":
        assert job.start is not None
        assert job.end is not None
        config = await get_integration_config(session, job.tenant_id, "bigquery")
        if config is None:
            raise IntegrationNotConfigured("The BigQuery integration was removed")
        await bigquery_source.import_bigquery(
            session,
            job.tenant_id,
            config,
            start=job.start,
            end=job.end,
            counts=counts,
            require_tables=bool(job.options.get("scheduled")),
        )
        await _announce_replaced(session, job)
    else:
        report = await sync_master_data(session, job.tenant_id)
        counts.rows = report.rows
        counts.accepted = report.stored
        counts.rejected = len(report.problems)
        for problem in report.problems[:50]:
            counts.note_error(str(problem))


async def _report_progress(tenant_id: uuid.UUID, job_id: uuid.UUID, counts: ImportCounts) -> None:
    """While a job runs, publish its counts every few seconds (the import's own transaction
    commits only at the end, so this goes through a session of its own)."""
    while True:
        await asyncio.sleep(PROGRESS_EVERY_S)
        await _set_status(tenant_id, job_id, counts=counts.as_json())


async def _stop(reporter: asyncio.Task[None]) -> None:
    """Stop the progress reporter and wait, so it never writes after the final counts."""
    reporter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reporter


async def run_import(
    tenant_id: uuid.UUID, job_id: uuid.UUID, *, timeout_s: float = IMPORT_TIMEOUT_S
) -> str:
    """Run a queued job to completion or failure; returns the final status.

    The import itself is one transaction: a failure or timeout leaves the old data intact.
    """
    async with get_database().tenant_session(tenant_id) as session:
        job = await session.get(IngestJob, (tenant_id, job_id), with_for_update=True)
        if job is None or job.status != "queued":
            return job.status if job else "missing"
        job.status, job.started_at = "running", datetime.now(UTC)
    counts = ImportCounts()
    reporter = asyncio.create_task(_report_progress(tenant_id, job_id, counts))
    try:
        async with asyncio.timeout(timeout_s):
            async with get_database().tenant_session(tenant_id) as session:
                await _run_source(session, job, counts)
    except TimeoutError:
        error = f"the import did not finish within {timeout_s / 60:g} minutes"
    except ExportFileRefused as refused:
        error = str(refused)  # names the file and the limit, nothing of its content
    except Exception as exc:
        log.exception("ingest_job_failed", job_id=str(job_id))
        error = f"{type(exc).__name__}: {exc}"[:2000]
    else:
        await _stop(reporter)
        await _set_status(
            tenant_id,
            job_id,
            status="completed",
            counts=counts.as_json(),
            finished_at=datetime.now(UTC),
        )
        return "completed"
    await _stop(reporter)
    await _set_status(
        tenant_id,
        job_id,
        status="failed",
        error=error,
        counts=counts.as_json(),
        finished_at=datetime.now(UTC),
    )
    return "failed"


async def reap_stale(now: datetime | None = None) -> int:
    """Fail jobs left `running` by a worker that died (older than the timeout plus a margin)."""
    limit = (now or datetime.now(UTC)) - timedelta(seconds=IMPORT_TIMEOUT_S + 600)
    reaped = 0
    for tenant_id in [tenant.id for tenant in await live_tenants()]:
        async with get_database().tenant_session(tenant_id) as session:
            result = await session.execute(
                update(IngestJob)
                .where(IngestJob.status == "running", IngestJob.started_at < limit)
                .values(
                    status="failed",
                    error="the worker stopped before the import finished",
                    finished_at=datetime.now(UTC),
                )
            )
            reaped += int(getattr(result, "rowcount", 0) or 0)
    return reaped
