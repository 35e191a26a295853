"""Business Profile jobs: import a tenant's locations and insights (on request and daily);
push the business profile after an edit (debounced) or on request."""

from __future__ import annotations

import uuid
from typing import Any

from mercato.kernel.db import get_database
from mercato.kernel.events import subscribe
from mercato.kernel.jobs import defer, periodic, task
from mercato.kernel.logging import get_logger
from mercato.kernel.tenant_runs import for_each_tenant
from mercato.modules.channels.business_profile.importer import import_business_profile
from mercato.modules.channels.business_profile.push import (
    PUSH_TASK,
    PUSHED_FIELDS,
    push_profile,
    queue_push,
)
from mercato.modules.channels.google import BUSINESS_SCOPE, get_link
from mercato.modules.identity import active_tenant_ids
from mercato.modules.profile import PROFILE_UPDATED
from mercato.settings import get_settings

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


@subscribe(PROFILE_UPDATED)
async def push_after_edit(tenant_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """A pushed field changed: push after `MERCATO_GBP_PROFILE_PUSH_DELAY_S` (one push for
    a burst of edits)."""
    if not set(payload.get("fields", [])) & set(PUSHED_FIELDS):
        return
    async with get_database().tenant_session(tenant_id) as session:
        await queue_push(session, tenant_id, delay_s=get_settings().gbp_profile_push_delay_s)


@task(PUSH_TASK, queue=QUEUE, timeout_s=300)
async def push_business_profile(*, tenant_id: str) -> None:
    outcome = await push_profile(uuid.UUID(tenant_id))
    if outcome is not None:
        log.info(
            "gbp_profile_pushed",
            tenant_id=tenant_id,
            sent=outcome.sent,
            conflicts=outcome.conflicts,
            error=outcome.error,
        )
