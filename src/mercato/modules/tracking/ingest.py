"""Event ingestion: the only way behavioural events enter Mercato.

The hot path avoids the ORM: events are checked in Python (`validation`), then one SQL
statement (`event_writer`) inserts the new dedup keys (`ON CONFLICT DO NOTHING`, in key
order so two concurrent batches never deadlock) and stores exactly the events whose key
was new. Events sent to the API are stored by the process's group commit
(`group_commit`), which concurrent requests share; each request awaits the commit that
holds its events, so a 202 means the rows are in PostgreSQL. System callers (imports,
jobs, the simulator) store within their own unit of work. Real-time counters are bumped
and listeners (`listeners`) told after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import after_commit
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.tracking import counters
from mercato.modules.tracking.event_writer import store_rows
from mercato.modules.tracking.group_commit import group_commit
from mercato.modules.tracking.listeners import notify_stored
from mercato.modules.tracking.telemetry import count_events
from mercato.modules.tracking.validation import (
    MAX_PAST,
    ClockWindow,
    EventRow,
    check_event,
    collector_paused,
    may_hold_nul,
    parse_batch_body,
    parse_events,
    parse_typed_batch,
    plain_row,
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

        async def live_updates() -> None:
            await counters.bump(tenant_id, stored)
            await notify_stored({tenant_id: stored})

        after_commit(session, live_updates)
    outcome = IngestOutcome(
        accepted=len(stored), duplicates=len(rows) - len(stored), rejected=rejected
    )

    async def count() -> None:
        count_events(
            source,
            accepted=outcome.accepted,
            duplicates=outcome.duplicates,
            rejected=len(rejected),
        )

    after_commit(session, count)
    return outcome


async def record_events(
    session: AsyncSession, principal: TenantPrincipal, events: Sequence[Any]
) -> IngestOutcome:
    """Events sent to the API by a key or a staff member with `events:write`.

    The events are stored by the group commit, not in `session`: the request's own
    transaction (authentication may have read PostgreSQL) ends first, so no request
    holds a pooled connection while it waits for its commit.
    """
    principal.require(Permission.EVENTS_WRITE)
    rows, rejected = check_batch(events, ClockWindow.around(datetime.now(UTC)))
    await session.commit()
    return await commit_rows(principal.tenant_id, rows, rejected)


async def record_batch(
    session: AsyncSession, principal: TenantPrincipal, body: bytes
) -> IngestOutcome:
    """A `{"events": [...]}` body sent to the API (see `check_batch_body`, `record_events`)."""
    rows, rejected = check_batch_body(body)
    principal.require(Permission.EVENTS_WRITE)
    await session.commit()
    return await commit_rows(principal.tenant_id, rows, rejected)


def check_batch_body(body: bytes) -> tuple[list[EventRow], list[dict[str, Any]]]:
    """A batch body checked straight from the bytes (422 if not a batch at all).

    A batch of well-typed events (the usual case) is typed in one pass into dicts, each
    of which becomes a row in a few comparisons (`plain_row`). A batch holding an event
    that is malformed, or that a rule refuses, is checked event by event (`check_batch`),
    which words each rejection. The parsed events are dropped before the rows are stored:
    only the rows live on while the request waits for PostgreSQL, so the garbage
    collector has little to scan.
    """
    window = ClockWindow.around(datetime.now(UTC))
    with collector_paused():  # the parsed events are gone before it resumes
        return _check_body(body, window, nul_free=not may_hold_nul(body))


def _check_body(
    body: bytes, window: ClockWindow, *, nul_free: bool
) -> tuple[list[EventRow], list[dict[str, Any]]]:
    typed = parse_typed_batch(body)
    if typed is None:
        return check_batch(parse_batch_body(body), window, nul_free=nul_free)
    if nul_free:
        plain = [plain_row(fields, window) for fields in typed]
        rows = [row for row in plain if row is not None]
        if len(rows) == len(plain):
            return rows, []
    return check_batch(typed, window, nul_free=nul_free)


async def commit_rows(
    tenant_id: uuid.UUID, rows: list[EventRow], rejected: list[dict[str, Any]]
) -> IngestOutcome:
    """Store checked API rows in the next group commit; returns once it has committed."""
    accepted, duplicates = await group_commit().store(tenant_id, rows) if rows else (0, 0)
    count_events("api", accepted=accepted, duplicates=duplicates, rejected=len(rejected))
    return IngestOutcome(accepted=accepted, duplicates=duplicates, rejected=rejected)
