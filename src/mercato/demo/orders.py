"""Demo seed: stock at every demo location, and the orders behind the simulated purchases.

The tracking demo stores `simulate(days=90, users=5000, seed=42)` up to today 00:00 UTC;
`simulate_orders` with the same arguments yields the orders those purchase events belong
to, so every order here has the same products, quantities, revenue, time, shopper and
location as its events. Orders older than a week are completed, older than two days
fulfilled, the rest paid; their units were sold from the order's location, which the
stock ledger records (a receipt, then one sale per line), ending at today's stock.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.kernel.orm import uuid7
from mercato.modules.customers import seed_customers
from mercato.modules.inventory import seed_stock_history
from mercato.modules.orders import seed_order_history
from mercato.modules.payments import seed_payments
from mercato.simulation import SimulatedOrder, generate_catalog, generate_locations, simulate_orders

DEMO_SEED = 42
DEMO_DAYS = 90
DEMO_USERS = 5000
DEMO_PRODUCTS = 500
ACTOR = "system:demo"
BATCH = 500


def _status(placed_at: datetime, today: datetime) -> list[str]:
    age = today - placed_at
    if age > timedelta(days=7):
        return ["pending", "paid", "fulfilled", "completed"]
    if age > timedelta(days=2):
        return ["pending", "paid", "fulfilled"]
    return ["pending", "paid"]


def _rows(
    tenant_id: uuid.UUID, order: SimulatedOrder, names: dict[str, str], today: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    order_id = uuid7()
    steps = _status(order.placed_at, today)
    total = sum((line.line_total for line in order.items), Decimal("0"))
    summary = {
        "tenant_id": tenant_id,
        "id": order_id,
        "user_id": order.user_id,
        "email": order.email,
        "status": steps[-1],
        "currency": order.currency,
        "subtotal": total,
        "tax": Decimal("0"),
        "shipping": Decimal("0"),
        "total": total,
        "refunded_amount": Decimal("0"),
        "payment_provider": "manual",
        "idempotency_key": order.order_id,  # the simulator's order id: re-seeding stays single
        "stock_state": "sold",
        "created_at": order.placed_at,
        "updated_at": order.placed_at,
    }
    quantities: dict[str, int] = {}
    prices: dict[str, Decimal] = {}
    for line in order.items:
        quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity
        prices[line.product_id] = line.unit_price
    items = [
        {
            "tenant_id": tenant_id,
            "order_id": order_id,
            "product_id": product_id,
            "location_code": order.location_code,
            "name": names.get(product_id, product_id),
            "unit_price": prices[product_id],
            "quantity": quantity,
        }
        for product_id, quantity in quantities.items()
    ]
    history = [
        {
            "tenant_id": tenant_id,
            "id": uuid7(),
            "order_id": order_id,
            "from_status": None if index == 0 else steps[index - 1],
            "to_status": status,
            "actor": ACTOR,
            "created_at": order.placed_at + timedelta(hours=24 * index if index > 1 else 0),
        }
        for index, status in enumerate(steps)
    ]
    payment = {
        "tenant_id": tenant_id,
        "id": uuid7(),
        "order_id": order_id,
        "provider": "manual",
        "status": "succeeded",
        "amount": total,
        "refunded_amount": Decimal("0"),
        "currency": order.currency,
        "created_at": order.placed_at,
        "updated_at": order.placed_at,
    }
    return summary, items, history, payment


async def seed_orders(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    today = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    catalog = generate_catalog(products=DEMO_PRODUCTS, seed=DEMO_SEED, until=today)
    locations = generate_locations(DEMO_SEED)
    codes = [str(loc["code"]) for loc in locations]
    orders = [
        o
        for o in simulate_orders(
            catalog=catalog,
            locations=locations,
            days=DEMO_DAYS,
            users=DEMO_USERS,
            seed=DEMO_SEED,
            end=today,
        )
        if o.location_code in codes
    ]
    names = {str(p["product_id"]): str(p["name"]) for p in catalog.products}
    rng = random.Random(DEMO_SEED)  # noqa: S311 - demo data, not security
    on_hand = {
        (str(p["product_id"]), code): rng.randint(0, 40) if rng.random() > 0.05 else 0
        for p in catalog.products
        for code in codes
    }
    rows = [_rows(tenant_id, order, names, today) for order in orders]
    sales = [
        (
            item["product_id"],
            item["location_code"],
            item["quantity"],
            f"order:{item['order_id']}",
            summary["created_at"],
        )
        for summary, items, _, _ in rows
        for item in items
    ]
    async with context.database.tenant_session(tenant_id) as session:
        first = min((o.placed_at for o in orders), default=today) - timedelta(days=1)
        await seed_stock_history(session, tenant_id, on_hand, sales, received_at=first, actor=ACTOR)
        await seed_customers(
            session, tenant_id, sorted({o.email for o in orders if o.channel == "web"})
        )
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            await seed_order_history(
                session,
                [r[0] for r in chunk],
                [i for r in chunk for i in r[1]],
                [h for r in chunk for h in r[2]],
            )
            await seed_payments(session, [r[3] for r in chunk])
    context.notes.append(
        f"  orders:    {len(orders):,} historical orders, stock at {len(codes)} locations"
    )


STEPS = [SeedStep("orders.demo_history", 45, seed_orders)]
