"""Read the rollups, plus the not-yet-rolled tail of raw events, grouped any way a screen needs.

Every answer is exact: the rollups hold every event before the watermark and the tail query
(an index range scan over the last minutes of `event`) adds the rest. Distinct sessions,
users and orders of one location are counted over the union of rollup rows and tail rows,
never summed. Of all locations together (the dashboard's overview and series) they come
from `analytics_reach_day` (visitors by previous day seen, see `models.ReachDay`) plus the
tail's visitors that no rollup row of the same group has seen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.money import CENT
from mercato.modules.analytics.rollup import (
    FIRST_STEP_AT,
    FUNNEL_KINDS,
    ORDER_KEY,
    REACH_STEPS,
    SESSION_KEY,
    STEP_BITS,
    STEP_TIMES,
)

# How rows are grouped: SQL over the columns `day` and `location_code` of every source.
GROUPINGS = {
    "all": "CAST(:s AS date)",
    "day": "day",
    "week": "date_trunc('week', day)::date",
    "month": "date_trunc('month', day)::date",
    "location": "location_code",
    "day_location": "day::text || '|' || location_code",
}


@dataclass(frozen=True)
class Window:
    """A range of local days, its UTC bounds and the part of it still in raw events."""

    tenant_id: uuid.UUID
    zone: str
    start: date
    end: date
    tail_from: datetime  # as read before the query: only decides how long to cache
    tail_to: datetime
    location: str | None = None
    range_from: datetime | None = None  # UTC start of the first local day

    def params(self) -> dict[str, Any]:
        return {
            "tid": self.tenant_id,
            "tz": self.zone,
            "s": self.start,
            "e": self.end,
            "rlo": self.range_from or self.tail_from,
            "thi": self.tail_to,
            "tfrom": self.tail_from,
            "loc": self.location,
        }


@dataclass(frozen=True)
class Facts:
    """Every metric of one group."""

    sessions: int = 0
    users: int = 0
    page_views: int = 0
    product_views: int = 0
    searches: int = 0
    add_to_carts: int = 0
    begin_checkouts: int = 0
    purchase_lines: int = 0
    purchases: int = 0  # orders
    units: int = 0
    revenue: Decimal = Decimal(0)
    sessions_viewing: int = 0
    sessions_adding: int = 0
    sessions_checking_out: int = 0
    sessions_purchasing: int = 0

    @property
    def conversion_rate(self) -> float:
        return self.sessions_purchasing / self.sessions if self.sessions else 0.0

    @property
    def average_order_value(self) -> Decimal:
        if not self.purchases:
            return Decimal("0.00")
        return (self.revenue / self.purchases).quantize(CENT)


def _tail(location_filter: str) -> str:
    return f"""
    tail AS (
        SELECT (occurred_at AT TIME ZONE :tz)::date AS day,
               coalesce(location_code, '') AS location_code, type, user_id, quantity, revenue,
               product_id, {SESSION_KEY} AS session_key, {ORDER_KEY} AS order_key,
               {STEP_BITS} AS steps, {STEP_TIMES}
        FROM tracking_events
        WHERE tenant_id = :tid AND occurred_at < :thi
          -- The watermark is read in this statement, so rollup rows and tail come from one
          -- snapshot even while a rollup run commits (no event counted twice or missed).
          AND occurred_at >= GREATEST(CAST(:rlo AS timestamptz), (
              SELECT coalesce(max(rolled_until), '-infinity') FROM analytics_rollup_state
              WHERE tenant_id = :tid
          ))
          -- Implied by the line above (the watermark only moves forward, except when a new
          -- time zone restarts the rollups), but a bound the planner can see: it prunes
          -- the partitions before the watermark and expects a short tail, which keeps the
          -- statement's estimated cost under `jit_above_cost` (JIT took ~200 ms of a 1 ms
          -- overview at 10 M events).
          AND occurred_at >= CAST(:tfrom AS timestamptz)
          {location_filter.replace("location_code", "coalesce(location_code, '')")}
    )"""  # noqa: S608 - only this module's constants are interpolated


PARTS = ("counts", "visits", "orders")
# Result columns of each part, in `Facts` order after the group.
_COLUMNS = (
    ("visits", "sessions"),
    ("visits", "users"),
    ("counts", "page_views"),
    ("counts", "product_views"),
    ("counts", "searches"),
    ("counts", "add_to_carts"),
    ("counts", "begin_checkouts"),
    ("counts", "purchase_lines"),
    ("orders", "orders"),
    ("counts", "units"),
    ("counts", "revenue"),
    ("visits", "viewing"),
    ("visits", "adding"),
    ("visits", "checking_out"),
    ("visits", "purchasing"),
)


def _part_ctes(g: str, rolled: str, whole: bool) -> dict[str, str]:
    """The parts' SQL; for one group over the whole range (`whole`) no row is grouped or
    sorted by a constant, which is most of the cost of an overview otherwise."""
    out_g = "CAST(:s AS date) AS g" if whole else "g"
    by_g = "" if whole else "GROUP BY 1"
    row_g = "" if whole else f"{g} AS g, "
    inner_g = "" if whole else "g, "
    return {
        "counts": f"""
    counts AS (
        SELECT {"CAST(:s AS date)" if whole else g} AS g, sum(page_views) AS page_views,
               sum(product_views) AS product_views,
               sum(searches) AS searches, sum(add_to_carts) AS add_to_carts,
               sum(begin_checkouts) AS begin_checkouts, sum(purchases) AS purchase_lines,
               sum(units) AS units, sum(revenue) AS revenue
        FROM (
            SELECT day, location_code, page_views, product_views, searches, add_to_carts,
                   begin_checkouts, purchases, units, revenue
            FROM analytics_day_total WHERE {rolled}
            UNION ALL
            SELECT day, location_code, (type = 'page_view')::int, (type = 'view_item')::int,
                   (type = 'search')::int, (type = 'add_to_cart')::int,
                   (type = 'begin_checkout')::int, (type = 'purchase')::int,
                   CASE WHEN type = 'purchase' THEN coalesce(quantity, 1) ELSE 0 END,
                   CASE WHEN type = 'purchase' THEN coalesce(revenue, 0) ELSE 0 END
            FROM tail
        ) c
        {by_g}
    )""",  # noqa: S608 - only this module's constants are interpolated
        "visits": f"""
    visit_rows AS NOT MATERIALIZED (
        SELECT {row_g}session_key, user_id, steps
        FROM (
            SELECT day, location_code, session_key, user_id, steps
            FROM analytics_session_day WHERE {rolled}
            UNION ALL
            SELECT day, location_code, session_key, user_id, steps FROM tail
        ) v
    ),
    per_session AS (
        SELECT {out_g}, count(*) AS sessions,
               count(*) FILTER (WHERE s & 1 > 0) AS viewing,
               count(*) FILTER (WHERE s & 2 > 0) AS adding,
               count(*) FILTER (WHERE s & 4 > 0) AS checking_out,
               count(*) FILTER (WHERE s & 8 > 0) AS purchasing
        FROM (
            SELECT {inner_g}session_key, bit_or(steps) AS s FROM visit_rows
            GROUP BY {inner_g}session_key
        ) one
        {by_g}
    ),
    visits AS (
        SELECT * FROM per_session
        FULL JOIN (
            SELECT {out_g}, count(*) AS users
            FROM (SELECT DISTINCT {inner_g}user_id FROM visit_rows) d
            {by_g}
        ) u USING (g)
    )""",  # noqa: S608
        "orders": f"""
    orders AS (
        SELECT {out_g}, count(*) AS orders
        FROM (
            SELECT DISTINCT {row_g}order_key
            FROM (
                SELECT day, location_code, order_key FROM analytics_order_day WHERE {rolled}
                UNION ALL
                SELECT day, location_code, order_key FROM tail WHERE type = 'purchase'
            ) o
        ) distinct_orders
        {by_g}
    )""",  # noqa: S608
    }


# Groupings that `analytics_reach_day` answers: every location together, whole days.
REACH_GROUPINGS = ("all", "day", "week", "month")


def _seen(table: str, column: str, g: str, bit: int = 0) -> str:
    """Whether a rollup row of the tail row `t`'s group already holds its visitor (`g` is
    written over `day`, which inside the subquery is the rollup row's)."""
    steps = f" AND r.steps & {bit} > 0" if bit else ""
    return (
        f"EXISTS (SELECT FROM {table} r WHERE r.tenant_id = :tid AND r.{column} = t.{column} "
        f"AND r.day BETWEEN :s AND :e AND {g} = t.g{steps})"
    )


def _reach_ctes(g: str) -> dict[str, str]:
    """`visits` and `orders` of every location together: the rollups' distinct visitors
    (a visitor counts on its first day in the group: `since` before the group's first day)
    plus the tail's visitors no rollup row of the group has seen."""
    kinds = ",\n".join(
        f"coalesce(sum(visitors) FILTER (WHERE kind = '{kind}'), 0) AS {name}"
        for kind, name in (
            *((kind, "sessions" if kind == "session" else kind) for kind in REACH_STEPS),
            ("user", "users"),
            ("order", "orders"),
        )
    )
    late_steps = ",\n".join(
        f"(steps & {bit} > 0 AND NOT {_seen('analytics_session_day', 'session_key', g, bit)})"
        f" AS {name}"
        for name, bit in FUNNEL_KINDS.items()
    )
    funnel_sums = ", ".join(
        f"coalesce(r.{name}, 0) + coalesce(l.{name}, 0) AS {name}" for name in FUNNEL_KINDS
    )
    return {
        "reach": f"""
    reach AS (
        SELECT {g} AS g, {kinds}
        FROM analytics_reach_day
        WHERE tenant_id = :tid AND day BETWEEN :s AND :e
          AND since < GREATEST({g}, CAST(:s AS date))
        GROUP BY 1
    )""",  # noqa: S608 - only this module's constants are interpolated
        "visits": f"""
    late_sessions AS (
        SELECT g, count(*) FILTER (WHERE new_session) AS sessions,
               {", ".join(f"count(*) FILTER (WHERE {name}) AS {name}" for name in FUNNEL_KINDS)}
        FROM (
            SELECT g, NOT {_seen("analytics_session_day", "session_key", g)} AS new_session,
                   {late_steps}
            FROM (SELECT {g} AS g, session_key, bit_or(steps) AS steps FROM tail
                  GROUP BY 1, 2) t
        ) flagged
        GROUP BY g
    ),
    late_users AS (
        SELECT g, count(*) AS users
        FROM (SELECT DISTINCT {g} AS g, user_id FROM tail) t
        WHERE NOT {_seen("analytics_session_day", "user_id", g)}
        GROUP BY g
    ),
    visits AS (
        SELECT g, coalesce(r.sessions, 0) + coalesce(l.sessions, 0) AS sessions,
               coalesce(r.users, 0) + coalesce(u.users, 0) AS users, {funnel_sums}
        FROM reach r FULL JOIN late_sessions l USING (g) FULL JOIN late_users u USING (g)
    )""",  # noqa: S608
        "orders": f"""
    late_orders AS (
        SELECT g, count(*) AS orders
        FROM (SELECT DISTINCT {g} AS g, order_key FROM tail WHERE type = 'purchase') t
        WHERE NOT {_seen("analytics_order_day", "order_key", g)}
        GROUP BY g
    ),
    orders AS (
        SELECT g, coalesce(r.orders, 0) + coalesce(l.orders, 0) AS orders
        FROM reach r FULL JOIN late_orders l USING (g)
    )""",  # noqa: S608
    }


def _facts_sql(grouping: str, location_filter: str, parts: tuple[str, ...]) -> str:
    """One query for the parts asked for; metrics of other parts come back as 0."""
    g = GROUPINGS[grouping]
    rolled = f"tenant_id = :tid AND day BETWEEN :s AND :e {location_filter}"
    ctes = _part_ctes(g, rolled, whole=grouping == "all")
    chosen = [part for part in PARTS if part in parts]
    if not location_filter and grouping in REACH_GROUPINGS and {"visits", "orders"} & {*chosen}:
        ctes.update(_reach_ctes(g))
        chosen = ["reach", *chosen]
    columns = ", ".join(
        f"coalesce({column}, 0)" if part in chosen else "0" for part, column in _COLUMNS
    )
    joined = [part for part in chosen if part != "reach"]
    joins = joined[0] + "".join(f" FULL JOIN {part} USING (g)" for part in joined[1:])
    return f"""
    WITH {_tail(location_filter)},{",".join(ctes[part] for part in chosen)}
    SELECT g, {columns}
    FROM {joins}
    ORDER BY 1
    """  # noqa: S608 - only this module's constants are interpolated


def _location_filter(window: Window) -> str:
    return "AND location_code = :loc" if window.location is not None else ""


async def facts_by(
    session: AsyncSession, window: Window, grouping: str, parts: tuple[str, ...] = PARTS
) -> dict[Any, Facts]:
    """The metrics of `parts` per group (`GROUPINGS`) over the window (others are 0)."""
    rows = await session.execute(
        text(_facts_sql(grouping, _location_filter(window), parts)), window.params()
    )
    found: dict[Any, Facts] = {}
    for row in rows:
        values = [int(v) for v in row[1:11]] + [Decimal(row[11])] + [int(v) for v in row[12:]]
        found[row[0]] = Facts(*values)  # type: ignore[arg-type]
    return found


def _closed_funnel_sql(location_filter: str) -> str:
    firsts = ", ".join(f"min({column}) AS {column}" for column in FIRST_STEP_AT.values())
    columns = ", ".join(FIRST_STEP_AT.values())
    # Step n counts when every step up to n happened, each at or after the one before.
    times = list(FIRST_STEP_AT.values())
    reached = [
        " AND ".join(
            [f"{times[0]} IS NOT NULL"] + [f"{times[i]} >= {times[i - 1]}" for i in range(1, n + 1)]
        )
        for n in range(len(times))
    ]
    return f"""
    WITH {_tail(location_filter)}
    SELECT count(*) AS sessions,
           {", ".join(f"count(*) FILTER (WHERE {cond})" for cond in reached)}
    FROM (
        SELECT session_key, {firsts}
        FROM (
            SELECT session_key, {columns} FROM analytics_session_day
            WHERE tenant_id = :tid AND day BETWEEN :s AND :e {location_filter}
            UNION ALL
            SELECT session_key, {columns} FROM tail
        ) rows
        GROUP BY session_key
    ) per_session
    """  # noqa: S608 - only this module's constants are interpolated


async def closed_funnel(session: AsyncSession, window: Window) -> tuple[int, list[int]]:
    """The window's sessions, and per funnel step the sessions that did it and every step
    before it, in order: each step's first time in the session (over the session's rows of
    the window, rolled up and raw) at or after the previous step's first time."""
    row = (
        await session.execute(text(_closed_funnel_sql(_location_filter(window))), window.params())
    ).one()
    return int(row[0]), [int(count) for count in row[1:]]


TOP_PRODUCT_ORDER = {
    "revenue": "revenue DESC",
    "units": "units DESC",
    "views": "views DESC",
    "conversion": "conversion DESC, views DESC",
}


async def top_products(
    session: AsyncSession, window: Window, *, by: str, limit: int
) -> list[dict[str, Any]]:
    """Products ranked by revenue, units, views or conversion (purchase lines / views)."""
    location_filter = _location_filter(window)
    sql = f"""
    WITH {_tail(location_filter)}
    SELECT product_id, sum(views) AS views, sum(add_to_carts) AS add_to_carts,
           sum(purchases) AS purchases, sum(units) AS units, sum(revenue) AS revenue,
           CASE WHEN sum(views) > 0 THEN sum(purchases)::float8 / sum(views) ELSE 0 END
               AS conversion
    FROM (
        SELECT product_id, views, add_to_carts, purchases, units, revenue
        FROM analytics_product_day
        WHERE tenant_id = :tid AND day BETWEEN :s AND :e {location_filter}
        UNION ALL
        SELECT product_id, (type = 'view_item')::int, (type = 'add_to_cart')::int,
               (type = 'purchase')::int,
               CASE WHEN type = 'purchase' THEN coalesce(quantity, 1) ELSE 0 END,
               CASE WHEN type = 'purchase' THEN coalesce(revenue, 0) ELSE 0 END
        FROM tail
        WHERE product_id IS NOT NULL
          AND type IN ('view_item', 'add_to_cart', 'begin_checkout', 'purchase')
    ) p
    GROUP BY product_id
    ORDER BY {TOP_PRODUCT_ORDER[by]}, product_id
    LIMIT :limit
    """  # noqa: S608 - only this module's constants are interpolated
    rows = await session.execute(text(sql), {**window.params(), "limit": limit})
    return [dict(row._mapping) for row in rows]


async def placement_performance(session: AsyncSession, window: Window) -> list[dict[str, Any]]:
    """Impressions, clicks, conversions and revenue per placement x strategy x variant."""
    rows = await session.execute(
        text(
            """
            SELECT placement, strategy, variant, sum(impressions) AS impressions,
                   sum(clicks) AS clicks, sum(conversions) AS conversions,
                   sum(revenue) AS revenue
            FROM analytics_placement_day
            WHERE tenant_id = :tid AND day BETWEEN :s AND :e
            GROUP BY 1, 2, 3
            ORDER BY 1, 2, 3
            """
        ),
        window.params(),
    )
    return [dict(row._mapping) for row in rows]
