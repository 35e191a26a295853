"""Analytics answers: overview, time series, top products, funnel, locations, placements, CSV.

Ranges are local days of the tenant (inclusive), at most two years, `end >= start`
(otherwise 422). Answers are cached in Redis per tenant, keyed by the rollup version, so a
new rollup run or rebuild makes every cached answer stale at once; answers whose range
reaches past the watermark (they include live raw events) are cached for a minute at most,
so dashboards stay fresh within a minute. The rollup job warms the default dashboard
answers after each run (`jobs.warm_dashboard`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import ValidationFailed, field_error
from mercato.kernel.permissions import Permission
from mercato.kernel.redis import get_redis, tenant_key
from mercato.kernel.security import TenantPrincipal
from mercato.kernel.spreadsheet import SpreadsheetWriter
from mercato.modules.analytics import queries
from mercato.modules.analytics.models import RollupState
from mercato.modules.analytics.queries import Facts, Window
from mercato.modules.analytics.rollup import EPOCH
from mercato.modules.analytics.schemas import (
    Funnel,
    FunnelMode,
    FunnelStep,
    Granularity,
    Kpis,
    LocationKpis,
    LocationStats,
    Metric,
    Overview,
    PeriodRange,
    Placement,
    Placements,
    Point,
    Timeseries,
    TopProduct,
    TopProducts,
    TopProductsBy,
)
from mercato.modules.analytics.tenant_zone import tenant_timezone
from mercato.modules.identity import tenant_formats
from mercato.modules.locations import list_locations
from mercato.settings import get_settings

MAX_RANGE_DAYS = 731
MIN_DAY, MAX_DAY = date(1970, 1, 2), date(2199, 12, 30)
DEFAULT_RANGE_DAYS = 30
LIVE_TTL_S = 60  # the rollup job runs every minute and bumps the version anyway
M = TypeVar("M", bound=BaseModel)


async def resolve_window(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    start: date | None,
    end: date | None,
    *,
    location: str | None = None,
    now: datetime | None = None,
) -> tuple[Window, int]:
    """The validated range as a `Window`, and the rollup version it was read at."""
    zone = await tenant_timezone(session, tenant_id)
    tz = ZoneInfo(zone)
    today = (now or datetime.now(UTC)).astimezone(tz).date()
    end = end or today
    start = start or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    for name, value in (("start", start), ("end", end)):
        if not MIN_DAY <= value <= MAX_DAY:
            raise ValidationFailed(
                f"`{name}` is outside the dates analytics covers",
                errors=[field_error(name, f"must be between {MIN_DAY} and {MAX_DAY}")],
            )
    if end < start:
        raise ValidationFailed(
            "`end` is before `start`", errors=[field_error("end", "must be on or after start")]
        )
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed(
            "The range is longer than two years",
            errors=[field_error("start", f"the range may span at most {MAX_RANGE_DAYS} days")],
        )
    state = await session.get(RollupState, tenant_id)
    rolled_until = state.rolled_until if state is not None else EPOCH
    lo = datetime.combine(start, time(), tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), tz).astimezone(UTC)
    tail_from = min(max(rolled_until, lo), hi)
    window = Window(tenant_id, zone, start, end, tail_from, hi, location, range_from=lo)
    return window, (state.version if state is not None else 0)


async def _cached(
    window: Window,
    version: int,
    kind: str,
    extra: dict[str, Any],
    model: type[M],
    compute: Callable[[], Awaitable[M]],
) -> M:
    ttl = get_settings().analytics_cache_ttl_s
    if ttl <= 0:
        return await compute()
    if window.tail_from < window.tail_to:
        ttl = min(ttl, LIVE_TTL_S)
    fingerprint = json.dumps(
        [window.zone, str(window.start), str(window.end), window.location, extra], default=str
    )
    key = tenant_key(
        window.tenant_id,
        "analytics",
        kind,
        version,
        hashlib.blake2b(fingerprint.encode(), digest_size=12).hexdigest(),
    )
    try:
        raw = await get_redis().get(key)
        if raw is not None:
            return model.model_validate_json(raw)
    except RedisError:
        return await compute()
    answer = await compute()
    with contextlib.suppress(RedisError):
        await get_redis().set(key, answer.model_dump_json(), ex=ttl)
    return answer


def kpis(facts: Facts) -> dict[str, Any]:
    return {
        "sessions": facts.sessions,
        "users": facts.users,
        "product_views": facts.product_views,
        "add_to_carts": facts.add_to_carts,
        "purchases": facts.purchases,
        "revenue": facts.revenue,
        "conversion_rate": facts.conversion_rate,
        "average_order_value": facts.average_order_value,
        "begin_checkouts": facts.begin_checkouts,
        "units": facts.units,
    }


def _change(current: Kpis, previous: Kpis) -> dict[str, float | None]:
    changes: dict[str, float | None] = {}
    for name in Metric:
        now, before = getattr(current, name.value), getattr(previous, name.value)
        changes[name.value] = float((now - before) / before) if before else None
    return changes


async def _whole(session: AsyncSession, window: Window) -> Facts:
    return (await queries.facts_by(session, window, "all")).get(window.start, Facts())


async def overview(
    session: AsyncSession,
    principal: TenantPrincipal,
    *,
    start: date | None,
    end: date | None,
    location: str | None = None,
    compare: bool = False,
) -> Overview:
    """The KPIs of a range (and of the period before it, with `compare`)."""
    principal.require(Permission.ANALYTICS_READ)
    window, version = await resolve_window(
        session, principal.tenant_id, start, end, location=location
    )

    async def compute() -> Overview:
        current = Kpis(**kpis(await _whole(session, window)))
        answer = Overview(
            **current.model_dump(),
            range=PeriodRange(start=window.start, end=window.end),
            location=location,
        )
        if compare:
            length = (window.end - window.start).days + 1
            earlier, _ = await resolve_window(
                session,
                principal.tenant_id,
                window.start - timedelta(days=length),
                window.start - timedelta(days=1),
                location=location,
            )
            previous = Kpis(**kpis(await _whole(session, earlier)))
            answer.previous = previous
            answer.previous_range = PeriodRange(start=earlier.start, end=earlier.end)
            answer.change = _change(current, previous)
        return answer

    return await _cached(window, version, "overview", {"compare": compare}, Overview, compute)


def bucket_starts(start: date, end: date, granularity: Granularity) -> list[date]:
    """The first day of every bucket that overlaps the range (weeks start on Monday)."""
    if granularity is Granularity.day:
        first = start
    elif granularity is Granularity.week:
        first = start - timedelta(days=start.weekday())
    else:
        first = start.replace(day=1)
    starts = []
    current = first
    while current <= end:
        starts.append(current)
        if granularity is Granularity.day:
            current += timedelta(days=1)
        elif granularity is Granularity.week:
            current += timedelta(days=7)
        else:
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


# The parts of the facts query each metric needs (a revenue series never counts sessions).
METRIC_PARTS: dict[Metric, tuple[str, ...]] = {
    Metric.sessions: ("visits",),
    Metric.users: ("visits",),
    Metric.conversion_rate: ("visits",),
    Metric.product_views: ("counts",),
    Metric.add_to_carts: ("counts",),
    Metric.revenue: ("counts",),
    Metric.purchases: ("orders",),
    Metric.average_order_value: ("counts", "orders"),
}


def metric_value(facts: Facts, metric: Metric) -> float | Decimal | int:
    value: float | Decimal | int = kpis(facts)[metric.value]
    return value


async def timeseries(
    session: AsyncSession,
    principal: TenantPrincipal,
    *,
    metric: Metric,
    start: date | None,
    end: date | None,
    granularity: Granularity,
    location: str | None = None,
) -> Timeseries:
    """One metric per day, week or month (local calendar); empty buckets are zero."""
    principal.require(Permission.ANALYTICS_READ)
    window, version = await resolve_window(
        session, principal.tenant_id, start, end, location=location
    )

    async def compute() -> Timeseries:
        found = await queries.facts_by(session, window, granularity.value, METRIC_PARTS[metric])
        points = [
            Point(t=t, value=metric_value(found.get(t, Facts()), metric))
            for t in bucket_starts(window.start, window.end, granularity)
        ]
        return Timeseries(
            metric=metric,
            granularity=granularity,
            range=PeriodRange(start=window.start, end=window.end),
            points=points,
        )

    extra = {"metric": metric.value, "granularity": granularity.value}
    return await _cached(window, version, "timeseries", extra, Timeseries, compute)


async def top_products(
    session: AsyncSession,
    principal: TenantPrincipal,
    *,
    start: date | None,
    end: date | None,
    by: TopProductsBy,
    limit: int,
    location: str | None = None,
) -> TopProducts:
    """The best products of the range by revenue, units, views or conversion."""
    principal.require(Permission.ANALYTICS_READ)
    window, version = await resolve_window(
        session, principal.tenant_id, start, end, location=location
    )

    async def compute() -> TopProducts:
        rows = await queries.top_products(session, window, by=by.value, limit=limit)
        return TopProducts(
            by=by,
            range=PeriodRange(start=window.start, end=window.end),
            data=[TopProduct(**row) for row in rows],
        )

    extra = {"by": by.value, "limit": limit}
    return await _cached(window, version, "top", extra, TopProducts, compute)


FUNNEL_STEPS = ("view_item", "add_to_cart", "begin_checkout", "purchase")


async def funnel(
    session: AsyncSession,
    principal: TenantPrincipal,
    *,
    start: date | None,
    end: date | None,
    location: str | None = None,
    mode: FunnelMode = FunnelMode.closed,
) -> Funnel:
    """Sessions reaching view → add to cart → begin checkout → purchase.

    `closed` (the default): a step counts the sessions that did it and every step before
    it, each at or after the previous one's first time in the session, so the counts never
    grow from one step to the next. `open`: each step counts the sessions that did it.
    """
    principal.require(Permission.ANALYTICS_READ)
    window, version = await resolve_window(
        session, principal.tenant_id, start, end, location=location
    )

    async def compute() -> Funnel:
        if mode is FunnelMode.closed:
            sessions, counts = await queries.closed_funnel(session, window)
        else:
            facts = (await queries.facts_by(session, window, "all", ("visits",))).get(
                window.start, Facts()
            )
            sessions = facts.sessions
            counts = [
                facts.sessions_viewing,
                facts.sessions_adding,
                facts.sessions_checking_out,
                facts.sessions_purchasing,
            ]
        steps = []
        for index, (name, count) in enumerate(zip(FUNNEL_STEPS, counts, strict=True)):
            previous = counts[index - 1] if index else count
            steps.append(
                FunnelStep(
                    step=name,
                    sessions=count,
                    rate_from_previous=count / previous if previous else 0.0,
                    rate_from_start=count / counts[0] if counts[0] else 0.0,
                )
            )
        return Funnel(
            range=PeriodRange(start=window.start, end=window.end),
            sessions=sessions,
            steps=steps,
            mode=mode,
        )

    return await _cached(window, version, "funnel", {"mode": mode.value}, Funnel, compute)


async def location_stats(
    session: AsyncSession, principal: TenantPrincipal, *, start: date | None, end: date | None
) -> LocationStats:
    """KPIs of every location in one answer (active locations without data show zeros)."""
    principal.require(Permission.ANALYTICS_READ)
    window, version = await resolve_window(session, principal.tenant_id, start, end)

    async def compute() -> LocationStats:
        found = await queries.facts_by(session, window, "location")
        names = {loc.code: loc.name for loc in await list_locations(session)}
        codes = sorted(set(found) | set(names))
        return LocationStats(
            range=PeriodRange(start=window.start, end=window.end),
            data=[
                LocationKpis(
                    location_code=code, name=names.get(code), **kpis(found.get(code, Facts()))
                )
                for code in codes
            ],
        )

    return await _cached(window, version, "locations", {}, LocationStats, compute)


async def placements(
    session: AsyncSession, principal: TenantPrincipal, *, start: date | None, end: date | None
) -> Placements:
    """Personalization per placement x strategy x variant (rolled-up days only)."""
    principal.require(Permission.ANALYTICS_READ)
    window, _ = await resolve_window(session, principal.tenant_id, start, end)
    rows = await queries.placement_performance(session, window)
    return Placements(
        range=PeriodRange(start=window.start, end=window.end),
        data=[
            Placement(**row, ctr=row["clicks"] / row["impressions"] if row["impressions"] else 0.0)
            for row in rows
        ],
    )


EXPORT_COLUMNS = (
    "day",
    "location_code",
    "sessions",
    "users",
    "page_views",
    "product_views",
    "searches",
    "add_to_carts",
    "begin_checkouts",
    "purchases",
    "units",
    "revenue",
    "conversion_rate",
    "average_order_value",
    "currency",
    "revenue_formatted",
    "average_order_value_formatted",
)
"""The numeric columns stay plain (`1234.50`, what a program or a spreadsheet's import
reads the same everywhere); the tenant's currency and the two amounts as its locale
writes them (`1.234,50 €`) come last, for people reading the file."""


async def export_csv(
    session: AsyncSession, principal: TenantPrincipal, *, start: date | None, end: date | None
) -> str:
    """One CSV row per local day and location ('' = events without a location)."""
    principal.require(Permission.ANALYTICS_READ)
    window, _ = await resolve_window(session, principal.tenant_id, start, end)
    formats = await tenant_formats(session, principal.tenant_id)
    found = await queries.facts_by(session, window, "day_location")
    out = io.StringIO()
    writer = SpreadsheetWriter(out)
    writer.writerow(EXPORT_COLUMNS)
    for group in sorted(found):
        day, location = str(group).split("|", 1)
        f = found[group]
        writer.writerow(
            [
                day,
                location,
                f.sessions,
                f.users,
                f.page_views,
                f.product_views,
                f.searches,
                f.add_to_carts,
                f.begin_checkouts,
                f.purchases,
                f.units,
                f.revenue,
                f"{f.conversion_rate:.6f}",
                f.average_order_value,
                formats.currency,
                formats.money(f.revenue),
                formats.money(f.average_order_value),
            ]
        )
    return out.getvalue()
