"""Orders: checkout (reservation + order + payment), the order state machine, refunds,
shipments and returns, Stripe's webhook, and the reservation expiry and refund retry
jobs. Emits `order.created`, `order.paid`, `order.partially_fulfilled`, `order.fulfilled`,
`order.completed`, `order.cancelled`, `order.refunded`, `order.partially_refunded` with
`{order_id, status, total, currency, email, customer_id}`, and `shipment.created`,
`shipment.delivered`, `return.created`, `refund.created`.

The dashboard reads and moves orders with the service calls below; the demo seed writes
a history of finished orders with `seed_order_history`.
"""

from mercato.modules.orders.fulfilment import SHIPPABLE, create_shipment, mark_delivered
from mercato.modules.orders.returns import RETURNABLE, create_return, send_refund
from mercato.modules.orders.schemas import (
    ORDER_STATUSES,
    DeliveryCreate,
    OrderRead,
    RefundCreate,
    ReturnCreate,
    ShipmentCreate,
    TransitionCreate,
)
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
    "ORDER_STATUSES",
    "REFUNDABLE",
    "RETURNABLE",
    "SHIPPABLE",
    "DeliveryCreate",
    "OrderRead",
    "RefundCreate",
    "ReturnCreate",
    "ShipmentCreate",
    "TransitionCreate",
    "create_return",
    "create_shipment",
    "get_order",
    "list_orders",
    "mark_delivered",
    "order_counts",
    "read_order",
    "refund",
    "seed_order_history",
    "send_refund",
    "summary",
    "transition",
]
