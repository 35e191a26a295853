"""Writing imported events: replace a date range for a source, then store in chunks.

Re-importing a range is idempotent: the import first deletes that source's events in
the range (and their dedup keys), then stores what the source holds now, all in the
caller's transaction, so readers see the old data until the new data commits. Events
dated outside the range are counted and skipped, so a neighbouring import never owns them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.identity import tenant_facts
from mercato.modules.tracking.event_writer import store_rows
from mercato.modules.tracking.ingest import check_batch
from mercato.modules.tracking.partitions import DEFAULT_RETENTION_DAYS
from mercato.modules.tracking.validation import ClockWindow

CHUNK = 5_000
MAX_ERRORS_KEPT = 50


@dataclass
class ImportCounts:
    """What an import did; `errors` keeps the first few reasons, `rejected` counts all."""

    files: int = 0
    rows: int = 0
    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    outside_range: int = 0
    replaced: int = 0
    row_errors: int = 0  # source rows that could not be read or mapped
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def note_error(self, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(reason)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, the day after end 00:00 UTC)."""
    return (
        datetime.combine(start, time(), UTC),
        datetime.combine(end + timedelta(days=1), time(), UTC),
    )


async def retention_days(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """The tenant's `event_retention_days` setting (default two years)."""
    tenant = await tenant_facts(session, tenant_id)
    days = tenant.settings.get("event_retention_days") if tenant else None
    return int(days or DEFAULT_RETENTION_DAYS)


async def replace_range(
    session: AsyncSession, tenant_id: uuid.UUID, source: str, start: date, end: date
) -> int:
    """Delete the source's events dated within [start, end] and their keys; the count."""
    low, high = day_bounds(start, end)
    deleted = await session.scalar(
        text(
            "WITH gone AS ("
            "  DELETE FROM event WHERE tenant_id = :tenant AND source = :source"
            "  AND occurred_at >= :low AND occurred_at < :high RETURNING tenant_id, key"
            "), keys AS ("
            "  DELETE FROM event_key k USING gone g"
            "  WHERE k.tenant_id = g.tenant_id AND k.key = g.key"
            ") SELECT count(*) FROM gone"
        ),
        {"tenant": tenant_id, "source": source, "low": low, "high": high},
    )
    return int(deleted or 0)


class RangeWriter:
    """Stores a stream of event dicts for one source and date range, chunk by chunk."""

    def __init__(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        *,
        source: str,
        start: date,
        end: date,
        retention: int,
        counts: ImportCounts,
    ) -> None:
        self.session, self.tenant_id, self.source = session, tenant_id, source
        self.low, self.high = day_bounds(start, end)
        now = datetime.now(UTC)
        self.window = ClockWindow.around(now, max_past=timedelta(days=retention))
        self.counts = counts

    async def write(self, events: Iterable[dict[str, Any]]) -> None:
        iterator = iter(events)
        while chunk := list(islice(iterator, CHUNK)):
            await self._write_chunk(chunk)

    async def _write_chunk(self, chunk: list[dict[str, Any]]) -> None:
        rows, rejected = check_batch(chunk, self.window)
        self.counts.events += len(chunk)
        self.counts.rejected += len(rejected)
        for item in rejected[:5]:
            first = item["errors"][0]
            self.counts.note_error(
                f"event {chunk[item['index']].get('event_id', '?')}: "
                f"{first['field']}: {first['message']}"
            )
        inside = [row for row in rows if self.low <= row.occurred_at < self.high]
        self.counts.outside_range += len(rows) - len(inside)
        stored = await store_rows(self.session, self.tenant_id, inside, source=self.source)
        self.counts.accepted += len(stored)
        self.counts.duplicates += len(inside) - len(stored)
