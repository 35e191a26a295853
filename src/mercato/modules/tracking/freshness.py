"""Tell a merchant when their GA4 data stopped arriving.

A tenant that imports GA4 data (files or BigQuery) and whose newest completed import
finished more than `STALE_AFTER` ago, yet within `ACTIVE_WITHIN` (older means they
stopped importing on purpose), gets `tracking.ga4_stale` once per quiet spell: the
occurrence is the newest import, so the next alert needs a new import first. The hourly
job is in jobs.py; the platform-wide gauge for operators is `mercato_ga4_stale_tenants`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mercato.kernel.db import get_database
from mercato.kernel.events import emit
from mercato.kernel.tenant_runs import for_each_tenant
from mercato.modules.identity import active_tenant_ids
from mercato.modules.tracking.models import IngestJob

GA4_STALE = "tracking.ga4_stale"
GA4_SOURCES = ("ga4_file", "bigquery")
STALE_AFTER = timedelta(hours=24)
ACTIVE_WITHIN = timedelta(days=30)


async def alert_if_stale(tenant_id: uuid.UUID, now: datetime | None = None) -> bool:
    """Emit `tracking.ga4_stale` if the tenant's GA4 data is stale; returns whether it is."""
    now = now or datetime.now(UTC)
    async with get_database().tenant_session(tenant_id) as session:
        newest = (
            await session.execute(
                select(IngestJob.id, IngestJob.source, IngestJob.finished_at)
                .where(
                    IngestJob.tenant_id == tenant_id,
                    IngestJob.source.in_(GA4_SOURCES),
                    IngestJob.status == "completed",
                    IngestJob.finished_at.is_not(None),
                )
                .order_by(IngestJob.finished_at.desc())
                .limit(1)
            )
        ).first()
        job_id, source, finished_at = newest if newest is not None else (None, None, None)
        if finished_at is None:
            return False
        age = now - finished_at
        if not STALE_AFTER < age <= ACTIVE_WITHIN:
            return False
        hours = int(age.total_seconds() // 3600)
        await emit(
            session,
            tenant_id,
            GA4_STALE,
            {
                "id": str(job_id),
                "occurrence_id": f"ga4-stale:{job_id}",
                "source": source,
                "last_import_at": finished_at.isoformat(),
                "hours": hours,
                "summary": f"No GA4 data has been imported for {hours} hours",
            },
        )
        return True


async def alert_stale_tenants() -> int:
    """Check every active tenant (one failing stops no other); returns how many are stale."""
    stale = await for_each_tenant("ga4_freshness", await active_tenant_ids(), alert_if_stale)
    return sum(stale.values())
