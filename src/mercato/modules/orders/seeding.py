"""Orders that happened before Mercato saw them (the demo shop's history), written in bulk
as rows: no checkout, reservation, payment flow or event runs for them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.orders.models import OrderHistory, OrderItem, SalesOrder


async def seed_order_history(
    session: AsyncSession,
    orders: Sequence[dict[str, Any]],
    items: Sequence[dict[str, Any]],
    history: Sequence[dict[str, Any]],
) -> None:
    """Insert finished orders, their lines and their status history (column → value rows
    of `sales_order`, `order_item` and `order_history`), one statement each."""
    await session.execute(insert(SalesOrder), list(orders))
    await session.execute(insert(OrderItem), list(items))
    await session.execute(insert(OrderHistory), list(history))
