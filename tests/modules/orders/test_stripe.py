"""Stripe against a local fake: PaymentIntents, Checkout, signed webhooks, refunds."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mercato.modules.orders.jobs import expire_reservations
from mercato.modules.payments.providers import minor_units
from tests.fakes.stripe import FakeStripe, event, sign
from tests.modules.orders.shop import Shop, cart_with, checkout, open_shop, stock_of


async def _deliver(client, shop: Shop, payload: bytes, signature: str | None = None):
    return await client.post(
        f"/api/v1/webhooks/stripe/{shop.tenant}",
        content=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": signature if signature is not None else sign(payload),
        },
    )


async def _order(client, shop: Shop, order_id: str) -> dict:
    response = await client.get(shop.url(f"/orders/{order_id}"), headers=shop.headers)
    return dict(response.json())


async def test_payment_intent_checkout_and_signed_webhook(client, stripe: FakeStripe) -> None:
    shop = await open_shop(client, products={"s": "19.99"}, stock={("s", "W"): 3})
    cart = await cart_with(client, shop, {"s": 2})
    placed = await checkout(client, shop, cart, key="pay-once", provider="stripe")
    assert placed.status_code == 201, placed.text
    payment = placed.json()["payment"]
    assert payment["provider_reference"].startswith("pi_")
    assert payment["client_secret"].startswith(payment["provider_reference"])
    intent = stripe.intents[payment["provider_reference"]]
    assert (intent["amount"], intent["currency"]) == (3998, "eur")
    assert f"mercato-payment-{payment['id']}" in stripe.by_idempotency_key
    # A retry with the same Idempotency-Key answers the same order and creates no intent.
    again = await checkout(client, shop, cart, key="pay-once", provider="stripe")
    assert again.json()["order"]["id"] == placed.json()["order"]["id"]
    assert len(stripe.intents) == 1

    paid = event("payment_intent.succeeded", stripe.succeeded(payment["provider_reference"]))
    delivered = await _deliver(client, shop, paid)
    assert delivered.status_code == 200, delivered.text
    assert delivered.json() == {"received": True, "duplicate": False}
    order = await _order(client, shop, placed.json()["order"]["id"])
    assert order["status"] == "paid"
    assert order["payments"][0]["status"] == "succeeded"
    assert order["history"][-1]["actor"].startswith("stripe:evt_")
    stock = await stock_of(client, shop, "s")
    assert (stock["on_hand"], stock["reserved"]) == (1, 0)


async def test_a_stripe_event_is_processed_once(client, stripe: FakeStripe) -> None:
    shop = await open_shop(client, products={"d": "5.00"}, stock={("d", "W"): 2})
    placed = await checkout(
        client, shop, await cart_with(client, shop, {"d": 1}), provider="stripe"
    )
    reference = placed.json()["payment"]["provider_reference"]
    paid = event("payment_intent.succeeded", stripe.succeeded(reference), event_id="evt_dup_1")
    first = await _deliver(client, shop, paid)
    second = await _deliver(client, shop, paid)
    assert first.json()["duplicate"] is False
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    order = await _order(client, shop, placed.json()["order"]["id"])
    assert [h["to_status"] for h in order["history"]] == ["pending", "paid"]
    assert (await stock_of(client, shop, "d"))["on_hand"] == 1


async def test_a_bad_signature_is_400_and_changes_nothing(client, stripe: FakeStripe) -> None:
    shop = await open_shop(client, products={"b": "5.00"}, stock={("b", "W"): 2})
    placed = await checkout(
        client, shop, await cart_with(client, shop, {"b": 1}), provider="stripe"
    )
    reference = placed.json()["payment"]["provider_reference"]
    paid = event("payment_intent.succeeded", stripe.succeeded(reference), event_id="evt_sig_1")
    forged = sign(paid, secret="whsec_" + "x" * 32)
    stale = sign(paid, timestamp=int(time.time()) - 301)
    tampered_body = paid.replace(b'"succeeded"', b'"succeeded" ', 1)
    for payload, signature in (
        (paid, forged),
        (paid, stale),
        (paid, "garbage"),
        (tampered_body, sign(paid)),
        (paid, ""),
    ):
        response = await _deliver(client, shop, payload, signature)
        assert response.status_code == 400, response.text
        assert response.json()["type"].endswith("/bad-signature")
    order = await _order(client, shop, placed.json()["order"]["id"])
    assert order["status"] == "pending"
    assert order["payments"][0]["status"] == "requires_payment"
    # The refused deliveries did not burn the event id: the genuine one still counts.
    genuine = await _deliver(client, shop, paid)
    assert genuine.json() == {"received": True, "duplicate": False}
    assert (await _order(client, shop, placed.json()["order"]["id"]))["status"] == "paid"


async def test_stripe_refunds_full_and_partial(client, stripe: FakeStripe) -> None:
    shop = await open_shop(client, products={"r": "10.00"}, stock={("r", "W"): 4})
    placed = await checkout(
        client, shop, await cart_with(client, shop, {"r": 3}), provider="stripe"
    )
    reference = placed.json()["payment"]["provider_reference"]
    await _deliver(client, shop, event("payment_intent.succeeded", stripe.succeeded(reference)))
    url = shop.url(f"/orders/{placed.json()['order']['id']}/refunds")
    partial = await client.post(url, json={"amount": "7.50"}, headers=shop.owner.headers)
    assert partial.status_code == 200, partial.text
    assert partial.json()["status"] == "partially_refunded"
    full = await client.post(url, json={"restock": True}, headers=shop.owner.headers)
    assert full.status_code == 200, full.text
    assert full.json()["status"] == "refunded"
    amounts = sorted(r["amount"] for r in stripe.refunds.values())
    assert amounts == [750, 2250]
    assert {r["provider_reference"][:3] for r in full.json()["refunds"]} == {"re_"}
    assert (await stock_of(client, shop, "r"))["on_hand"] == 4


async def test_hosted_checkout_session(client, stripe: FakeStripe) -> None:
    shop = await open_shop(client, products={"h": "8.00"}, stock={("h", "W"): 1})
    placed = await checkout(
        client,
        shop,
        await cart_with(client, shop, {"h": 1}),
        provider="stripe",
        extra={
            "hosted_checkout": {
                "success_url": "https://shop.example/thanks",
                "cancel_url": "https://shop.example/cart",
            }
        },
    )
    assert placed.status_code == 201, placed.text
    payment = placed.json()["payment"]
    assert payment["checkout_url"].startswith("https://checkout.stripe.com/")
    session = stripe.session_completed(payment["provider_reference"])
    delivered = await _deliver(client, shop, event("checkout.session.completed", session))
    assert delivered.status_code == 200
    order = await _order(client, shop, placed.json()["order"]["id"])
    assert order["status"] == "paid"
    assert order["payments"][0]["provider_reference"] == session["payment_intent"]


async def test_a_stripe_outage_keeps_the_order_for_a_retry(client, stripe: FakeStripe) -> None:
    shop = await open_shop(client, products={"o": "3.00"}, stock={("o", "W"): 1})
    cart = await cart_with(client, shop, {"o": 1})
    stripe.fail_next = 1
    failed = await checkout(client, shop, cart, key="retry-me", provider="stripe")
    assert failed.status_code == 502
    assert failed.json()["type"].endswith("/payment-provider-error")
    assert (await stock_of(client, shop, "o"))["reserved"] == 1
    retried = await checkout(client, shop, cart, key="retry-me", provider="stripe")
    assert retried.status_code == 201, retried.text
    assert retried.json()["order"]["id"] == failed.json()["order_id"]
    assert retried.json()["payment"]["provider_reference"].startswith("pi_")


async def test_stripe_unconfigured_is_409(client) -> None:
    shop = await open_shop(client, products={"u": "3.00"}, stock={("u", "W"): 1})
    response = await checkout(
        client, shop, await cart_with(client, shop, {"u": 1}), provider="stripe"
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith("/payment-provider-not-configured")
    assert (await stock_of(client, shop, "u"))["reserved"] == 0


async def test_a_payment_after_the_reservation_expired_is_noted(client, stripe: FakeStripe) -> None:
    shop = await open_shop(client, products={"x": "4.00"}, stock={("x", "W"): 1})
    placed = await checkout(
        client, shop, await cart_with(client, shop, {"x": 1}), provider="stripe"
    )
    later = datetime.now(UTC) + timedelta(hours=1)
    assert await expire_reservations(uuid.UUID(shop.tenant), now=later) == 1
    reference = placed.json()["payment"]["provider_reference"]
    paid = await _deliver(
        client, shop, event("payment_intent.succeeded", stripe.succeeded(reference))
    )
    assert paid.status_code == 200
    order = await _order(client, shop, placed.json()["order"]["id"])
    assert order["status"] == "cancelled"
    assert order["payments"][0]["status"] == "succeeded"  # the money is there: staff refund it
    assert order["history"][-1]["note"] == "payment arrived after cancellation"
    assert (await stock_of(client, shop, "x"))["available"] == 1
    refunded = await client.post(
        shop.url(f"/orders/{order['id']}/refunds"), json={}, headers=shop.owner.headers
    )
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "cancelled"
    assert refunded.json()["payments"][0]["status"] == "refunded"
    assert [r["amount"] for r in stripe.refunds.values()] == [400]


@pytest.mark.parametrize(
    ("currency", "price", "charged", "refund", "refunded"),
    [
        ("KWD", "12.50", 25_000, "7.25", 7_250),  # three decimals: fils
        ("JPY", "1500", 3_000, "700", 700),  # no minor unit
        ("USD", "12.50", 2_500, "7.25", 725),
    ],
)
async def test_stripe_amounts_use_the_currencys_iso_4217_minor_units(
    client, stripe: FakeStripe, currency: str, price: str, charged: int, refund: str, refunded: int
) -> None:
    shop = await open_shop(client, products={"m": price}, stock={("m", "W"): 2}, currency=currency)
    placed = await checkout(
        client, shop, await cart_with(client, shop, {"m": 2}), provider="stripe"
    )
    assert placed.status_code == 201, placed.text
    reference = placed.json()["payment"]["provider_reference"]
    intent = stripe.intents[reference]
    assert (intent["amount"], intent["currency"]) == (charged, currency.lower())
    await _deliver(client, shop, event("payment_intent.succeeded", stripe.succeeded(reference)))
    url = shop.url(f"/orders/{placed.json()['order']['id']}/refunds")
    response = await client.post(url, json={"amount": refund}, headers=shop.owner.headers)
    assert response.status_code == 200, response.text
    assert [r["amount"] for r in stripe.refunds.values()] == [refunded]


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1.234", "BHD", 1234),
        ("1.5", "jod", 1500),
        ("0.999", "OMR", 999),
        ("10.100", "TND", 10100),
        ("2.50", "EUR", 250),
        ("999", "KRW", 999),
        ("1.00", "IQD", 1000),  # ISO 4217 gives the Iraqi dinar three decimals too
        ("1200", "MGA", 1200),  # Stripe: zero-decimal, although ISO 4217 says two
        ("150", "ISK", 15000),  # Stripe: two decimals (00), although ISO 4217 says none
    ],
)
def test_minor_units_follow_the_iso_4217_table_and_stripes_exceptions(
    amount: str, currency: str, expected: int
) -> None:
    assert minor_units(Decimal(amount), currency) == expected
