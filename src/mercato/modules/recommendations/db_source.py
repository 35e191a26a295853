"""A tenant's training data from the database: tracking events and the live catalog.

Events are read with one SQL query over the last `reco_history_days` (only the types
that express interest in a product), straight into column arrays; the catalog comes
from the catalog module's product iterator. The data mark is a cheap fingerprint: event
count and newest arrival, product count and newest change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.catalog import iter_products
from mercato.modules.recommendations.event_log import (
    CatalogTable,
    EventLog,
    as_str_array,
)
from mercato.modules.recommendations.interactions import SIGNAL_OF_EVENT_TYPE

EVENTS_SQL = text(
    """
    SELECT user_id, coalesce(session_id, ''), type, product_id,
           extract(epoch FROM occurred_at)::float8,
           coalesce(properties ->> 'order_id', ''),
           revenue::float8
    FROM event
    WHERE tenant_id = :tenant_id AND occurred_at >= :since
      AND type = ANY(:types) AND product_id IS NOT NULL
    """
)

MARK_SQL = text(
    """
    SELECT (SELECT count(*) FROM event WHERE tenant_id = :tenant_id AND occurred_at >= :since),
           (SELECT max(received_at) FROM event
             WHERE tenant_id = :tenant_id AND occurred_at >= :since),
           (SELECT count(*) FROM product WHERE tenant_id = :tenant_id),
           (SELECT max(updated_at) FROM product WHERE tenant_id = :tenant_id)
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


async def load_events(session: AsyncSession, tenant_id: uuid.UUID, since: datetime) -> EventLog:
    """The tenant's product-interest events since `since`, as columns."""
    result = await session.execute(
        EVENTS_SQL,
        {"tenant_id": tenant_id, "since": since, "types": sorted(SIGNAL_OF_EVENT_TYPE)},
    )
    rows = result.all()
    columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 7
    return EventLog(
        user_id=as_str_array(columns[0]),
        session_id=as_str_array(columns[1]),
        type=as_str_array(columns[2]),
        product_id=as_str_array(columns[3]),
        timestamp=np.asarray(columns[4], dtype=np.float64),
        order_id=as_str_array(columns[5]),
        revenue=np.array(
            [np.nan if value is None else value for value in columns[6]], dtype=np.float64
        ),
    )


async def load_catalog(session: AsyncSession, tenant_id: uuid.UUID) -> CatalogTable:
    """Every live product of the tenant, as columns."""
    rows: list[dict[str, Any]] = []
    async for product in iter_products(session, tenant_id):
        rows.append(
            {
                "product_id": product.product_id,
                "name": product.name,
                "brand": product.brand,
                "category": product.category,
                "description": product.description,
                "attributes": product.attributes,
                "price": float(product.current_price),
                "available": product.available,
                "deleted": False,
                "created_at": product.created_at,
            }
        )
    return CatalogTable.from_rows(rows)
