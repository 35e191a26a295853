"""Event ingestion: the only way behavioural events enter Mercato.

The hot path avoids the ORM: events are checked in Python (`validation`), then one SQL
statement, sent on the request's own connection (`event_writer`), inserts the new dedup
keys (`ON CONFLICT DO NOTHING`, in key order so two concurrent batches never deadlock) and
stores exactly the events whose key was new. The caller's unit of work commits; a 202
therefore means the rows are in PostgreSQL. Real-time counters are bumped after that commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import after_commit, get_database
from mercato.kernel.errors import ServiceUnavailable
from mercato.kernel.security import Principal
from mercato.modules.tracking import counters
from mercato.modules.tracking.event_writer import write_rows
from mercato.modules.tracking.partitions import ensure_partitions, known_months, month_of
from mercato.modules.tracking.validation import (
    MAX_PAST,
    ClockWindow,
    EventRow,
    check_event,
    collector_paused,
    may_hold_nul,
    parse_batch_body,
    parse_events,
)

SOURCES = ("api", "ga4_file", "bigquery", "simulator")


@dataclass
class IngestOutcome:
    """What happened to a batch: stored, already known, or rejected (with reasons)."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def check_batch(
    events: Sequence[Any], window: ClockWindow, *, nul_free: bool = False
) -> tuple[list[EventRow], list[dict[str, Any]]]:
    """Accepted rows and `{"index", "errors"}` for each rejected event.

    Well-formed batches (the usual case) are typed in one pass; otherwise event by event.
    """
    rows: list[EventRow] = []
    rejected: list[dict[str, Any]] = []
    with collector_paused():
        typed: Sequence[Any] = parse_events(events) or events
        for index, raw in enumerate(typed):
            row, errors = check_event(raw, window, nul_free=nul_free)
            if row is None:
                rejected.append({"index": index, "errors": errors})
            else:
                rows.append(row)
    return rows, rejected


async def store_rows(
    session: AsyncSession, tenant_id: uuid.UUID, rows: Sequence[EventRow], *, source: str
) -> list[EventRow]:
    """Store rows whose key is new for the tenant; return those stored.

    The session must be scoped to `tenant_id`. Duplicate keys inside `rows` keep the first.
    """
    unique: dict[bytes, EventRow] = {}
    for row in rows:
        unique.setdefault(row.key, row)
    if not unique:
        return []
    await ensure_partitions(
        get_database().engine, {month_of(r.occurred_at) for r in unique.values()}
    )
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    try:
        stored_keys = await write_rows(
            driver, session.info, tenant_id, list(unique.values()), source
        )
    except psycopg.errors.CheckViolation as exc:
        # A partition this process believed in was dropped meanwhile: the retry recreates it.
        known_months.forget()
        raise ServiceUnavailable(
            "The event store was reorganised during the request; retry",
            headers={"Retry-After": "1"},
        ) from exc
    return [row for key, row in unique.items() if key in stored_keys]


async def store_events(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    events: Sequence[Any],
    *,
    source: str = "api",
    now: datetime | None = None,
    max_past: timedelta = MAX_PAST,
    realtime: bool = True,
) -> IngestOutcome:
    """Check and store events for a tenant (system callers: jobs, imports, the simulator).

    `max_past` widens the window for imports of history; `realtime=False` leaves the
    live counters alone. Rejected events are reported, never raised.
    """
    window = ClockWindow.around(now or datetime.now(UTC), max_past=max_past)
    rows, rejected = check_batch(events, window)
    return await _store_checked(
        session, tenant_id, rows, rejected, source=source, realtime=realtime
    )


async def _store_checked(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    rows: list[EventRow],
    rejected: list[dict[str, Any]],
    *,
    source: str,
    realtime: bool,
) -> IngestOutcome:
    stored = await store_rows(session, tenant_id, rows, source=source)
    if realtime and stored:

        async def bump_counters() -> None:
            await counters.bump(tenant_id, stored)

        after_commit(session, bump_counters)
    return IngestOutcome(
        accepted=len(stored), duplicates=len(rows) - len(stored), rejected=rejected
    )


async def record_events(
    session: AsyncSession, principal: Principal, events: Sequence[Any]
) -> IngestOutcome:
    """Events sent to the API by a key or a staff member with `events:write`."""
    principal.require("events:write")
    assert principal.tenant_id is not None
    return await store_events(session, principal.tenant_id, events, source="api")


async def record_batch(session: AsyncSession, principal: Principal, body: bytes) -> IngestOutcome:
    """A `{"events": [...]}` body sent to the API, typed and checked straight from the bytes.

    The typed events are dropped before the rows are stored: only the rows live on while
    the request waits for PostgreSQL, so the garbage collector has little to scan.
    """
    window = ClockWindow.around(datetime.now(UTC))
    with collector_paused():
        rows, rejected = check_batch(
            parse_batch_body(body), window, nul_free=not may_hold_nul(body)
        )
    principal.require("events:write")
    assert principal.tenant_id is not None
    return await _store_checked(
        session, principal.tenant_id, rows, rejected, source="api", realtime=True
    )
