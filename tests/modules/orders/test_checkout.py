"""Checkout over HTTP: reservation, idempotency, oversell under contention, expiry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from mercato.modules.orders.jobs import EXPIRY_ACTOR, expire_reservations
from tests.modules.orders.shop import (
    cart_with,
    checkout,
    ledger_is_consistent,
    open_shop,
    stock_of,
)


async def test_checkout_reserves_stock_and_opens_a_pending_order(client) -> None:
    shop = await open_shop(client, products={"mug": "12.50"}, stock={("mug", "HAM"): 5})
    cart = await cart_with(client, shop, {"mug": 2})
    response = await checkout(client, shop, cart)
    assert response.status_code == 201, response.text
    order = response.json()["order"]
    assert order["status"] == "pending"
    assert order["total"] == "25.00"
    assert order["currency"] == "EUR"
    assert response.json()["payment"]["provider"] == "manual"
    stock = await stock_of(client, shop, "mug")
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (5, 2, 3)
    assert await ledger_is_consistent(client, shop, "mug")
    fetched = (await client.get(shop.url(f"/orders/{order['id']}"), headers=shop.headers)).json()
    assert fetched["status"] == "pending"
    assert [(i["product_id"], i["quantity"], i["location_code"]) for i in fetched["items"]] == [
        ("mug", 2, "HAM")
    ]
    assert fetched["history"][0]["to_status"] == "pending"
    assert fetched["history"][0]["actor"].startswith("api_key:")
    # The payment row, written with the order in one pipeline, answers as stored.
    assert fetched["payments"] == [response.json()["payment"]]
    # The cart is spent: a second checkout of it is refused.
    again = await checkout(client, shop, cart)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/cart-not-active")


async def test_insufficient_stock_is_409_and_changes_nothing(client) -> None:
    shop = await open_shop(
        client, products={"a": "1.00", "b": "2.00"}, stock={("a", "S1"): 5, ("b", "S1"): 1}
    )
    cart = await cart_with(client, shop, {"a": 2, "b": 3})
    response = await checkout(client, shop, cart)
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"].endswith("/insufficient-stock")
    assert problem["items"] == [{"product_id": "b", "requested": 3, "available": 1}]
    assert (await stock_of(client, shop, "a"))["reserved"] == 0
    # The cart is still usable after the refusal.
    fixed = await client.put(
        shop.url(f"/carts/{cart}/items/b"), json={"quantity": 1}, headers=shop.headers
    )
    assert fixed.status_code == 200
    assert (await checkout(client, shop, cart)).status_code == 201


async def test_checkout_never_oversells_under_contention(client, owner_dsn) -> None:
    shop = await open_shop(client, products={"hot": "9.99"}, stock={("hot", "W1"): 10})
    carts = [await cart_with(client, shop, {"hot": 1}) for _ in range(60)]
    responses = await asyncio.gather(*(checkout(client, shop, cart) for cart in carts))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 10, codes
    assert codes.count(409) == 50, codes
    assert all(
        r.json()["type"].endswith("/insufficient-stock") for r in responses if r.status_code == 409
    )
    stock = await stock_of(client, shop, "hot")
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (10, 10, 0)
    assert await ledger_is_consistent(client, shop, "hot")
    # Replayed in order, the ledger never had on_hand below zero nor reserved above on_hand.
    with psycopg.connect(owner_dsn) as conn:
        worst = conn.execute(
            "SELECT min(h), max(r - h) FROM (SELECT sum(on_hand_delta) OVER w AS h, "
            "sum(reserved_delta) OVER w AS r FROM stock_movement WHERE tenant_id = %s "
            "AND product_id = 'hot' WINDOW w AS (ORDER BY created_at, id)) AS running",
            (shop.tenant,),
        ).fetchone()
    assert worst is not None
    assert worst[0] >= 0
    assert worst[1] <= 0


async def test_stock_spread_over_locations_is_combined(client) -> None:
    shop = await open_shop(client, products={"p": "3.00"}, stock={("p", "A"): 2, ("p", "B"): 3})
    cart = await cart_with(client, shop, {"p": 4})
    response = await checkout(client, shop, cart)
    assert response.status_code == 201, response.text
    items = sorted((i["location_code"], i["quantity"]) for i in response.json()["order"]["items"])
    assert items == [("A", 1), ("B", 3)]
    preferred = await cart_with(client, shop, {"p": 1}, location_code="A")
    placed = await checkout(client, shop, preferred)
    assert [i["location_code"] for i in placed.json()["order"]["items"]] == ["A"]


async def test_one_location_with_every_unit_beats_a_split(client) -> None:
    shop = await open_shop(
        client,
        products={"q": "1.00", "untracked": "1.00"},
        stock={("q", "A"): 2, ("q", "B"): 5, ("q", "C"): 4},
    )
    # The preferred location lacks units: the one with most available that has them all.
    placed = await checkout(
        client, shop, await cart_with(client, shop, {"q": 4}, location_code="A")
    )
    assert [(i["location_code"], i["quantity"]) for i in placed.json()["order"]["items"]] == [
        ("B", 4)
    ]
    # None has 6 (A 2, B 1, C 4): most available first.
    split = await checkout(client, shop, await cart_with(client, shop, {"q": 6}))
    assert [(i["location_code"], i["quantity"]) for i in split.json()["order"]["items"]] == [
        ("C", 4),
        ("A", 2),
    ]
    # A product without any stock row has nothing to reserve.
    untracked = await checkout(
        client, shop, await cart_with(client, shop, {"untracked": 1, "q": 1})
    )
    assert untracked.status_code == 409
    assert untracked.json()["items"] == [
        {"product_id": "untracked", "requested": 1, "available": 0}
    ]
    stock = await stock_of(client, shop, "q")
    assert (stock["on_hand"], stock["reserved"]) == (11, 10)
    assert await ledger_is_consistent(client, shop, "q")


def _payments_and_order_events(owner_dsn: str, tenant: str) -> tuple[int, list[str]]:
    """The tenant's payment rows, and the order ids of its queued `order.created` jobs."""
    with psycopg.connect(owner_dsn) as conn:
        payments = conn.execute(
            "SELECT count(*) FROM payment WHERE tenant_id = %s", (tenant,)
        ).fetchone()
        events = conn.execute(
            "SELECT args->'payload'->>'order_id' FROM procrastinate_jobs "
            "WHERE task_name = 'events.deliver' AND args->>'event' = 'order.created' "
            "AND args->>'tenant_id' = %s",
            (tenant,),
        ).fetchall()
    assert payments is not None
    return int(payments[0]), sorted({row[0] for row in events})


async def test_a_key_reused_with_another_cart_is_422_and_changes_nothing(client, owner_dsn) -> None:
    shop = await open_shop(client, products={"k": "2.00"}, stock={("k", "S"): 3})
    key = str(uuid.uuid4())
    first = await checkout(client, shop, await cart_with(client, shop, {"k": 1}), key=key)
    assert first.status_code == 201
    other = await cart_with(client, shop, {"k": 1})
    short = await cart_with(client, shop, {"k": 5})
    for cart in (other, short):
        reused = await checkout(client, shop, cart, key=key)
        assert reused.status_code == 422, reused.text
        assert reused.json()["type"].endswith("/idempotency-key-reused")
    stock = await stock_of(client, shop, "k")
    assert (stock["on_hand"], stock["reserved"]) == (3, 1)
    assert await ledger_is_consistent(client, shop, "k")
    orders = (await client.get(shop.url("/orders"), headers=shop.headers)).json()["data"]
    assert len(orders) == 1
    # The refused insert took its pipelined payment row and event jobs with it.
    assert _payments_and_order_events(owner_dsn, shop.tenant) == (1, [first.json()["order"]["id"]])
    # Rolled back whole: the other cart is still active and checks out with a new key.
    assert (await checkout(client, shop, other)).status_code == 201


async def test_same_idempotency_key_returns_the_same_order(client) -> None:
    shop = await open_shop(client, products={"x": "5.00"}, stock={("x", "S"): 3})
    cart = await cart_with(client, shop, {"x": 1})
    key = str(uuid.uuid4())
    first, second = await asyncio.gather(
        checkout(client, shop, cart, key=key), checkout(client, shop, cart, key=key)
    )
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert first.json()["order"]["id"] == second.json()["order"]["id"]
    assert (await stock_of(client, shop, "x"))["reserved"] == 1
    other_body = await checkout(client, shop, cart, key=key, email="other@example.com")
    assert other_body.status_code == 422
    assert other_body.json()["type"].endswith("/idempotency-key-reused")


async def test_expired_reservations_are_released_by_the_job(client) -> None:
    shop = await open_shop(client, products={"e": "1.00"}, stock={("e", "S"): 2})
    order = (await checkout(client, shop, await cart_with(client, shop, {"e": 2}))).json()["order"]
    assert (await stock_of(client, shop, "e"))["available"] == 0
    # Not yet expired: nothing happens.
    assert await expire_reservations(uuid.UUID(shop.tenant)) == 0
    later = datetime.now(UTC) + timedelta(hours=1)
    assert await expire_reservations(uuid.UUID(shop.tenant), now=later) == 1
    stock = await stock_of(client, shop, "e")
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (2, 0, 2)
    fetched = (await client.get(shop.url(f"/orders/{order['id']}"), headers=shop.headers)).json()
    assert fetched["status"] == "cancelled"
    assert fetched["history"][-1]["actor"] == EXPIRY_ACTOR
    assert await ledger_is_consistent(client, shop, "e")
    # A new shopper can buy the released units.
    assert (
        await checkout(client, shop, await cart_with(client, shop, {"e": 2}))
    ).status_code == 201


async def test_checkout_validation_is_422(client) -> None:
    shop = await open_shop(client)
    bad = await client.post(
        shop.url("/checkout"),
        json={"cart_id": "nope", "email": "not-an-email", "payment_provider": "cash"},
        headers=shop.headers,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"cart_id", "email", "payment_provider"}
    missing = await checkout(client, shop, str(uuid.uuid4()))
    assert missing.status_code == 404
