"""Tracking jobs: ingestion imports, partition upkeep and retention, stale-job reaping,
the daily BigQuery import of yesterday, and the hourly check that tells merchants their
GA4 data stopped arriving."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from mercato.kernel.db import get_database
from mercato.kernel.jobs import periodic, task
from mercato.kernel.logging import get_logger
from mercato.modules.tracking import freshness, imports, partitions

log = get_logger("mercato.tracking.jobs")


@task("tracking.import", queue="tracking", timeout_s=imports.IMPORT_TIMEOUT_S + 60)
async def import_events(*, tenant_id: str, ingest_job_id: str) -> None:
    """Run one ingestion job (its own 30-minute limit fails it cleanly before ours hits)."""
    await imports.run_import(uuid.UUID(tenant_id), uuid.UUID(ingest_job_id))


async def apply_retention(now: datetime | None = None) -> dict[str, int]:
    """Drop partitions no tenant needs any more, then delete each tenant's expired rows."""
    now = now or datetime.now(UTC)
    database = get_database()
    retentions = await partitions.tenant_retentions()
    months = await partitions.existing_partitions(database.engine)
    dropped = await partitions.drop_partitions(
        database.engine, partitions.droppable_months(months, retentions, now)
    )
    deleted = 0
    for retention in retentions:
        async with database.tenant_session(retention.tenant_id) as session:
            deleted += await partitions.delete_expired_rows(
                session, retention.tenant_id, retention.cutoff(now)
            )
    return {"dropped_partitions": len(dropped), "deleted_rows": deleted}


@periodic("5 0 * * *", periodic_id="tracking-partitions")
@task("tracking.maintain_partitions", queue="tracking", timeout_s=3_600)
async def maintain_partitions(*, timestamp: int) -> None:
    """Daily: partitions for this month and the next two, then retention."""
    created = await partitions.create_ahead(get_database().engine)
    outcome = await apply_retention()
    log.info("event_partitions_maintained", created=len(created), **outcome)


@periodic("17 * * * *", periodic_id="tracking-reap")
@task("tracking.reap_stale_imports", queue="tracking", timeout_s=600)
async def reap_stale_imports(*, timestamp: int) -> None:
    reaped = await imports.reap_stale()
    if reaped:
        log.warning("ingest_jobs_reaped", count=reaped)


@periodic("41 * * * *", periodic_id="tracking-ga4-freshness")
@task("tracking.check_ga4_freshness", queue="tracking", timeout_s=900)
async def check_ga4_freshness(*, timestamp: int) -> None:
    stale = await freshness.alert_stale_tenants()
    if stale:
        log.info("ga4_data_stale", tenants=stale)


@periodic("25 */3 * * *", periodic_id="tracking-ga4-daily-import")
@task("tracking.schedule_ga4_imports", queue="tracking", timeout_s=900)
async def schedule_ga4_imports(*, timestamp: int) -> None:
    """Every three hours until it lands: import yesterday's GA4 export from BigQuery."""
    queued = await freshness.schedule_daily_imports()
    if queued:
        log.info("ga4_daily_imports_queued", tenants=queued)
