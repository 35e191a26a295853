"""Returns (RMA): shipped units come back, some restocked, and the money for them is
refunded through the order's payment provider exactly once.

Amount: a returned unit refunds what was charged for it — its price less its share of
the order's discount (`order_item.discount`), pro rata by units; the return that brings
back a product's last shipped-and-ordered unit refunds the rest of that product's line,
so a line's refunds add up to what it cost to the cent. Tax and shipping are not part of
it (a merchant gives those back with `POST {T}/orders/{id}/refunds`). The amount never
exceeds what is left unrefunded on the order (checked under the order's row lock).

Exactly once: the return, its lines, the restock movements and a `pending` refund row
(unique per return, amount already counted on the order and the payment) commit
together. Only then is the provider asked (`settle_refund`, idempotency key = refund
id), by the request and, if that fails or the process dies, by the retry job
(`orders.retry_refunds`, every minute). Stripe down: the request still answers 201 with
the refund `pending` and its error; the job sends it later; nothing is sent twice.

Status: a return on a fulfilled (or completed, or partially refunded) order moves it to
`partially_refunded`, or `refunded` once everything is refunded. On a partially fulfilled
order the status stays, so the rest can still ship; the refund shows in
`refunded_amount`. Events: `return.created` at once, `refund.created` when the provider
accepted the refund.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import Conflict
from mercato.kernel.events import emit
from mercato.kernel.money import to_cents
from mercato.kernel.orm import uuid7
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.inventory import Allocation, restock_units
from mercato.modules.orders.fulfilment_reads import (
    last_ship_from,
    returned_by_product,
    shipped_by_allocation,
)
from mercato.modules.orders.models import OrderItem, OrderReturn, ReturnLine, SalesOrder
from mercato.modules.orders.schemas import ReturnCreate
from mercato.modules.orders.service import (
    NoPayment,
    allowed_transitions,
    get_order,
    load_order,
    order_number,
    order_payload,
    record_status,
)
from mercato.modules.payments import open_refund, payments_of_order, settle_refund

RETURNABLE = {"partially_fulfilled", "fulfilled", "completed", "partially_refunded"}


class NotReturnable(Conflict):
    slug, title = "order-not-returnable", "Only shipped units of an order can come back"


class BeyondShipped(Conflict):
    slug, title = "beyond-shipped", "More units than were shipped and not yet returned"


def _line_amounts(
    items: list[OrderItem],
    returned: dict[str, tuple[int, Decimal]],
    product_id: str,
    quantity: int,
) -> Decimal:
    """What `quantity` returned units of a product refund (see the module docstring)."""
    rows = [i for i in items if i.product_id == product_id]
    ordered = sum(i.quantity for i in rows)
    charged = sum((i.unit_price * i.quantity - i.discount for i in rows), Decimal("0"))
    units_before, refunded_before = returned.get(product_id, (0, Decimal("0")))
    if units_before + quantity >= ordered:
        return max(charged - refunded_before, Decimal("0"))
    return to_cents(charged * quantity / ordered)


async def create_return(
    session: AsyncSession, principal: TenantPrincipal, order_id: uuid.UUID, body: ReturnCreate
) -> tuple[OrderReturn, uuid.UUID | None]:
    """Record a return, restock what the merchant asked for and open its refund.

    Needs `refunds:write` and step-up. 409 `order-not-returnable` before anything shipped
    (or once refunded/cancelled), `beyond-shipped` for more units than were shipped and
    not yet returned; 422 for a product listed twice or an unknown restock location.
    Returns the return and its pending refund's id (None when nothing is owed).
    """
    principal.require(Permission.REFUNDS_WRITE)
    principal.require_recent_auth()
    order = await get_order(session, principal, order_id, lock=True)
    if order.status not in RETURNABLE:
        raise NotReturnable(
            f"An order that is {order.status} takes no returns",
            current=order.status,
            allowed=allowed_transitions(order.status),
        )
    shipped: dict[str, int] = defaultdict(int)
    for (product_id, _), units in (await shipped_by_allocation(session, order.id)).items():
        shipped[product_id] += units
    returned = await returned_by_product(session, order.id)
    for line in body.lines:
        left = shipped[line.product_id] - returned.get(line.product_id, (0, Decimal("0")))[0]
        if line.quantity > left:
            raise BeyondShipped(
                f"{line.product_id!r}: {left} shipped units can come back, not {line.quantity}",
                product_id=line.product_id,
                returnable=left,
            )
    items = list(
        (await session.scalars(select(OrderItem).where(OrderItem.order_id == order.id))).all()
    )
    shipped_from = await last_ship_from(session, order.id)
    return_id = uuid7()
    lines = [
        ReturnLine(
            tenant_id=order.tenant_id,
            return_id=return_id,
            product_id=line.product_id,
            order_id=order.id,
            quantity=line.quantity,
            restock=line.restock,
            location_code=(line.location_code or shipped_from[line.product_id])
            if line.restock
            else None,
            refund_amount=_line_amounts(items, returned, line.product_id, line.quantity),
        )
        for line in sorted(body.lines, key=lambda line: line.product_id)
    ]
    await restock_units(
        session,
        order.tenant_id,
        [Allocation(r.product_id, str(r.location_code), r.quantity) for r in lines if r.restock],
        reference=f"return:{return_id}",
        actor=principal.actor,
        note=body.reason,
    )
    amount = min(
        sum((r.refund_amount for r in lines), Decimal("0")), order.total - order.refunded_amount
    )
    record = OrderReturn(
        tenant_id=order.tenant_id,
        id=return_id,
        order_id=order.id,
        reason=body.reason,
        refund_amount=amount,
        currency=order.currency,
        actor=principal.actor,
    )
    session.add(record)
    await session.flush()
    session.add_all(lines)
    await session.flush()
    await session.refresh(record)
    refund_id = await _open_refund(session, order, record, principal.actor)
    await emit(
        session,
        order.tenant_id,
        "return.created",
        order_payload(
            order,
            id=str(return_id),
            summary=f"Order {order_number(order)}: a return of {amount} {order.currency}",
            return_id=str(return_id),
            reason=body.reason,
            amount=str(amount),
            lines=[
                {
                    "product_id": r.product_id,
                    "quantity": r.quantity,
                    "restock": r.restock,
                    "location_code": r.location_code,
                    "refund_amount": str(r.refund_amount),
                }
                for r in lines
            ],
        ),
    )
    return record, refund_id


async def _open_refund(
    session: AsyncSession, order: SalesOrder, record: OrderReturn, actor: str
) -> uuid.UUID | None:
    """The return's pending refund, counted on the order; the order's status follows."""
    if record.refund_amount <= 0:
        return None
    payments = [
        p
        for p in await payments_of_order(session, order.id)
        if p.status in ("succeeded", "partially_refunded")
    ]
    if not payments:
        raise NoPayment()
    refund = await open_refund(
        session,
        order.tenant_id,
        payments[-1],
        record.refund_amount,
        actor=actor,
        reason=record.reason,
        return_id=record.id,
    )
    order.refunded_amount = order.refunded_amount + record.refund_amount
    if order.status != "partially_fulfilled":
        full = order.refunded_amount >= order.total
        await record_status(
            session,
            order,
            "refunded" if full else "partially_refunded",
            actor=actor,
            note=record.reason,
            amount=str(record.refund_amount),
            return_id=str(record.id),
        )
    else:
        await session.flush()
    return refund.id


async def send_refund(session: AsyncSession, tenant_id: uuid.UUID, refund_id: uuid.UUID) -> bool:
    """Ask the provider for a pending refund; True (and `refund.created`) if it took it now.

    Commits the session's work first (see payments' `settle_refund`); a failure stays on
    the refund row for the retry job.
    """
    refund = await settle_refund(session, tenant_id, refund_id)
    if refund is None:
        return False
    order = await load_order(session, tenant_id, refund.order_id)
    await emit(
        session,
        tenant_id,
        "refund.created",
        order_payload(
            order,
            id=str(refund.id),
            summary=f"Order {order_number(order)}: {refund.amount} {order.currency} refunded",
            refund_id=str(refund.id),
            return_id=None if refund.return_id is None else str(refund.return_id),
            amount=str(refund.amount),
            reason=refund.reason,
            provider_reference=refund.provider_reference,
        ),
    )
    return True
