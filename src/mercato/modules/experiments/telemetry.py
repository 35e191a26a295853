"""`mercato_experiments_running`: experiments running across all tenants (one number;
no tenant label, see kernel.metrics), read at scrape time through the owner's
`experiments_running_count()` since row-level security hides other tenants' rows."""

from __future__ import annotations

from sqlalchemy import text

from mercato.kernel.db import get_database
from mercato.kernel.metrics import GaugeSpec, Sample, scraped_gauges

RUNNING = "mercato_experiments_running"


async def _running() -> dict[str, list[Sample]]:
    async with get_database().session() as session:
        count = await session.scalar(text("SELECT experiments_running_count()"))
    return {RUNNING: [((), float(count or 0))]}


scraped_gauges(
    [GaugeSpec(RUNNING, "Experiments running across all tenants.")], _running, ttl_s=30.0
)
