"""Business Profile jobs: import a tenant's locations and insights (on request and daily)."""

from __future__ import annotations

import uuid

from mercato.kernel.db import get_database
from mercato.kernel.jobs import defer, periodic, task
from mercato.kernel.logging import get_logger
from mercato.kernel.tenant_runs import for_each_tenant
from mercato.modules.channels.business_profile.importer import import_business_profile
from mercato.modules.channels.google import BUSINESS_SCOPE, get_link
from mercato.modules.identity import active_tenant_ids

QUEUE = "channels"

log = get_logger("mercato.channels.jobs")


@task("channels.import_business_profile", queue=QUEUE, timeout_s=1800)
async def import_gbp(*, tenant_id: str) -> None:
    report = await import_business_profile(uuid.UUID(tenant_id))
    log.info(
        "gbp_imported",
        tenant_id=tenant_id,
        locations=report.locations,
        linked=report.linked,
        insight_days=report.insight_days,
    )


@periodic("10 5 * * *", periodic_id="channels-daily-gbp")
@task("channels.daily_business_profile", queue=QUEUE, timeout_s=3600)
async def daily_business_profile(*, timestamp: int) -> None:
    """Queue a Business Profile import for every tenant whose link grants it."""

    async def queue_import(tenant_id: uuid.UUID) -> None:
        async with get_database().tenant_session(tenant_id) as session:
            link = await get_link(session, tenant_id)
            if link is not None and link.status == "active" and BUSINESS_SCOPE in link.scopes:
                await defer(session, "channels.import_business_profile", tenant_id=str(tenant_id))

    await for_each_tenant("gbp_daily_import", await active_tenant_ids(), queue_import)
