"""An order's walk, the way a shop runs it: address → checkout → payment → fulfilment.

Each step is one labelled block, so later steps (shipments, returns) extend this walk.
"""

from __future__ import annotations

import json
from decimal import Decimal

from tests.fakes.server import serve
from tests.jobs import run_queued_jobs
from tests.modules.orders.shop import cart_with, open_shop, stock_of
from tests.modules.webhooks.test_webhooks import Receiver

HOME = {
    "name": "Ana Weber",
    "line1": "Hauptstr. 1",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
    "phone": "030 1234567",
}
OFFICE = {**HOME, "line1": "Friedrichstr. 50", "postal_code": "10117", "region": "Berlin"}


async def test_address_then_checkout_then_payment_and_fulfilment(client) -> None:
    receiver = Receiver()
    async with serve(receiver.app()) as url:
        shop = await open_shop(
            client,
            products={"mug": "12.00", "tea": "4.50"},
            stock={("mug", "S"): 5, ("tea", "S"): 5},
        )
        hook = await client.post(
            shop.url("/webhooks"),
            json={"url": f"{url}/hook", "event_types": ["order.created", "order.paid"]},
            headers=shop.owner.headers,
        )
        assert hook.status_code == 201, hook.text
        await client.put(
            shop.url("/discounts/WELCOME"),
            json={"kind": "fixed", "value": "5.00", "currency": "EUR", "min_order": "20"},
            headers=shop.owner.headers,
        )
        cart = await cart_with(client, shop, {"mug": 2, "tea": 1})

        # Address: the shopper gives where it ships and who pays.
        addressed = await client.put(
            shop.url(f"/carts/{cart}/addresses"),
            json={"shipping_address": HOME, "billing_address": OFFICE},
            headers=shop.headers,
        )
        assert addressed.status_code == 200, addressed.text
        discounted = await client.put(
            shop.url(f"/carts/{cart}/discount"), json={"code": "welcome"}, headers=shop.headers
        )
        assert discounted.json()["total"] == "23.50"  # 28.50 - 5.00

        # Checkout: the order copies the addresses and the discount.
        placed = await client.post(
            shop.url("/checkout"),
            json={"cart_id": cart, "email": "ana@example.com", "payment_provider": "manual"},
            headers={**shop.headers, "Idempotency-Key": "walk-1"},
        )
        assert placed.status_code == 201, placed.text
        order = placed.json()["order"]
        assert order["shipping_address"]["line1"] == "Hauptstr. 1"
        assert order["billing_address"]["postal_code"] == "10117"
        assert (order["discount_code"], order["discount_total"], order["total"]) == (
            "WELCOME",
            "5.00",
            "23.50",
        )
        assert sum(Decimal(i["discount"]) for i in order["items"]) == Decimal("5.00")
        # The cart is spent; changing its addresses now is refused, the order keeps them.
        late = await client.put(
            shop.url(f"/carts/{cart}/addresses"),
            json={"shipping_address": OFFICE},
            headers=shop.headers,
        )
        assert late.status_code == 409

        # Payment: the reservation becomes a sale.
        paid = await client.post(
            shop.url(f"/orders/{order['id']}/transitions"),
            json={"to": "paid"},
            headers=shop.owner.headers,
        )
        assert paid.status_code == 200, paid.text
        assert (await stock_of(client, shop, "mug"))["on_hand"] == 3

        # Fulfilment.
        fulfilled = await client.post(
            shop.url(f"/orders/{order['id']}/transitions"),
            json={"to": "fulfilled"},
            headers=shop.owner.headers,
        )
        assert fulfilled.status_code == 200
        assert fulfilled.json()["shipping_address"] == order["shipping_address"]
        await run_queued_jobs("default", "webhooks")

    events = {json.loads(body)["type"]: json.loads(body)["data"] for _, body in receiver.received}
    assert set(events) == {"order.created", "order.paid"}
    for data in events.values():
        assert data["shipping_address"]["phone"] == "+49301234567"
        assert data["billing_address"]["region"] == "Berlin"
        assert (data["discount_code"], data["discount_total"], data["total"]) == (
            "WELCOME",
            "5.00",
            "23.50",
        )
    assert sorted(i["discount"] for i in events["order.created"]["items"]) == ["0.79", "4.21"]
