"""A tenant's training data from the database: tracking events and the live catalog.

Both are read with one SQL query each, straight into column arrays, because a fit reads
a million events and a hundred thousand products within a 60-second budget: the
catalog's public `iter_products` builds a validated `ProductRead` per product (about
250 µs each, 25 s for 100,000), so this reads the `product` and `event` tables directly,
read-only, in the columns their modules document. Only the event types that express
interest in a product are read, over the last `reco_history_days`. The data mark is a
cheap fingerprint: event count and newest arrival, product count and newest change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import session_driver
from mercato.modules.recommendations.event_log import CatalogTable, EventLog, StrArray
from mercato.modules.recommendations.interactions import SIGNAL_OF_EVENT_TYPE

EVENTS_SQL = """
    SELECT user_id, coalesce(session_id, ''), type, product_id,
           extract(epoch FROM occurred_at)::float8,
           coalesce(order_id, ''),
           coalesce(revenue::float8, 'NaN'::float8)
    FROM tracking_events
    WHERE tenant_id = %(tenant_id)s AND occurred_at >= %(since)s
      AND type = ANY(%(types)s) AND product_id IS NOT NULL
"""

PRODUCTS_SQL = """
    SELECT product_id, name, coalesce(brand, ''), coalesce(category_path, ''),
           coalesce(description, ''),
           coalesce((SELECT string_agg(key || ' ' || value, ' ')
                     FROM jsonb_each_text(attributes)), ''),
           coalesce(sale_price, price)::float8, available,
           extract(epoch FROM created_at)::float8
    FROM catalog_products
    WHERE tenant_id = %(tenant_id)s AND deleted_at IS NULL
    ORDER BY product_id
"""

MARK_SQL = text(
    """
    SELECT (SELECT count(*) FROM tracking_events
             WHERE tenant_id = :tenant_id AND occurred_at >= :since),
           (SELECT max(received_at) FROM tracking_events
             WHERE tenant_id = :tenant_id AND occurred_at >= :since),
           (SELECT count(*) FROM catalog_products WHERE tenant_id = :tenant_id),
           (SELECT max(updated_at) FROM catalog_products WHERE tenant_id = :tenant_id)
    """
)


@dataclass(frozen=True)
class DatabaseSource:
    history_days: int

    def since(self) -> datetime:
        return datetime.now(UTC) - timedelta(days=self.history_days)

    async def mark(self, session: AsyncSession, tenant_id: uuid.UUID) -> str:
        row = (
            await session.execute(MARK_SQL, {"tenant_id": tenant_id, "since": self.since()})
        ).one()
        return "db:" + ":".join("" if value is None else str(value) for value in row)

    async def load(
        self, session: AsyncSession, tenant_id: uuid.UUID
    ) -> tuple[EventLog, CatalogTable]:
        return await load_events(session, tenant_id, self.since()), await load_catalog(
            session, tenant_id
        )


async def _columns(
    session: AsyncSession, sql: str, params: dict[str, Any], width: int
) -> list[tuple[Any, ...]]:
    """Rows of `sql` as columns, fetched by the driver in one go (no ORM rows)."""
    driver = await session_driver(session)
    async with driver.cursor() as cursor:
        await cursor.execute(sql, params)
        rows = await cursor.fetchall()
    return list(zip(*rows, strict=True)) if rows else [()] * width


def _text(values: tuple[Any, ...]) -> StrArray:
    return np.array(values, dtype=np.str_) if values else np.array([], dtype="<U1")


async def load_events(session: AsyncSession, tenant_id: uuid.UUID, since: datetime) -> EventLog:
    """The tenant's product-interest events since `since`, as columns."""
    params = {"tenant_id": tenant_id, "since": since, "types": sorted(SIGNAL_OF_EVENT_TYPE)}
    columns = await _columns(session, EVENTS_SQL, params, 7)
    return EventLog(
        user_id=_text(columns[0]),
        session_id=_text(columns[1]),
        type=_text(columns[2]),
        product_id=_text(columns[3]),
        timestamp=np.asarray(columns[4], dtype=np.float64),
        order_id=_text(columns[5]),
        revenue=np.asarray(columns[6], dtype=np.float64),
    )


async def load_catalog(session: AsyncSession, tenant_id: uuid.UUID) -> CatalogTable:
    """Every live product of the tenant, as columns (category as its path)."""
    columns = await _columns(session, PRODUCTS_SQL, {"tenant_id": tenant_id}, 9)
    count = len(columns[0])
    return CatalogTable(
        product_id=_text(columns[0]),
        name=_text(columns[1]),
        brand=_text(columns[2]),
        category=_text(columns[3]),
        description=_text(columns[4]),
        attributes=_text(columns[5]),
        price=np.asarray(columns[6], dtype=np.float64),
        available=np.asarray(columns[7], dtype=np.bool_),
        deleted=np.zeros(count, dtype=np.bool_),
        created_at=np.asarray(columns[8], dtype=np.float64),
    )
