"""Commerce screens: stock per location, the order list and an order with its next steps."""

from __future__ import annotations

from tests.factories import PASSWORD, add_member
from tests.modules.orders.shop import cart_with, checkout, open_shop, stock_of
from tests.web.browser import signed_in
from tests.web.test_screens import make_stale, nav_of


async def _shop_with_order(client):
    shop = await open_shop(client, products={"mug": "12.00"}, stock={("mug", "HAM"): 5})
    order = (await checkout(client, shop, await cart_with(client, shop, {"mug": 2}))).json()[
        "order"
    ]
    return shop, order


class TestStock:
    async def test_a_manager_sets_stock_from_the_screen(self, client) -> None:
        shop = await open_shop(client, products={"lamp": "30.00"}, stock={("lamp", "HAM"): 1})
        manager = await add_member(client, shop.owner, shop.tenant, "manager")
        dashboard = await signed_in(client, manager)
        url = f"/app/t/{shop.tenant}/stock"
        page = await dashboard.get(url)
        assert page.status_code == 200
        assert ">Stock</a>" in nav_of(page.text)
        assert "<code>lamp</code>" in page.text
        edit = await dashboard.get(url, params={"product": "lamp", "at": "HAM", "on_hand": "1"})
        assert 'value="lamp"' in edit.text
        saved = await dashboard.post(
            url, {"product_id": "lamp", "location_code": "HAM", "on_hand": "9"}, htmx=True
        )
        assert saved.status_code == 200, saved.text
        assert "9 on hand" in saved.text
        assert (await stock_of(client, shop, "lamp"))["on_hand"] == 9
        bad = await dashboard.post(
            url, {"product_id": "lamp", "location_code": "HAM", "on_hand": "-3"}, htmx=True
        )
        assert bad.status_code == 422
        assert 'id="f-on_hand-error"' in bad.text
        unknown = await dashboard.post(
            url, {"product_id": "ghost", "location_code": "HAM", "on_hand": "1"}, htmx=True
        )
        assert unknown.status_code == 404
        assert "No product" in unknown.text

    async def test_a_viewer_sees_stock_but_no_form(self, client) -> None:
        shop = await open_shop(client, products={"cup": "3.00"}, stock={("cup", "HAM"): 4})
        viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        page = await dashboard.get(f"/app/t/{shop.tenant}/stock")
        assert "<code>cup</code>" in page.text
        assert "Save stock" not in page.text
        assert ">Edit<" not in page.text
        refused = await dashboard.post(
            f"/app/t/{shop.tenant}/stock",
            {"product_id": "cup", "location_code": "HAM", "on_hand": "1"},
        )
        assert refused.status_code == 403


class TestOrders:
    async def test_the_list_filters_by_status(self, client) -> None:
        shop, order = await _shop_with_order(client)
        dashboard = await signed_in(client, shop.owner)
        url = f"/app/t/{shop.tenant}/orders"
        listed = await dashboard.get(url)
        assert order["id"] in listed.text
        assert "shopper@example.com" in listed.text
        none = await dashboard.get(url, params={"status": "completed"})
        assert order["id"] not in none.text
        assert "No orders match this filter" in none.text

    async def test_a_manager_moves_an_order_but_cannot_refund(self, client) -> None:
        shop, order = await _shop_with_order(client)
        manager = await add_member(client, shop.owner, shop.tenant, "manager")
        dashboard = await signed_in(client, manager)
        url = f"/app/t/{shop.tenant}/orders/{order['id']}"
        page = await dashboard.get(url)
        assert "Mark paid" in page.text
        assert "Mark cancelled" in page.text
        assert "Mark fulfilled" not in page.text
        paid = await dashboard.post(f"{url}/transitions", {"to": "paid"}, htmx=True)
        assert paid.status_code == 200, paid.text
        assert "The order is now paid." in paid.text
        assert "Mark fulfilled" in paid.text
        assert "Mark refunded" not in paid.text  # refunds need an admin
        assert 'id="refund-title"' not in paid.text
        forbidden = await dashboard.post(f"{url}/transitions", {"to": "completed"}, htmx=True)
        assert forbidden.status_code == 409
        assert "cannot become completed" in forbidden.text
        history = (
            await client.get(shop.url(f"/orders/{order['id']}"), headers=shop.headers)
        ).json()
        assert history["history"][-1]["actor"] == f"user:{manager.id}"

    async def test_a_viewer_sees_the_order_without_buttons(self, client) -> None:
        shop, order = await _shop_with_order(client)
        viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        page = await dashboard.get(f"/app/t/{shop.tenant}/orders/{order['id']}")
        assert page.status_code == 200
        assert "<code>mug</code>" in page.text
        assert "Mark " not in page.text
        assert 'id="refund-title"' not in page.text
        refused = await dashboard.post(
            f"/app/t/{shop.tenant}/orders/{order['id']}/transitions", {"to": "paid"}
        )
        assert refused.status_code == 403

    async def test_a_refund_asks_for_the_password_when_the_login_is_old(self, client) -> None:
        shop, order = await _shop_with_order(client)
        dashboard = await signed_in(client, shop.owner)
        url = f"/app/t/{shop.tenant}/orders/{order['id']}"
        await dashboard.post(f"{url}/transitions", {"to": "paid"}, htmx=True)
        page = await dashboard.get(url)
        assert 'id="refund-title"' in page.text
        await make_stale(client, shop.owner)
        prompt = await dashboard.post(
            f"{url}/refunds", {"amount": "5.00", "restock": "1"}, htmx=True
        )
        assert prompt.status_code == 200
        assert "Confirm it's you" in prompt.text
        assert 'value="5.00"' in prompt.text
        state = (await client.get(shop.url(f"/orders/{order['id']}"), headers=shop.headers)).json()
        assert state["refunds"] == []
        wrong = await dashboard.post(
            f"{url}/refunds", {"amount": "5.00", "current_password": "not-it-at-all"}, htmx=True
        )
        assert "That password is not right" in wrong.text
        done = await dashboard.post(
            f"{url}/refunds", {"amount": "5.00", "current_password": PASSWORD}, htmx=True
        )
        assert done.status_code == 200, done.text
        assert "Refunded; €5.00 refunded in total" in done.text
        state = (await client.get(shop.url(f"/orders/{order['id']}"), headers=shop.headers)).json()
        assert state["status"] == "partially_refunded"


async def test_the_overview_counts_orders(client) -> None:
    shop, _ = await _shop_with_order(client)
    viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
    dashboard = await signed_in(client, viewer)
    overview = await dashboard.get(f"/app/t/{shop.tenant}")
    assert overview.status_code == 200
    assert "order in the last 7 days" in overview.text
    assert '<span class="badge status-pending">pending</span> 1' in overview.text
    assert f'href="/app/t/{shop.tenant}/orders"' in overview.text


class TestDiscountsAndAddresses:
    async def test_a_manager_creates_and_deactivates_a_code(self, client) -> None:
        shop = await open_shop(client, products={"mug": "12.00"}, stock={("mug", "HAM"): 5})
        manager = await add_member(client, shop.owner, shop.tenant, "manager")
        dashboard = await signed_in(client, manager)
        url = f"/app/t/{shop.tenant}/discounts"
        page = await dashboard.get(url)
        assert page.status_code == 200
        assert ">Discount codes</a>" in nav_of(page.text)
        assert "No discount codes yet" in page.text
        bad = await dashboard.post(
            url, {"code": "WINTER", "kind": "fixed", "value": "5", "active": "true"}, htmx=True
        )
        assert bad.status_code == 422
        assert "currency" in bad.text
        saved = await dashboard.post(
            url,
            {
                "code": "winter",
                "kind": "percentage",
                "value": "15",
                "usage_limit": "100",
                "active": "true",
            },
            htmx=True,
        )
        assert saved.status_code == 200, saved.text
        assert "WINTER created." in saved.text
        assert "0 / 100" in saved.text
        edit = await dashboard.get(url, params={"edit": "WINTER"})
        assert 'value="15.00"' in edit.text
        off = await dashboard.post(f"{url}/WINTER/active", {"active": "false"}, htmx=True)
        assert "WINTER is deactivated." in off.text
        api = await client.get(shop.url("/discounts/winter"), headers=shop.owner.headers)
        assert api.json()["active"] is False
        assert api.json()["usage_limit"] == 100
        viewer = await signed_in(
            client, await add_member(client, shop.owner, shop.tenant, "viewer")
        )
        seen = await viewer.get(url)
        assert "<code>WINTER</code>" in seen.text
        assert "Save code" not in seen.text
        assert (await viewer.post(f"{url}/WINTER/active", {"active": "true"})).status_code == 403

    async def test_an_order_shows_its_addresses_and_discount(self, client) -> None:
        shop = await open_shop(client, products={"mug": "12.00"}, stock={("mug", "HAM"): 5})
        await client.put(
            shop.url("/discounts/TEN"),
            json={"kind": "percentage", "value": "10"},
            headers=shop.owner.headers,
        )
        address = {
            "name": "Ana Weber",
            "line1": "Hauptstr. 1",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
            "phone": "030 1234567",
        }
        order = (
            await checkout(
                client,
                shop,
                await cart_with(client, shop, {"mug": 2}),
                extra={"discount_code": "TEN", "shipping_address": address},
            )
        ).json()["order"]
        dashboard = await signed_in(client, shop.owner)
        page = await dashboard.get(f"/app/t/{shop.tenant}/orders/{order['id']}")
        assert page.status_code == 200
        assert "\u2212€2.40 (code <code>TEN</code>)" in page.text
        assert "Ship to" in page.text
        assert "Bill to" in page.text
        assert "10115 Berlin" in page.text
        assert 'href="tel:+49301234567"' in page.text
        # Paid, the order counts in the overview's revenue for what was charged.
        await client.post(
            shop.url(f"/orders/{order['id']}/transitions"),
            json={"to": "paid"},
            headers=shop.owner.headers,
        )
        overview = await dashboard.get(f"/app/t/{shop.tenant}")
        assert "paid revenue, 7 days</span> €21.60" in overview.text
