"""The demo's historical orders match the simulated purchase events, and stock adds up."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time
from decimal import Decimal

from sqlalchemy import text

import mercato.demo
from mercato.demo import DemoContext, demo_tenant_id
from mercato.demo import identity as identity_demo
from mercato.demo import orders as demo
from mercato.demo.identity import seed_owner_and_tenant
from mercato.demo.locations import seed_locations
from mercato.kernel.db import get_database
from mercato.settings import get_settings
from mercato.simulation import generate_catalog, generate_locations, simulate


async def test_demo_orders_match_the_purchase_events(app, monkeypatch) -> None:
    # A tenant of its own: the e2e suite's live demo server seeds the real demo tenant in
    # this same database later in the run.
    slug = f"demo-orders-{secrets.token_hex(4)}"
    monkeypatch.setattr(mercato.demo, "DEMO_TENANT_SLUG", slug)
    monkeypatch.setattr(identity_demo, "DEMO_TENANT_SLUG", slug)
    context = DemoContext(
        get_settings(), get_database(), {"email": f"owner@{slug}.example", "password": "x" * 16}
    )
    await seed_owner_and_tenant(context)
    await seed_locations(context)
    await demo.seed_orders(context)
    tenant = await demo_tenant_id(context)
    today = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    events = [
        e
        for e in simulate(
            catalog=generate_catalog(products=demo.DEMO_PRODUCTS, seed=demo.DEMO_SEED, until=today),
            locations=generate_locations(demo.DEMO_SEED),
            days=demo.DEMO_DAYS,
            users=demo.DEMO_USERS,
            seed=demo.DEMO_SEED,
            end=today,
        )
        if e["type"] == "purchase"
    ]
    order_ids = {e["properties"]["order_id"] for e in events}
    revenue = sum(Decimal(e["revenue"]) for e in events)
    units = sum(int(e["quantity"]) for e in events)
    async with get_database().tenant_session(tenant) as session:
        count, total, first_at = (
            await session.execute(
                text("SELECT count(*), sum(total), min(created_at) FROM sales_order")
            )
        ).one()
        sold = await session.scalar(text("SELECT sum(quantity) FROM order_item"))
        drift = await session.scalar(
            text(
                "SELECT count(*) FROM stock_level s WHERE s.on_hand <> (SELECT "
                "coalesce(sum(on_hand_delta), 0) FROM stock_movement m WHERE "
                "m.product_id = s.product_id AND m.location_code = s.location_code)"
            )
        )
        matched = await session.scalar(
            text("SELECT count(*) FROM sales_order WHERE idempotency_key = ANY(:ids)"),
            {"ids": sorted(order_ids)},
        )
    assert 100 <= count == len(order_ids) == matched
    assert total == revenue
    assert sold == units
    assert drift == 0
    assert first_at == min(
        datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) for e in events
    )
