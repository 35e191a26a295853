"""Read-side of tracking: event lists, a shopper's timeline, and data availability by day."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import ValidationFailed, field_error
from mercato.kernel.money import CENT
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal
from mercato.modules.tracking.models import Event
from mercato.modules.tracking.schemas import (
    Availability,
    AvailabilityDay,
    EventRead,
    Timeline,
    TimelineSession,
)

SESSION_GAP = timedelta(minutes=30)
MAX_AVAILABILITY_DAYS = 400
TIMELINE_MAX_EVENTS = 1000


def _money(amount: Decimal | None) -> Decimal | None:
    """Stored with 4 decimals; shown with 2 unless the amount needs more ("19.99")."""
    if amount is None:
        return None
    cents = amount.quantize(CENT)
    return cents if cents == amount else amount.normalize()


def _to_read(event: Event) -> EventRead:
    return EventRead(
        id=event.key.hex(),
        type=event.type,
        user_id=event.user_id,
        session_id=event.session_id,
        product_id=event.product_id,
        quantity=event.quantity,
        price=_money(event.price),
        revenue=_money(event.revenue),
        currency=event.currency,
        query=event.query,
        results_count=event.results_count,
        placement=event.placement,
        strategy=event.strategy,
        experiment_id=event.experiment_id,
        variant=event.variant,
        location_code=event.location_code,
        event_id=event.event_id,
        timestamp=event.occurred_at,
        source=event.source,
        properties=event.properties,
        received_at=event.received_at,
    )


def _position(cursor: dict[str, Any]) -> tuple[datetime, bytes]:
    return datetime.fromisoformat(cursor["t"]), bytes.fromhex(cursor["k"])


def _newest_first(
    query: Select[Event], cursor: str | None, start: datetime | None, end: datetime | None
) -> Select[Event]:
    if start is not None:
        query = query.where(Event.occurred_at >= start)
    if end is not None:
        query = query.where(Event.occurred_at < end)
    position = read_cursor(cursor, _position)
    if position is not None:
        query = query.where(
            tuple_(Event.occurred_at, Event.key)
            < tuple_(literal(position[0]), literal(position[1]))
        )
    return query.order_by(Event.occurred_at.desc(), Event.key.desc())


def _check_range(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise ValidationFailed(
            "`end` must be after `start`", errors=[field_error("end", "must be after start")]
        )


async def _page(
    session: AsyncSession, query: Select[Event], size: int
) -> tuple[list[Event], str | None]:
    rows = list((await session.scalars(query.limit(size + 1))).all())
    if len(rows) <= size:
        return rows, None
    last = rows[size - 1]
    return rows[:size], encode_cursor({"t": last.occurred_at.isoformat(), "k": last.key.hex()})


async def list_events(
    session: AsyncSession,
    principal: Principal,
    *,
    user_id: str | None = None,
    type: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[EventRead], str | None]:
    """Stored events, newest first, filtered by shopper, type and time range."""
    principal.require(Permission.EVENTS_READ)
    _check_range(start, end)
    query = select(Event).where(Event.tenant_id == principal.tenant_id)
    if user_id is not None:
        query = query.where(Event.user_id == user_id)
    if type is not None:
        query = query.where(Event.type == type)
    rows, next_cursor = await _page(
        session, _newest_first(query, cursor, start, end), clamp_limit(limit)
    )
    return [_to_read(row) for row in rows], next_cursor


def _sessions(events: list[Event]) -> list[TimelineSession]:
    """Group chronological events into sessions: by `session_id`, else by 30-minute gaps."""
    sessions: list[TimelineSession] = []
    open_by_id: dict[str | None, TimelineSession] = {}
    for event in events:
        current = open_by_id.get(event.session_id)
        anonymous_gap = (
            event.session_id is None
            and current is not None
            and event.occurred_at - current.ended_at > SESSION_GAP
        )
        if current is None or anonymous_gap:
            current = TimelineSession(
                session_id=event.session_id,
                started_at=event.occurred_at,
                ended_at=event.occurred_at,
                location_code=event.location_code,
                events=[],
            )
            open_by_id[event.session_id] = current
            sessions.append(current)
        current.events.append(_to_read(event))
        current.ended_at = event.occurred_at
        current.location_code = current.location_code or event.location_code
    return sorted(sessions, key=lambda s: s.ended_at, reverse=True)


async def user_timeline(
    session: AsyncSession,
    principal: Principal,
    user_id: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Timeline:
    """A shopper's sessions, newest first, each with its events in time order.

    Pages hold up to `limit` events (default 200); a session cut by a page boundary
    continues on the next page.
    """
    principal.require(Permission.EVENTS_READ)
    _check_range(start, end)
    size = min(limit or 200, TIMELINE_MAX_EVENTS)
    query = select(Event).where(Event.tenant_id == principal.tenant_id, Event.user_id == user_id)
    rows, next_cursor = await _page(session, _newest_first(query, cursor, start, end), size)
    return Timeline(user_id=user_id, sessions=_sessions(rows[::-1]), next_cursor=next_cursor)


async def availability(
    session: AsyncSession, principal: Principal, *, start: date | None, end: date | None
) -> Availability:
    """Per UTC day in [start, end] (default: the last 30 days): counts by type and source."""
    principal.require(Permission.EVENTS_READ)
    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=29)
    if end < start or (end - start).days >= MAX_AVAILABILITY_DAYS:
        raise ValidationFailed(
            f"`start`..`end` must be a range of 1 to {MAX_AVAILABILITY_DAYS} days",
            errors=[field_error("end", "not a valid range")],
        )
    day = func.date_trunc("day", Event.occurred_at, "UTC").label("day")
    query = (
        select(
            day,
            Event.type,
            Event.source,
            func.count(),
            func.min(Event.occurred_at),
            func.max(Event.occurred_at),
        )
        .where(
            Event.tenant_id == principal.tenant_id,
            Event.occurred_at >= datetime.combine(start, time(), UTC),
            Event.occurred_at < datetime.combine(end + timedelta(days=1), time(), UTC),
        )
        .group_by(day, Event.type, Event.source)
    )
    days: dict[date, dict[str, Any]] = defaultdict(
        lambda: {"by_type": defaultdict(int), "by_source": defaultdict(int), "events": 0}
    )
    for bucket, kind, source, count, first, last in await session.execute(query):
        entry = days[bucket.astimezone(UTC).date()]
        entry["events"] += count
        entry["by_type"][kind] += count
        entry["by_source"][source] += count
        entry["first_at"] = min(first, entry.get("first_at", first))
        entry["last_at"] = max(last, entry.get("last_at", last))
    return Availability(
        start=start,
        end=end,
        days=[
            AvailabilityDay(
                day=d,
                events=v["events"],
                by_type=dict(v["by_type"]),
                by_source=dict(v["by_source"]),
                first_at=v["first_at"],
                last_at=v["last_at"],
            )
            for d, v in sorted(days.items())
        ],
    )
