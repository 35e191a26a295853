"""Orders: reads, the state machine, refunds. Every change of status writes a history row
(actor and time) and emits `order.<status>` in the same transaction.

    pending → paid → (partially_fulfilled →) fulfilled → completed
    pending | paid → cancelled
    paid | partially_fulfilled | fulfilled | completed | partially_refunded
        → refunded | partially_refunded

Shipments (`fulfilment.py`) move a paid order to partially_fulfilled and fulfilled;
returns (`returns.py`) to partially_refunded and refunded once it is fulfilled.
A partially or wholly fulfilled order cannot be cancelled (its goods left).

Anything else is a 409. Stock follows the status: paid sells the reservation, cancelled
releases it (or, once sold, returns the units when the merchant asks to restock).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from mercato.kernel.events import emit
from mercato.kernel.pagination import newest_first
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.discounts import customer_key, release
from mercato.modules.inventory import (
    Allocation,
    release_stock,
    return_stock,
    sell_reserved_stock,
    sell_unreserved_stock,
)
from mercato.modules.orders.fulfilment_reads import returns_of_order, shipments_of_order
from mercato.modules.orders.models import OrderHistory, OrderItem, SalesOrder
from mercato.modules.orders.schemas import (
    OrderHistoryRead,
    OrderItemRead,
    OrderRead,
    OrderSummary,
    RefundCreate,
    RestockLine,
    TransitionCreate,
)
from mercato.modules.payments import (
    PaymentRead,
    RefundRead,
    mark_succeeded,
    payments_of_order,
    refund_payment,
    refunds_of_order,
)
from mercato.settings import get_settings

REFUNDABLE = {"paid", "partially_fulfilled", "fulfilled", "completed", "partially_refunded"}
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"fulfilled", "cancelled", "refunded", "partially_refunded"}),
    # Shipments move paid → partially_fulfilled → fulfilled; by hand it can only finish.
    "partially_fulfilled": frozenset({"fulfilled", "refunded", "partially_refunded"}),
    "fulfilled": frozenset({"completed", "refunded", "partially_refunded"}),
    "completed": frozenset({"refunded", "partially_refunded"}),
    "partially_refunded": frozenset({"refunded", "partially_refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}


class ForbiddenTransition(Conflict):
    slug, title = "forbidden-transition", "The order cannot move to that status"


class NoPayment(Conflict):
    slug, title = "no-payment", "No collected payment to refund"


def allowed_transitions(status: str) -> list[str]:
    return sorted(TRANSITIONS.get(status, frozenset()))


def summary(order: SalesOrder) -> OrderSummary:
    return OrderSummary.model_validate(order, from_attributes=True)


def order_number_of(order_id: uuid.UUID) -> str:
    """The short number people quote: the id's last 8 characters."""
    return str(order_id)[-8:].upper()


def order_number(order: SalesOrder) -> str:
    return order_number_of(order.id)


def event_payload(
    tenant_id: uuid.UUID,
    order_id: uuid.UUID,
    *,
    status: str,
    total: Decimal,
    currency: str,
    email: str,
    customer_id: uuid.UUID | None,
    **extra: Any,
) -> dict[str, Any]:
    """What `order.*` events carry: for outbound webhooks (`order_id`, `status`, …) and the
    notifications catalogue (`id`, `summary`, `number`, `url`, `customer_email`)."""
    number = order_number_of(order_id)
    path = f"/app/t/{tenant_id}/orders/{order_id}"
    return {
        "id": str(order_id),
        "order_id": str(order_id),
        "number": number,
        "summary": f"Order {number} is {status.replace('_', ' ')}: {total} {currency}",
        "status": status,
        "total": str(total),
        "currency": currency,
        "email": email,
        "customer_email": email,
        "customer_id": None if customer_id is None else str(customer_id),
        "url": get_settings().public_url.rstrip("/") + path,
        **extra,
    }


def order_payload(order: SalesOrder, **extra: Any) -> dict[str, Any]:
    return event_payload(
        order.tenant_id,
        order.id,
        status=order.status,
        total=order.total,
        currency=order.currency,
        email=order.email,
        customer_id=order.customer_id,
        **order_terms(
            order.shipping_address, order.billing_address, order.discount_code, order.discount_total
        ),
        **extra,
    )


def order_terms(
    shipping_address: dict[str, Any] | None,
    billing_address: dict[str, Any] | None,
    discount_code: str | None,
    discount_total: Decimal,
) -> dict[str, Any]:
    """The addresses and discount every `order.*` event carries beside the order's sums."""
    return {
        "shipping_address": shipping_address,
        "billing_address": billing_address,
        "discount_code": discount_code,
        "discount_total": str(discount_total),
    }


async def read_order(session: AsyncSession, order: SalesOrder) -> OrderRead:
    """The order with its items, history, payments and refunds."""
    items = (
        await session.scalars(
            select(OrderItem)
            .where(OrderItem.order_id == order.id)
            .order_by(OrderItem.product_id, OrderItem.location_code)
        )
    ).all()
    history = (
        await session.scalars(
            select(OrderHistory).where(OrderHistory.order_id == order.id).order_by(OrderHistory.id)
        )
    ).all()
    return OrderRead(
        **summary(order).model_dump(),
        items=[
            OrderItemRead(
                product_id=i.product_id,
                location_code=i.location_code,
                name=i.name,
                unit_price=i.unit_price,
                quantity=i.quantity,
                line_total=i.unit_price * i.quantity,
                discount=i.discount,
            )
            for i in items
        ],
        history=[OrderHistoryRead.model_validate(h) for h in history],
        payments=[
            PaymentRead.model_validate(p) for p in await payments_of_order(session, order.id)
        ],
        refunds=[RefundRead.model_validate(r) for r in await refunds_of_order(session, order.id)],
        allowed_transitions=allowed_transitions(order.status),
        shipments=await shipments_of_order(session, order.id),
        returns=await returns_of_order(session, order.id),
    )


async def get_order(
    session: AsyncSession, principal: TenantPrincipal, order_id: uuid.UUID, *, lock: bool = False
) -> SalesOrder:
    return await load_order(session, principal.tenant_id, order_id, lock=lock)


async def load_order(
    session: AsyncSession, tenant_id: uuid.UUID, order_id: uuid.UUID, *, lock: bool = False
) -> SalesOrder:
    order = await session.get(
        SalesOrder, (tenant_id, order_id), with_for_update=lock, populate_existing=lock
    )
    if order is None:
        raise NotFound("No such order")
    return order


async def list_orders(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    email: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[SalesOrder], str | None]:
    """Orders newest first, filtered by status, e-mail (exact, any case) and creation time."""
    principal.require(Permission.ORDERS_READ)
    query = select(SalesOrder)
    if status:
        query = query.where(SalesOrder.status == status)
    if email:
        query = query.where(SalesOrder.email.ilike(email.replace("%", "\\%").replace("_", "\\_")))
    if created_from:
        query = query.where(SalesOrder.created_at >= created_from)
    if created_to:
        query = query.where(SalesOrder.created_at < created_to)
    return await newest_first(session, query, limit=limit, cursor=cursor)


async def order_counts(session: AsyncSession, *, days: int = 7) -> dict[str, Any]:
    """For the overview: pending orders, and orders and revenue of the last `days` days."""
    row = (
        await session.execute(
            text(
                "SELECT count(*) FILTER (WHERE status = 'pending'), "
                "count(*) FILTER (WHERE created_at >= now() - make_interval(days => :days)), "
                "coalesce(sum(total - refunded_amount) FILTER (WHERE created_at >= now() - "
                "make_interval(days => :days) AND status NOT IN ('pending', 'cancelled')), 0), "
                "min(currency) FROM sales_order"
            ),
            {"days": days},
        )
    ).one()
    return {"pending": int(row[0]), "recent": int(row[1]), "revenue": row[2], "currency": row[3]}


async def orders_of_customer(
    session: AsyncSession, customer_id: uuid.UUID, *, limit: int
) -> list[SalesOrder]:
    """A shopper's own orders, newest first."""
    rows = await session.scalars(
        select(SalesOrder)
        .where(SalesOrder.customer_id == customer_id)
        .order_by(SalesOrder.created_at.desc(), SalesOrder.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def _items(session: AsyncSession, order: SalesOrder) -> list[OrderItem]:
    rows = await session.scalars(select(OrderItem).where(OrderItem.order_id == order.id))
    return list(rows.all())


def _allocations(items: Sequence[OrderItem]) -> list[Allocation]:
    return [Allocation(i.product_id, i.location_code, i.quantity) for i in items]


async def record_status(
    session: AsyncSession,
    order: SalesOrder,
    to: str,
    *,
    actor: str,
    note: str | None = None,
    announce: bool = True,
    **event_extra: Any,
) -> None:
    """Move the order to `to`, append the history row and (`announce`) emit `order.<to>`.

    An order that becomes cancelled gives its discount code's use back.
    """
    if to == "cancelled" and order.status != "cancelled" and order.discount_code is not None:
        await release(
            session,
            order.tenant_id,
            order.discount_code,
            customer_key(order.customer_id, order.email),
        )
    session.add(
        OrderHistory(
            tenant_id=order.tenant_id,
            order_id=order.id,
            from_status=order.status,
            to_status=to,
            actor=actor,
            note=note,
        )
    )
    order.status = to
    await session.flush()
    await session.refresh(order)  # updated_at is set by the database
    if announce:
        await emit(session, order.tenant_id, f"order.{to}", order_payload(order, **event_extra))


async def mark_paid(
    session: AsyncSession, order: SalesOrder, *, actor: str, note: str | None
) -> None:
    """The money arrived: the reservation becomes a sale (or, if it lapsed, the units are
    sold from what is available — 409 `insufficient-stock` when they are gone)."""
    items = await _items(session, order)
    reference = f"order:{order.id}"
    if order.stock_state == "reserved":
        await sell_reserved_stock(
            session, order.tenant_id, _allocations(items), reference=reference, actor=actor
        )
    elif order.stock_state == "released":
        await sell_unreserved_stock(
            session, order.tenant_id, _allocations(items), reference=reference, actor=actor
        )
    order.stock_state = "sold"
    order.reserved_until = None
    for payment in await payments_of_order(session, order.id):
        if payment.provider == "manual":
            await mark_succeeded(session, payment)
    await record_status(session, order, "paid", actor=actor, note=note)


async def cancel(session: AsyncSession, order: SalesOrder, *, actor: str, note: str | None) -> None:
    """Cancel a pending order: its reservation goes back to availability."""
    if order.stock_state == "reserved":
        await release_stock(
            session,
            order.tenant_id,
            _allocations(await _items(session, order)),
            reference=f"order:{order.id}",
            actor=actor,
        )
        order.stock_state = "released"
    order.reserved_until = None
    await record_status(session, order, "cancelled", actor=actor, note=note)


async def transition(
    session: AsyncSession, principal: TenantPrincipal, order_id: uuid.UUID, body: TransitionCreate
) -> SalesOrder:
    """Move an order along the state machine; 409 `forbidden-transition` otherwise.

    Refunding states and cancelling a paid order give money back, so they need
    `refunds:write` and a recent password (step-up) like `refund`.
    """
    order = await get_order(session, principal, order_id, lock=True)
    if body.to not in TRANSITIONS.get(order.status, frozenset()):
        raise ForbiddenTransition(
            f"An order that is {order.status} cannot become {body.to}",
            current=order.status,
            allowed=allowed_transitions(order.status),
        )
    if body.to == "partially_refunded":
        message = "Give an amount: POST {T}/orders/{id}/refunds"
        raise ValidationFailed(message, errors=[field_error("to", message)])
    if body.to == "refunded" or (body.to == "cancelled" and order.status == "paid"):
        await refund(
            session,
            principal,
            order_id,
            RefundCreate(reason=body.note, restock=body.restock),
            cancel_after=body.to == "cancelled",
        )
        return order
    principal.require(Permission.ORDERS_WRITE)
    if body.to == "paid":
        await mark_paid(session, order, actor=principal.actor, note=body.note)
    elif body.to == "cancelled":
        await cancel(session, order, actor=principal.actor, note=body.note)
    else:
        await record_status(session, order, body.to, actor=principal.actor, note=body.note)
    return order


def _restock_allocations(
    items: Sequence[OrderItem], lines: Sequence[RestockLine] | None
) -> list[Allocation]:
    """Units to put back, taken from the locations they were sold at."""
    if lines is None:
        return _allocations(items)
    allocations: list[Allocation] = []
    for line in lines:
        remaining = line.quantity
        sold = [i for i in items if i.product_id == line.product_id]
        if sum(i.quantity for i in sold) < remaining:
            message = f"The order has fewer than {remaining} units of {line.product_id!r}"
            raise ValidationFailed(message, errors=[field_error("restock_items", message)])
        for item in sold:
            take = min(item.quantity, remaining)
            if take:
                allocations.append(Allocation(item.product_id, item.location_code, take))
                remaining -= take
    return allocations


async def refund(
    session: AsyncSession,
    principal: TenantPrincipal,
    order_id: uuid.UUID,
    body: RefundCreate,
    *,
    cancel_after: bool = False,
) -> SalesOrder:
    """Give back `amount` (default: everything not yet refunded) through the provider.

    Needs `refunds:write` and step-up. 409 unless the order is paid, fulfilled, completed or
    partially refunded; 422 for more than what is left. With `restock`, the units (all, or
    `restock_items`) return to stock as a `return` movement.
    """
    order = await get_order(session, principal, order_id, lock=True)
    principal.require(Permission.REFUNDS_WRITE)
    principal.require_recent_auth()
    payments = [
        p
        for p in await payments_of_order(session, order.id)
        if p.status in ("succeeded", "partially_refunded")
    ]
    # A cancelled order can still hold money: a payment that arrived after its reservation
    # expired. It is refunded without leaving `cancelled`.
    late_payment = order.status == "cancelled" and bool(payments)
    if order.status not in REFUNDABLE and not late_payment:
        raise ForbiddenTransition(
            f"An order that is {order.status} cannot be refunded",
            current=order.status,
            allowed=allowed_transitions(order.status),
        )
    remaining = order.total - order.refunded_amount
    amount = body.amount if body.amount is not None else remaining
    if amount <= 0 or amount > remaining:
        message = f"At most {remaining} {order.currency} can still be refunded"
        raise ValidationFailed(message, errors=[field_error("amount", message)])
    if not payments:
        raise NoPayment()
    await refund_payment(
        session, order.tenant_id, payments[-1], amount, actor=principal.actor, reason=body.reason
    )
    order.refunded_amount = order.refunded_amount + amount
    if body.restock and order.stock_state == "sold":
        items = await _items(session, order)
        await return_stock(
            session,
            order.tenant_id,
            _restock_allocations(items, body.restock_items),
            reference=f"order:{order.id}",
            actor=principal.actor,
            note=body.reason,
        )
    full = order.refunded_amount >= order.total
    to = "cancelled" if cancel_after else ("refunded" if full else "partially_refunded")
    if late_payment:
        to = "cancelled"
    await record_status(
        session,
        order,
        to,
        actor=principal.actor,
        note=body.reason,
        announce=not late_payment,
        amount=str(amount),
    )
    if late_payment:  # the order stays cancelled; integrators still hear about the money
        await emit(
            session, order.tenant_id, "order.refunded", order_payload(order, amount=str(amount))
        )
    return order
