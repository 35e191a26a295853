"""Master-data jobs: a requested sync, and the daily sync of every tenant that wants it."""

from __future__ import annotations

import uuid

from mercato.kernel.db import get_database
from mercato.kernel.jobs import periodic, task
from mercato.kernel.logging import get_logger
from mercato.kernel.tenant_runs import for_each_tenant
from mercato.modules.identity import active_tenant_ids
from mercato.modules.integrations import get_integration_config
from mercato.modules.masterdata.service import run_sync, sync_master_data

log = get_logger("mercato.masterdata.jobs")


@task("masterdata.sync", queue="masterdata", timeout_s=900)
async def sync_job(*, tenant_id: str, sync_id: str) -> None:
    await run_sync(uuid.UUID(tenant_id), uuid.UUID(sync_id))


@periodic("15 3 * * *", periodic_id="masterdata-daily")
@task("masterdata.daily_sync", queue="masterdata", timeout_s=3_600)
async def daily_sync(*, timestamp: int) -> None:
    """Sync every live tenant whose SFTP integration has `daily_sync` on."""
    tenants = await active_tenant_ids()
    await for_each_tenant("masterdata_daily_sync", tenants, _daily_sync_tenant)


async def _daily_sync_tenant(tenant_id: uuid.UUID) -> None:
    async with get_database().tenant_session(tenant_id) as session:
        config = await get_integration_config(session, tenant_id, "sftp")
        if config is None or not config.get("daily_sync", True):
            return
        report = await sync_master_data(session, tenant_id, trigger="daily")
    log.info("masterdata_daily_sync", tenant_id=str(tenant_id), **report.counts())
