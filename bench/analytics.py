"""30-day analytics answers from the rollups, next to the same numbers straight from `event`.

    .venv/bin/python bench/analytics.py [--events 10000000] [--rounds 200] [--json out.json]

A scratch database on the local PostgreSQL gets one tenant with `--events` shop events over
60 days (generated in SQL: sessions of eight events on ten locations and 1,000 products,
views, carts, checkouts, one order in ten sessions; the Python simulator would take longer
than the benchmark to make 10 M), then one rollup run. Measured, in this process, through
the analytics service as the API calls it:

- the 30-day overview (every KPI, exact distinct sessions and users) and the 30-day daily
  revenue and sessions time series, from the rollups, uncached and with the Redis cache;
- the baseline: the same numbers computed straight from the raw events table in the same
  run (one SQL per answer, the fastest plain query we could write).

Both answers are compared before timing: the benchmark fails if they differ. The ratio is
rollup p95 / raw p95 (target p95 < 50 ms, stated for a tenant with 10 M events: the full
mode). The events are written by one set-based `INSERT … SELECT … generate_series` per
million rows straight into `event` (not through the ingest API, which `ingest_batch`
measures): 10 M take about three minutes here, the first rollup about one more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from ingest_server import DEFAULT_REDIS, DEFAULT_SERVER, scratch_database
from results import add_json_option
from rich.console import Console
from rich.table import Table

BENCH = {
    "order": 60,
    "quick": ["--events", "500000", "--rounds", "60"],
    "full": ["--events", "10000000", "--rounds", "200"],
}
TARGET_MS = 50.0
DAYS = 60
CHUNK = 1_000_000

_GENERATE = """
INSERT INTO event (tenant_id, occurred_at, key, type, user_id, session_id, product_id,
                   quantity, price, revenue, currency, location_code, source, properties)
SELECT %(tid)s, ts, decode(md5(%(tid)s::text || ':' || g), 'hex'), kind,
       'u' || (s %% %(users)s), 's' || s,
       CASE WHEN kind IN ('view_item', 'add_to_cart', 'purchase')
            THEN 'p' || ((s * 7 + g) %% 1000) END,
       CASE WHEN kind IN ('add_to_cart', 'purchase') THEN 1 END,
       CASE WHEN kind IN ('add_to_cart', 'purchase') THEN price END,
       CASE WHEN kind = 'purchase' THEN price END,
       CASE WHEN kind IN ('add_to_cart', 'purchase') THEN 'EUR' END,
       CASE WHEN s %% 7 = 0 THEN NULL ELSE 'L' || (s %% 10) END,
       'simulator',
       CASE WHEN kind = 'purchase' THEN jsonb_build_object('order_id', 'o' || s) END
FROM (
    SELECT g, s,
           %(end)s::timestamptz - interval '1 day' * %(days)s * ((s * 0.6180339887) %% 1)
               + interval '1 minute' * (g %% 8) AS ts,
           CASE g %% 8
               WHEN 5 THEN CASE WHEN s %% 3 = 0 THEN 'add_to_cart' ELSE 'view_item' END
               WHEN 6 THEN CASE WHEN s %% 5 = 0 THEN 'begin_checkout' ELSE 'page_view' END
               WHEN 7 THEN CASE WHEN s %% 10 = 0 THEN 'purchase' ELSE 'search' END
               ELSE 'view_item'
           END AS kind,
           (10 + (s %% 90))::numeric(18, 4) + 0.99 AS price
    FROM (SELECT g, g / 8 AS s FROM generate_series(%(lo)s, %(hi)s) AS g) numbered
) rows
"""

_RAW_OVERVIEW = """
SELECT count(DISTINCT coalesce(session_id, 'u:' || user_id || ':' || occurred_at::date)),
       count(DISTINCT user_id),
       count(*) FILTER (WHERE type = 'view_item'),
       count(*) FILTER (WHERE type = 'add_to_cart'),
       count(DISTINCT coalesce(properties->>'order_id', encode(key, 'hex')))
           FILTER (WHERE type = 'purchase'),
       coalesce(sum(revenue) FILTER (WHERE type = 'purchase'), 0),
       count(DISTINCT session_id) FILTER (WHERE type = 'purchase')
FROM event WHERE tenant_id = %(tid)s AND occurred_at >= %(lo)s AND occurred_at < %(hi)s
"""

_RAW_SERIES = """
SELECT occurred_at::date AS day,
       coalesce(sum(revenue) FILTER (WHERE type = 'purchase'), 0),
       count(DISTINCT coalesce(session_id, 'u:' || user_id || ':' || occurred_at::date))
FROM event WHERE tenant_id = %(tid)s AND occurred_at >= %(lo)s AND occurred_at < %(hi)s
GROUP BY 1 ORDER BY 1
"""


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def seed(dsn: str, events: int, console: Console) -> uuid.UUID:
    tenant = uuid.uuid4()
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO tenant (id, name, slug, status, settings) "
            "VALUES (%s, 'Bench shop', %s, 'active', '{}')",
            (tenant, f"bench-{tenant.hex[:8]}"),
        )
        conn.commit()
        for lo in range(0, events, CHUNK):
            hi = min(events, lo + CHUNK) - 1
            conn.execute(
                _GENERATE,
                {
                    "tid": tenant,
                    "users": max(1000, events // 40),
                    "end": end,
                    "days": DAYS,
                    "lo": lo,
                    "hi": hi,
                },
            )
            conn.commit()
            console.print(f"  {hi + 1:,} events stored")
        conn.execute("ANALYZE event")
    return tenant


async def timed(call: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def raw_call(dsn: str, sql: str, params: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
    async def run() -> Any:
        async with await psycopg.AsyncConnection.connect(dsn) as conn:
            return await (await conn.execute(sql, params)).fetchall()

    return run


async def measure(dsn: str, redis: str, events: int, rounds: int, console: Console) -> list[dict]:
    # The first rollup adds 60 days in one run (a live shop adds a minute at a time): its
    # statements take longer than the application role's default 30 s timeout at 10 M.
    os.environ.update(
        {
            "MERCATO_DATABASE_URL": dsn,
            "MERCATO_REDIS_URL": redis,
            "MERCATO_DB_STATEMENT_TIMEOUT_MS": "600000",
        }
    )
    from mercato.kernel.db import init_database
    from mercato.kernel.migrate import upgrade
    from mercato.kernel.redis import init_redis
    from mercato.kernel.security import Principal, PrincipalKind
    from mercato.modules.analytics import Granularity, Metric, overview, roll_up_tenant, timeseries
    from mercato.modules.analytics import service as analytics_service
    from mercato.modules.tracking.partitions import add_months, ensure_partitions, month_of
    from mercato.settings import get_settings

    settings = get_settings()
    upgrade(settings)
    database = init_database(settings)
    init_redis(settings)
    today = datetime.now(UTC).date()
    await ensure_partitions(
        database.engine, [add_months(month_of(today), -i) for i in range(-1, 4)]
    )
    console.print(f"generating {events:,} events over {DAYS} days …")
    started = time.perf_counter()
    tenant = await asyncio.to_thread(seed, dsn, events, console)
    console.print(f"  generated in {time.perf_counter() - started:.1f} s; rolling up …")
    started = time.perf_counter()
    await roll_up_tenant(tenant)
    rollup_s = time.perf_counter() - started
    console.print(f"  rollup of {events:,} events: {rollup_s:.1f} s")

    principal = Principal(
        kind=PrincipalKind.api_key,
        subject_id=uuid.uuid4(),
        permissions=frozenset({"analytics:read"}),
        tenant_id=tenant,
    )
    start, end = today - timedelta(days=29), today
    lo = datetime.combine(start, datetime.min.time(), UTC)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
    params = {"tid": tenant, "lo": lo, "hi": hi}

    async def rollup_overview() -> Any:
        async with database.tenant_session(tenant) as session:
            return await overview(session, principal, start=start, end=end)

    async def rollup_series() -> Any:
        async with database.tenant_session(tenant) as session:
            for metric in (Metric.revenue, Metric.sessions):
                await timeseries(
                    session,
                    principal,
                    metric=metric,
                    start=start,
                    end=end,
                    granularity=Granularity.day,
                )

    raw_overview = raw_call(dsn, _RAW_OVERVIEW, params)
    raw_series = raw_call(dsn, _RAW_SERIES, params)

    uncached = settings.model_copy(update={"analytics_cache_ttl_s": 0})
    analytics_service.get_settings = lambda: uncached  # type: ignore[attr-defined]
    answer = await rollup_overview()
    [raw] = await raw_overview()
    expected = (raw[0], raw[1], raw[2], raw[3], raw[4], Decimal(raw[5]))
    got = (
        answer.sessions,
        answer.users,
        answer.product_views,
        answer.add_to_carts,
        answer.purchases,
        answer.revenue,
    )
    if got != expected:
        raise SystemExit(f"rollup answer {got} differs from the raw events {expected}")
    console.print(f"  answers agree: {answer.sessions:,} sessions, {answer.revenue} revenue")

    figures = []
    for name, rolled, baseline in (
        ("overview_30d", rollup_overview, raw_overview),
        ("timeseries_30d", rollup_series, raw_series),
    ):
        analytics_service.get_settings = lambda: uncached  # type: ignore[attr-defined]
        # A raw answer over 10 M events takes seconds: a few samples give its p95.
        raw_samples = await timed(baseline, max(5, rounds // 40))
        cold = await timed(rolled, rounds)
        analytics_service.get_settings = get_settings  # type: ignore[attr-defined]
        warm = await timed(rolled, rounds)
        raw_p95 = percentile(raw_samples, 0.95)
        for label, samples in ((f"{name}_rollups", cold), (f"{name}_rollups_cached", warm)):
            p95 = percentile(samples, 0.95)
            figures.append(
                {
                    "name": label,
                    "value": p95,
                    "unit": "ms",
                    "baseline_name": f"{name}_raw_events",
                    "baseline_value": raw_p95,
                    "ratio": p95 / raw_p95,
                    "target": "p95 < 50 ms",
                    "met": p95 < TARGET_MS,
                    "p50": statistics.median(samples),
                    "p95": p95,
                    "p99": percentile(samples, 0.99),
                }
            )
        figures.append(
            {
                "name": f"{name}_raw_events",
                "value": raw_p95,
                "unit": "ms",
                "baseline_name": None,
                "baseline_value": None,
                "ratio": None,
                "target": None,
                "met": None,
                "p50": statistics.median(raw_samples),
                "p95": raw_p95,
                "p99": percentile(raw_samples, 0.99),
            }
        )
    figures.append(
        {
            "name": "rollup_initial_run",
            "value": rollup_s,
            "unit": "s",
            "baseline_name": None,
            "baseline_value": None,
            "ratio": None,
            "target": None,
            "met": None,
            "p50": None,
            "p95": None,
            "p99": None,
        }
    )
    await database.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    add_json_option(parser)
    args = parser.parse_args()
    console = Console()
    with scratch_database(args.server) as dsn:
        figures = asyncio.run(measure(dsn, args.redis, args.events, args.rounds, console))
    table = Table(title=f"30-day analytics, {args.events:,} events (target p95 < {TARGET_MS} ms)")
    for column in ("figure", "p50", "p95", "p99", "baseline p95", "ratio", "met"):
        table.add_column(column, justify="right")
    for f in figures:
        table.add_row(
            f["name"],
            *(f"{f[k]:.1f}" if f[k] is not None else "" for k in ("p50", "p95", "p99")),
            f"{f['baseline_value']:.1f}" if f["baseline_value"] is not None else "",
            f"{f['ratio']:.3f}" if f["ratio"] is not None else "",
            "" if f["met"] is None else ("yes" if f["met"] else "no"),
        )
    console.print(table)
    if args.json:
        args.json.write_text(json.dumps({"name": "analytics", "figures": figures}, indent=2))


if __name__ == "__main__":
    main()
