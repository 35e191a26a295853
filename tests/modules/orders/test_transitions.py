"""The order state machine over HTTP: allowed moves, 409s, history, stock, refunds."""

from __future__ import annotations

from tests.factories import add_member, stale_headers
from tests.modules.orders.shop import (
    Shop,
    cart_with,
    checkout,
    ledger_is_consistent,
    open_shop,
    stock_of,
)


async def _move(client, shop: Shop, order_id: str, to: str, headers=None, **extra):
    return await client.post(
        shop.url(f"/orders/{order_id}/transitions"),
        json={"to": to, **extra},
        headers=headers or shop.owner.headers,
    )


async def _paid_order(client, shop: Shop, items: dict[str, int]) -> dict:
    order = (await checkout(client, shop, await cart_with(client, shop, items))).json()["order"]
    paid = await _move(client, shop, order["id"], "paid")
    assert paid.status_code == 200, paid.text
    return paid.json()


async def test_the_happy_path_and_its_history(client) -> None:
    shop = await open_shop(client, products={"lamp": "40.00"}, stock={("lamp", "S"): 3})
    order = (await checkout(client, shop, await cart_with(client, shop, {"lamp": 2}))).json()[
        "order"
    ]
    assert order["allowed_transitions"] == ["cancelled", "paid"]
    for status in ("paid", "fulfilled", "completed"):
        response = await _move(client, shop, order["id"], status, note=f"now {status}")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    final = response.json()
    assert [(h["from_status"], h["to_status"]) for h in final["history"]] == [
        (None, "pending"),
        ("pending", "paid"),
        ("paid", "fulfilled"),
        ("fulfilled", "completed"),
    ]
    assert all(h["actor"] == f"user:{shop.owner.id}" for h in final["history"][1:])
    assert final["payments"][0]["status"] == "succeeded"
    # Paid: the reservation became a sale.
    stock = await stock_of(client, shop, "lamp")
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (1, 0, 1)
    assert await ledger_is_consistent(client, shop, "lamp")


async def test_forbidden_transitions_are_409(client) -> None:
    shop = await open_shop(client, products={"p": "1.00"}, stock={("p", "S"): 5})
    order = (await checkout(client, shop, await cart_with(client, shop, {"p": 1}))).json()["order"]
    for to in ("fulfilled", "completed", "refunded", "pending"):
        response = await _move(client, shop, order["id"], to)
        assert response.status_code == 409, (to, response.text)
        assert response.json()["type"].endswith("/forbidden-transition")
        assert response.json()["allowed"] == ["cancelled", "paid"]
    cancelled = await _move(client, shop, order["id"], "cancelled")
    assert cancelled.status_code == 200
    assert (await _move(client, shop, order["id"], "paid")).status_code == 409
    unknown = await _move(client, shop, order["id"], "shipped")
    assert unknown.status_code == 422


async def test_cancelling_releases_the_reservation(client) -> None:
    shop = await open_shop(client, products={"c": "2.00"}, stock={("c", "S"): 4})
    order = (await checkout(client, shop, await cart_with(client, shop, {"c": 3}))).json()["order"]
    assert (await stock_of(client, shop, "c"))["available"] == 1
    assert (await _move(client, shop, order["id"], "cancelled")).status_code == 200
    stock = await stock_of(client, shop, "c")
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (4, 0, 4)
    assert await ledger_is_consistent(client, shop, "c")


async def test_viewers_read_orders_but_cannot_move_them(client) -> None:
    shop = await open_shop(client, products={"v": "1.00"}, stock={("v", "S"): 1})
    order = (await checkout(client, shop, await cart_with(client, shop, {"v": 1}))).json()["order"]
    viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
    seen = await client.get(shop.url(f"/orders/{order['id']}"), headers=viewer.headers)
    assert seen.status_code == 200
    denied = await _move(client, shop, order["id"], "paid", headers=viewer.headers)
    assert denied.status_code == 403


async def test_partial_then_full_refund_with_restock(client) -> None:
    shop = await open_shop(client, products={"r": "10.00"}, stock={("r", "S"): 5})
    order = await _paid_order(client, shop, {"r": 3})
    url = shop.url(f"/orders/{order['id']}/refunds")
    partial = await client.post(
        url,
        json={
            "amount": "5.00",
            "restock": True,
            "restock_items": [{"product_id": "r", "quantity": 1}],
        },
        headers=shop.owner.headers,
    )
    assert partial.status_code == 200, partial.text
    body = partial.json()
    assert body["status"] == "partially_refunded"
    assert body["refunded_amount"] == "5.00"
    assert (await stock_of(client, shop, "r"))["on_hand"] == 3
    too_much = await client.post(url, json={"amount": "25.01"}, headers=shop.owner.headers)
    assert too_much.status_code == 422
    rest = await client.post(url, json={"reason": "damaged"}, headers=shop.owner.headers)
    assert rest.status_code == 200, rest.text
    assert rest.json()["status"] == "refunded"
    assert rest.json()["refunded_amount"] == "30.00"
    assert [r["amount"] for r in rest.json()["refunds"]] == ["5.00", "25.00"]
    assert rest.json()["payments"][0]["status"] == "refunded"
    assert (await stock_of(client, shop, "r"))["on_hand"] == 3  # no restock asked this time
    assert (await client.post(url, json={}, headers=shop.owner.headers)).status_code == 409
    assert await ledger_is_consistent(client, shop, "r")


async def test_full_refund_by_transition_restocks_everything(client) -> None:
    shop = await open_shop(client, products={"t": "4.00"}, stock={("t", "S"): 2})
    order = await _paid_order(client, shop, {"t": 2})
    assert (await stock_of(client, shop, "t"))["on_hand"] == 0
    refunded = await _move(client, shop, order["id"], "refunded", restock=True)
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "refunded"
    assert (await stock_of(client, shop, "t"))["on_hand"] == 2


async def test_refunds_need_step_up_and_the_permission(client) -> None:
    shop = await open_shop(client, products={"s": "4.00"}, stock={("s", "S"): 2})
    order = await _paid_order(client, shop, {"s": 1})
    url = shop.url(f"/orders/{order['id']}/refunds")
    stale = await client.post(url, json={}, headers=await stale_headers(shop.owner))
    assert stale.status_code == 401
    assert stale.json()["type"].endswith("/step-up-required")
    manager = await add_member(client, shop.owner, shop.tenant, "manager")
    assert (await client.post(url, json={}, headers=manager.headers)).status_code == 403
    by_key = await client.post(url, json={}, headers=shop.headers)
    assert by_key.status_code == 403
    fetched = (await client.get(shop.url(f"/orders/{order['id']}"), headers=shop.headers)).json()
    assert fetched["status"] == "paid"
    assert fetched["refunds"] == []
