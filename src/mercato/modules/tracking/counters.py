"""Real-time per-day event counters per tenant in Redis, for "today" on dashboards.

One hash per tenant and UTC day (`tenant_key(tenant, "events", "day", "YYYY-MM-DD")`)
holds counts by kind and revenue per currency in ten-thousandths (exact integers), and a
set holds the day's order ids so `orders` counts each order once. They are bumped only
after the ingest transaction commits, only for events that were stored (duplicates never
count), and only for today and yesterday: older events come from imports and belong in
the rollups. Keys expire after three days.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from redis.exceptions import RedisError

from mercato.kernel.logging import get_logger
from mercato.kernel.redis import get_redis, tenant_key
from mercato.modules.tracking.validation import EventRow

log = get_logger("mercato.tracking.counters")

TTL_S = 3 * 86_400
REVENUE_SCALE = 10_000
# Event type → counter name.
COUNTED = {
    "page_view": "page_views",
    "view_item": "views",
    "search": "searches",
    "add_to_cart": "add_to_carts",
    "remove_from_cart": "remove_from_carts",
    "begin_checkout": "begin_checkouts",
    "purchase": "purchases",
    "impression": "impressions",
    "click": "clicks",
}


@dataclass(frozen=True)
class DailyCounters:
    """One tenant's events of one UTC day, as counted in real time."""

    day: date
    page_views: int = 0
    views: int = 0
    searches: int = 0
    add_to_carts: int = 0
    remove_from_carts: int = 0
    begin_checkouts: int = 0
    purchases: int = 0
    orders: int = 0
    impressions: int = 0
    clicks: int = 0
    revenue_by_currency: dict[str, Decimal] = field(default_factory=dict)

    @property
    def revenue(self) -> Decimal:
        """All revenue of the day (meaningful when the tenant sells in one currency)."""
        return sum(self.revenue_by_currency.values(), Decimal(0))


def _day_key(tenant_id: uuid.UUID, day: date) -> str:
    return tenant_key(tenant_id, "events", "day", day.isoformat())


def _orders_key(tenant_id: uuid.UUID, day: date) -> str:
    return tenant_key(tenant_id, "events", "orders", day.isoformat())


def _deltas(rows: Iterable[EventRow], earliest: date) -> dict[date, tuple[Counter[str], set[str]]]:
    per_day: dict[date, tuple[Counter[str], set[str]]] = {}
    for row in rows:
        day = row.occurred_at.date()
        if day < earliest:
            continue
        counts, orders = per_day.setdefault(day, (Counter(), set()))
        counts[COUNTED[row.type]] += 1
        if row.type == "purchase":
            if row.revenue is not None and row.currency:
                counts[f"revenue:{row.currency}"] += int(row.revenue * REVENUE_SCALE)
            orders.add(row.order_id or row.key.hex())
    return per_day


async def bump(tenant_id: uuid.UUID, rows: Iterable[EventRow], now: datetime | None = None) -> None:
    """Add stored events to the counters; a Redis outage is logged, never raised."""
    today = (now or datetime.now(UTC)).date()
    per_day = _deltas(rows, today - timedelta(days=1))
    if not per_day:
        return
    try:
        async with get_redis().pipeline(transaction=False) as pipe:
            for day, (counts, orders) in per_day.items():
                key = _day_key(tenant_id, day)
                for name, amount in counts.items():
                    pipe.hincrby(key, name, amount)
                pipe.expire(key, TTL_S)
                if orders:
                    pipe.sadd(_orders_key(tenant_id, day), *orders)
                    pipe.expire(_orders_key(tenant_id, day), TTL_S)
            await pipe.execute()
    except RedisError as exc:
        log.warning("event_counters_unavailable", error=str(exc))


async def daily_counters(tenant_id: uuid.UUID, day: date | None = None) -> DailyCounters:
    """Today's (or `day`'s, if within the last three days) counters for a tenant."""
    day = day or datetime.now(UTC).date()
    async with get_redis().pipeline(transaction=False) as pipe:
        pipe.hgetall(_day_key(tenant_id, day))
        pipe.scard(_orders_key(tenant_id, day))
        raw, orders = await pipe.execute()
    values = {k.decode(): int(v) for k, v in raw.items()}
    revenue = {
        name.removeprefix("revenue:"): Decimal(amount).scaleb(-4)
        for name, amount in values.items()
        if name.startswith("revenue:")
    }
    counts = {name: values.get(name, 0) for name in COUNTED.values()}
    return DailyCounters(day=day, orders=int(orders), revenue_by_currency=revenue, **counts)
