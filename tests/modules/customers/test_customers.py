"""Shopper accounts: sign-up, login, tokens separate from staff, cart merge at login."""

from __future__ import annotations

from tests.modules.orders.shop import Shop, cart_with, open_shop


async def _signup(client, shop: Shop, email: str, **extra) -> dict:
    response = await client.post(
        shop.url("/customers/signup"),
        json={"email": email, "password": "a-long-shopper-secret", **extra},
        headers=shop.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_signup_login_profile_and_consent(client) -> None:
    shop = await open_shop(client)
    session = await _signup(client, shop, "ana@example.com", name="Ana", marketing_consent=True)
    assert session["token"].startswith("mct_")
    assert session["customer"]["marketing_consent"] is True
    assert session["customer"]["consent_changed_at"] is not None
    again = await client.post(
        shop.url("/customers/signup"),
        json={"email": "ANA@example.com", "password": "another-long-secret"},
        headers=shop.headers,
    )
    assert again.status_code == 409
    wrong = await client.post(
        shop.url("/customers/login"),
        json={"email": "ana@example.com", "password": "not-the-password"},
        headers=shop.headers,
    )
    assert wrong.status_code == 401
    login = await client.post(
        shop.url("/customers/login"),
        json={"email": "ana@example.com", "password": "a-long-shopper-secret"},
        headers=shop.headers,
    )
    assert login.status_code == 200
    me_headers = {**shop.headers, "X-Customer-Token": login.json()["token"]}
    updated = await client.patch(
        shop.url("/customers/me"),
        json={
            "marketing_consent": False,
            "preferences": {"newsletter": "weekly"},
            "addresses": [
                {
                    "name": "Ana",
                    "line1": "Main 1",
                    "postal_code": "20095",
                    "city": "Hamburg",
                    "country": "DE",
                }
            ],
        },
        headers=me_headers,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["marketing_consent"] is False
    assert updated.json()["addresses"][0]["city"] == "Hamburg"
    listed = await client.get(shop.url("/customers?email=ana"), headers=shop.owner.headers)
    assert [c["email"] for c in listed.json()["data"]] == ["ana@example.com"]
    logout = await client.post(shop.url("/customers/logout"), headers=me_headers)
    assert logout.status_code == 204
    assert (await client.get(shop.url("/customers/me"), headers=me_headers)).status_code == 401


async def test_customer_tokens_are_not_staff_tokens_and_stay_in_their_tenant(client) -> None:
    shop = await open_shop(client)
    other = await open_shop(client)
    token = (await _signup(client, shop, "bo@example.com"))["token"]
    as_bearer = await client.get(shop.url("/orders"), headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401
    elsewhere = await client.get(
        other.url("/customers/me"), headers={**other.headers, "X-Customer-Token": token}
    )
    assert elsewhere.status_code == 401
    weak = await client.post(
        shop.url("/customers/signup"),
        json={"email": "weak@example.com", "password": "short"},
        headers=shop.headers,
    )
    assert weak.status_code == 422


async def test_a_guest_cart_merges_into_the_customers_cart_at_login(client) -> None:
    shop = await open_shop(
        client, products={"a": "1.00", "b": "2.00"}, stock={("a", "S"): 9, ("b", "S"): 9}
    )
    session = await _signup(client, shop, "cy@example.com")
    mine = {**shop.headers, "X-Customer-Token": session["token"]}
    own_cart = await cart_with(client, shop, {"b": 1}, headers=mine)
    guest_cart = await cart_with(client, shop, {"a": 2, "b": 1})
    login = await client.post(
        shop.url("/customers/login"),
        json={
            "email": "cy@example.com",
            "password": "a-long-shopper-secret",
            "cart_id": guest_cart,
        },
        headers=shop.headers,
    )
    assert login.status_code == 200, login.text
    assert login.json()["cart_id"] == own_cart
    token = {**shop.headers, "X-Customer-Token": login.json()["token"]}
    merged = (await client.get(shop.url(f"/carts/{own_cart}"), headers=token)).json()
    assert [(i["product_id"], i["quantity"]) for i in merged["items"]] == [("b", 2), ("a", 2)]
    guest = (await client.get(shop.url(f"/carts/{guest_cart}"), headers=shop.headers)).json()
    assert guest["status"] == "merged"
    # Checked out with the token, the order is the customer's.
    placed = await client.post(
        shop.url("/checkout"),
        json={"cart_id": own_cart, "email": "cy@example.com", "payment_provider": "manual"},
        headers={**token, "Idempotency-Key": "cy-1"},
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["order"]["customer_id"] == session["customer"]["id"]
    mine = await client.get(shop.url("/customers/me/orders"), headers=token)
    assert [o["id"] for o in mine.json()["data"]] == [placed.json()["order"]["id"]]
    # Another shopper cannot open this customer's cart.
    stranger = await _signup(client, shop, "dee@example.com")
    peek = await client.get(
        shop.url(f"/carts/{own_cart}"),
        headers={**shop.headers, "X-Customer-Token": stranger["token"]},
    )
    assert peek.status_code == 404


async def test_a_guest_cart_becomes_the_customers_when_they_have_none(client) -> None:
    shop = await open_shop(client, products={"a": "1.00"})
    guest_cart = await cart_with(client, shop, {"a": 1})
    session = await _signup(client, shop, "eve@example.com", cart_id=guest_cart)
    assert session["cart_id"] == guest_cart
    cart = await client.get(
        shop.url(f"/carts/{guest_cart}"),
        headers={**shop.headers, "X-Customer-Token": session["token"]},
    )
    assert cart.json()["customer_id"] == session["customer"]["id"]
