"""One order from address to return: address → checkout (Stripe) → payment → partial
shipment → second shipment from another location → delivery → return of one line with
restock and refund → a return whose refund Stripe first refuses. At each step: stock per
location, the order's status, Stripe's refunds, the webhooks delivered and the
dashboard's order page."""

from __future__ import annotations

import json
import uuid
from typing import Any

from mercato.modules.orders.jobs import retry_refunds
from tests.fakes.server import serve
from tests.fakes.stripe import FakeStripe, event, sign
from tests.jobs import run_queued_jobs
from tests.modules.orders.shop import Shop, cart_with, open_shop
from tests.modules.orders.test_order_walk import HOME, OFFICE
from tests.modules.webhooks.test_webhooks import Receiver
from tests.web.browser import Dashboard, signed_in

EVENTS = [
    "order.paid",
    "order.partially_fulfilled",
    "order.fulfilled",
    "order.partially_refunded",
    "shipment.created",
    "shipment.delivered",
    "return.created",
    "refund.created",
]


async def _levels(client, shop: Shop, product_id: str) -> dict[str, tuple[int, int]]:
    """(on_hand, reserved) per location."""
    body = (await client.get(shop.url(f"/inventory/{product_id}"), headers=shop.headers)).json()
    return {loc["location_code"]: (loc["on_hand"], loc["reserved"]) for loc in body["locations"]}


async def _order(client, shop: Shop, order_id: str) -> dict[str, Any]:
    response = await client.get(shop.url(f"/orders/{order_id}"), headers=shop.owner.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _hooks(receiver: Receiver) -> list[tuple[str, dict[str, Any]]]:
    """The webhook deliveries since the last call, as (type, data), in order."""
    await run_queued_jobs("default", "webhooks")
    seen = [json.loads(body) for _, body in receiver.received]
    receiver.received.clear()
    return [(item["type"], item["data"]) for item in seen]


async def _page(dashboard: Dashboard, shop: Shop, order_id: str) -> str:
    page = await dashboard.get(f"/app/t/{shop.tenant}/orders/{order_id}")
    assert page.status_code == 200, page.text
    return page.text


async def test_address_checkout_two_shipments_and_a_return_with_refund(
    client, stripe: FakeStripe
) -> None:
    receiver = Receiver()
    async with serve(receiver.app()) as url:
        shop = await open_shop(
            client,
            products={"mug": "12.00", "tea": "4.50"},
            stock={("mug", "S"): 5, ("mug", "W"): 3, ("tea", "S"): 5, ("tea", "W"): 2},
        )
        owner = shop.owner.headers
        hook = await client.post(
            shop.url("/webhooks"),
            json={"url": f"{url}/hook", "event_types": EVENTS},
            headers=owner,
        )
        assert hook.status_code == 201, hook.text
        await client.put(
            shop.url("/discounts/WELCOME"),
            json={"kind": "fixed", "value": "5.00", "currency": "EUR", "min_order": "20"},
            headers=owner,
        )
        dashboard = await signed_in(client, shop.owner)

        # Address, then checkout with Stripe: the stock is reserved at S.
        cart = await cart_with(client, shop, {"mug": 2, "tea": 1}, location_code="S")
        addressed = await client.put(
            shop.url(f"/carts/{cart}/addresses"),
            json={"shipping_address": HOME, "billing_address": OFFICE},
            headers=shop.headers,
        )
        assert addressed.status_code == 200, addressed.text
        placed = await client.post(
            shop.url("/checkout"),
            json={
                "cart_id": cart,
                "email": "ana@example.com",
                "payment_provider": "stripe",
                "discount_code": "welcome",
            },
            headers={**shop.headers, "Idempotency-Key": "walk-ship-1"},
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["order"]["id"]
        assert placed.json()["order"]["total"] == "23.50"
        assert await _levels(client, shop, "mug") == {"S": (5, 2), "W": (3, 0)}
        early = await client.post(
            shop.url(f"/orders/{order_id}/shipments"),
            json={"lines": [{"product_id": "mug", "quantity": 1}], "location_code": "S"},
            headers=owner,
        )
        assert early.status_code == 409  # not paid yet
        assert early.json()["type"].endswith("/order-not-shippable")
        page = await _page(dashboard, shop, order_id)
        assert "Hauptstr. 1" in page
        assert 'id="shipment-form"' not in page

        # Payment through Stripe's signed webhook: the reservation becomes a sale at S.
        intent = placed.json()["payment"]["provider_reference"]
        paid_event = event("payment_intent.succeeded", stripe.succeeded(intent))
        delivered = await client.post(
            f"/api/v1/webhooks/stripe/{shop.tenant}",
            content=paid_event,
            headers={"Content-Type": "application/json", "Stripe-Signature": sign(paid_event)},
        )
        assert delivered.status_code == 200, delivered.text
        assert (await _order(client, shop, order_id))["status"] == "paid"
        assert await _levels(client, shop, "mug") == {"S": (3, 0), "W": (3, 0)}
        assert [t for t, _ in await _hooks(receiver)] == ["order.paid"]
        page = await _page(dashboard, shop, order_id)
        assert 'id="shipment-form"' in page

        # First shipment: one mug from S, where it was sold; stock does not move again.
        first = await client.post(
            shop.url(f"/orders/{order_id}/shipments"),
            json={
                "lines": [{"product_id": "mug", "quantity": 1}],
                "location_code": "S",
                "carrier": "DHL",
                "tracking_number": "JD0001",
                "tracking_url": "https://track.example/JD0001",
            },
            headers=owner,
        )
        assert first.status_code == 201, first.text
        shipment = first.json()
        assert (shipment["status"], shipment["lines"]) == (
            "shipped",
            [{"product_id": "mug", "quantity": 1}],
        )
        order = await _order(client, shop, order_id)
        assert order["status"] == "partially_fulfilled"
        assert [s["id"] for s in order["shipments"]] == [shipment["id"]]
        assert await _levels(client, shop, "mug") == {"S": (3, 0), "W": (3, 0)}
        hooks = await _hooks(receiver)
        assert [t for t, _ in hooks] == ["shipment.created", "order.partially_fulfilled"]
        assert hooks[0][1]["tracking_number"] == "JD0001"
        assert hooks[1][1]["shipment_id"] == shipment["id"]
        page = await _page(dashboard, shop, order_id)
        assert "partially fulfilled" in page
        assert "https://track.example/JD0001" in page

        # Beyond what is left to ship: 409, nothing changes.
        beyond = await client.post(
            shop.url(f"/orders/{order_id}/shipments"),
            json={"lines": [{"product_id": "mug", "quantity": 2}], "location_code": "S"},
            headers=owner,
        )
        assert beyond.status_code == 409
        assert beyond.json()["type"].endswith("/beyond-ordered")

        # Second shipment from W: the sale moves there (back on hand at S, off at W).
        second = await client.post(
            shop.url(f"/orders/{order_id}/shipments"),
            json={
                "lines": [
                    {"product_id": "mug", "quantity": 1},
                    {"product_id": "tea", "quantity": 1},
                ],
                "location_code": "W",
                "carrier": "UPS",
                "tracking_number": "1Z999",
            },
            headers=owner,
        )
        assert second.status_code == 201, second.text
        assert await _levels(client, shop, "mug") == {"S": (4, 0), "W": (2, 0)}
        assert await _levels(client, shop, "tea") == {"S": (5, 0), "W": (1, 0)}
        order = await _order(client, shop, order_id)
        assert order["status"] == "fulfilled"
        hooks = await _hooks(receiver)
        assert [t for t, _ in hooks] == ["shipment.created", "order.fulfilled"]
        assert hooks[1][1]["carrier"] == "UPS"
        cancel = await client.post(
            shop.url(f"/orders/{order_id}/transitions"), json={"to": "cancelled"}, headers=owner
        )
        assert cancel.status_code == 409  # its goods left
        page = await _page(dashboard, shop, order_id)
        assert "1Z999" in page
        assert 'id="shipment-form"' not in page  # nothing left to ship

        # Delivery of the first parcel.
        arrived = await client.post(
            shop.url(f"/orders/{order_id}/shipments/{shipment['id']}/delivered"),
            json={},
            headers=owner,
        )
        assert arrived.status_code == 200, arrived.text
        assert arrived.json()["delivered_at"] is not None
        again = await client.post(
            shop.url(f"/orders/{order_id}/shipments/{shipment['id']}/delivered"),
            json={},
            headers=owner,
        )
        assert again.status_code == 409
        assert [t for t, _ in await _hooks(receiver)] == ["shipment.delivered"]

        # Return of one mug, restocked at S, refunded through Stripe: the mug line cost
        # 24.00 less its 4.21 share of the discount, so one of two refunds 9.90.
        returned = await client.post(
            shop.url(f"/orders/{order_id}/returns"),
            json={
                "lines": [
                    {"product_id": "mug", "quantity": 1, "restock": True, "location_code": "S"}
                ],
                "reason": "too small",
            },
            headers=owner,
        )
        assert returned.status_code == 201, returned.text
        first_return = returned.json()
        assert (first_return["refund_amount"], first_return["currency"]) == ("9.90", "EUR")
        assert first_return["refund"]["status"] == "succeeded"
        assert await _levels(client, shop, "mug") == {"S": (5, 0), "W": (2, 0)}
        refunds = list(stripe.refunds.values())
        assert [(r["payment_intent"], r["amount"]) for r in refunds] == [(intent, 990)]
        assert f"mercato-refund-{first_return['refund']['id']}" in stripe.by_idempotency_key
        order = await _order(client, shop, order_id)
        assert (order["status"], order["refunded_amount"]) == ("partially_refunded", "9.90")
        hooks = await _hooks(receiver)
        assert [t for t, _ in hooks] == [
            "order.partially_refunded",
            "return.created",
            "refund.created",
        ]
        assert hooks[2][1]["amount"] == "9.90"
        page = await _page(dashboard, shop, order_id)
        assert "too small" in page
        assert "partially refunded" in page

        # Returned units never exceed shipped ones.
        too_many = await client.post(
            shop.url(f"/orders/{order_id}/returns"),
            json={"lines": [{"product_id": "mug", "quantity": 2, "restock": False}], "reason": "x"},
            headers=owner,
        )
        assert too_many.status_code == 409
        assert too_many.json()["type"].endswith("/beyond-shipped")

        # Stripe fails: the return is recorded, its refund pending; the job sends it once.
        stripe.fail_next = 1
        down = await client.post(
            shop.url(f"/orders/{order_id}/returns"),
            json={
                "lines": [{"product_id": "mug", "quantity": 1, "restock": False}],
                "reason": "broken",
            },
            headers=owner,
        )
        assert down.status_code == 201, down.text
        assert down.json()["refund_amount"] == "9.89"  # the rest of the mug line
        assert down.json()["refund"]["status"] == "pending"
        assert down.json()["refund"]["error"]
        assert await _levels(client, shop, "mug") == {"S": (5, 0), "W": (2, 0)}
        assert (await _order(client, shop, order_id))["refunded_amount"] == "19.79"
        assert [t for t, _ in await _hooks(receiver)] == [
            "order.partially_refunded",
            "return.created",
        ]
        assert await retry_refunds(uuid.UUID(shop.tenant)) == 1
        assert await retry_refunds(uuid.UUID(shop.tenant)) == 0
        assert sorted(r["amount"] for r in stripe.refunds.values()) == [989, 990]
        order = await _order(client, shop, order_id)
        assert [r["status"] for r in order["refunds"]] == ["succeeded", "succeeded"]
        assert [t for t, _ in await _hooks(receiver)] == ["refund.created"]
        page = await _page(dashboard, shop, order_id)
        assert "broken" in page
