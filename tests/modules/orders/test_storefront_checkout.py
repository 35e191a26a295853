"""Stock hoarding with a publishable key (issue 17, finding 5).

A browser key is public: a script can use it. Checkout reserves stock, so a browser key's
checkout must take a payment (never `manual`), may reserve only so much, and holds it
only briefly.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from tests.factories import create_api_key
from tests.fakes import stripe as fake_stripe
from tests.fakes.server import serve
from tests.fakes.stripe import FakeStripe
from tests.modules.integrations.fakes import patched_settings
from tests.modules.orders.shop import Shop, cart_with, checkout, open_shop, stock_of

ORIGIN = "https://shop.example"


@pytest.fixture
async def stripe() -> AsyncIterator[FakeStripe]:
    fake = FakeStripe()
    async with serve(fake.app()) as url:
        with patched_settings(
            stripe_api_base=url,
            stripe_secret_key=fake_stripe.SECRET_KEY,
            stripe_webhook_secret=fake_stripe.WEBHOOK_SECRET,
            storefront_max_checkout_units="3",
        ):
            yield fake


async def _browser(client, shop: Shop) -> dict[str, str]:
    key = await create_api_key(
        client, shop.owner, shop.tenant, kind="publishable", allowed_origins=[ORIGIN]
    )
    return {"X-API-Key": key["key"], "Origin": ORIGIN}


async def _browser_checkout(client, shop: Shop, headers: dict[str, str], cart: str, provider: str):
    return await client.post(
        shop.url("/checkout"),
        json={"cart_id": cart, "email": "script@example.com", "payment_provider": provider},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )


async def _orders(client, shop: Shop) -> list[dict]:
    response = await client.get(shop.url("/orders"), headers=shop.headers)
    return list(response.json()["data"])


async def test_a_browser_key_cannot_reserve_with_the_manual_provider(client) -> None:
    shop = await open_shop(client, products={"hot": "9.00"}, stock={("hot", "W"): 5})
    browser = await _browser(client, shop)
    cart = await cart_with(client, shop, {"hot": 5}, headers=browser)

    refused = await _browser_checkout(client, shop, browser, cart, "manual")

    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/payment-provider-not-allowed")
    stock = await stock_of(client, shop, "hot")
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (5, 0, 5)
    assert await _orders(client, shop) == []
    # Nothing was lost either: the shopper's cart is still there to pay for.
    paid_by_server = await checkout(client, shop, cart, provider="manual")
    assert paid_by_server.status_code == 201


async def test_a_browser_key_checks_out_through_a_paying_provider(
    client, stripe: FakeStripe
) -> None:
    shop = await open_shop(client, products={"ok": "4.00"}, stock={("ok", "W"): 5})
    browser = await _browser(client, shop)
    cart = await cart_with(client, shop, {"ok": 2}, headers=browser)
    placed = await _browser_checkout(client, shop, browser, cart, "stripe")
    assert placed.status_code == 201, placed.text
    assert placed.json()["payment"]["provider_reference"].startswith("pi_")
    assert (await stock_of(client, shop, "ok"))["reserved"] == 2


async def test_a_browser_keys_checkout_reserves_at_most_the_cap(client, stripe: FakeStripe) -> None:
    shop = await open_shop(client, products={"all": "2.00"}, stock={("all", "W"): 10})
    browser = await _browser(client, shop)
    cart = await cart_with(client, shop, {"all": 4}, headers=browser)

    refused = await _browser_checkout(client, shop, browser, cart, "stripe")

    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/checkout-too-large")
    assert "at most 3 units" in refused.json()["detail"]
    assert (await stock_of(client, shop, "all"))["reserved"] == 0
    assert stripe.intents == {}
    assert await _orders(client, shop) == []
    # The cart is intact, and the merchant's own server may still place it.
    by_server = await checkout(client, shop, cart, provider="manual")
    assert by_server.status_code == 201
    assert (await stock_of(client, shop, "all"))["reserved"] == 4


async def test_a_browser_keys_reservation_is_short_lived(client, stripe: FakeStripe) -> None:
    shop = await open_shop(client, products={"brief": "3.00"}, stock={("brief", "W"): 2})
    browser = await _browser(client, shop)
    cart = await cart_with(client, shop, {"brief": 1}, headers=browser)
    with patched_settings(storefront_reservation_ttl_s="60", reservation_ttl_s="900"):
        placed = await _browser_checkout(client, shop, browser, cart, "stripe")
    assert placed.status_code == 201, placed.text
    until = datetime.fromisoformat(placed.json()["order"]["reserved_until"])
    assert (until - datetime.now(UTC)).total_seconds() <= 61
