"""Orders: checkout (reservation + order + payment), the order state machine, refunds,
Stripe's webhook, and the reservation expiry job. Emits `order.created`, `order.paid`,
`order.fulfilled`, `order.completed`, `order.cancelled`, `order.refunded`,
`order.partially_refunded` with `{order_id, status, total, currency, email, customer_id}`.

The dashboard reads and moves orders with the service calls below; the demo seed writes
a history of finished orders with `seed_order_history`.
"""

from mercato.modules.orders.schemas import OrderRead, RefundCreate, TransitionCreate
from mercato.modules.orders.seeding import seed_order_history
from mercato.modules.orders.service import (
    REFUNDABLE,
    get_order,
    list_orders,
    order_counts,
    read_order,
    refund,
    summary,
    transition,
)

__all__ = [
    "REFUNDABLE",
    "OrderRead",
    "RefundCreate",
    "TransitionCreate",
    "get_order",
    "list_orders",
    "order_counts",
    "read_order",
    "refund",
    "seed_order_history",
    "summary",
    "transition",
]
