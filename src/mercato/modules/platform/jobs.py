"""Operator jobs: purge one tenant, purge every expired tenant daily, enforce retention."""

from __future__ import annotations

import uuid

from procrastinate import RetryStrategy

from mercato.kernel.db import get_database
from mercato.kernel.errors import NotFound
from mercato.kernel.jobs import defer, periodic, task
from mercato.kernel.logging import get_logger
from mercato.modules.identity import tenants_to_purge
from mercato.modules.platform.purge import purge_tenant, purge_tenant_files, was_purged
from mercato.modules.platform.retention import enforce_retention
from mercato.settings import get_settings

log = get_logger("mercato.platform.jobs")


# A storage outage while the files are deleted: tried again five times over about an hour
# (5, 25, 125, 625 and 3,125 s apart).
FILE_RETRIES = RetryStrategy(max_attempts=6, exponential_wait=5)


@task("platform.purge_tenant", queue="maintenance", timeout_s=3600, retry=FILE_RETRIES)
async def purge_tenant_job(*, tenant_id: str) -> None:
    """Delete the tenant's rows, then its stored files. A retry after the rows are gone
    (the files failed halfway) goes straight to the files."""
    await purge_rows_then_files(uuid.UUID(tenant_id))


async def purge_rows_then_files(tenant_id: uuid.UUID) -> None:
    try:
        async with get_database().session() as session:
            await purge_tenant(session, tenant_id)
    except NotFound:
        async with get_database().session() as session:
            if not await was_purged(session, tenant_id):
                raise
    await purge_tenant_files(tenant_id)


@periodic("30 3 * * *", periodic_id="purge-expired-tenants")
@task("platform.purge_expired_tenants", queue="maintenance", timeout_s=6 * 3600)
async def purge_expired_tenants(*, timestamp: int) -> None:
    """Daily: queue the hard delete of every tenant past its 30-day window, a job each, so
    one failing tenant neither stops the others nor loses its own retries."""
    expired = await tenants_to_purge()
    async with get_database().session() as session:
        for tenant_id in expired:
            await defer(session, "platform.purge_tenant", tenant_id=str(tenant_id))


@periodic("0 4 * * *", periodic_id="enforce-retention")
@task("platform.enforce_retention", queue="maintenance", timeout_s=6 * 3600)
async def enforce_retention_job(*, timestamp: int) -> None:
    """Daily: delete job, mail, notification and event history past its window, and
    expired or abandoned shared blobs."""
    report = await enforce_retention(get_settings())
    log.info(
        "retention_enforced",
        job_failures=report.job_failures,
        mails=report.mails,
        notification_deliveries=report.notification_deliveries,
        events=sum(report.events.values()),
        blobs=report.blobs,
    )
