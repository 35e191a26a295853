"""Shipments: which units of a paid order left which location, and when they arrived.

Stock: payment already took the units off on_hand at the locations checkout reserved
them at (the order's allocations). A shipment consumes those allocations — first the one
at the location it leaves from, then the others by location code. Units consumed from
an allocation elsewhere move their sale to the shipping location (inventory's
`transfer_sold_stock`: back on hand where they were sold, off on hand where they leave;
409 `insufficient-stock` if that location has too few available). So stock always
leaves the location the parcel left from.

Status: the first shipment moves a paid order to `partially_fulfilled`, the one that
ships the last unit to `fulfilled` (each emits `order.<status>` with the shipment). Each
shipment emits `shipment.created`, its delivery `shipment.delivered`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from mercato.kernel.events import emit
from mercato.kernel.orm import uuid7
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.inventory import Allocation, transfer_sold_stock
from mercato.modules.locations import get_location
from mercato.modules.orders.fulfilment_reads import shipment_read, shipped_by_allocation
from mercato.modules.orders.models import OrderItem, SalesOrder, Shipment, ShipmentLine
from mercato.modules.orders.schemas import DeliveryCreate, ShipmentCreate, ShipmentRead
from mercato.modules.orders.service import (
    allowed_transitions,
    get_order,
    order_number,
    order_payload,
    record_status,
)

SHIPPABLE = {"paid", "partially_fulfilled"}


class NotShippable(Conflict):
    slug, title = "order-not-shippable", "Only a paid order that is not fully shipped can ship"


class BeyondOrdered(Conflict):
    slug, title = "beyond-ordered", "More units than the order has left to ship"


class AlreadyDelivered(Conflict):
    slug, title = "already-delivered", "The shipment was delivered already"


def _consume(
    items: list[OrderItem],
    shipped: dict[tuple[str, str], int],
    product_id: str,
    quantity: int,
    ship_from: str,
) -> list[Allocation]:
    """Which allocations `quantity` units of a product come from (ship_from's first)."""
    rows = sorted(
        (i for i in items if i.product_id == product_id),
        key=lambda i: (i.location_code != ship_from, i.location_code),
    )
    left = {
        i.location_code: i.quantity - shipped.get((product_id, i.location_code), 0) for i in rows
    }
    if sum(left.values()) < quantity:
        raise BeyondOrdered(
            f"{product_id!r}: {sum(left.values())} units are left to ship, not {quantity}",
            product_id=product_id,
            remaining=sum(left.values()),
        )
    taken: list[Allocation] = []
    for item in rows:
        take = min(left[item.location_code], quantity)
        if take > 0:
            taken.append(Allocation(product_id, item.location_code, take))
            quantity -= take
    return taken


def _shipment_fields(shipment: ShipmentRead) -> dict[str, Any]:
    """What `shipment.*` events, and the `order.*` event a shipment causes, carry of it."""
    return {
        "shipment_id": str(shipment.id),
        # Each shipment notifies once, though `order.partially_fulfilled` may recur.
        "occurrence_id": f"{shipment.id}:{shipment.status}",
        "location_code": shipment.location_code,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url,
        "lines": [line.model_dump() for line in shipment.lines],
        "shipped_at": shipment.shipped_at.isoformat(),
        "delivered_at": None
        if shipment.delivered_at is None
        else shipment.delivered_at.isoformat(),
    }


async def _announce(
    session: AsyncSession, order: SalesOrder, event: str, shipment: ShipmentRead
) -> None:
    happened = "left " + shipment.location_code if event == "shipment.created" else "was delivered"
    payload = order_payload(
        order,
        id=str(shipment.id),
        summary=f"Order {order_number(order)}: a parcel {happened}",
        **_shipment_fields(shipment),
    )
    await emit(session, order.tenant_id, event, payload)


async def create_shipment(
    session: AsyncSession, principal: TenantPrincipal, order_id: uuid.UUID, body: ShipmentCreate
) -> tuple[SalesOrder, ShipmentRead]:
    """Ship units of a paid order from one location (see the module docstring).

    409 `order-not-shippable` unless paid or partially fulfilled, `beyond-ordered` for
    more units than are left to ship, `insufficient-stock` when the location lacks them;
    422 for an unknown location, a product listed twice or one the order lacks.
    """
    principal.require(Permission.ORDERS_WRITE)
    order = await get_order(session, principal, order_id, lock=True)
    if order.status not in SHIPPABLE or order.stock_state != "sold":
        raise NotShippable(
            f"An order that is {order.status} cannot ship",
            current=order.status,
            allowed=allowed_transitions(order.status),
        )
    try:
        await get_location(session, order.tenant_id, body.location_code)
    except NotFound as exc:
        message = f"No location {body.location_code!r}"
        raise ValidationFailed(message, errors=[field_error("location_code", message)]) from exc
    items = list(
        (await session.scalars(select(OrderItem).where(OrderItem.order_id == order.id))).all()
    )
    unknown = sorted({line.product_id for line in body.lines} - {i.product_id for i in items})
    if unknown:
        message = f"The order has no {', '.join(map(repr, unknown))}"
        raise ValidationFailed(message, errors=[field_error("lines", message)])
    shipped = await shipped_by_allocation(session, order.id)
    taken = [
        allocation
        for line in sorted(body.lines, key=lambda line: line.product_id)
        for allocation in _consume(
            items, shipped, line.product_id, line.quantity, body.location_code
        )
    ]
    shipment_id = uuid7()
    await transfer_sold_stock(
        session,
        order.tenant_id,
        taken,
        body.location_code,
        reference=f"shipment:{shipment_id}",
        actor=principal.actor,
    )
    shipment = Shipment(
        tenant_id=order.tenant_id,
        id=shipment_id,
        order_id=order.id,
        location_code=body.location_code,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        tracking_url=None if body.tracking_url is None else str(body.tracking_url),
        status="shipped",
        actor=principal.actor,
    )
    session.add(shipment)
    await session.flush()
    lines = [
        ShipmentLine(
            tenant_id=order.tenant_id,
            shipment_id=shipment_id,
            product_id=a.product_id,
            allocation_location=a.location_code,
            order_id=order.id,
            quantity=a.quantity,
        )
        for a in taken
    ]
    session.add_all(lines)
    await session.flush()
    await session.refresh(shipment)
    read = shipment_read(shipment, lines)
    for a in taken:
        shipped[(a.product_id, a.location_code)] = (
            shipped.get((a.product_id, a.location_code), 0) + a.quantity
        )
    complete = all(shipped.get((i.product_id, i.location_code), 0) >= i.quantity for i in items)
    await _announce(session, order, "shipment.created", read)
    await record_status(
        session,
        order,
        "fulfilled" if complete else "partially_fulfilled",
        actor=principal.actor,
        note=f"shipment {shipment_id}",
        **_shipment_fields(read),
    )
    return order, read


async def mark_delivered(
    session: AsyncSession,
    principal: TenantPrincipal,
    order_id: uuid.UUID,
    shipment_id: uuid.UUID,
    body: DeliveryCreate,
) -> ShipmentRead:
    """Record that a parcel arrived (`delivered_at`, default now); emits `shipment.delivered`.
    409 `already-delivered` the second time."""
    principal.require(Permission.ORDERS_WRITE)
    order = await get_order(session, principal, order_id)
    shipment = await session.get(
        Shipment, (order.tenant_id, shipment_id), with_for_update=True, populate_existing=True
    )
    if shipment is None or shipment.order_id != order.id:
        raise NotFound("No such shipment")
    if shipment.status == "delivered":
        raise AlreadyDelivered(delivered_at=str(shipment.delivered_at))
    shipment.status = "delivered"
    shipment.delivered_at = body.delivered_at or datetime.now(UTC)
    await session.flush()
    lines = list(
        (
            await session.scalars(
                select(ShipmentLine).where(ShipmentLine.shipment_id == shipment.id)
            )
        ).all()
    )
    read = shipment_read(shipment, lines)
    await _announce(session, order, "shipment.delivered", read)
    return read
