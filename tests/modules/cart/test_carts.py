"""Carts over HTTP: prices from the catalog, tax and shipping, currency, the Redis cache."""

from __future__ import annotations

import json
import uuid

from mercato.kernel.redis import get_redis
from mercato.modules.cart.service import cart_key
from tests.factories import create_api_key
from tests.modules.orders.shop import cart_with, checkout, open_shop


async def _cart(client, shop, cart_id: str) -> dict:
    response = await client.get(shop.url(f"/carts/{cart_id}"), headers=shop.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_totals_with_tax_and_shipping(client) -> None:
    shop = await open_shop(
        client, products={"a": "10.00", "b": "2.50"}, stock={("a", "HAM"): 9, ("b", "HAM"): 9}
    )
    owner = shop.owner.headers
    assert (
        await client.put(shop.url("/tax-rates/*"), json={"rate": "0.19"}, headers=owner)
    ).status_code == 200
    assert (
        await client.put(shop.url("/tax-rates/HAM"), json={"rate": "0.07"}, headers=owner)
    ).status_code == 200
    shipping = await client.put(
        shop.url("/shipping-rates/EUR"),
        json={"flat_amount": "4.95", "free_over": "50.00"},
        headers=owner,
    )
    assert shipping.status_code == 200, shipping.text
    online = await _cart(client, shop, await cart_with(client, shop, {"a": 1, "b": 3}))
    assert online["subtotal"] == "17.50"
    assert online["tax"] == "3.33"  # 19 % of 17.50 = 3.325, half-up
    assert online["shipping"] == "4.95"
    assert online["total"] == "25.78"
    store = await _cart(client, shop, await cart_with(client, shop, {"a": 5}, location_code="HAM"))
    assert (store["subtotal"], store["tax"], store["shipping"], store["total"]) == (
        "50.00",
        "3.50",
        "0.00",
        "53.50",
    )
    placed = await checkout(client, shop, store["id"])
    assert placed.json()["order"]["total"] == "53.50"
    assert placed.json()["order"]["tax"] == "3.50"
    rules = (await client.get(shop.url("/pricing-rules"), headers=owner)).json()
    assert {r["scope"] for r in rules["tax_rates"]} == {"*", "HAM"}


async def test_prices_are_reread_from_the_catalog(client) -> None:
    shop = await open_shop(client, products={"p": "10.00"}, stock={("p", "S"): 5})
    cart_id = await cart_with(client, shop, {"p": 2})
    assert (await _cart(client, shop, cart_id))["total"] == "20.00"
    changed = await client.patch(
        shop.url("/products/p"), json={"price": "12.00"}, headers=shop.owner.headers
    )
    assert changed.status_code == 200
    assert (await _cart(client, shop, cart_id))["total"] == "24.00"
    # Changing a rule shows at once too (the cached rules are dropped).
    await client.put(shop.url("/tax-rates/*"), json={"rate": "0.10"}, headers=shop.owner.headers)
    assert (await _cart(client, shop, cart_id))["total"] == "26.40"


async def test_lines_add_up_update_and_go(client) -> None:
    shop = await open_shop(client, products={"x": "1.00", "y": "2.00"})
    cart_id = await cart_with(client, shop, {"x": 1})
    await client.post(
        shop.url(f"/carts/{cart_id}/items"),
        json={"product_id": "x", "quantity": 2},
        headers=shop.headers,
    )
    await client.post(
        shop.url(f"/carts/{cart_id}/items"),
        json={"product_id": "y", "quantity": 1},
        headers=shop.headers,
    )
    cart = await _cart(client, shop, cart_id)
    assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [("x", 3), ("y", 1)]
    set_to = await client.put(
        shop.url(f"/carts/{cart_id}/items/x"), json={"quantity": 1}, headers=shop.headers
    )
    assert set_to.json()["total"] == "3.00"
    removed = await client.delete(shop.url(f"/carts/{cart_id}/items/y"), headers=shop.headers)
    assert [i["product_id"] for i in removed.json()["items"]] == ["x"]
    assert (await _cart(client, shop, cart_id))["total"] == "1.00"


async def test_currency_and_product_checks_are_422(client) -> None:
    shop = await open_shop(client, products={"eur": "1.00"})
    await client.put(
        shop.url("/products/usd"),
        json={"name": "Dollar thing", "price": "1.00", "currency": "USD"},
        headers=shop.owner.headers,
    )
    cart_id = await cart_with(client, shop, {"eur": 1})
    for body in (
        {"product_id": "usd", "quantity": 1},
        {"product_id": "ghost", "quantity": 1},
        {"product_id": "eur", "quantity": 0},
        {"product_id": "eur", "quantity": "2"},
    ):
        response = await client.post(
            shop.url(f"/carts/{cart_id}/items"), json=body, headers=shop.headers
        )
        assert response.status_code == 422, (body, response.text)
    assert (
        await client.get(shop.url(f"/carts/{uuid.uuid4()}"), headers=shop.headers)
    ).status_code == 404


async def test_checkout_of_an_empty_cart_is_409(client) -> None:
    shop = await open_shop(client)
    created = await client.post(shop.url("/carts"), json={}, headers=shop.headers)
    response = await checkout(client, shop, created.json()["id"])
    assert response.status_code == 409
    assert response.json()["type"].endswith("/empty-cart")


async def test_browser_keys_run_a_storefront(client) -> None:
    shop = await open_shop(client, products={"k": "3.00"}, stock={("k", "S"): 1})
    origin = "https://shop.example"
    publishable = await create_api_key(
        client, shop.owner, shop.tenant, kind="publishable", allowed_origins=[origin]
    )
    headers = {"X-API-Key": publishable["key"], "Origin": origin}
    cart_id = await cart_with(client, shop, {"k": 1}, headers=headers)
    placed = await client.post(
        shop.url("/checkout"),
        json={"cart_id": cart_id, "email": "a@b.example", "payment_provider": "manual"},
        headers=headers,
    )
    # Checkout is open to the key, but only through a paying provider (see
    # tests/modules/orders/test_storefront_checkout.py)...
    assert placed.status_code == 403, placed.text
    assert placed.json()["type"].endswith("/payment-provider-not-allowed")
    # ...and it cannot read orders or change stock.
    assert (await client.get(shop.url("/orders"), headers=headers)).status_code == 403


async def test_cart_reads_go_through_redis_and_writes_drop_the_copy(client) -> None:
    shop = await open_shop(client, products={"r": "2.00", "s": "3.00"})
    cart_id = await cart_with(client, shop, {"r": 1})
    key = cart_key(uuid.UUID(shop.tenant), uuid.UUID(cart_id))
    assert key.startswith(f"mercato:{{{shop.tenant}}}:")  # the tenant's hash tag
    await _cart(client, shop, cart_id)
    cached = json.loads(await get_redis().get(key))
    assert cached["lines"] == [["r", 1]]
    await client.post(
        shop.url(f"/carts/{cart_id}/items"),
        json={"product_id": "s", "quantity": 1},
        headers=shop.headers,
    )
    assert await get_redis().get(key) is None  # dropped after the commit
    assert [i["product_id"] for i in (await _cart(client, shop, cart_id))["items"]] == ["r", "s"]
