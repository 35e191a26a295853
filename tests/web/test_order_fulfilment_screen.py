"""The order page ships, delivers and takes returns through the same services as the API."""

from __future__ import annotations

from tests.factories import PASSWORD, add_member
from tests.modules.orders.shop import cart_with, checkout, open_shop, stock_of
from tests.web.browser import signed_in
from tests.web.test_screens import make_stale


async def _paid_order(client):
    shop = await open_shop(
        client,
        products={"mug": "12.00", "tea": "4.00"},
        stock={("mug", "HAM"): 5, ("tea", "HAM"): 5, ("mug", "BER"): 2},
    )
    cart = await cart_with(client, shop, {"mug": 2, "tea": 1}, location_code="HAM")
    order = (await checkout(client, shop, cart)).json()["order"]
    paid = await client.post(
        shop.url(f"/orders/{order['id']}/transitions"),
        json={"to": "paid"},
        headers=shop.owner.headers,
    )
    assert paid.status_code == 200, paid.text
    return shop, order


async def _order(client, shop, order_id: str) -> dict:
    return dict(
        (await client.get(shop.url(f"/orders/{order_id}"), headers=shop.owner.headers)).json()
    )


async def test_a_manager_ships_from_the_page_and_marks_the_parcel_delivered(client) -> None:
    shop, order = await _paid_order(client)
    manager = await add_member(client, shop.owner, shop.tenant, "manager")
    dashboard = await signed_in(client, manager)
    url = f"/app/t/{shop.tenant}/orders/{order['id']}"
    page = await dashboard.get(url)
    assert 'id="shipment-form"' in page.text
    assert "mug (2 left)" in page.text
    assert 'id="return-form"' not in page.text  # nothing shipped; and managers cannot refund
    refused = await dashboard.post(
        f"{url}/shipments", {"location_code": "HAM", "ship-mug": "3"}, htmx=True
    )
    assert refused.status_code == 409
    assert "2 units are left to ship" in refused.text
    empty = await dashboard.post(f"{url}/shipments", {"location_code": "HAM"}, htmx=True)
    assert empty.status_code == 422
    shipped = await dashboard.post(
        f"{url}/shipments",
        {
            "location_code": "BER",
            "ship-mug": "2",
            "ship-tea": "0",
            "carrier": "DHL",
            "tracking_url": "https://track.example/1",
        },
        htmx=True,
    )
    assert shipped.status_code == 200, shipped.text
    assert "Shipped; the order is now partially fulfilled." in shipped.text
    assert "tea (1 left)" in shipped.text
    mugs = {
        loc["location_code"]: loc["on_hand"]
        for loc in (await stock_of(client, shop, "mug"))["locations"]
    }
    assert mugs == {"HAM": 5, "BER": 0}  # the sale moved from HAM to BER
    shipment = (await _order(client, shop, order["id"]))["shipments"][0]
    delivered = await dashboard.post(f"{url}/shipments/{shipment['id']}/delivered", {}, htmx=True)
    assert delivered.status_code == 200, delivered.text
    assert "The parcel is marked delivered." in delivered.text
    assert (await _order(client, shop, order["id"]))["shipments"][0]["status"] == "delivered"
    viewer = await signed_in(client, await add_member(client, shop.owner, shop.tenant, "viewer"))
    seen = await viewer.get(url)
    assert "https://track.example/1" in seen.text
    assert 'id="shipment-form"' not in seen.text
    assert (await viewer.post(f"{url}/shipments", {"location_code": "HAM"})).status_code == 403


async def test_a_return_from_the_page_asks_for_the_password_then_restocks_and_refunds(
    client,
) -> None:
    shop, order = await _paid_order(client)
    dashboard = await signed_in(client, shop.owner)
    url = f"/app/t/{shop.tenant}/orders/{order['id']}"
    shipped = await dashboard.post(
        f"{url}/shipments", {"location_code": "HAM", "ship-mug": "2", "ship-tea": "1"}, htmx=True
    )
    assert "now fulfilled" in shipped.text
    assert 'id="return-form"' in shipped.text
    await make_stale(client, shop.owner)
    form = {"return-mug": "1", "reason": "chipped", "restock": "1", "location_code": "HAM"}
    prompt = await dashboard.post(f"{url}/returns", form, htmx=True)
    assert "Confirm it's you" in prompt.text
    assert (await _order(client, shop, order["id"]))["returns"] == []
    done = await dashboard.post(f"{url}/returns", {**form, "current_password": PASSWORD}, htmx=True)
    assert done.status_code == 200, done.text
    assert "Return recorded; 12.00 EUR to refund." in done.text
    state = await _order(client, shop, order["id"])
    assert (state["status"], state["refunded_amount"]) == ("partially_refunded", "12.00")
    assert state["returns"][0]["refund"]["status"] == "succeeded"  # manual: nothing to call
    hams = {
        loc["location_code"]: loc["on_hand"]
        for loc in (await stock_of(client, shop, "mug"))["locations"]
    }
    assert hams["HAM"] == 4  # 5 - 2 sold + 1 back
    assert "chipped" in done.text
