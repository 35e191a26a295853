"""Operator jobs: purge one tenant, purge every expired tenant daily, enforce retention."""

from __future__ import annotations

import uuid

from mercato.kernel.db import get_database
from mercato.kernel.jobs import periodic, task
from mercato.kernel.logging import get_logger
from mercato.modules.identity import tenants_to_purge
from mercato.modules.platform.purge import purge_tenant
from mercato.modules.platform.retention import enforce_retention
from mercato.settings import get_settings

log = get_logger("mercato.platform.jobs")


@task("platform.purge_tenant", queue="maintenance", timeout_s=3600)
async def purge_tenant_job(*, tenant_id: str) -> None:
    async with get_database().session() as session:
        await purge_tenant(session, uuid.UUID(tenant_id))


@periodic("30 3 * * *", periodic_id="purge-expired-tenants")
@task("platform.purge_expired_tenants", queue="maintenance", timeout_s=6 * 3600)
async def purge_expired_tenants(*, timestamp: int) -> None:
    """Daily: hard-delete every tenant past its 30-day window, one transaction each."""
    for tenant_id in await tenants_to_purge():
        async with get_database().session() as session:
            await purge_tenant(session, tenant_id)


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
