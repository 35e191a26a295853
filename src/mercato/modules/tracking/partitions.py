"""Monthly partitions of `event`: create ahead, create on demand, drop by retention.

The application role owns no table, so it cannot create or drop partitions itself; two
SECURITY DEFINER functions installed by the migration do it for it:
`tracking_ensure_event_partition(month)` creates a missing month as a plain table and
ATTACHes it (ATTACH needs only a SHARE UPDATE EXCLUSIVE lock on `event`, so it never
blocks ingestion), and `tracking_drop_event_partition(month)` drops a month together
with its dedup keys.

Retention: each tenant keeps events for `settings.event_retention_days` (default 730).
A whole partition is dropped only when it ended before *every* tenant's cutoff and before
the API's 400-day window; otherwise the expired rows of a tenant are deleted. So a tenant
with a short retention never forces another tenant to lose data.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from mercato.kernel.logging import get_logger
from mercato.modules.identity import live_tenants

log = get_logger("mercato.tracking.partitions")

DEFAULT_RETENTION_DAYS = 730
MONTHS_AHEAD = 2
KNOWN_TTL_S = 300.0
API_WINDOW = timedelta(days=400)


def month_of(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"event_p{month.year:04d}_{month.month:02d}"


class _KnownMonths:
    """Months this process has seen a partition for; refreshed every few minutes."""

    def __init__(self) -> None:
        self.months: set[date] = set()
        self.loaded_at = 0.0

    def missing(self, months: Iterable[date]) -> set[date]:
        if time.monotonic() - self.loaded_at > KNOWN_TTL_S:
            self.months.clear()
            self.loaded_at = time.monotonic()
        return {m for m in months if m not in self.months}

    def forget(self) -> None:
        self.months.clear()


known_months = _KnownMonths()


async def ensure_partitions(engine: AsyncEngine, months: Iterable[date]) -> list[date]:
    """Create the partitions for `months` that do not exist yet; return those created.

    Runs in its own short transaction so the ingest transaction never holds DDL locks.
    """
    wanted = known_months.missing(months)
    if not wanted:
        return []
    created = []
    async with engine.begin() as connection:
        for month in sorted(wanted):
            made = await connection.scalar(
                text("SELECT tracking_ensure_event_partition(:month)"), {"month": month}
            )
            if made:
                created.append(month)
    known_months.months.update(wanted)
    if created:
        log.info("event_partitions_created", months=[m.isoformat() for m in created])
    return created


async def existing_partitions(engine: AsyncEngine) -> list[date]:
    """The months that have a partition, oldest first."""
    query = text(
        "SELECT c.relname FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'event'::regclass"
    )
    async with engine.connect() as connection:
        names = (await connection.scalars(query)).all()
    months = []
    for name in names:
        year, month = name.removeprefix("event_p").split("_")
        months.append(date(int(year), int(month), 1))
    return sorted(months)


async def create_ahead(engine: AsyncEngine, today: date | None = None) -> list[date]:
    """Make sure this month and the next `MONTHS_AHEAD` have partitions."""
    current = month_of(today or datetime.now(UTC).date())
    known_months.forget()
    return await ensure_partitions(
        engine, [add_months(current, n) for n in range(MONTHS_AHEAD + 1)]
    )


@dataclass(frozen=True)
class TenantRetention:
    tenant_id: uuid.UUID
    days: int

    def cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.days)


async def tenant_retentions() -> list[TenantRetention]:
    """Every live tenant's retention (tenant settings `event_retention_days`)."""
    return [
        TenantRetention(
            tenant.id, int(tenant.settings.get("event_retention_days") or DEFAULT_RETENTION_DAYS)
        )
        for tenant in await live_tenants()
    ]


def droppable_months(
    months: Iterable[date], retentions: Iterable[TenantRetention], now: datetime
) -> list[date]:
    """Months whose whole partition is past every tenant's cutoff and the API window."""
    cutoffs = [r.cutoff(now) for r in retentions]
    oldest_needed = min([*cutoffs, now - API_WINDOW])
    limit = oldest_needed.date()
    return [m for m in months if add_months(m, 1) <= limit]


async def drop_partitions(engine: AsyncEngine, months: Iterable[date]) -> list[date]:
    dropped = []
    async with engine.begin() as connection:
        for month in months:
            if await connection.scalar(
                text("SELECT tracking_drop_event_partition(:month)"), {"month": month}
            ):
                dropped.append(month)
    known_months.forget()
    if dropped:
        log.info("event_partitions_dropped", months=[m.isoformat() for m in dropped])
    return dropped


async def delete_expired_rows(session: AsyncSession, tenant_id: uuid.UUID, cutoff: datetime) -> int:
    """Delete one tenant's events (and their keys) older than `cutoff`; the count deleted."""
    deleted = await session.scalar(
        text(
            "WITH gone AS ("
            "  DELETE FROM event WHERE tenant_id = :tenant AND occurred_at < :cutoff"
            "  RETURNING tenant_id, key"
            "), keys AS ("
            "  DELETE FROM event_key k USING gone g"
            "  WHERE k.tenant_id = g.tenant_id AND k.key = g.key"
            ") SELECT count(*) FROM gone"
        ),
        {"tenant": tenant_id, "cutoff": cutoff},
    )
    return int(deleted or 0)
