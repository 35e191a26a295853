"""Returns and shipments at their limits: races, caps, partial fulfilment, write-offs."""

from __future__ import annotations

import asyncio

from tests.factories import add_member, stale_headers
from tests.modules.orders.shop import Shop, cart_with, checkout, open_shop, stock_of


async def _paid(client, items: dict[str, int], stock: dict[tuple[str, str], int]):
    shop = await open_shop(client, products={"mug": "10.00", "tea": "3.00"}, stock=stock)
    order = (await checkout(client, shop, await cart_with(client, shop, items))).json()["order"]
    paid = await client.post(
        shop.url(f"/orders/{order['id']}/transitions"),
        json={"to": "paid"},
        headers=shop.owner.headers,
    )
    assert paid.status_code == 200, paid.text
    return shop, order["id"]


async def _ship(client, shop: Shop, order_id: str, lines: dict[str, int], at: str = "S"):
    return await client.post(
        shop.url(f"/orders/{order_id}/shipments"),
        json={
            "lines": [{"product_id": p, "quantity": q} for p, q in lines.items()],
            "location_code": at,
        },
        headers=shop.owner.headers,
    )


async def _return(client, shop: Shop, order_id: str, lines: dict[str, int], restock: bool = False):
    return await client.post(
        shop.url(f"/orders/{order_id}/returns"),
        json={
            "lines": [
                {"product_id": p, "quantity": q, "restock": restock} for p, q in lines.items()
            ],
            "reason": "changed mind",
        },
        headers=shop.owner.headers,
    )


async def _order(client, shop: Shop, order_id: str) -> dict:
    return dict(
        (await client.get(shop.url(f"/orders/{order_id}"), headers=shop.owner.headers)).json()
    )


async def test_two_returns_racing_for_the_last_unit_refund_it_once(client) -> None:
    shop, order_id = await _paid(client, {"mug": 1}, {("mug", "S"): 3})
    assert (await _ship(client, shop, order_id, {"mug": 1})).status_code == 201
    first, second = await asyncio.gather(
        _return(client, shop, order_id, {"mug": 1}), _return(client, shop, order_id, {"mug": 1})
    )
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    order = await _order(client, shop, order_id)
    assert order["refunded_amount"] == "10.00"
    assert [r["amount"] for r in order["refunds"]] == ["10.00"]
    assert order["payments"][0]["refunded_amount"] == "10.00"
    assert order["status"] == "refunded"


async def test_a_return_never_refunds_more_than_is_left(client) -> None:
    shop, order_id = await _paid(client, {"mug": 2}, {("mug", "S"): 3})
    assert (await _ship(client, shop, order_id, {"mug": 2})).status_code == 201
    total = (await _order(client, shop, order_id))["total"]
    # The merchant already gave back all but 5.00 by hand.
    headers = shop.owner.headers
    manual = await client.post(
        shop.url(f"/orders/{order_id}/refunds"),
        json={"amount": str(float(total) - 5)},
        headers=headers,
    )
    assert manual.status_code == 200, manual.text
    returned = await _return(client, shop, order_id, {"mug": 2}, restock=True)
    assert returned.status_code == 201, returned.text
    assert returned.json()["refund_amount"] == "5.00"
    order = await _order(client, shop, order_id)
    assert (order["status"], order["refunded_amount"]) == ("refunded", total)
    stock = await stock_of(client, shop, "mug")
    assert stock["on_hand"] == 3  # both units back at S, where they last shipped from


async def test_a_partially_fulfilled_order_takes_a_return_and_still_ships(client) -> None:
    shop, order_id = await _paid(client, {"mug": 2, "tea": 1}, {("mug", "S"): 5, ("tea", "S"): 5})
    assert (await _return(client, shop, order_id, {"mug": 1})).status_code == 409  # none shipped
    assert (await _ship(client, shop, order_id, {"mug": 1})).status_code == 201
    written_off = await _return(client, shop, order_id, {"mug": 1})
    assert written_off.status_code == 201, written_off.text
    assert written_off.json()["lines"][0]["location_code"] is None
    assert (await stock_of(client, shop, "mug"))["on_hand"] == 3  # not restocked
    order = await _order(client, shop, order_id)
    assert (order["status"], order["refunded_amount"]) == ("partially_fulfilled", "10.00")
    assert (await _ship(client, shop, order_id, {"mug": 1, "tea": 1})).status_code == 201
    assert (await _order(client, shop, order_id))["status"] == "fulfilled"
    more = await _ship(client, shop, order_id, {"tea": 1})
    assert more.status_code == 409
    assert more.json()["type"].endswith("/order-not-shippable")


async def test_bad_shipments_and_returns_are_problems_not_errors(client) -> None:
    shop, order_id = await _paid(client, {"mug": 1}, {("mug", "S"): 2, ("tea", "S"): 1})
    unknown_location = await _ship(client, shop, order_id, {"mug": 1}, at="NOPE")
    assert unknown_location.status_code == 422
    not_ordered = await _ship(client, shop, order_id, {"tea": 1})
    assert not_ordered.status_code == 422
    twice = await client.post(
        shop.url(f"/orders/{order_id}/shipments"),
        json={"lines": [{"product_id": "mug", "quantity": 1}] * 2, "location_code": "S"},
        headers=shop.owner.headers,
    )
    assert twice.status_code == 422
    no_stock_there = await client.put(
        shop.url("/locations/W"), json={"name": "W"}, headers=shop.owner.headers
    )
    assert no_stock_there.status_code == 201
    empty = await _ship(client, shop, order_id, {"mug": 1}, at="W")
    assert empty.status_code == 409
    assert empty.json()["type"].endswith("/insufficient-stock")
    assert (await _ship(client, shop, order_id, {"mug": 1})).status_code == 201
    bad_restock = await client.post(
        shop.url(f"/orders/{order_id}/returns"),
        json={
            "lines": [
                {"product_id": "mug", "quantity": 1, "restock": True, "location_code": "NOPE"}
            ],
            "reason": "x",
        },
        headers=shop.owner.headers,
    )
    assert bad_restock.status_code == 422
    assert (await _order(client, shop, order_id))["returns"] == []
    manager = await add_member(client, shop.owner, shop.tenant, "manager")
    refused = await client.post(
        shop.url(f"/orders/{order_id}/returns"),
        json={"lines": [{"product_id": "mug", "quantity": 1, "restock": False}], "reason": "x"},
        headers=manager.headers,
    )
    assert refused.status_code == 403
    stale = await client.post(
        shop.url(f"/orders/{order_id}/returns"),
        json={"lines": [{"product_id": "mug", "quantity": 1, "restock": False}], "reason": "x"},
        headers=await stale_headers(shop.owner),
    )
    assert stale.status_code == 401
    assert stale.json()["type"].endswith("/step-up-required")
