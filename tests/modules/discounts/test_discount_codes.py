"""Discount codes over HTTP: terms, per-line display, checkout, limits, races, rollbacks."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from mercato.kernel.db import get_database
from mercato.modules.discounts import DiscountExhausted, customer_key, redeem
from mercato.modules.discounts.models import Discount
from tests.modules.orders.shop import Shop, cart_with, checkout, open_shop, stock_of


async def put_code(client, shop: Shop, code: str, **terms: Any) -> dict[str, Any]:
    response = await client.put(
        shop.url(f"/discounts/{code}"), json=terms, headers=shop.owner.headers
    )
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def apply(client, shop: Shop, cart: str, code: str):
    return await client.put(
        shop.url(f"/carts/{cart}/discount"), json={"code": code}, headers=shop.headers
    )


async def times_used(client, shop: Shop, code: str) -> int:
    response = await client.get(shop.url(f"/discounts/{code}"), headers=shop.owner.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["times_used"])


async def test_a_percentage_code_shows_per_line_and_in_totals_and_is_charged(client) -> None:
    shop = await open_shop(
        client, products={"a": "10.00", "b": "5.00"}, stock={("a", "S"): 5, ("b", "S"): 5}
    )
    created = await client.put(
        shop.url("/discounts/save10"),
        json={"kind": "percentage", "value": "10"},
        headers=shop.owner.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["code"] == "SAVE10"
    assert created.json()["times_used"] == 0
    cart = await cart_with(client, shop, {"a": 1, "b": 3})
    applied = await apply(client, shop, cart, "Save10")
    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert {i["product_id"]: i["discount"] for i in body["items"]} == {"a": "1.00", "b": "1.50"}
    assert (body["subtotal"], body["discount_total"], body["total"]) == ("25.00", "2.50", "22.50")
    assert body["discount_code"] == "SAVE10"
    assert body["discount_reason"] is None
    placed = await checkout(client, shop, cart)
    assert placed.status_code == 201, placed.text
    order = placed.json()["order"]
    assert (order["discount_code"], order["discount_total"], order["total"]) == (
        "SAVE10",
        "2.50",
        "22.50",
    )
    assert placed.json()["payment"]["amount"] == "22.50"
    fetched = await client.get(shop.url(f"/orders/{order['id']}"), headers=shop.headers)
    assert {i["product_id"]: i["discount"] for i in fetched.json()["items"]} == {
        "a": "1.00",
        "b": "1.50",
    }
    assert fetched.json()["subtotal"] == "25.00"
    assert await times_used(client, shop, "save10") == 1
    listed = await client.get(shop.url("/discounts?active=true"), headers=shop.owner.headers)
    assert [d["code"] for d in listed.json()["data"]] == ["SAVE10"]


async def test_a_fixed_code_split_over_locations_adds_up_to_the_cent(client) -> None:
    shop = await open_shop(
        client,
        products={"p": "3.33", "q": "0.01"},
        stock={("p", "A"): 1, ("p", "B"): 2, ("q", "A"): 1},
    )
    await put_code(client, shop, "ONEOFF", kind="fixed", value="1.00", currency="EUR")
    cart = await cart_with(client, shop, {"p": 3, "q": 1})
    placed = await checkout(client, shop, cart, extra={"discount_code": "oneoff"})
    assert placed.status_code == 201, placed.text
    order = placed.json()["order"]
    assert (order["subtotal"], order["discount_total"], order["total"]) == ("10.00", "1.00", "9.00")
    rows = sorted((i["product_id"], i["quantity"], i["discount"]) for i in order["items"])
    # p carries 1.00 (its 0.999 share rounded down, plus the cent left), split 1 : 2 by units.
    assert rows == [("p", 1, "0.33"), ("p", 2, "0.67"), ("q", 1, "0.00")]


async def test_codes_that_do_not_apply_are_refused_with_the_reason(client) -> None:
    shop = await open_shop(client, products={"a": "10.00"}, stock={("a", "S"): 50})
    now = datetime.now(UTC)
    await put_code(client, shop, "BIG", kind="fixed", value="5", currency="EUR", min_order="30")
    await put_code(
        client,
        shop,
        "LATER",
        kind="percentage",
        value="5",
        starts_at=(now + timedelta(days=1)).isoformat(),
    )
    await put_code(
        client,
        shop,
        "GONE",
        kind="percentage",
        value="5",
        ends_at=(now - timedelta(seconds=1)).isoformat(),
        starts_at=(now - timedelta(days=1)).isoformat(),
    )
    await put_code(client, shop, "DOLLARS", kind="fixed", value="5", currency="USD")
    cart = await cart_with(client, shop, {"a": 2})
    for code, reason in [
        ("BIG", "at least 30"),
        ("LATER", "valid from"),
        ("GONE", "expired"),
        ("DOLLARS", "USD"),
    ]:
        refused = await apply(client, shop, cart, code)
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("/discount-not-applicable")
        assert reason in refused.json()["detail"]
    unknown = await apply(client, shop, cart, "NOPE")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "code"
    # Applied while the cart qualifies; once it does not, the cart says why and checkout refuses.
    await client.post(
        shop.url(f"/carts/{cart}/items"),
        json={"product_id": "a", "quantity": 1},
        headers=shop.headers,
    )
    assert (await apply(client, shop, cart, "BIG")).status_code == 200
    lowered = await client.put(
        shop.url(f"/carts/{cart}/items/a"), json={"quantity": 1}, headers=shop.headers
    )
    assert lowered.json()["discount_total"] == "0.00"
    assert "at least 30" in lowered.json()["discount_reason"]
    refused = await checkout(client, shop, cart)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/discount-not-applicable")
    # Deactivated: refused too; removing the code lets the cart check out at full price.
    await client.put(shop.url(f"/carts/{cart}/items/a"), json={"quantity": 3}, headers=shop.headers)
    await put_code(
        client, shop, "BIG", kind="fixed", value="5", currency="EUR", min_order="30", active=False
    )
    assert (await checkout(client, shop, cart)).json()["type"].endswith("/discount-not-applicable")
    removed = await client.delete(shop.url(f"/carts/{cart}/discount"), headers=shop.headers)
    assert removed.json()["discount_code"] is None
    placed = await checkout(client, shop, cart)
    assert placed.status_code == 201
    assert placed.json()["order"]["total"] == "30.00"


async def test_bad_terms_are_422(client) -> None:
    shop = await open_shop(client)
    for terms in [
        {"kind": "percentage", "value": "101"},
        {"kind": "fixed", "value": "5"},
        {"kind": "fixed", "value": "-1", "currency": "EUR"},
        {
            "kind": "percentage",
            "value": "5",
            "starts_at": "2027-01-02T00:00:00Z",
            "ends_at": "2027-01-01T00:00:00Z",
        },
        {"kind": "percentage", "value": "5", "usage_limit": 0},
    ]:
        response = await client.put(
            shop.url("/discounts/X1"), json=terms, headers=shop.owner.headers
        )
        assert response.status_code == 422, (terms, response.text)
    bad_code = await client.put(
        shop.url("/discounts/no%20spaces"),
        json={"kind": "percentage", "value": "5"},
        headers=shop.owner.headers,
    )
    assert bad_code.status_code == 422


async def test_the_per_customer_limit_counts_a_guest_by_email(client) -> None:
    shop = await open_shop(client, products={"a": "10.00"}, stock={("a", "S"): 50})
    await put_code(client, shop, "ONCE", kind="percentage", value="20", per_customer_limit=1)
    first = await checkout(
        client,
        shop,
        await cart_with(client, shop, {"a": 1}),
        key="eva-1",
        email="eva@example.com",
        extra={"discount_code": "ONCE"},
    )
    assert first.status_code == 201, first.text
    # Eva's key reused for another cart: 422 for the key, not the code's 409.
    reused = await checkout(
        client,
        shop,
        await cart_with(client, shop, {"a": 2}),
        key="eva-1",
        email="eva@example.com",
        extra={"discount_code": "ONCE"},
    )
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("/idempotency-key-reused")
    again = await checkout(
        client,
        shop,
        await cart_with(client, shop, {"a": 1}),
        email="EVA@example.com",
        extra={"discount_code": "ONCE"},
    )
    assert again.status_code == 409
    assert again.json()["type"].endswith("/discount-exhausted")
    assert again.json()["scope"] == "customer"
    other = await checkout(
        client,
        shop,
        await cart_with(client, shop, {"a": 1}),
        email="max@example.com",
        extra={"discount_code": "ONCE"},
    )
    assert other.status_code == 201
    assert await times_used(client, shop, "ONCE") == 2


async def test_a_code_limited_to_n_uses_is_redeemed_exactly_n_times_by_concurrent_checkouts(
    client, owner_dsn
) -> None:
    limit, extra = 5, 15
    shop = await open_shop(client, products={"a": "10.00"}, stock={("a", "W"): 100})
    await put_code(
        client, shop, "RACE", kind="fixed", value="3.00", currency="EUR", usage_limit=limit
    )
    carts = [await cart_with(client, shop, {"a": 1}) for _ in range(limit + extra)]
    responses = await asyncio.gather(
        *(
            checkout(client, shop, cart, email=f"s{i}@example.com", extra={"discount_code": "RACE"})
            for i, cart in enumerate(carts)
        )
    )
    placed = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert len(placed) == limit, [r.status_code for r in responses]
    assert all(r.json()["order"]["discount_total"] == "3.00" for r in placed)
    assert all(r.status_code == 409 for r in refused), [r.text for r in refused]
    assert all(r.json()["type"].endswith("/discount-exhausted") for r in refused)
    assert await times_used(client, shop, "RACE") == limit
    with psycopg.connect(owner_dsn) as conn:
        counted = conn.execute(
            "SELECT d.times_used, (SELECT count(*) FROM sales_order o "
            "WHERE o.tenant_id = d.tenant_id AND o.discount_code = d.code) "
            "FROM discount d WHERE d.tenant_id = %s AND d.code = 'RACE'",
            (shop.tenant,),
        ).fetchone()
    assert counted == (limit, limit)
    # The refused checkouts reserved nothing.
    assert (await stock_of(client, shop, "a"))["reserved"] == limit
    # The limit cannot drop below the uses made.
    below = await client.put(
        shop.url("/discounts/RACE"),
        json={"kind": "fixed", "value": "3.00", "currency": "EUR", "usage_limit": limit - 1},
        headers=shop.owner.headers,
    )
    assert below.status_code == 422


async def test_a_checkout_failing_halfway_gives_the_use_back_and_so_does_a_cancellation(
    client,
) -> None:
    shop = await open_shop(
        client, products={"a": "10.00", "rare": "1.00"}, stock={("a", "S"): 5, ("rare", "S"): 1}
    )
    await put_code(client, shop, "SOLO", kind="percentage", value="50", usage_limit=1)
    short = await checkout(
        client, shop, await cart_with(client, shop, {"rare": 2}), extra={"discount_code": "SOLO"}
    )
    assert short.status_code == 409
    assert short.json()["type"].endswith("/insufficient-stock")
    assert await times_used(client, shop, "SOLO") == 0
    placed = await checkout(
        client, shop, await cart_with(client, shop, {"a": 1}), extra={"discount_code": "SOLO"}
    )
    assert placed.status_code == 201
    assert await times_used(client, shop, "SOLO") == 1
    order_id = placed.json()["order"]["id"]
    cancelled = await client.post(
        shop.url(f"/orders/{order_id}/transitions"),
        json={"to": "cancelled"},
        headers=shop.owner.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["discount_code"] == "SOLO"
    assert await times_used(client, shop, "SOLO") == 0


async def test_a_redemption_refused_after_an_earlier_read_names_the_exhausted_code(client) -> None:
    """A checkout read the code's row (one use left), another checkout took that use and
    committed: the first one's redemption is refused as exhausted, not as inapplicable,
    although its session still holds the row it read."""
    shop = await open_shop(client)
    await put_code(client, shop, "LAST", kind="percentage", value="5", usage_limit=1)
    tenant = uuid.UUID(shop.tenant)
    refused: Exception | None = None
    async with get_database().tenant_session(tenant) as slow:
        held = await slow.get(Discount, (tenant, "LAST"))
        assert held is not None
        assert held.times_used == 0
        async with get_database().tenant_session(tenant) as fast:
            await redeem(fast, tenant, "LAST", customer_key(None, "a@example.com"))
        try:
            await redeem(slow, tenant, "LAST", customer_key(None, "b@example.com"))
        except DiscountExhausted as exc:
            refused = exc
    assert isinstance(refused, DiscountExhausted)
    assert await times_used(client, shop, "LAST") == 1
