"""Reads of an order's shipments and returns, and the unit counts the rules check:
shipped per allocation (product, location sold at), shipped and returned per product."""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.orders.models import OrderReturn, ReturnLine, Shipment, ShipmentLine
from mercato.modules.orders.schemas import (
    ReturnLineRead,
    ReturnRead,
    ShipmentLineRead,
    ShipmentRead,
)
from mercato.modules.payments import RefundRead, refunds_of_order


async def shipped_by_allocation(
    session: AsyncSession, order_id: uuid.UUID
) -> dict[tuple[str, str], int]:
    """Units shipped so far per (product, location the units were sold at)."""
    rows = await session.execute(
        select(
            ShipmentLine.product_id,
            ShipmentLine.allocation_location,
            func.sum(ShipmentLine.quantity),
        )
        .where(ShipmentLine.order_id == order_id)
        .group_by(ShipmentLine.product_id, ShipmentLine.allocation_location)
    )
    return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}


async def returned_by_product(
    session: AsyncSession, order_id: uuid.UUID
) -> dict[str, tuple[int, Decimal]]:
    """Units returned so far per product, and what was refunded for them."""
    rows = await session.execute(
        select(
            ReturnLine.product_id, func.sum(ReturnLine.quantity), func.sum(ReturnLine.refund_amount)
        )
        .where(ReturnLine.order_id == order_id)
        .group_by(ReturnLine.product_id)
    )
    return {str(r[0]): (int(r[1]), Decimal(r[2])) for r in rows}


async def last_ship_from(session: AsyncSession, order_id: uuid.UUID) -> dict[str, str]:
    """Per product, the location its latest shipment left from (a return's default)."""
    rows = await session.execute(
        select(ShipmentLine.product_id, Shipment.location_code)
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(ShipmentLine.order_id == order_id)
        .order_by(Shipment.id)
    )
    return {str(r[0]): str(r[1]) for r in rows}


def shipment_read(shipment: Shipment, lines: list[ShipmentLine]) -> ShipmentRead:
    per_product: dict[str, int] = defaultdict(int)
    for line in lines:
        per_product[line.product_id] += line.quantity
    return ShipmentRead(
        id=shipment.id,
        order_id=shipment.order_id,
        status=shipment.status,
        location_code=shipment.location_code,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        tracking_url=shipment.tracking_url,
        lines=[ShipmentLineRead(product_id=p, quantity=q) for p, q in sorted(per_product.items())],
        shipped_at=shipment.shipped_at,
        delivered_at=shipment.delivered_at,
    )


async def shipments_of_order(session: AsyncSession, order_id: uuid.UUID) -> list[ShipmentRead]:
    shipments = (
        await session.scalars(
            select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
        )
    ).all()
    lines = (
        await session.scalars(select(ShipmentLine).where(ShipmentLine.order_id == order_id))
    ).all()
    by_shipment: dict[uuid.UUID, list[ShipmentLine]] = defaultdict(list)
    for line in lines:
        by_shipment[line.shipment_id].append(line)
    return [shipment_read(s, by_shipment[s.id]) for s in shipments]


async def returns_of_order(session: AsyncSession, order_id: uuid.UUID) -> list[ReturnRead]:
    returns = (
        await session.scalars(
            select(OrderReturn).where(OrderReturn.order_id == order_id).order_by(OrderReturn.id)
        )
    ).all()
    if not returns:
        return []
    lines = (
        await session.scalars(
            select(ReturnLine)
            .where(ReturnLine.order_id == order_id)
            .order_by(ReturnLine.product_id)
        )
    ).all()
    refunds = {
        r.return_id: RefundRead.model_validate(r)
        for r in await refunds_of_order(session, order_id)
        if r.return_id is not None
    }
    return [
        ReturnRead(
            id=r.id,
            order_id=r.order_id,
            reason=r.reason,
            refund_amount=r.refund_amount,
            currency=r.currency,
            lines=[
                ReturnLineRead(
                    product_id=line.product_id,
                    quantity=line.quantity,
                    restock=line.restock,
                    location_code=line.location_code,
                    refund_amount=line.refund_amount,
                )
                for line in lines
                if line.return_id == r.id
            ],
            refund=refunds.get(r.id),
            created_at=r.created_at,
        )
        for r in returns
    ]
