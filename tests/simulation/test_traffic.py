"""The live traffic stream against the real app (PostgreSQL, Redis), through the public API
with a publishable key for the storefront's calls and a secret key for checkout."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime

import psycopg
import pytest

from mercato.modules.tracking import daily_counters
from mercato.simulation import generate_catalog, generate_locations
from mercato.simulation import traffic as traffic_module
from mercato.simulation.traffic import TrafficStream, TrafficTarget
from mercato.simulation.world import build_world
from tests.factories import create_api_key, create_tenant, signup_and_login

ORIGIN = "https://shop.example"
VISITS = 40


async def _shop(client, owner, tenant: str, world) -> None:
    """The world's catalog, stores and stock, loaded the way a merchant would."""
    base = f"/api/v1/tenants/{tenant}"
    for location in world.stores:
        body = {"name": location["name"], "timezone": location["timezone"]}
        put = await client.put(
            f"{base}/locations/{location['code']}", json=body, headers=owner.headers
        )
        assert put.status_code in (200, 201), put.text
    products = [
        {k: v for k, v in doc.items() if k != "image_url"}
        for doc in generate_catalog(products=30, seed=5).products
    ]
    loaded = await client.post(
        f"{base}/products/batch", json={"products": products}, headers=owner.headers
    )
    assert loaded.json()["failed"] == [], loaded.text
    for doc in products:
        for location in world.stores:
            stocked = await client.put(
                f"{base}/inventory/{doc['product_id']}/{location['code']}",
                json={"on_hand": 50},
                headers=owner.headers,
            )
            assert stocked.status_code == 200, stocked.text


async def test_visits_go_through_the_public_api_and_purchases_follow_checkouts(
    client, owner_dsn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Eager returning shoppers, so a few dozen visits make carts and orders.
    monkeypatch.setattr(traffic_module, "NEW_VISITOR_SHARE", 0.0)
    monkeypatch.setattr(traffic_module, "ADD_TO_CART_BASE", 0.3)
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    world = build_world(
        generate_catalog(products=30, seed=5), generate_locations(5), 1, 40, 5, None
    )
    await _shop(client, owner, tenant, world)
    for propensity in range(len(world.population.propensity)):
        world.population.propensity[propensity] = 1.0
    publishable = await create_api_key(
        client, owner, tenant, kind="publishable", allowed_origins=[ORIGIN]
    )
    secret = await create_api_key(client, owner, tenant)
    target = TrafficTarget("http://testserver", tenant, publishable["key"], ORIGIN, secret["key"])
    stream = TrafficStream(world, target, seed=3)
    for _ in range(VISITS):
        await stream.visit(client)

    stats = stream.stats
    assert stats.errors == 0, stats.last_error
    assert stats.visits == VISITS
    assert stats.orders > 0
    with psycopg.connect(owner_dsn) as conn:
        rows = conn.execute(
            "SELECT session_id, type, occurred_at, properties->>'order_id' FROM event "
            "WHERE tenant_id = %s ORDER BY occurred_at",
            (tenant,),
        ).fetchall()
        statuses = conn.execute(
            "SELECT status, count(*) FROM sales_order WHERE tenant_id = %s GROUP BY 1", (tenant,)
        ).fetchall()
        purchased_units = [
            quantity
            for (quantity,) in conn.execute(
                "SELECT quantity FROM event WHERE tenant_id = %s AND type = 'purchase'", (tenant,)
            )
        ]
        sold = conn.execute(
            "SELECT coalesce(sum(on_hand), 0) FROM stock_level WHERE tenant_id = %s",
            (tenant,),
        ).fetchone()
    assert len(rows) == stats.events
    first: dict[str, dict[str, datetime]] = defaultdict(dict)
    for session_id, kind, occurred_at, _ in rows:
        first[session_id].setdefault(kind, occurred_at)
    assert len(first) == VISITS
    purchased = {order_id for _, kind, _, order_id in rows if kind == "purchase"}
    assert len(purchased) == stats.orders
    for steps in first.values():
        if "purchase" in steps:  # the closed funnel's order: view, cart, checkout, purchase
            assert steps["view_item"] <= steps["add_to_cart"] <= steps["begin_checkout"]
            assert steps["begin_checkout"] <= steps["purchase"]
    assert dict(statuses) == {"paid": stats.orders}
    units = sum(purchased_units)
    assert units > 0
    assert sold == (30 * len(world.stores) * 50 - units,)  # the units bought left stock
    today = await daily_counters(uuid.UUID(tenant), datetime.now(UTC).date())
    assert today.orders == stats.orders
    assert today.views > 0
