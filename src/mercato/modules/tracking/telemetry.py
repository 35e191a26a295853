"""Prometheus metrics of event ingestion.

- `mercato_events_total{source, outcome}`: events offered for storage, by source (`api`,
  `ga4_file`, `bigquery`, `simulator`) and outcome (`accepted` stored, `duplicate`
  already known by its dedup key, `rejected` invalid). Throughput is `rate()` of
  `accepted`.
- `mercato_ga4_stale_tenants`: tenants whose GA4 imports stopped (read at scrape time
  through the owner's `ga4_stale_tenants`, since row-level security hides other
  tenants' import jobs).
"""

from __future__ import annotations

from prometheus_client import Counter
from sqlalchemy import text

from mercato.kernel.db import get_database
from mercato.kernel.metrics import GaugeSpec, Sample, scraped_gauges

EVENTS = Counter(
    "mercato_events_total",
    "Behavioural events offered for storage, by source and outcome.",
    ["source", "outcome"],
)


def count_events(source: str, *, accepted: int, duplicates: int, rejected: int) -> None:
    for outcome, count in (
        ("accepted", accepted),
        ("duplicate", duplicates),
        ("rejected", rejected),
    ):
        if count:
            EVENTS.labels(source, outcome).inc(count)


GA4_STALE = "mercato_ga4_stale_tenants"
GA4_STALE_AFTER = "24 hours"
GA4_ACTIVE_WITHIN = "30 days"


async def _ga4_stale() -> dict[str, list[Sample]]:
    async with get_database().session() as session:
        count = await session.scalar(
            text("SELECT ga4_stale_tenants(CAST(:stale AS interval), CAST(:active AS interval))"),
            {"stale": GA4_STALE_AFTER, "active": GA4_ACTIVE_WITHIN},
        )
    return {GA4_STALE: [((), float(count or 0))]}


scraped_gauges(
    [
        GaugeSpec(
            GA4_STALE,
            f"Active tenants that imported GA4 data within {GA4_ACTIVE_WITHIN} but not "
            f"within the last {GA4_STALE_AFTER}.",
        )
    ],
    _ga4_stale,
    ttl_s=60.0,
)
