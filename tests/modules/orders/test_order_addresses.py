"""Addresses: checked on the way in, copied from cart or address book onto the order at
checkout, and fixed there afterwards."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from mercato.modules.customers import PostalAddress
from tests.modules.orders.shop import cart_with, checkout, open_shop

BERLIN = {
    "name": "Ana Weber",
    "line1": "Hauptstr. 1",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
    "phone": "030 1234567",
}
LONDON = {
    "name": "Sam Hale",
    "line1": "1 Road",
    "city": "London",
    "postal_code": "sw1a  1aa",
    "country": "GB",
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "de"}, "country"),
        ({"postal_code": "1011"}, "postal_code"),
        ({"country": "US", "postal_code": "1234"}, "postal_code"),
        ({"country": "NL", "postal_code": "1234"}, "postal_code"),
        ({"phone": "12"}, "phone"),
        ({"phone": "+49 30 1"}, "phone"),
    ],
)
def test_bad_addresses_are_refused(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        PostalAddress.model_validate({**BERLIN, **change})


def test_addresses_are_normalised() -> None:
    assert PostalAddress.model_validate(BERLIN).phone == "+49301234567"
    assert PostalAddress.model_validate(LONDON).postal_code == "SW1A 1AA"
    canada = PostalAddress.model_validate({**LONDON, "country": "CA", "postal_code": "k1a 0b1"})
    assert canada.postal_code == "K1A 0B1"
    # A country without a shape in our table takes any plausible code.
    assert PostalAddress.model_validate({**LONDON, "country": "BR", "postal_code": "01310-100"})


async def test_cart_addresses_are_copied_onto_the_order_and_fixed_there(client, owner_dsn) -> None:
    shop = await open_shop(client, products={"a": "4.00"}, stock={("a", "S"): 5})
    cart = await cart_with(client, shop, {"a": 1})
    bad = await client.put(
        shop.url(f"/carts/{cart}/addresses"),
        json={"shipping_address": {**BERLIN, "postal_code": "ABC"}},
        headers=shop.headers,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    saved = await client.put(
        shop.url(f"/carts/{cart}/addresses"),
        json={"shipping_address": BERLIN, "billing_address": LONDON},
        headers=shop.headers,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["shipping_address"]["phone"] == "+49301234567"
    assert (await client.get(shop.url(f"/carts/{cart}"), headers=shop.headers)).json()[
        "billing_address"
    ]["postal_code"] == "SW1A 1AA"
    placed = await checkout(client, shop, cart)
    assert placed.status_code == 201, placed.text
    order = placed.json()["order"]
    assert order["shipping_address"]["city"] == "Berlin"
    assert order["billing_address"]["country"] == "GB"
    fetched = await client.get(shop.url(f"/orders/{order['id']}"), headers=shop.headers)
    assert fetched.json()["shipping_address"] == order["shipping_address"]
    # Not even the database owner rewrites what was shipped and billed.
    with (
        psycopg.connect(owner_dsn) as conn,
        pytest.raises(psycopg.errors.IntegrityConstraintViolation),
    ):
        conn.execute(
            "UPDATE sales_order SET shipping_address = '{}' WHERE tenant_id = %s AND id = %s",
            (shop.tenant, order["id"]),
        )


async def test_checkout_body_wins_and_billing_falls_back_to_shipping(client) -> None:
    shop = await open_shop(client, products={"a": "4.00"}, stock={("a", "S"): 5})
    placed = await checkout(
        client, shop, await cart_with(client, shop, {"a": 1}), extra={"shipping_address": LONDON}
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()["order"]
    assert order["shipping_address"] == order["billing_address"]
    assert order["shipping_address"]["postal_code"] == "SW1A 1AA"
    refused = await checkout(
        client,
        shop,
        await cart_with(client, shop, {"a": 1}),
        extra={"billing_address": {**LONDON, "country": "ZZ"}},
    )
    assert refused.status_code == 422


async def test_the_address_book_gives_the_defaults(client) -> None:
    shop = await open_shop(client, products={"a": "4.00"}, stock={("a", "S"): 5})
    signed = await client.post(
        shop.url("/customers/signup"),
        json={"email": "ana@example.com", "password": "a-long-shopper-secret"},
        headers=shop.headers,
    )
    token = {"X-Customer-Token": signed.json()["token"]}
    headers = {**shop.headers, **token}
    two_defaults = await client.patch(
        shop.url("/customers/me"),
        json={
            "addresses": [{**BERLIN, "default_billing": True}, {**LONDON, "default_billing": True}]
        },
        headers=headers,
    )
    assert two_defaults.status_code == 422
    book = await client.patch(
        shop.url("/customers/me"),
        json={
            "addresses": [
                {**BERLIN, "label": "home", "default_billing": True},
                {**LONDON, "default_shipping": True},
            ]
        },
        headers=headers,
    )
    assert book.status_code == 200, book.text
    cart = await cart_with(client, shop, {"a": 1}, headers=headers)
    placed = await client.post(
        shop.url("/checkout"),
        json={"cart_id": cart, "email": "ana@example.com", "payment_provider": "manual"},
        headers={**headers, "Idempotency-Key": "book-1"},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()["order"]
    assert order["shipping_address"]["city"] == "London"
    assert order["billing_address"]["city"] == "Berlin"
    assert order["billing_address"]["phone"] == "+49301234567"
