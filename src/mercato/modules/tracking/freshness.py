"""Keep GA4 data fresh, and tell a merchant when it stopped arriving.

A tenant with the BigQuery integration has yesterday's export table (`events_YYYYMMDD`)
imported by schedule (`schedule_daily_imports`, every three hours until the day is
complete; the import replaces the day, so a re-run changes nothing). `ga4_freshness` says
per day whether its data is complete (read by an import that finished after the day
ended), partial, pending, failed or missing.

A tenant that imports GA4 data (files or BigQuery) and whose newest completed import
finished more than `STALE_AFTER` ago, yet within `ACTIVE_WITHIN` (older means they
stopped importing on purpose), gets `tracking.ga4_stale` once per quiet spell: the
occurrence is the newest import, so the next alert needs a new import first. With the
daily schedule, that is a day whose import did not land. The jobs are in jobs.py; the
platform-wide gauge for operators is `mercato_ga4_stale_tenants`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import get_database
from mercato.kernel.events import emit
from mercato.kernel.tenant_runs import for_each_tenant
from mercato.modules.identity import active_tenant_ids
from mercato.modules.integrations import get_integration_config
from mercato.modules.tracking.imports import SCHEDULED_BY, queue_scheduled_import
from mercato.modules.tracking.models import IngestJob
from mercato.modules.tracking.schemas import Ga4DayFreshness, Ga4Freshness

GA4_STALE = "tracking.ga4_stale"
GA4_SOURCES = ("ga4_file", "bigquery")
STALE_AFTER = timedelta(hours=24)
ACTIVE_WITHIN = timedelta(days=30)


def stale_hours(finished_at: datetime | None, now: datetime) -> int | None:
    """Hours since the newest GA4 import when that makes the data stale, else None."""
    if finished_at is None:
        return None
    age = now - finished_at
    if not STALE_AFTER < age <= ACTIVE_WITHIN:
        return None
    return int(age.total_seconds() // 3600)


async def newest_import(
    session: AsyncSession, tenant_id: uuid.UUID
) -> tuple[uuid.UUID, str, datetime] | None:
    """(id, source, finished_at) of the tenant's newest completed GA4 import."""
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
    if newest is None or newest[2] is None:
        return None
    return newest[0], newest[1], newest[2]


async def alert_if_stale(tenant_id: uuid.UUID, now: datetime | None = None) -> bool:
    """Emit `tracking.ga4_stale` if the tenant's GA4 data is stale; returns whether it is."""
    now = now or datetime.now(UTC)
    async with get_database().tenant_session(tenant_id) as session:
        newest = await newest_import(session, tenant_id)
        if newest is None:
            return False
        job_id, source, finished_at = newest
        hours = stale_hours(finished_at, now)
        if hours is None:
            return False
        await emit(
            session,
            tenant_id,
            GA4_STALE,
            {
                "id": str(job_id),
                "occurrence_id": f"ga4-stale:{job_id}",
                "source": source,
                "last_import_at": finished_at.isoformat(),
                "newest_complete_day": _iso(await newest_complete_day(session, tenant_id)),
                "hours": hours,
                "summary": f"No GA4 data has been imported for {hours} hours",
            },
        )
        return True


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


async def alert_stale_tenants() -> int:
    """Check every active tenant (one failing stops no other); returns how many are stale."""
    stale = await for_each_tenant("ga4_freshness", await active_tenant_ids(), alert_if_stale)
    return sum(stale.values())


# What a day's status is, from the newest import that covered it (a completed one first:
# a later failed re-import left its data as it was).
DAY_STATUSES = text(
    """
    SELECT d::date AS day, j.id, j.status, j.finished_at, j.error, j.requested_by
      FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') d
      LEFT JOIN LATERAL (
        SELECT id, status, finished_at, error, requested_by FROM ingest_job
         WHERE tenant_id = :tenant AND source IN ('ga4_file', 'bigquery')
           AND start <= d::date AND "end" >= d::date
         ORDER BY (status = 'completed') DESC, created_at DESC
         LIMIT 1
      ) j ON true
     ORDER BY day DESC
    """
)
NEWEST_COMPLETE_DAY = text(
    """
    SELECT max(LEAST("end", (finished_at AT TIME ZONE 'UTC')::date - 1)) FROM ingest_job
     WHERE tenant_id = :tenant AND source IN ('ga4_file', 'bigquery') AND status = 'completed'
       AND finished_at IS NOT NULL AND start <= (finished_at AT TIME ZONE 'UTC')::date - 1
    """
)


async def newest_complete_day(session: AsyncSession, tenant_id: uuid.UUID) -> date | None:
    """The newest day a completed import read after the day had ended (UTC)."""
    day: date | None = await session.scalar(NEWEST_COMPLETE_DAY, {"tenant": tenant_id})
    return day


def _day_status(status: str | None, finished_at: datetime | None, day: date) -> str:
    if status is None:
        return "missing"
    if status == "completed":
        return "complete" if finished_at and finished_at.astimezone(UTC).date() > day else "partial"
    return "pending" if status in ("queued", "running") else "failed"


async def ga4_freshness(
    session: AsyncSession, tenant_id: uuid.UUID, *, days: int, now: datetime | None = None
) -> Ga4Freshness:
    """Per day of the last `days` (yesterday first) whether its GA4 data is complete, the
    newest complete day, and whether the data is stale (as the alert decides)."""
    now = now or datetime.now(UTC)
    last = now.date() - timedelta(days=1)
    rows = await session.execute(
        DAY_STATUSES, {"tenant": tenant_id, "first": last - timedelta(days=days - 1), "last": last}
    )
    newest = await newest_import(session, tenant_id)
    last_import_at = newest[2] if newest else None
    return Ga4Freshness(
        newest_complete_day=await newest_complete_day(session, tenant_id),
        last_import_at=last_import_at,
        stale_hours=stale_hours(last_import_at, now),
        scheduled=await get_integration_config(session, tenant_id, "bigquery") is not None,
        days=[
            Ga4DayFreshness(
                day=row.day,
                status=_day_status(row.status, row.finished_at, row.day),
                job_id=row.id,
                finished_at=row.finished_at,
                error=row.error if row.status == "failed" else None,
                scheduled=row.requested_by == SCHEDULED_BY,
            )
            for row in rows
        ],
    )


async def schedule_yesterday(tenant_id: uuid.UUID, now: datetime | None = None) -> bool:
    """Queue the BigQuery import of yesterday (UTC) for a tenant with the integration,
    unless yesterday is complete or an import of it is waiting; True when queued."""
    now = now or datetime.now(UTC)
    yesterday = now.date() - timedelta(days=1)
    async with get_database().tenant_session(tenant_id) as session:
        if await get_integration_config(session, tenant_id, "bigquery") is None:
            return False
        [row] = (
            await session.execute(
                DAY_STATUSES, {"tenant": tenant_id, "first": yesterday, "last": yesterday}
            )
        ).all()
        if _day_status(row.status, row.finished_at, yesterday) in ("complete", "pending"):
            return False
        await queue_scheduled_import(session, tenant_id, yesterday)
        return True


async def schedule_daily_imports(now: datetime | None = None) -> int:
    """For every active tenant (one failing stops no other); returns how many were queued."""

    async def schedule(tenant_id: uuid.UUID) -> bool:
        return await schedule_yesterday(tenant_id, now)

    queued = await for_each_tenant("ga4_daily_import", await active_tenant_ids(), schedule)
    return sum(queued.values())
