"""Keep the rollup tables up to date from the event log.

Incremental runs: each run adds the events with `rolled_until <= occurred_at < now - lag`
to the rollups with `INSERT … ON CONFLICT DO UPDATE` (counts add up, session steps OR
together) and moves `rolled_until` forward in the same transaction, so every event is
counted exactly once. Runs for one tenant take a transaction-level advisory lock: a second
run waits, then sees the moved watermark and only adds what is new. Session rows keep the
first time of each funnel step (the `least` of the runs' times), so the closed funnel can
check the order of a session's steps at read time, across its rows and the raw tail.

The window follows `occurred_at` because the event table is partitioned and keyed by it
(no index on arrival time); the lag keeps events whose transactions are still committing
from falling behind the watermark. Events that arrive later than that with an old
timestamp (imports, back-filled API calls) are handled by rebuilding their days:
imports call `rebuild_days` through the `tracking.events_replaced` domain event, and the
nightly job rebuilds the last two days.

Days are local to the tenant's time zone; when that changes, the tenant's rollups are
rebuilt from scratch on the next run.

`analytics_reach_day` (distinct visitors by previous day seen, see `models.ReachDay`) is
derived from the session and order rollups: after a run or a rebuild, every day from the
earliest one it touched is recounted (`recount_reach`). An incremental run touches today
(and yesterday around midnight), so it recounts a day's worth of sessions.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.analytics.models import RollupState
from mercato.modules.analytics.tenant_zone import tenant_timezone

ROLLUP_LOCK_CLASS = 727_274_090
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ROLLUP_TABLES = (
    "analytics_day_total",
    "analytics_product_day",
    "analytics_session_day",
    "analytics_order_day",
    "analytics_placement_day",
    "analytics_reach_day",
)

# Bits of `analytics_session_day.steps`, the funnel in order.
FUNNEL_BITS = {"view_item": 1, "add_to_cart": 2, "begin_checkout": 4, "purchase": 8}

_WINDOW = """
    FROM tracking_events
    WHERE tenant_id = :tid AND occurred_at >= :lo AND occurred_at < :hi
"""
_DAY = "(occurred_at AT TIME ZONE :tz)::date"
_LOC = "coalesce(location_code, '')"
_PURCHASE_REVENUE = "coalesce(sum(revenue) FILTER (WHERE type = 'purchase'), 0)"
_PURCHASE_UNITS = "coalesce(sum(coalesce(quantity, 1)) FILTER (WHERE type = 'purchase'), 0)"

_ROLL_TOTALS = f"""
INSERT INTO analytics_day_total AS t (tenant_id, day, location_code, page_views, product_views,
    searches, add_to_carts, begin_checkouts, purchases, units, revenue, impressions, clicks)
SELECT :tid, {_DAY}, {_LOC},
    count(*) FILTER (WHERE type = 'page_view'),
    count(*) FILTER (WHERE type = 'view_item'),
    count(*) FILTER (WHERE type = 'search'),
    count(*) FILTER (WHERE type = 'add_to_cart'),
    count(*) FILTER (WHERE type = 'begin_checkout'),
    count(*) FILTER (WHERE type = 'purchase'),
    {_PURCHASE_UNITS}, {_PURCHASE_REVENUE},
    count(*) FILTER (WHERE type = 'impression'),
    count(*) FILTER (WHERE type = 'click')
{_WINDOW}
GROUP BY 2, 3
ON CONFLICT (tenant_id, day, location_code) DO UPDATE SET
    page_views = t.page_views + EXCLUDED.page_views,
    product_views = t.product_views + EXCLUDED.product_views,
    searches = t.searches + EXCLUDED.searches,
    add_to_carts = t.add_to_carts + EXCLUDED.add_to_carts,
    begin_checkouts = t.begin_checkouts + EXCLUDED.begin_checkouts,
    purchases = t.purchases + EXCLUDED.purchases,
    units = t.units + EXCLUDED.units,
    revenue = t.revenue + EXCLUDED.revenue,
    impressions = t.impressions + EXCLUDED.impressions,
    clicks = t.clicks + EXCLUDED.clicks
"""

_ROLL_PRODUCTS = f"""
INSERT INTO analytics_product_day AS t (tenant_id, day, location_code, product_id, views,
    add_to_carts, begin_checkouts, purchases, units, revenue)
SELECT :tid, {_DAY}, {_LOC}, product_id,
    count(*) FILTER (WHERE type = 'view_item'),
    count(*) FILTER (WHERE type = 'add_to_cart'),
    count(*) FILTER (WHERE type = 'begin_checkout'),
    count(*) FILTER (WHERE type = 'purchase'),
    {_PURCHASE_UNITS}, {_PURCHASE_REVENUE}
{_WINDOW} AND product_id IS NOT NULL
    AND type IN ('view_item', 'add_to_cart', 'begin_checkout', 'purchase')
GROUP BY 2, 3, 4
ON CONFLICT (tenant_id, day, location_code, product_id) DO UPDATE SET
    views = t.views + EXCLUDED.views,
    add_to_carts = t.add_to_carts + EXCLUDED.add_to_carts,
    begin_checkouts = t.begin_checkouts + EXCLUDED.begin_checkouts,
    purchases = t.purchases + EXCLUDED.purchases,
    units = t.units + EXCLUDED.units,
    revenue = t.revenue + EXCLUDED.revenue
"""

SESSION_KEY = "coalesce(session_id, 'u:' || user_id || ':' || (occurred_at AT TIME ZONE :tz)::date)"
STEP_BITS = (
    "CASE type WHEN 'view_item' THEN 1 WHEN 'add_to_cart' THEN 2 "
    "WHEN 'begin_checkout' THEN 4 WHEN 'purchase' THEN 8 ELSE 0 END"
)

# Columns of `analytics_session_day` with the first time of each funnel step, in order.
FIRST_STEP_AT = {
    "view_item": "first_view_at",
    "add_to_cart": "first_cart_at",
    "begin_checkout": "first_checkout_at",
    "purchase": "first_purchase_at",
}
# Each event's time as the first time of its step (NULL in the other steps' columns).
STEP_TIMES = ", ".join(
    f"CASE WHEN type = '{step}' THEN occurred_at END AS {column}"
    for step, column in FIRST_STEP_AT.items()
)

_ROLL_SESSIONS = f"""
INSERT INTO analytics_session_day AS t (tenant_id, day, location_code, session_key, user_id,
    steps, {", ".join(FIRST_STEP_AT.values())})
SELECT :tid, {_DAY}, {_LOC}, {SESSION_KEY}, user_id, bit_or({STEP_BITS})::smallint,
    {", ".join(f"min(CASE WHEN type = '{s}' THEN occurred_at END)" for s in FIRST_STEP_AT)}
{_WINDOW}
GROUP BY 2, 3, 4, 5
ON CONFLICT (tenant_id, day, location_code, session_key, user_id) DO UPDATE SET
    steps = t.steps | EXCLUDED.steps,
    {", ".join(f"{c} = least(t.{c}, EXCLUDED.{c})" for c in FIRST_STEP_AT.values())}
"""

ORDER_KEY = "coalesce(order_id, encode(event_key, 'hex'))"

_ROLL_ORDERS = f"""
INSERT INTO analytics_order_day (tenant_id, day, location_code, order_key)
SELECT DISTINCT :tid, {_DAY}, {_LOC}, {ORDER_KEY}
{_WINDOW} AND type = 'purchase'
ON CONFLICT DO NOTHING
"""

_ROLL_PLACEMENTS = f"""
INSERT INTO analytics_placement_day AS t (tenant_id, day, placement, strategy, variant,
    impressions, clicks, conversions, revenue)
SELECT :tid, {_DAY}, placement, coalesce(strategy, ''), coalesce(variant, ''),
    count(*) FILTER (WHERE type = 'impression'),
    count(*) FILTER (WHERE type = 'click'),
    count(*) FILTER (WHERE type = 'purchase'),
    {_PURCHASE_REVENUE}
{_WINDOW} AND placement IS NOT NULL AND type IN ('impression', 'click', 'purchase')
GROUP BY 2, 3, 4, 5
ON CONFLICT (tenant_id, day, placement, strategy, variant) DO UPDATE SET
    impressions = t.impressions + EXCLUDED.impressions,
    clicks = t.clicks + EXCLUDED.clicks,
    conversions = t.conversions + EXCLUDED.conversions,
    revenue = t.revenue + EXCLUDED.revenue
"""

ROLL_STATEMENTS = (_ROLL_TOTALS, _ROLL_PRODUCTS, _ROLL_SESSIONS, _ROLL_ORDERS, _ROLL_PLACEMENTS)

# The funnel steps as visitor kinds of `analytics_reach_day` and columns of the answers,
# with their bit in `steps`.
FUNNEL_KINDS = {
    "viewing": FUNNEL_BITS["view_item"],
    "adding": FUNNEL_BITS["add_to_cart"],
    "checking_out": FUNNEL_BITS["begin_checkout"],
    "purchasing": FUNNEL_BITS["purchase"],
}
# Kinds of `analytics_reach_day` and their bit in `steps` (0: every session).
REACH_STEPS = {"session": 0, **FUNNEL_KINDS}

# Each visitor's days from :first on, with the day it was seen before: the previous row in
# the window, or for its first day from :first the latest earlier day (an index lookup
# only then: `coalesce` evaluates its arguments lazily). It returns a column for Citus only:
# an INSERT … SELECT it runs through the coordinator without RETURNING (or ON CONFLICT)
# is moved with COPY, which row-level security refuses.
_RECOUNT_REACH = f"""
INSERT INTO analytics_reach_day (tenant_id, day, kind, since, visitors)
SELECT :tid, day, kind, since, count(*)
FROM (
    SELECT a.day, a.kind, coalesce(
        lag(a.day) OVER (PARTITION BY a.kind, a.visitor ORDER BY a.day),
        CASE a.kind
            WHEN 'order' THEN (
                SELECT max(o.day) FROM analytics_order_day o
                WHERE o.tenant_id = :tid AND o.order_key = a.visitor AND o.day < :first)
            WHEN 'user' THEN (
                SELECT max(u.day) FROM analytics_session_day u
                WHERE u.tenant_id = :tid AND u.user_id = a.visitor AND u.day < :first)
            ELSE (
                SELECT max(s.day) FROM analytics_session_day s
                WHERE s.tenant_id = :tid AND s.session_key = a.visitor AND s.day < :first
                  AND s.steps & a.bit = a.bit)
        END,
        '-infinity'::date) AS since
    FROM (
        SELECT s.day, k.kind, k.bit, s.session_key AS visitor
        FROM (
            SELECT day, session_key, bit_or(steps) AS steps FROM analytics_session_day
            WHERE tenant_id = :tid AND day >= :first GROUP BY 1, 2
        ) s
        JOIN (VALUES {", ".join(f"('{kind}', {bit})" for kind, bit in REACH_STEPS.items())})
            AS k(kind, bit) ON s.steps & k.bit = k.bit
        UNION ALL
        SELECT DISTINCT day, 'user', 0, user_id FROM analytics_session_day
        WHERE tenant_id = :tid AND day >= :first
        UNION ALL
        SELECT DISTINCT day, 'order', 0, order_key FROM analytics_order_day
        WHERE tenant_id = :tid AND day >= :first
    ) a
) seen
GROUP BY 2, 3, 4
RETURNING 1
"""  # noqa: S608 - only this module's constants are interpolated


async def _lock(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:cls, hashtext(:tid))"),
        {"cls": ROLLUP_LOCK_CLASS, "tid": str(tenant_id)},
    )


async def _add_window(
    session: AsyncSession, tenant_id: uuid.UUID, zone: str, lo: datetime, hi: datetime
) -> int:
    """Add the window's events to every rollup; returns how many rollup rows changed."""
    params = {"tid": tenant_id, "tz": zone, "lo": lo, "hi": hi}
    changed = 0
    for statement in ROLL_STATEMENTS:
        result = await session.execute(text(statement), params)
        changed += max(0, getattr(result, "rowcount", 0) or 0)
    return changed


async def recount_reach(session: AsyncSession, tenant_id: uuid.UUID, first: date) -> None:
    """Recount `analytics_reach_day` from local day `first` on (every later day's `since`
    may point into the days that changed)."""
    params = {"tid": tenant_id, "first": first}
    await session.execute(
        text("DELETE FROM analytics_reach_day WHERE tenant_id = :tid AND day >= :first"), params
    )
    await session.execute(text(_RECOUNT_REACH), params)


def _local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


async def _clear(session: AsyncSession, tenant_id: uuid.UUID, first: date, last: date) -> None:
    for table in ROLLUP_TABLES:
        await session.execute(
            text(f"DELETE FROM {table} WHERE tenant_id = :tid AND day BETWEEN :first AND :last"),  # noqa: S608
            {"tid": tenant_id, "first": first, "last": last},
        )


async def _state(session: AsyncSession, tenant_id: uuid.UUID, zone: str) -> RollupState:
    state = await session.get(RollupState, tenant_id, with_for_update=True)
    if state is None:
        state = RollupState(tenant_id=tenant_id, rolled_until=EPOCH, timezone=zone, version=0)
        session.add(state)
    elif state.timezone != zone:
        # Local days moved: every stored day is wrong, start again.
        await _clear(session, tenant_id, date.min, date.max)
        state.rolled_until, state.timezone = EPOCH, zone
    return state


async def roll_up(
    session: AsyncSession, tenant_id: uuid.UUID, *, now: datetime | None = None, lag_s: int
) -> tuple[datetime, int]:
    """Add every event older than `now - lag_s` not yet in the rollups.

    Returns the new watermark and the rollup version (it moves only when figures changed).

    Must run in a session scoped to `tenant_id`. Safe to run concurrently (advisory lock).
    """
    await _lock(session, tenant_id)
    zone = await tenant_timezone(session, tenant_id)
    state = await _state(session, tenant_id, zone)
    until = (now or datetime.now(UTC)) - timedelta(seconds=lag_s)
    if until > state.rolled_until:
        # The version (part of every cache key) moves only when figures changed.
        if await _add_window(session, tenant_id, zone, state.rolled_until, until):
            state.version += 1
            await recount_reach(session, tenant_id, _local_day(state.rolled_until, zone))
        state.rolled_until = until
    await session.flush()
    return state.rolled_until, state.version


async def rebuild_days(
    session: AsyncSession, tenant_id: uuid.UUID, first: date, last: date
) -> None:
    """Recompute the rollups of local days `first`..`last` from the events (after an import).

    Only the part of those days already behind the watermark is rebuilt; the rest is
    added by the next incremental run as usual.
    """
    await _lock(session, tenant_id)
    zone = await tenant_timezone(session, tenant_id)
    state = await _state(session, tenant_id, zone)
    await _clear(session, tenant_id, first, last)
    bounds = await session.execute(
        text(
            "SELECT (CAST(:first AS timestamp) AT TIME ZONE :tz), "
            "(CAST(:after AS timestamp) AT TIME ZONE :tz)"
        ),
        {"first": first, "after": last + timedelta(days=1), "tz": zone},
    )
    lo, hi = bounds.one()
    hi = min(hi, state.rolled_until)
    if hi > lo:
        await _add_window(session, tenant_id, zone, lo, hi)
    await recount_reach(session, tenant_id, first)
    state.version += 1
    await session.flush()
